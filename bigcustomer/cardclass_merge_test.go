package bigcustomer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMergedValues_SameAsSorted: the values of lists in descending order,
// cut into runs of any size, merged, are all the values sorted descending.
func TestMergedValues_SameAsSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		var curs []cursor
		var want []float64
		n := 0
		for range rng.IntN(20) {
			m := rng.IntN(50)
			var items []*classItem
			for range m {
				it := &classItem{}
				it.Figures.AnnualKWh = float64(rng.IntN(30)) // ties within and across lists
				items = append(items, it)
				want = append(want, it.Figures.AnnualKWh)
			}
			n += m
			if m == 0 {
				continue
			}
			// One cellList per list, by kWh; runs of random sizes.
			list := slices.Clone(items)
			slices.SortFunc(list, func(a, b *classItem) int {
				if byItem(a, b) {
					return -1
				}
				return 1
			})
			var l cellList
			for rest := list; len(rest) > 0; {
				k := 1 + rng.IntN(len(rest))
				r := newRun(rest[:k:k])
				l.runs = append(l.runs, &r)
				l.n += k
				rest = rest[k:]
			}
			curs = append(curs, l.cursor())
		}
		got := mergedValues(curs, 0, n)
		w := slices.Clone(want)
		slices.SortFunc(w, func(a, b float64) int {
			switch {
			case a > b:
				return -1
			case a < b:
				return 1
			}
			return 0
		})
		if !slices.Equal(got, w) {
			t.Fatalf("round %d: merged %v; want %v", round, got, w)
		}
	}
}
