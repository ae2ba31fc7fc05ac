package api

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"gridcrm/analytics/market"
	"gridcrm/crm"
)

// TestMarketLists_SameAsRecomputed: the top-customer share (kept ranking,
// answer memoised by its key) and the customers whose price rose most
// (kept per owner, merged) answer what the lists recomputed from every
// card answer (the previous reads: each customer's windows joined, sorted
// whole), after random changes: customers and bills created, corrected and
// deleted in four owner regions, ties and zeros included, for several
// limits and scopes.
func TestMarketLists_SameAsRecomputed(t *testing.T) {
	tx := crm.NewMemTxn()
	rng := rand.New(rand.NewPCG(15, 4))
	n := 0
	newID := func(prefix string) string {
		n++
		return crm.NewID(prefix, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Millisecond))
	}
	put := func(key string, old, raw []byte) {
		t.Helper()
		if err := crm.ApplyReplica(tx, key, raw); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if err := crm.ApplyDeltas(tx, crm.AggregateDeltas(key, old, raw)); err != nil {
			t.Fatal(err)
		}
	}
	owners := []string{"320722", "320723", "320801", "3207"}
	var customers []string
	owner := map[string]string{}
	bills := map[string][]byte{}
	var billIDs []string
	bill := func(cus, id string, old []byte) {
		kwh := []float64{0, 100, 100, 250, float64(rng.IntN(5000))}[rng.IntN(5)]
		raw, _ := json.Marshal(map[string]any{"id": id, "owner": owner[cus], "version": 1, "customer_id": cus,
			"period": fmt.Sprintf("2025-%02d", 1+rng.IntN(12)), "kwh": kwh, "billed": kwh * (0.5 + 0.1*float64(rng.IntN(4))),
			"category": "industrial", "voltage_class": "medium"})
		put("r/bills/"+id, old, raw)
		bills[id] = raw
	}
	step := func() {
		switch k := rng.IntN(10); {
		case k < 2 || len(customers) == 0:
			id, o := newID("cus"), owners[rng.IntN(len(owners))]
			raw, _ := json.Marshal(map[string]any{"id": id, "owner": o, "version": 1, "account_no": fmt.Sprintf("T%06d", n), "name": "客户" + id[len(id)-4:],
				"category": "industrial", "voltage_kv": 10, "capacity_kva": 400, "region": o})
			put("r/customers/"+id, nil, raw)
			customers, owner[id] = append(customers, id), o
		case k < 7: // a month billed: every month of some customers, so they compare
			cus := customers[rng.IntN(len(customers))]
			for m := 1; m <= 12; m++ {
				id := newID("bil")
				kwh := float64(100 + rng.IntN(900))
				raw, _ := json.Marshal(map[string]any{"id": id, "owner": owner[cus], "version": 1, "customer_id": cus,
					"period": fmt.Sprintf("2025-%02d", m), "kwh": kwh, "billed": kwh * (0.5 + 0.01*float64(rng.IntN(40))),
					"category": "industrial", "voltage_class": "medium"})
				put("r/bills/"+id, nil, raw)
				bills[id], billIDs = raw, append(billIDs, id)
			}
		case k < 9 && len(billIDs) > 0: // a bill corrected
			id := billIDs[rng.IntN(len(billIDs))]
			var b crm.Bill
			json.Unmarshal(bills[id], &b)
			bill(b.CustomerID, id, bills[id])
		case len(billIDs) > 0: // a bill deleted
			i := rng.IntN(len(billIDs))
			id := billIDs[i]
			put("r/bills/"+id, bills[id], nil)
			delete(bills, id)
			billIDs = append(billIDs[:i], billIDs[i+1:]...)
		}
	}
	for range 200 {
		step()
	}
	day := crm.Date("2026-01-15")
	yearFrom, yearTo := crm.Window(day)
	w, _ := market.EffectWindow("2025-07", 6)
	for round := range 60 {
		for range 1 + rng.IntN(5) {
			step()
		}
		for _, sc := range []struct {
			region  string
			subtree bool
		}{{"32", true}, {"3207", true}, {"320723", false}} {
			for _, limit := range []int{1, 5, 100} {
				// The customers whose price rose most, as the route read them before.
				lists, ok, err := crm.CustomerWindows(tx, sc.region, sc.subtree, w.Before, w.After)
				if err != nil || !ok {
					t.Fatal(ok, err)
				}
				want := []market.CustomerEffect{}
				before := map[string]crm.AnnualKWh{}
				for _, a := range lists[0] {
					before[a.ID] = a
				}
				for _, a := range lists[1] {
					if b, ok := before[a.ID]; ok {
						if e, ok := market.CustomerEffectOf(a.ID, market.CustomerSide{KWh: b.KWh, Yuan: b.Billed, Months: b.Months},
							market.CustomerSide{KWh: a.KWh, Yuan: a.Billed, Months: a.Months}, w.Months); ok {
							e.Name, e.Category, e.Region = a.Name, a.Category, a.Region
							want = append(want, e)
						}
					}
				}
				want = market.TopEffects(want, limit)
				got, ok, err := risingCustomers(tx, sc.region, sc.subtree, w, limit)
				if err != nil || !ok || !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d %v limit %d: rising customers\n got %+v\nwant %+v", round, sc, limit, got, want)
				}
				// The top share, as the route read it before.
				year, ok, err := crm.CustomerWindows(tx, sc.region, sc.subtree, [2]string{yearFrom, yearTo})
				if err != nil || !ok {
					t.Fatal(ok, err)
				}
				a := make([]market.Annual, len(year[0]))
				names := map[string]crm.AnnualKWh{}
				for i, x := range year[0] {
					a[i], names[x.ID] = market.Annual{ID: x.ID, KWh: x.KWh}, x
				}
				wantTop := market.TopShares(a, limit)
				wantEntries := make([]topEntry, len(wantTop.Top))
				for i, e := range wantTop.Top {
					wantEntries[i] = topEntry{e, names[e.ID].Name, names[e.ID].Category, names[e.ID].Region}
				}
				rk, ok, err := crm.CustomersRanked(tx, sc.region, sc.subtree, day)
				if err != nil || !ok {
					t.Fatal(ok, err)
				}
				gotTop, gotEntries := topOf(rk, limit)
				if !reflect.DeepEqual(gotTop, wantTop) || !reflect.DeepEqual(gotEntries, wantEntries) {
					t.Fatalf("round %d %v limit %d: top share\n got %+v %+v\nwant %+v %+v", round, sc, limit, gotTop, gotEntries, wantTop, wantEntries)
				}
			}
		}
	}
	if got, _, _ := risingCustomers(tx, "32", true, w, 100); len(got) < 20 {
		t.Fatalf("only %d customers compare: the data did not exercise the list", len(got))
	}
}
