package crm

import (
	"encoding/binary"
	"math"
	"sort"
	"strings"

	"gridcrm/store/keyspace"
)

// Subtree totals. At an upper tier a read over a subtree would add up the
// counters of every region below (about 800 a county: a province of 100
// counties reads some 80,000 on every request). The node therefore keeps,
// in the same batch as the counters and from the same deltas, their sums
// over each subtree it serves, so that such a read reads the counters of
// one region and its totals, whatever the number of regions below:
//
//	t/m                      the region they are kept for (the node's,
//	                         "here"); present once they were built
//	t/s/<A>/<metric>         the metric summed over the regions strictly
//	                         below A, for A here or below it
//	t/r/<name>/<R>/<month>   what the drill-downs list per region, for each
//	                         region R strictly below here: name kwh, yuan
//	                         and bills (mkt.<x>.cat.*.<month> summed over
//	                         the categories: the bills that carry one) and
//	                         capkva (mkt.cap.kva.*.*.<month>)
//	t/n/<family>/<R>         how many counters R holds (family all), and of
//	                         them market (mkt.) and credit (credit.) ones:
//	                         the regions a read names, without a seek into
//	                         each region's counters
//
// A county keeps none (nothing is below it). The first ApplyDeltasAt of a
// store without them (or with another region's) builds them from the
// counters in the same batch, so every replica of a region builds them at
// the same entry; a reader that finds none reads the counters of every
// region as before. Sums are floats added in another order than a scan
// adds them: equal to the scan's up to rounding (counts exactly).
const (
	totalsMark    = keyspace.TotalsMarkKey
	totalsSums    = keyspace.TotalsSumsPrefix
	totalsRollups = keyspace.TotalsRollupsPrefix
	totalsCounts  = keyspace.TotalsCountsPrefix
)

// counterFamilies answers the families a metric counts in (t/n/).
func counterFamilies(metric string) []string {
	switch {
	case strings.HasPrefix(metric, "mkt."):
		return []string{"all", "mkt"}
	case strings.HasPrefix(metric, "credit."):
		return []string{"all", "credit"}
	}
	return []string{"all"}
}

// familyOf answers the family of the counters whose metric begins with
// prefix, or "" when none is counted.
func familyOf(prefix string) string {
	switch prefix {
	case "":
		return "all"
	case "mkt.":
		return "mkt"
	case "credit.":
		return "credit"
	}
	return ""
}

func countKey(family, region string) string { return totalsCounts + family + "/" + region }

// addCount adds n counters of metric held by region to the counts of a
// node of here.
func addCount(sums map[string]float64, here, region, metric string, n float64) {
	if isTally(metric) || region == here || !InRegion(region, here) || !validCode(region) {
		return
	}
	for _, f := range counterFamilies(metric) {
		sums[countKey(f, region)] += n
	}
}

func totalKey(region, metric string) []byte { return []byte(totalsSums + region + "/" + metric) }

func rollupKey(name, region, month string) []byte {
	return []byte(totalsRollups + name + "/" + region + "/" + month)
}

// rollupOf answers the per-region rollup a counter adds to, if any.
func rollupOf(metric string) (name, month string, ok bool) {
	rest, ok := strings.CutPrefix(metric, "mkt.")
	if !ok {
		return "", "", false
	}
	p := strings.Split(rest, ".")
	switch {
	case len(p) == 4 && p[1] == "cat" && (p[0] == "kwh" || p[0] == "yuan" || p[0] == "bills"):
		return p[0], p[3], true
	case len(p) == 5 && p[0] == "cap" && p[1] == "kva":
		return "capkva", p[4], true
	}
	return "", "", false
}

// ApplyDeltasAt adds the deltas to their counters in tx, as ApplyDeltas
// does, and keeps the subtree totals of a node of region here (its own
// region; "" keeps none).
func ApplyDeltasAt(tx Txn, here string, ds []Delta) error {
	if here == "" || len(here) >= 6 { // a county has nothing below it
		return ApplyDeltas(tx, ds)
	}
	mark, err := tx.Get([]byte(totalsMark))
	if err != nil {
		return err
	}
	sums := map[string]float64{}
	if err := applyDeltas(tx, ds, func(d Delta, n float64) { addCount(sums, here, d.Region, d.Metric, n) }); err != nil {
		return err
	}
	if string(mark) != here {
		return buildTotals(tx, here) // from the counters, ds included
	}
	for _, d := range ds {
		addTotals(sums, here, d.Region, d.Metric, d.Value)
	}
	return writeTotals(tx, sums, true)
}

// addTotals adds what counter (region, metric) += v does to the totals of
// a node of here, into sums (key → change).
func addTotals(sums map[string]float64, here, region, metric string, v float64) {
	if isTally(metric) || region == here || !InRegion(region, here) || !validCode(region) {
		return
	}
	for a := region[:len(region)-2]; len(a) >= len(here); a = a[:len(a)-2] {
		sums[string(totalKey(a, metric))] += v
	}
	if name, month, ok := rollupOf(metric); ok {
		sums[string(rollupKey(name, region, month))] += v
	}
}

// validCode reports whether region is a code of 2, 4 or 6 digits.
func validCode(region string) bool {
	if n := len(region); n != 2 && n != 4 && n != 6 {
		return false
	}
	for i := 0; i < len(region); i++ {
		if region[i] < '0' || region[i] > '9' {
			return false
		}
	}
	return true
}

