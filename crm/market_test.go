package crm_test

import (
	"encoding/json"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestMarket_BillCarriesItsCustomer: a bill takes its customer's category
// and voltage class on create (another value is refused naming the field,
// an update keeps them), and its write counts kWh, yuan and bills per
// category and class and its time-of-use kWh in the market counters,
// which Market sums by region and subtree; replacing the bill moves the
// counters.
func TestMarket_BillCarriesItsCustomer(t *testing.T) {
	w := crmtest.NewWorld(t, "320722")
	ind := w.Customer("industrial", 10)
	res := w.Customer("residential", 0.22)
	agg := crm.NewMemTxn()
	count := func(coll, id string, old []byte) []byte {
		t.Helper()
		raw, e := crm.Get(w.Tx, coll, id)
		if e != nil {
			t.Fatal(e)
		}
		if err := crm.ApplyDeltas(agg, crm.AggregateDeltas("r/"+coll+"/"+id, old, raw)); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	b1 := w.Create(crmtest.T0, "bills", "bil", crmtest.Obj{"customer_id": ind, "period": "2026-01", "kwh": 1000, "kwh_peak": 500, "kwh_flat": 300, "kwh_valley": 200, "billed": 700})
	raw1 := count("bills", b1, nil)
	b2 := w.Create(crmtest.T0, "bills", "bil", crmtest.Obj{"customer_id": res, "period": "2026-01", "kwh": 100, "billed": 56, "category": "residential"})
	count("bills", b2, nil)
	var got crm.Bill
	json.Unmarshal(raw1, &got)
	if got.Category != "industrial" || got.VoltageClass != "medium" {
		t.Fatalf("bill derived %q %q; want industrial medium", got.Category, got.VoltageClass)
	}
	for _, bad := range []struct {
		body  crmtest.Obj
		field string
	}{
		{crmtest.Obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "category": "residential"}, "category"},
		{crmtest.Obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "voltage_class": "high"}, "voltage_class"},
		{crmtest.Obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "category": "shops"}, "category"},
	} {
		if r := w.At(crmtest.T0, crm.OpCreate, "bills", w.IDs.Next("bil"), 0, bad.body); r.Err == nil || r.Err.Field != bad.field {
			t.Errorf("%v: %v, want an error naming %s", bad.body, r.Err, bad.field)
		}
	}
	m, err := crm.Market(agg, "320722", false)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Slices["cat"]["industrial"]["2026-01"]; c == nil || c.KWh != 1000 || c.Yuan != 700 || c.Bills != 1 {
		t.Errorf("industrial 2026-01: %+v", c)
	}
	if c := m.Slices["volt"]["low"]["2026-01"]; c == nil || c.KWh != 100 || c.Bills != 1 {
		t.Errorf("low voltage 2026-01: %+v", c)
	}
	if tou := m.TOU["2026-01"]; tou["peak"] != 500 || tou["valley"] != 200 || tou["metered"] != 1000 {
		t.Errorf("time of use: %v", tou)
	}
	// An update keeps the derived fields; the counters follow the new kWh.
	if r := w.At(crmtest.T0, crm.OpUpdate, "bills", b1, 1, crmtest.Obj{"kwh": 2000, "kwh_peak": 1500, "kwh_flat": 300, "kwh_valley": 200}); r.Err != nil {
		t.Fatal(r.Err)
	}
	count("bills", b1, raw1)
	if r := w.At(crmtest.T0, crm.OpUpdate, "bills", b1, 2, crmtest.Obj{"category": "public"}); r.Err == nil || r.Err.Field != "category" {
		t.Errorf("changing a bill's category: %v", r.Err)
	}
	m, _ = crm.Market(agg, "32", true)
	if c := m.Slices["cat"]["industrial"]["2026-01"]; c == nil || c.KWh != 2000 || c.Bills != 1 || m.TOU["2026-01"]["peak"] != 1500 {
		t.Errorf("after the update, at the province: %+v %v", c, m.TOU)
	}
	if len(m.Regions) != 1 || m.Regions[0] != "320722" {
		t.Errorf("regions %v", m.Regions)
	}
	if m, _ := crm.Market(agg, "320723", true); len(m.Slices) != 0 {
		t.Errorf("a sibling sees %v", m.Slices)
	}
}

