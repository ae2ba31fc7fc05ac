package grid_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gridcrm/bigcustomer/grid"
)

// paretoPool draws n customers with Pareto-distributed annual kWh (the
// 20/80 shape of a real pool), capped so that no one customer exceeds
// maxShare of the total (a pool where one customer outweighs a cell cannot
// be balanced by anyone).
func paretoPool(seed uint64, n int, alpha float64) []grid.Item {
	rng := rand.New(rand.NewPCG(seed, 42))
	items := make([]grid.Item, n)
	for i := range items {
		w := 200_000 / math.Pow(1-rng.Float64(), 1/alpha)
		items[i] = grid.Item{ID: fmt.Sprintf("cus_%04d", i), Weight: math.Round(w)}
	}
	return items
}

func TestDivide_BeatsRoundRobin(t *testing.T) {
	for _, tc := range []struct {
		n, k  int
		alpha float64
		seed  uint64
	}{
		{120, 6, 1.8, 1}, {300, 10, 1.6, 2}, {500, 8, 2.0, 3}, {1000, 12, 1.5, 4}, {97, 5, 2.5, 5},
	} {
		t.Run(fmt.Sprintf("n=%d,k=%d,alpha=%.1f", tc.n, tc.k, tc.alpha), func(t *testing.T) {
			items := paretoPool(tc.seed, tc.n, tc.alpha)
			rr, err := grid.RoundRobin(items, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			d, err := grid.Divide(items, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			rs, ds := grid.Measure(items, rr), grid.Measure(items, d)
			t.Logf("round-robin: kWh dev %.2f%%, count dev %.2f%%; optimiser: kWh dev %.3f%%, count dev %.2f%% (count floor %.2f%%, kWh floor %.2f%%)",
				100*rs.MaxWeightDev, 100*rs.MaxCountDev, 100*ds.MaxWeightDev, 100*ds.MaxCountDev, 100*ds.BestCountDev, 100*ds.BestWeightDev)
			if ds.MaxWeightDev >= rs.MaxWeightDev {
				t.Errorf("optimiser kWh deviation %.4f is not below round-robin's %.4f", ds.MaxWeightDev, rs.MaxWeightDev)
			}
			if ds.MaxCountDev > ds.BestCountDev+1e-9 && ds.MaxCountDev > 0.05 {
				t.Errorf("count deviation %.4f; best possible %.4f, target 0.05", ds.MaxCountDev, ds.BestCountDev)
			}
			if ds.MaxWeightDev > math.Max(0.05, ds.BestWeightDev*1.05) {
				t.Errorf("kWh deviation %.4f over the 5%% target and over the floor %.4f the data sets", ds.MaxWeightDev, ds.BestWeightDev)
			}
			seen := make([]int, tc.k)
			for _, j := range d.Assign {
				seen[j]++
			}
			for j, c := range seen {
				if c == 0 {
					t.Errorf("cell %d is empty", j)
				}
			}
		})
	}
}

func TestDivide_Deterministic(t *testing.T) {
	items := paretoPool(9, 200, 1.7)
	a, _ := grid.Divide(items, 7)
	b, _ := grid.Divide(items, 7)
	for i := range a.Assign {
		if a.Assign[i] != b.Assign[i] {
			t.Fatalf("item %d: cell %d then %d", i, a.Assign[i], b.Assign[i])
		}
	}
}

func TestDivide_BadInput(t *testing.T) {
	items := paretoPool(1, 5, 2)
	for _, tc := range []struct {
		name  string
		items []grid.Item
		k     int
		field string
	}{
		{"k zero", items, 0, "k"},
		{"k above pool", items, 6, "k"},
		{"negative weight", []grid.Item{{"a", 1}, {"b", -1}}, 1, "weight"},
		{"NaN weight", []grid.Item{{"a", math.NaN()}}, 1, "weight"},
		{"duplicate id", []grid.Item{{"a", 1}, {"a", 2}}, 1, "id"},
	} {
		_, err := grid.Divide(tc.items, tc.k)
		e, ok := err.(*grid.ErrInput)
		if !ok || e.Field != tc.field {
			t.Errorf("%s: err = %v; want field %s", tc.name, err, tc.field)
		}
	}
}

func TestRebalance_FewMoves(t *testing.T) {
	items := paretoPool(11, 300, 1.8)
	d, _ := grid.Divide(items, 10)
	before := grid.Measure(items, d)
	// Nothing changed: nothing to move.
	_, moves, err := grid.Rebalance(items, 10, d.Assign, 0.05)
	if err != nil || len(moves) != 0 {
		t.Fatalf("balanced pool: %d moves (%v), %v", len(moves), moves, err)
	}
	// Twelve new customers and a changed consumption.
	grown := append([]grid.Item(nil), items...)
	cur := append([]int(nil), d.Assign...)
	extra := paretoPool(12, 12, 1.8)
	for i := range extra {
		extra[i].ID = fmt.Sprintf("new_%02d", i)
		grown = append(grown, extra[i])
		cur = append(cur, -1)
	}
	grown[0].Weight *= 1.5
	nd, moves, err := grid.Rebalance(grown, 10, cur, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	after := grid.Measure(grown, nd)
	full, _ := grid.Divide(grown, 10)
	changed := 0
	for i := range items {
		if full.Assign[i] != d.Assign[i] {
			changed++
		}
	}
	t.Logf("before: kWh %.3f%%, count %.2f%%; after %d moves (12 placements): kWh %.3f%%, count %.2f%%; a full re-division would move %d existing customers",
		100*before.MaxWeightDev, 100*before.MaxCountDev, len(moves), 100*after.MaxWeightDev, 100*after.MaxCountDev, changed)
	if after.MaxWeightDev > 0.05 || after.MaxCountDev > 0.05 {
		t.Errorf("after rebalance: kWh %.4f, count %.4f; want within 0.05", after.MaxWeightDev, after.MaxCountDev)
	}
	if len(moves) < 12 || len(moves) > 12+10 {
		t.Errorf("%d moves; want the 12 placements and at most a few more", len(moves))
	}
	for _, m := range moves {
		if m.From == m.To {
			t.Errorf("move %+v goes nowhere", m)
		}
	}
}

func BenchmarkDivide(b *testing.B) {
	items := paretoPool(3, 2000, 1.6)
	for b.Loop() {
		if _, err := grid.Divide(items, 20); err != nil {
			b.Fatal(err)
		}
	}
	d, _ := grid.Divide(items, 20)
	rr, _ := grid.RoundRobin(items, 20)
	ds, rs := grid.Measure(items, d), grid.Measure(items, rr)
	b.ReportMetric(100*ds.MaxWeightDev, "opt-kwh-dev-%")
	b.ReportMetric(100*rs.MaxWeightDev, "rr-kwh-dev-%")
}
