package process_test

import (
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// BenchmarkSupervise measures the read-time supervision scan and the
// project KPIs over a county with 5,000 open projects and 5,000 open
// complaints (every one read and judged).
func BenchmarkSupervise(b *testing.B) {
	t := &testing.T{}
	w := newWorld(t, "320722")
	cus := w.Customer("commercial", 0.4)
	for i := 0; i < 5000; i++ {
		acc := cst(2026, 3, 2, 9, 0).Add(time.Duration(i) * time.Minute)
		w.Create(acc.Add(time.Hour*24*30), "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.4, "capacity_kva": 50, "accepted_at": acc})
		w.Create(acc, "work_orders", "wko", crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "s", "customer_id": cus})
	}
	now := cst(2026, 3, 20, 10, 0)
	b.Run("Supervise", func(b *testing.B) {
		for b.Loop() {
			l, err := process.Supervise(w.Tx, "32", true, now)
			if err != nil || len(l.Overdue) != 15000 {
				b.Fatalf("%d overdue, %v", len(l.Overdue), err)
			}
		}
	})
	b.Run("ProjectKPIs", func(b *testing.B) {
		for b.Loop() {
			if _, err := process.ProjectKPIsOf(w.Tx, "32", true, process.Period{}, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProjectAction measures one stage action through Apply (rule set
// and calendar lookups, deadline recount).
func BenchmarkProjectAction(b *testing.B) {
	w := newWorld(&testing.T{}, "320722")
	cus := w.Customer("industrial", 10)
	mgr := w.Staff("M-1")
	p := w.project(cst(2026, 3, 2, 9, 0), cus, 10, "single")
	for b.Loop() {
		res := w.At(cst(2026, 3, 3, 9, 0), crm.OpAction, "projects", p.ID, p.Version, crmtest.Obj{"action": "assign", "stage": "supply_plan", "responsible": mgr})
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		p.Version++
	}
}
