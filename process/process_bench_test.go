package process_test

import (
	"fmt"
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

// BenchmarkKPIs_Year measures a year's KPIs over a county that received
// kpiYearOrders work orders and accepted a tenth as many projects in it, most of them done:
// from the tallies and the open items by deadline, and (…/records) from
// every record as before them, the ratio the tallies buy. The tallies'
// cost does not grow with the records; the records' does.
func BenchmarkKPIs_Year(b *testing.B) {
	w := newWorld(&testing.T{}, "320722")
	cus := w.Customer("commercial", 0.4)
	var staff []string
	for i := range 20 {
		staff = append(staff, w.Staff(fmt.Sprintf("S-%d", i)))
	}
	start := cst(2025, 1, 1, 9, 0)
	for i := range kpiYearOrders {
		at := start.Add(time.Duration(i) * (364 * 24 * time.Hour / kpiYearOrders)) // within the year
		o := w.order(at, crmtest.Obj{"channel": "web", "kind": "consultation", "subject": "s", "customer_id": cus})
		if i%10 == 0 {
			continue // left open
		}
		for _, to := range []crmtest.Obj{{"to": "dispatched", "assignee_id": staff[i%len(staff)]}, {"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "satisfied"}, {"to": "archived"}} {
			var e *crm.Error
			if o, e = w.move(at.Add(time.Hour), o, to); e != nil {
				b.Fatal(e)
			}
		}
	}
	for i := range kpiYearOrders / 10 {
		acc := start.Add(time.Duration(i) * (10 * 364 * 24 * time.Hour / kpiYearOrders))
		id := w.Create(acc, "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.4, "capacity_kva": 50,
			"accepted_at": acc, "manager_id": staff[i%len(staff)]})
		p := w.getProject(id)
		for j := 0; i%10 != 0 && p.Status == process.ProjectOpen; j++ {
			p = w.mustStage(acc.Add(time.Duration(j+1)*50*time.Hour), p, crmtest.Obj{"action": "complete", "stage": p.Stages[p.Current()].Name})
		}
	}
	now, per := cst(2026, 1, 5, 10, 0), process.Period{From: "2025-01-01", To: "2026-01-01"}
	for _, c := range []struct {
		name string
		wo   func(crm.Reader, string, bool, process.Period, time.Time) (process.WorkOrderKPIs, error)
		p    func(crm.Reader, string, bool, process.Period, time.Time) (process.ProjectKPIs, error)
	}{{"tallies", process.WorkOrderKPIsOf, process.ProjectKPIsOf}, {"records", process.WorkOrderKPIsFromRecords, process.ProjectKPIsFromRecords}} {
		b.Run("work_orders/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if k, err := c.wo(w.Tx, "32", true, per, now); err != nil || k.Total.Received != kpiYearOrders {
					b.Fatalf("%d received, %v", k.Total.Received, err)
				}
			}
		})
		b.Run("projects/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if k, err := c.p(w.Tx, "32", true, per, now); err != nil || k.Total.Accepted != kpiYearOrders/10 {
					b.Fatalf("%d accepted, %v", k.Total.Accepted, err)
				}
			}
		})
	}
}

// kpiYearOrders is the work orders of BenchmarkKPIs_Year's county (the
// in-memory store it is written through takes minutes beyond this).
const kpiYearOrders = 6000