// writeTotals adds sums to the totals in tx (add: to what is stored; else
// they are the values), in key order, deleting a total that comes to 0.
func writeTotals(tx Txn, sums map[string]float64, add bool) error {
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b [8]byte
	for _, k := range keys {
		v := sums[k]
		if add {
			cur, err := tx.Get([]byte(k))
			if err != nil {
				return err
			}
			if len(cur) == 8 {
				v += math.Float64frombits(binary.BigEndian.Uint64(cur))
			}
		}
		if math.Abs(v) < 1e-9 {
			if add {
				if err := tx.Delete([]byte(k)); err != nil {
					return err
				}
			}
			continue
		}
		binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
		if err := tx.Set([]byte(k), b[:]); err != nil {
			return err
		}
	}
	return nil
}

// buildTotals replaces the totals in tx with those of a node of here,
// summed from every counter it holds, and marks them built.
func buildTotals(tx Txn, here string) error {
	var old [][]byte
	tp := []byte(keyspace.TotalsPrefix)
	if err := tx.Iterate(tp, prefixEnd(tp), func(k, _ []byte) bool {
		old = append(old, append([]byte(nil), k...))
		return true
	}); err != nil {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	sums := map[string]float64{}
	p := []byte(keyspace.AggregatePrefix + here)
	if err := tx.Iterate(p, prefixEnd(p), func(k, v []byte) bool {
		region, metric, ok := strings.Cut(string(k[len(keyspace.AggregatePrefix):]), "/")
		if ok && len(v) == 8 {
			addTotals(sums, here, region, metric, math.Float64frombits(binary.BigEndian.Uint64(v)))
			addCount(sums, here, region, metric, 1)
		}
		return true
	}); err != nil {
		return err
	}
	if err := writeTotals(tx, sums, false); err != nil {
		return err
	}
	return tx.Set([]byte(totalsMark), []byte(here))
}

// totalsFor reports whether r keeps the subtree totals of region.
func totalsFor(r Reader, region string) (bool, error) {
	mark, err := r.Get([]byte(totalsMark))
	if err != nil || len(mark) == 0 {
		return false, err
	}
	return InRegion(region, string(mark)) && validCode(region), nil
}

// regionsWith answers the regions of region's subtree (region included)
// holding a counter whose metric begins with prefix, sorted: one seek a
// region (and one more for its metrics of prefix), not a read of their
// counters.
func regionsWith(r Reader, region, prefix string) ([]string, error) {
	out := []string{}
	err := EachOwner(r, keyspace.AggregatePrefix, region, func(reg string) error {
		found := prefix == ""
		if !found {
			p := []byte(keyspace.Aggregate(reg, prefix))
			if err := r.Iterate(p, prefixEnd(p), func(_, v []byte) bool {
				found = len(v) == 8
				return !found
			}); err != nil {
				return err
			}
		}
		if found {
			out = append(out, reg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sumCounters calls fn with every counter whose metric begins with prefix
// of region (subtree: and of the regions under it), as eachCounter does,
// and answers the regions holding such counters. Where r keeps the subtree
// totals of region, a subtree is read as region's own counters (reg
// region) and their totals over the regions below (reg ""): the cost of
// one region's counters, not of every region's.
func sumCounters(r Reader, region string, subtree bool, prefix string, fn func(reg, rest string, v float64) bool) ([]string, error) {
	if !subtree {
		return eachCounter(r, region, false, prefix, fn)
	}
	ok, err := totalsFor(r, region)
	if err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return eachCounter(r, region, true, prefix, fn)
	}
	own := false
	for _, src := range []struct{ reg, prefix string }{{region, keyspace.AggregatesOf(region)}, {"", totalsSums + region + "/"}} {
		p := []byte(src.prefix + prefix)
		n := len(src.prefix)
		if err := IterateCounters(r, p, prefixEnd(p), func(k, v []byte) bool {
			if len(v) == 8 {
				fn(src.reg, string(k[n+len(prefix):]), math.Float64frombits(binary.BigEndian.Uint64(v)))
				own = own || src.reg != ""
			}
			return true
		}); err != nil {
			return nil, err
		}
	}
	family := familyOf(prefix)
	if family == "" {
		return regionsWith(r, region, prefix)
	}
	regions := []string{}
	if own {
		regions = append(regions, region)
	}
	p := []byte(countKey(family, region))
	n := len(countKey(family, ""))
	err = IterateCounters(r, p, prefixEnd(p), func(k, v []byte) bool {
		if reg := string(k[n:]); reg != region && len(v) == 8 && math.Float64frombits(binary.BigEndian.Uint64(v)) > 0.5 {
			regions = append(regions, reg)
		}
		return true
	})
	return regions, err
}

// eachRollup calls fn with the per-region rollup name of every region
// strictly below region (read from the totals: sumCounters answered reg
// "" for them), its month and value.
func eachRollup(r Reader, name, region string, fn func(reg, month string, v float64)) error {
	p := []byte(totalsRollups + name + "/" + region)
	n := len(totalsRollups) + len(name) + 1
	return IterateCounters(r, p, prefixEnd(p), func(k, v []byte) bool {
		reg, month, ok := strings.Cut(string(k[n:]), "/")
		if ok && reg != region && len(v) == 8 {
			fn(reg, month, math.Float64frombits(binary.BigEndian.Uint64(v)))
		}
		return true
	})
}
