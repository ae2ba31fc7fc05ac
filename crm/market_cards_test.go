package crm_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"gridcrm/crm"
)

// rankWorld is a province's replica of customers and bills of several
// owners, written as rolled-up copies with their counters (cards kept by
// ApplyReplica).
type rankWorld struct {
	t         *testing.T
	tx        *crm.MemTxn
	rng       *rand.Rand
	n         int
	customers map[string]string   // id → owner
	bills     map[string][]byte   // id → raw
	byCust    map[string][]string // customer id → bill ids
}

func (w *rankWorld) put(key string, old, raw []byte) {
	w.t.Helper()
	if err := crm.ApplyReplica(w.tx, key, raw); err != nil {
		w.t.Fatalf("%s: %v", key, err)
	}
	if err := crm.ApplyDeltas(w.tx, crm.AggregateDeltas(key, old, raw)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *rankWorld) id(prefix string) string {
	w.n++
	return crm.NewID(prefix, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(w.n)*time.Millisecond))
}

func (w *rankWorld) customer(owner string) {
	id := w.id("cus")
	raw, _ := json.Marshal(map[string]any{"id": id, "owner": owner, "version": 1, "account_no": fmt.Sprintf("R%06d", w.n), "name": "客户" + id[len(id)-4:],
		"category": "industrial", "voltage_kv": 10, "capacity_kva": 400, "region": owner})
	w.put("r/customers/"+id, nil, raw)
	w.customers[id] = owner
}

func (w *rankWorld) bill(cus string, old []byte, id string) {
	if id == "" {
		id = w.id("bil")
		w.byCust[cus] = append(w.byCust[cus], id)
	}
	kwh := []float64{0, 100, 100, 250.5, float64(w.rng.IntN(5000))}[w.rng.IntN(5)] // ties and zeros
	raw, _ := json.Marshal(map[string]any{"id": id, "owner": w.customers[cus], "version": 1, "customer_id": cus,
		"period": fmt.Sprintf("2025-%02d", 1+w.rng.IntN(12)), "kwh": kwh, "billed": kwh * 0.6, "category": "industrial", "voltage_class": "medium"})
	w.put("r/bills/"+id, old, raw)
	w.bills[id] = raw
}

func (w *rankWorld) step() {
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range w.customers {
			if !yield(id) {
				return
			}
		}
	})
	owners := []string{"320722", "320723", "320801", "3207"}
	switch k := w.rng.IntN(10); {
	case k < 2 || len(ids) == 0:
		w.customer(owners[w.rng.IntN(len(owners))])
	case k < 6:
		w.bill(ids[w.rng.IntN(len(ids))], nil, "")
	case k < 8: // a bill corrected
		cus := ids[w.rng.IntN(len(ids))]
		if bs := w.byCust[cus]; len(bs) > 0 {
			b := bs[w.rng.IntN(len(bs))]
			w.bill(cus, w.bills[b], b)
		}
	case k < 9: // a bill deleted
		cus := ids[w.rng.IntN(len(ids))]
		if bs := w.byCust[cus]; len(bs) > 0 {
			i := w.rng.IntN(len(bs))
			w.put("r/bills/"+bs[i], w.bills[bs[i]], nil)
			delete(w.bills, bs[i])
			w.byCust[cus] = slices.Delete(bs, i, i+1)
		}
	default: // a customer and its bills deleted
		cus := ids[w.rng.IntN(len(ids))]
		for _, b := range w.byCust[cus] {
			w.put("r/bills/"+b, w.bills[b], nil)
			delete(w.bills, b)
		}
		delete(w.byCust, cus)
		raw, _ := crm.Get(w.tx, "customers", cus)
		w.put("r/customers/"+cus, raw, nil)
		delete(w.customers, cus)
	}
}

// TestCustomersRanked_SameAsSorted: the ranking a read keeps and patches
// with the owners' changed cards is, after every few random changes
// (customers and bills created, corrected, deleted, across four owners,
// with ties and zeros), the customers' year sorted from scratch, for a
// subtree, a city's and one county's.
func TestCustomersRanked_SameAsSorted(t *testing.T) {
	w := &rankWorld{t: t, tx: crm.NewMemTxn(), rng: rand.New(rand.NewPCG(3, 17)), customers: map[string]string{},
		bills: map[string][]byte{}, byCust: map[string][]string{}}
	for range 300 {
		w.step()
	}
	day := crm.Date("2026-01-15")
	for round := range 120 {
		for range 1 + w.rng.IntN(6) {
			w.step()
		}
		for _, sc := range []struct {
			region  string
			subtree bool
		}{{"32", true}, {"3207", true}, {"320722", false}} {
			rk, ok, err := crm.CustomersRanked(w.tx, sc.region, sc.subtree, day)
			if err != nil || !ok {
				t.Fatalf("round %d %v: %v %v", round, sc, ok, err)
			}
			from, to := crm.Window(day)
			lists, ok, err := crm.CustomerWindows(w.tx, sc.region, sc.subtree, [2]string{from, to})
			if err != nil || !ok {
				t.Fatalf("windows: %v %v", ok, err)
			}
			want := lists[0]
			for i := range want {
				if !(want[i].KWh > 0) {
					want[i].KWh = 0
				}
			}
			sort.Slice(want, func(i, j int) bool {
				if want[i].KWh != want[j].KWh {
					return want[i].KWh > want[j].KWh
				}
				return want[i].ID < want[j].ID
			})
			if rk.Len() != len(want) {
				t.Fatalf("round %d %v: %d ranked, want %d", round, sc, rk.Len(), len(want))
			}
			for i, x := range want {
				id, kwh := rk.At(i)
				if id != x.ID || kwh != x.KWh {
					t.Fatalf("round %d %v: rank %d is %s %v, want %s %v", round, sc, i, id, kwh, x.ID, x.KWh)
				}
				if c := rk.Customer(i); c.ID != x.ID || c.Name != x.Name || c.Region != x.Region || c.Months != x.Months {
					t.Fatalf("round %d %v: customer %d %+v, want %+v", round, sc, i, c, x)
				}
			}
		}
	}
	if len(w.customers) < 50 {
		t.Fatalf("only %d customers left: the data did not exercise the ranking", len(w.customers))
	}
}
