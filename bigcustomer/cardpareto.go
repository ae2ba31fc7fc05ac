package bigcustomer

import "math"

// The Pareto report from the class memo's lists without a pass over every
// customer: each owner's list all[o] is in descending order of the value
// (kWh or billed amount) and cut into runs that keep their sums, so the
// count and the sum of the values ≥ a threshold t in a list cost a binary
// search over its runs (by their last value), the sums of the runs before
// the boundary and a binary search and a partial sum inside the boundary
// run. paretoOf's figures are then found by a bisection on t over the
// ordered bits of float64 (≤ 64 steps, each O(lists · (runs + runMax))):
//
//   - the fewest customers making 80% of the total: the values in
//     descending order add up to more and more while they are positive,
//     and with a total > 0 the running sum crosses 80% of it at a positive
//     value t*, the largest value with sum(values ≥ t*) ≥ 80%; the count is
//     the values > t* and as many of the values equal to t* as the running
//     sum needs, each adding t* (ties count as the sequential definition
//     counts them);
//   - the top fifth's sum: the largest value t with count(values ≥ t) ≥
//     the fifth, the values > t and the rest of the fifth at t.
//
// The sums are added per run, not in the merged order: the figures match
// paretoOf's up to the rounding of the sums (the count can differ only
// where a running sum falls within rounding of 80% of the total). The
// values are assumed finite and not NaN (they are sums of bills' figures);
// a NaN or an infinity makes the total so, and the report takes the
// sequential path, as it does for a total ≤ 0 or within rounding of 0.

// paretoSearch answers paretoOf's total, fewest customers for 80% and the
// top fifth's sum over the n values (o 0: kWh, 1: billed) of lists, none
// empty; ok is false when the total is not clearly positive and finite
// (the caller then takes paretoSequential).
func paretoSearch(lists []*cellList, o, n int) (total float64, customers int, top float64, ok bool) {
	hiV, loV := math.Inf(-1), math.Inf(1)
	for _, l := range lists {
		for _, r := range l.runs {
			total += r.sums[o]
		}
		first, last := l.runs[0].vals(o), l.runs[len(l.runs)-1].vals(o)
		hiV, loV = max(hiV, first[0]), min(loV, last[len(last)-1])
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return total, 0, 0, false
	}
	atLeast := func(t float64) (int, float64) { return countSumAtLeast(lists, o, t, true) }
	_, positive := atLeast(math.SmallestNonzeroFloat64)
	target := 0.8*total - 1e-9
	if !(total > 1e-9*positive) || !(positive >= target) || !(hiV > 0) {
		return total, 0, 0, false // within rounding of 0: a running sum's crossing is not stable
	}
	// The fewest customers: t*, then the values above it and enough at it.
	t := lastWhere(fkey(math.SmallestNonzeroFloat64), fkey(hiV), func(t float64) bool {
		_, s := atLeast(t)
		return s >= target
	})
	cAbove, sAbove := atLeast(math.Nextafter(t, math.Inf(1)))
	cAt, _ := atLeast(t)
	m := 1
	if need := (target - sAbove) / t; need > 1 {
		m = int(min(math.Ceil(need), float64(cAt-cAbove)))
	}
	for m > 1 && sAbove+float64(m-1)*t >= target {
		m--
	}
	for m < cAt-cAbove && sAbove+float64(m)*t < target {
		m++
	}
	customers = cAbove + m
	// The top fifth.
	fifth := paretoFifth(n)
	t = lastWhere(fkey(loV), fkey(hiV), func(t float64) bool {
		c, _ := countSumAtLeast(lists, o, t, false)
		return c >= fifth
	})
	cAbove, sAbove = atLeast(math.Nextafter(t, math.Inf(1)))
	top = sAbove + float64(fifth-cAbove)*t
	return total, customers, top, true
}

// countSumAtLeast answers how many of the values (o 0: kWh, 1: billed) of
// lists are ≥ t, and their sum when withSum (else 0).
func countSumAtLeast(lists []*cellList, o int, t float64, withSum bool) (count int, sum float64) {
	for _, l := range lists {
		// The first run whose last value is below t: the runs before it hold only values ≥ t.
		lo, hi := 0, len(l.runs)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if v := l.runs[mid].vals(o); v[len(v)-1] >= t {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		for _, r := range l.runs[:lo] {
			count += len(r.items)
			if withSum {
				sum += r.sums[o]
			}
		}
		if lo == len(l.runs) {
			continue
		}
		r := l.runs[lo]
		v := r.vals(o)
		i, j := 0, len(v)
		for i < j {
			mid := int(uint(i+j) >> 1)
			if v[mid] >= t {
				i = mid + 1
			} else {
				j = mid
			}
		}
		count += i
		if !withSum {
			continue
		}
		if i <= len(v)/2 { // add the shorter side
			for _, x := range v[:i] {
				sum += x
			}
		} else {
			part := r.sums[o]
			for _, x := range v[i:] {
				part -= x
			}
			sum += part
		}
	}
	return count, sum
}

// lastWhere answers the largest float64 t with fkey(t) in [lo, hi] where
// holds(t), holds(fval(lo)) being true and holds true then false as t grows.
func lastWhere(lo, hi uint64, holds func(t float64) bool) float64 {
	for lo < hi {
		mid := lo + (hi-lo)/2 + 1
		if holds(fval(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return fval(lo)
}

// fkey maps a float64 (not NaN) to a uint64 in the same order.
func fkey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// fval is fkey's inverse.
func fval(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}
