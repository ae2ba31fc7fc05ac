package process_test

import (
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// TestMarket_CapacityEnergised: an energised project counts its capacity
// in the CST month it was energised, by kind and class; an open project
// counts nothing, and cancelling nothing moves no capacity.
func TestMarket_CapacityEnergised(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("industrial", 10)
	p := w.project(cst(2025, 3, 3, 9, 0), cus, 10, "single")
	open := w.project(cst(2025, 3, 3, 9, 0), w.Customer("commercial", 10), 10, "single")
	capOf := func() crm.MarketCounters {
		t.Helper()
		recount(t, w.Tx)
		m, err := crm.Market(w.Tx, "32", true)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := capOf(); len(m.Capacity) != 0 {
		t.Fatalf("capacity before any energisation: %v", m.Capacity)
	}
	p = w.mustStage(cst(2025, 3, 11, 9, 0), p, crmtest.Obj{"action": "complete", "stage": "supply_plan"})
	p = w.mustStage(cst(2025, 3, 20, 9, 0), p, crmtest.Obj{"action": "complete", "stage": "completion_acceptance"})
	// 1 April 01:00 in Beijing is still 31 March in UTC: April's.
	p = w.mustStage(cst(2025, 4, 1, 1, 0), p, crmtest.Obj{"action": "complete", "stage": "energisation"})
	if p.Status != process.ProjectEnergised {
		t.Fatalf("status %s", p.Status)
	}
	m := capOf()
	if len(m.Capacity) != 1 {
		t.Fatalf("capacity: %v", m.Capacity)
	}
	c := m.Capacity["2025-04"]["new_connection."+p.Class]
	if c == nil || c.KVA != 400 || c.Projects != 1 || m.CapacityByRegion["320722"]["2025-04"] != 400 {
		t.Errorf("2025-04, class %s: %+v, by region %v", p.Class, c, m.CapacityByRegion)
	}
	w.mustStage(cst(2025, 4, 2, 9, 0), open, crmtest.Obj{"action": "cancel", "reason": "customer withdrew"})
	if m2 := capOf(); len(m2.Capacity) != 1 || m2.Capacity["2025-04"]["new_connection."+p.Class].KVA != 400 {
		t.Errorf("after a cancellation: %v", m2.Capacity)
	}
	if m3, _ := crm.Market(w.Tx, "320723", true); len(m3.Capacity) != 0 {
		t.Errorf("a sibling county sees %v", m3.Capacity)
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
