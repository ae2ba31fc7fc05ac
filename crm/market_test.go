package crm_test

import (
	"encoding/json"
	"testing"

	"gridcrm/crm"
)

// TestMarket_BillCarriesItsCustomer: a bill takes its customer's category
// and voltage class on create (another value is refused naming the field,
// an update keeps them), and its write counts kWh, yuan and bills per
// category and class and its time-of-use kWh in the market counters,
// which Market sums by region and subtree; replacing the bill moves the
// counters.
func TestMarket_BillCarriesItsCustomer(t *testing.T) {
	w := newWorld(t, "320722")
	ind := w.customer("industrial", 10)
	res := w.customer("residential", 0.22)
	agg := crm.NewMemTxn()
	count := func(coll, id string, old []byte) []byte {
		t.Helper()
		raw, e := crm.Get(w.tx, coll, id)
		if e != nil {
			t.Fatal(e)
		}
		if err := crm.ApplyDeltas(agg, crm.AggregateDeltas("r/"+coll+"/"+id, old, raw)); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	b1 := w.create(t0, "bills", "bil", obj{"customer_id": ind, "period": "2026-01", "kwh": 1000, "kwh_peak": 500, "kwh_flat": 300, "kwh_valley": 200, "billed": 700})
	raw1 := count("bills", b1, nil)
	b2 := w.create(t0, "bills", "bil", obj{"customer_id": res, "period": "2026-01", "kwh": 100, "billed": 56, "category": "residential"})
	count("bills", b2, nil)
	var got crm.Bill
	json.Unmarshal(raw1, &got)
	if got.Category != "industrial" || got.VoltageClass != "medium" {
		t.Fatalf("bill derived %q %q; want industrial medium", got.Category, got.VoltageClass)
	}
	for _, bad := range []struct {
		body  obj
		field string
	}{
		{obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "category": "residential"}, "category"},
		{obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "voltage_class": "high"}, "voltage_class"},
		{obj{"customer_id": ind, "period": "2026-02", "kwh": 1, "billed": 1, "category": "shops"}, "category"},
	} {
		if r := w.at(t0, crm.OpCreate, "bills", w.ids.next("bil"), 0, bad.body); r.Err == nil || r.Err.Field != bad.field {
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
	if r := w.at(t0, crm.OpUpdate, "bills", b1, 1, obj{"kwh": 2000, "kwh_peak": 1500, "kwh_flat": 300, "kwh_valley": 200}); r.Err != nil {
		t.Fatal(r.Err)
	}
	count("bills", b1, raw1)
	if r := w.at(t0, crm.OpUpdate, "bills", b1, 2, obj{"category": "public"}); r.Err == nil || r.Err.Field != "category" {
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
