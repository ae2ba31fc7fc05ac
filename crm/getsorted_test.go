package crm_test

import (
	"reflect"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// sortedReader reads many keys through GetSorted (as replication.StateReader
// does), here one Get each, counting the calls.
type sortedReader struct {
	crm.Reader
	calls *int
}

func (s sortedReader) GetSorted(keys [][]byte, fn func(i int, v []byte) error) error {
	*s.calls++
	for i := 1; i < len(keys); i++ {
		if string(keys[i-1]) > string(keys[i]) {
			panic("keys out of order")
		}
	}
	for i, k := range keys {
		v, err := s.Reader.Get(k)
		if err != nil {
			return err
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	return nil
}

// TestSuperviseSortedReads: the supervision lists and the KPIs read through
// GetSorted answer what they answer through point reads.
func TestSuperviseSortedReads(t *testing.T) {
	w := crmtest.NewWorld(t, "320722")
	cus := w.Customer("commercial", 0.4)
	for i := 0; i < 60; i++ {
		acc := crmtest.CST(2026, 3, 2, 9, 0).Add(time.Duration(i) * 7 * time.Hour)
		w.Create(acc.Add(time.Hour*24*30), "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.4, "capacity_kva": 50, "accepted_at": acc})
		w.Create(acc, "work_orders", "wko", crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "s", "customer_id": cus})
	}
	calls := 0
	sr := sortedReader{w.Tx, &calls}
	for _, now := range []time.Time{crmtest.CST(2026, 3, 10, 10, 0), crmtest.CST(2026, 3, 20, 10, 0), crmtest.CST(2026, 4, 20, 10, 0)} {
		want, err := process.Supervise(w.Tx, "32", true, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := process.Supervise(sr, "32", true, now)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("at %v: sorted reads answer %d/%d items (%v), point reads %d/%d", now, len(got.Overdue), len(got.Warnings), err, len(want.Overdue), len(want.Warnings))
		}
		per := process.Period{From: "2026-01-01"}
		wk, err := process.WorkOrderKPIsOf(w.Tx, "32", true, per, now)
		if err != nil {
			t.Fatal(err)
		}
		gk, err := process.WorkOrderKPIsOf(sr, "32", true, per, now)
		if err != nil || !reflect.DeepEqual(gk, wk) || wk.Total.Received != 60 {
			t.Fatalf("at %v: KPIs %+v (%v), want %+v", now, gk.Total, err, wk.Total)
		}
	}
	if l, _ := process.Supervise(w.Tx, "32", true, crmtest.CST(2026, 4, 20, 10, 0)); len(l.Overdue) == 0 {
		t.Fatal("nothing overdue to compare")
	}
	if calls == 0 {
		t.Fatal("GetSorted was not used")
	}
}
