package bigcustomer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// TestParetoMerged_SameAsRecords: the Pareto figures from the memo's lists
// (the threshold search over runs, or the sequential path for totals ≤ 0)
// are paretoOf's over the same customers, on random memos of several
// owners whose lists are cut into runs of a few and edited (runs copied,
// cut, their sums made again): ties within and across owners, zeros,
// negative billed amounts, empty owners, one customer. The values are
// multiples of 0.25 below 2^20, so every sum is exact whatever its order
// and the figures must be equal, not close.
func TestParetoMerged_SameAsRecords(t *testing.T) {
	defer SetMemoRunMax(SetMemoRunMax(3))
	rng := rand.New(rand.NewPCG(3, 4))
	searched := 0
	for round := range 2000 {
		runMax = 1 + rng.IntN(6)
		ocs, items := randomMemo(rng, round)
		for o := range 2 {
			vs := make([]idValue, 0, len(items))
			for _, it := range items {
				vs = append(vs, idValue{it.ID, []float64{it.Figures.AnnualKWh, it.Figures.AnnualBilled}[o]})
			}
			topN := rng.IntN(8)
			want := paretoOf(vs, topN)
			got := paretoMerged(ocs, o, topN)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, measure %d, %d customers of %d owners (top %d): from the memo %+v; from the records %+v\nvalues %v",
					round, o, len(items), len(ocs), topN, got, want, valuesOf(vs))
			}
			if n := len(items); n > 0 {
				lists := listsOf(ocs, o)
				if _, _, _, ok := paretoSearch(lists, o, n); ok {
					searched++
				}
			}
		}
		for _, oc := range ocs { // the runs' sums are those of their values
			for o := range 2 {
				for _, r := range oc.all[o].runs {
					var k, b float64
					for i := range r.items {
						k += r.kwh[i]
						b += r.billed[i]
					}
					if r.sums != [2]float64{k, b} {
						t.Fatalf("round %d: a run's sums %v; its values add up to %v", round, r.sums, [2]float64{k, b})
					}
				}
			}
		}
	}
	if searched < 1000 {
		t.Errorf("only %d reports took the threshold search", searched)
	}
}

// TestParetoMerged_CloseToRecords: with values of two decimals (yuan,
// kWh) the sums are rounded differently per run than in order: the
// figures agree after their rounding, and the count of customers but
// where a running sum lies within rounding of 80% of the total.
func TestParetoMerged_CloseToRecords(t *testing.T) {
	defer SetMemoRunMax(SetMemoRunMax(3))
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 500 {
		runMax = 1 + rng.IntN(40)
		ocs, items := randomMemo(rng, round)
		for _, it := range items { // cents
			it.Figures.AnnualKWh = math.Round(it.Figures.AnnualKWh*37.13) / 100
			it.Figures.AnnualBilled = math.Round(it.Figures.AnnualBilled*53.77) / 100
		}
		for _, oc := range ocs { // the lists again, with those values
			for o, less := range orders {
				var all []*classItem
				oc.all[o].each(func(it *classItem, _, _ float64) bool { all = append(all, it); return true })
				sort.Slice(all, func(a, b int) bool { return less(all[a], all[b]) })
				oc.all[o] = newCellList(all)
			}
		}
		for o := range 2 {
			vs := make([]idValue, 0, len(items))
			for _, it := range items {
				vs = append(vs, idValue{it.ID, []float64{it.Figures.AnnualKWh, it.Figures.AnnualBilled}[o]})
			}
			want := paretoOf(vs, 5)
			got := paretoMerged(ocs, o, 5)
			msg := fmt.Sprintf("round %d, measure %d: from the memo %+v; from the records %+v", round, o, got, want)
			if math.Abs(got.Total-want.Total) > 0.011 || math.Abs(got.TopFifthShare-want.TopFifthShare) > 1.1e-4 {
				t.Fatal(msg)
			}
			if got.Customers != want.Customers {
				// vs is sorted: the running sums at the two counts are within rounding of 80%.
				cum, total := 0.0, 0.0
				for _, x := range vs {
					total += math.Abs(x.v)
				}
				k := min(got.Customers, want.Customers)
				for _, x := range vs[:k] {
					cum += x.v
				}
				if k == 0 || math.Abs(cum-0.8*want.Total) > 1e-9*total+1e-6 {
					t.Fatal(msg)
				}
			}
		}
	}
}

// randomMemo makes a few owners' lists all[0] and all[1] from random
// customers, cut into runs of runMax, then edited: some customers taken
// out, others added. It answers the owners and every customer they hold.
func randomMemo(rng *rand.Rand, round int) ([]*ownerClasses, []*classItem) {
	next := 0
	scale := rng.IntN(3)
	item := func(negatives bool) *classItem {
		next++
		it := &classItem{}
		it.ID = fmt.Sprintf("c%05d", rng.IntN(100_000)*10+next%10) // ids need not follow the values
		it.ID += fmt.Sprintf("-%d", next)
		value := func() float64 {
			switch rng.IntN(6) {
			case 0:
				return 0
			case 1:
				return float64(rng.IntN(4)) // ties
			}
			switch scale {
			case 0:
				return float64(rng.IntN(1<<22)) / 4
			case 1:
				return float64(rng.IntN(40)) / 4
			}
			return float64(250 * (1 + rng.IntN(3))) // ties at the 80% boundary and the fifth
		}
		it.Figures.AnnualKWh = value()
		it.Figures.AnnualBilled = value()
		if negatives && rng.IntN(4) == 0 {
			it.Figures.AnnualBilled = -it.Figures.AnnualBilled
		}
		return it
	}
	negatives := rng.IntN(3) > 0
	mostlyNegative := rng.IntN(8) == 0 // a total ≤ 0: the sequential path
	owners := rng.IntN(6)
	if round%50 == 0 {
		owners = 1 // one customer
	}
	var ocs []*ownerClasses
	var every []*classItem
	for range owners {
		var items []*classItem
		m := rng.IntN(60)
		if round%50 == 0 {
			m = 1
		}
		for range m {
			it := item(negatives)
			if mostlyNegative {
				it.Figures.AnnualBilled = -math.Abs(it.Figures.AnnualBilled)
			}
			items = append(items, it)
		}
		oc := &ownerClasses{}
		for o, less := range orders {
			all := slices.Clone(items)
			sort.Slice(all, func(a, b int) bool { return less(all[a], all[b]) })
			oc.all[o] = newCellList(all)
		}
		// An edit: some out, some in.
		var rem, add []*classItem
		keep := items[:0:0]
		for _, it := range items {
			if rng.IntN(5) == 0 {
				rem = append(rem, it)
			} else {
				keep = append(keep, it)
			}
		}
		for range rng.IntN(20) {
			add = append(add, item(negatives))
		}
		if (len(rem) > 0 || len(add) > 0) && !(round%50 == 0) {
			for o, less := range orders {
				sorted := slices.Clone(add)
				sort.Slice(sorted, func(a, b int) bool { return less(sorted[a], sorted[b]) })
				oc.all[o] = oc.all[o].edit(rem, sorted, less)
			}
			items = append(keep, add...)
		}
		ocs = append(ocs, oc)
		every = append(every, items...)
	}
	return ocs, every
}

func listsOf(ocs []*ownerClasses, o int) []*cellList {
	var lists []*cellList
	for _, oc := range ocs {
		if oc.all[o].n > 0 {
			lists = append(lists, &oc.all[o])
		}
	}
	return lists
}

func valuesOf(vs []idValue) []float64 {
	var out []float64
	for _, x := range vs {
		out = append(out, x.v)
	}
	return out
}