// TestMarket_CustomerWindows: the per-customer kWh and amount of two
// windows and the year's kWh come from the cards kept on apply, and
// follow a bill's update.
func TestMarket_CustomerWindows(t *testing.T) {
	w := crmtest.NewWorld(t, "320722")
	a, b := w.Customer("industrial", 10), w.Customer("commercial", 0.4)
	for i, p := range []string{"2025-10", "2025-11", "2025-12", "2026-01"} {
		w.Create(crmtest.T0, "bills", "bil", crmtest.Obj{"customer_id": a, "period": p, "kwh": 1000, "billed": 600 + 100*i})
	}
	bb := w.Create(crmtest.T0, "bills", "bil", crmtest.Obj{"customer_id": b, "period": "2026-01", "kwh": 10, "billed": 8})
	recount(t, w.Tx)
	lists, ok, err := crm.CustomerWindows(w.Tx, "32", true, [2]string{"2025-10", "2025-12"}, [2]string{"2026-01", "2026-01"})
	if err != nil || !ok || len(lists) != 2 || len(lists[0]) != 2 || len(lists[1]) != 2 {
		t.Fatalf("windows %v %v %v", lists, ok, err)
	}
	for _, x := range lists[0] {
		if x.ID == a && (x.KWh != 3000 || x.Billed != 2100 || x.Months != 3) || x.ID == b && x.Months != 0 {
			t.Errorf("before: %+v", x)
		}
	}
	year, ok, err := crm.CustomersByYear(w.Tx, "320722", false, "2026-02-15")
	if err != nil || !ok || len(year) != 2 {
		t.Fatalf("year %v %v %v", year, ok, err)
	}
	if r := w.At(crmtest.T0, crm.OpUpdate, "bills", bb, 1, crmtest.Obj{"kwh": 5000}); r.Err != nil {
		t.Fatal(r.Err)
	}
	recount(t, w.Tx)
	year, _, _ = crm.CustomersByYear(w.Tx, "320722", false, "2026-02-15")
	for _, x := range year {
		if x.ID == b && x.KWh != 5000 || x.ID == a && x.KWh != 4000 {
			t.Errorf("after the update: %+v", x)
		}
	}
}

// recount sets the aggregates of tx to what its records count (the node
// keeps them in the batch of each write; Apply alone does not).
func recount(t *testing.T, tx *crm.MemTxn) {
	t.Helper()
	var old [][]byte
	type rec struct {
		key string
		raw []byte
	}
	var recs []rec
	tx.Iterate([]byte("a/"), []byte("a0"), func(k, _ []byte) bool { old = append(old, append([]byte(nil), k...)); return true })
	tx.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool { recs = append(recs, rec{string(k), append([]byte(nil), v...)}); return true })
	for _, k := range old {
		tx.Delete(k)
	}
	for _, r := range recs {
		if err := crm.ApplyDeltas(tx, crm.AggregateDeltas(r.key, nil, r.raw)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMarket_TrendsByIndustry: a stored trend counts its 12 months' kWh
// and the 12 before under its industry (a dot in the name kept apart from
// the counter's own), one without an industry under unknown.
func TestMarket_TrendsByIndustry(t *testing.T) {
	w := crmtest.NewWorld(t, "320722")
	a, b, c := w.Customer("industrial", 10), w.Customer("industrial", 10), w.Customer("commercial", 0.4)
	trend := func(id, industry string, kwh, prev float64) {
		w.Create(crmtest.T0, "customer_trends", "ctr", crmtest.Obj{"customer_id": id, "period": "2025-12", "industry": industry, "kwh_12m": kwh, "kwh_12m_prev": prev,
			"yuan_12m": kwh, "yuan_12m_prev": prev, "growth": kwh/prev - 1, "bill_growth": kwh/prev - 1, "bill_vs_kwh": 0})
	}
	trend(a, "化学原料.制品", 3000, 2000)
	trend(b, "化学原料.制品", 1000, 1000)
	trend(c, "", 10, 20)
	recount(t, w.Tx)
	m, err := crm.Market(w.Tx, "32", true)
	if err != nil {
		t.Fatal(err)
	}
	ch, un := m.Industry["2025-12"]["化学原料_制品"], m.Industry["2025-12"]["unknown"]
	if len(m.Industry["2025-12"]) != 2 || ch == nil || ch.Customers != 2 || ch.KWh12 != 4000 || ch.KWh12Prev != 3000 || un == nil || un.Customers != 1 || un.KWh12Prev != 20 {
		t.Errorf("by industry: %+v %+v (%v)", ch, un, m.Industry)
	}
	if len(m.Slices) != 0 {
		t.Errorf("the industry counters leak into the slices: %v", m.Slices)
	}
}
