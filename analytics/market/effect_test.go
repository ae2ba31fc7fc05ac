package market

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestEffects_BeforeAndAfter(t *testing.T) {
	w, err := EffectWindow("2026-01", 2)
	if err != nil || w.Before != [2]string{"2025-11", "2025-12"} || w.After != [2]string{"2026-01", "2026-02"} {
		t.Fatalf("window %+v, %v", w, err)
	}
	s := Slices{
		// 0.60 → 0.66 a kWh: +10%, 66 yuan more on 1100 kWh.
		"industrial": {"2025-10": {KWh: 9999, Yuan: 1}, "2025-11": {KWh: 500, Yuan: 300, Bills: 1}, "2025-12": {KWh: 500, Yuan: 300, Bills: 1},
			"2026-01": {KWh: 600, Yuan: 396, Bills: 1}, "2026-02": {KWh: 500, Yuan: 330, Bills: 1}, "2026-03": {KWh: 1, Yuan: 9999}},
		// unchanged price
		"commercial": {"2025-12": {KWh: 100, Yuan: 80, Bills: 1}, "2026-01": {KWh: 200, Yuan: 160, Bills: 1}},
		// new: after only
		"public": {"2026-02": {KWh: 10, Yuan: 5, Bills: 1}},
		// outside both windows
		"agricultural": {"2025-01": {KWh: 10, Yuan: 5, Bills: 1}},
	}
	es := Effects(s, w)
	if len(es) != 3 || es[0].Value != "industrial" || es[1].Value != "commercial" || es[2].Value != "public" {
		t.Fatalf("effects %+v", es)
	}
	in := es[0]
	if f(in.Before.YuanPerKWh) != 0.6 || f(in.After.YuanPerKWh) != 0.66 || f(in.Change) != 0.1 || f(in.ExtraYuan) != 66 || in.Before.Months != 2 || in.After.Months != 2 {
		t.Errorf("industrial %+v", in)
	}
	if f(es[1].Change) != 0 || f(es[1].ExtraYuan) != 0 {
		t.Errorf("commercial %+v", es[1])
	}
	if es[2].Change != nil || es[2].Before.YuanPerKWh != nil {
		t.Errorf("public, after only: %+v", es[2])
	}
	for _, bad := range []struct {
		at string
		n  int
	}{{"2026-13", 3}, {"2026", 3}, {"2026-01", 0}, {"2026-01", 13}} {
		if _, err := EffectWindow(bad.at, bad.n); err == nil {
			t.Errorf("EffectWindow(%q, %d) accepted", bad.at, bad.n)
		}
	}
}

func TestCustomerEffects_WhoPaysMore(t *testing.T) {
	side := func(kwh, yuan float64, m int) CustomerSide { return CustomerSide{KWh: kwh, Yuan: yuan, Months: m} }
	var cs []CustomerEffect
	add := func(id string, b, a CustomerSide) {
		if e, ok := CustomerEffectOf(id, b, a, 3); ok {
			cs = append(cs, e)
		}
	}
	add("c1", side(1000, 600, 3), side(1000, 660, 3))  // +10% for the same energy
	add("c2", side(1000, 600, 3), side(2000, 1440, 3)) // +20%, and used more
	add("c3", side(1000, 600, 3), side(500, 300, 3))   // same price, less energy
	add("c4", side(1000, 600, 2), side(1000, 900, 3))  // a month missing: not compared
	add("c5", side(0, 0, 3), side(1000, 900, 3))       // no energy before
	add("c6", side(1000, 600, 3), side(500, 330, 3))   // +10%, less energy
	if len(cs) != 4 {
		t.Fatalf("compared %+v", cs)
	}
	top := TopEffects(cs, 3)
	got := ""
	for _, e := range top {
		got += fmt.Sprintf("%s:%.2f:%.0f ", e.ID, e.Change, e.ExtraYuan)
	}
	if got != "c2:0.20:240 c1:0.10:60 c6:0.10:30 " {
		t.Errorf("who pays more: %s", got)
	}
	if top[0].KWhChange != 1 || top[0].YuanPerKWhBefore != 0.6 || top[0].YuanPerKWhAfter != 0.72 {
		t.Errorf("c2: %+v", top[0])
	}
}

func TestTopShares(t *testing.T) {
	// 200 customers: two of 10,000 kWh, the rest 1..198.
	var a []Annual
	total := 20000.0
	for i := 1; i <= 198; i++ {
		a = append(a, Annual{fmt.Sprintf("c%03d", i), float64(i)})
		total += float64(i)
	}
	a = append(a, Annual{"big2", 10000}, Annual{"big1", 10000}, Annual{"neg", -5})
	rand.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
	ts := TopShares(a, 3)
	if ts.Customers != 201 || ts.TotalKWh != total {
		t.Fatalf("customers %d total %v, want 201 and %v", ts.Customers, ts.TotalKWh, total)
	}
	top10 := 20000.0 + 198 + 197 + 196 + 195 + 194 + 193 + 192 + 191
	if ts.Top10KWh != top10 || ts.Top10Share != round(top10/total, 4) {
		t.Errorf("top 10: %v %v", ts.Top10KWh, ts.Top10Share)
	}
	// 1% of 201 customers: 3.
	if ts.Top1PctCount != 3 || ts.Top1PctShare != round(20198/total, 4) || ts.Top10PctCount != 21 {
		t.Errorf("top 1%%: %d %v; top 10%%: %d", ts.Top1PctCount, ts.Top1PctShare, ts.Top10PctCount)
	}
	if len(ts.Top) != 3 || ts.Top[0].ID != "big1" || ts.Top[1].ID != "big2" || ts.Top[2].ID != "c198" {
		t.Errorf("top: %+v", ts.Top)
	}
	if ts.CustomersFor80 != 75 { // 20,000 + the 73 next (198..126) reach 80% of 39,701
		t.Errorf("80%%: %d", ts.CustomersFor80)
	}
	if z := TopShares(nil, 10); z.Customers != 0 || z.Top10Share != 0 || len(z.Top) != 0 {
		t.Errorf("empty: %+v", z)
	}
}

// TestTopEffectsKeeper_SameAsSorted: the keeper's first limit effects are
// TopEffects' over the same effects, ties on change and extra included.
func TestTopEffectsKeeper_SameAsSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		n, limit := rng.IntN(300), rng.IntN(120)
		var all []CustomerEffect
		k := TopEffectsKeeper{Limit: limit}
		for i := range n {
			e := CustomerEffect{ID: fmt.Sprintf("c%04d", rng.IntN(10_000)+i*10_000), Change: float64(rng.IntN(20)) / 100, ExtraYuan: float64(rng.IntN(5))}
			all = append(all, e)
			k.Add(e)
		}
		want := TopEffects(all, limit)
		if got := k.Top(); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("round %d (n %d, limit %d): kept %v\nwant %v", round, n, limit, got, want)
		}
	}
}
