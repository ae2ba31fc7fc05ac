package sample

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// TestGenerateProcesses applies a county's process plan through crm.Apply,
// as the demo does through the API, and checks that it covers what the
// demo must show: energised projects on time and late, overdue and paused
// ones, work orders of every kind in every state class, a send-back, orders
// taken at the province, outages of every type with one noticed too late.
func TestGenerateProcesses(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	region := "320722"
	d := Generate(Options{Region: region, Customers: 300, Seed: 7})
	AssignFeeders(d.Customers, region)
	tx := crm.NewMemTxn()
	n := 0
	apply := func(op crm.Op, coll, id string, ver uint64, body any) json.RawMessage {
		t.Helper()
		raw, _ := json.Marshal(body)
		n++
		res := crm.Apply(crmtest.Counting{Txn: tx}, &crm.Command{Op: op, Collection: coll, ID: id, Version: ver, Body: raw, Region: region, Actor: "demo",
			Time: now.Add(time.Duration(n) * time.Millisecond)})
		if res.Err != nil {
			t.Fatalf("%s %s: %v (field %q): %s", op, coll, res.Err, res.Err.Field, raw)
		}
		return res.Record
	}
	newID := func(prefix string) string { return crm.NewID(prefix, now) }
	for i := range d.Customers {
		d.Customers[i].ID = newID("cus")
		apply(crm.OpCreate, "customers", d.Customers[i].ID, 0, d.Customers[i])
	}
	var staff []string
	for _, s := range d.Staff {
		id := newID("stf")
		apply(crm.OpCreate, "staff", id, 0, s)
		staff = append(staff, id)
	}
	opts := ProcessOptions{Region: region, Customers: d.Customers, StaffIDs: staff, Now: now, Seed: 3}
	plan := GenerateProcesses(opts)
	if again := GenerateProcesses(opts); !reflect.DeepEqual(plan, again) {
		t.Fatal("the same options gave another plan")
	}
	type meta struct{ Version uint64 }
	for _, p := range plan.Projects {
		id := newID("prj")
		rec := apply(crm.OpCreate, "projects", id, 0, p.Project)
		for _, s := range p.Steps {
			var m meta
			_ = json.Unmarshal(rec, &m)
			rec = apply(crm.OpAction, "projects", id, m.Version, s)
		}
	}
	for _, o := range plan.Orders {
		id := newID("wko")
		rec := apply(crm.OpCreate, "work_orders", id, 0, o.Order)
		for _, s := range o.Steps {
			var m meta
			_ = json.Unmarshal(rec, &m)
			rec = apply(crm.OpAction, "work_orders", id, m.Version, s)
		}
	}
	for _, o := range plan.Outages {
		apply(crm.OpCreate, "outages", newID("otg"), 0, o)
	}

	k, _ := process.ProjectKPIsOf(tx, region, false, process.Period{}, now)
	if k.Total.Energised == 0 || k.Total.OnTime == 0 || k.Total.OnTime == k.Total.Energised || k.Total.OverdueNow == 0 || k.Total.Open == 0 {
		t.Errorf("projects: %+v; want energised on time and late, open and overdue", *k.Total)
	}
	l, _ := process.Supervise(tx, region, false, now)
	if len(l.Warnings) == 0 {
		t.Error("no stage about to fall due: the account managers' warning list is empty")
	}
	levels := map[string]int{}
	for _, it := range l.Overdue {
		levels[it.Type+"/"+string(it.Level)]++
	}
	if levels["project_stage/province"]+levels["project_stage/city"] == 0 || levels["work_order/county"]+levels["work_order/city"]+levels["work_order/province"] == 0 {
		t.Errorf("overdue by type and level %v; want escalated project stages and overdue work orders", levels)
	}
	w, _ := process.WorkOrderKPIsOf(tx, region, false, process.Period{}, now)
	if len(w.Total.ByKind) != len(process.WorkOrderKinds) || w.Total.Archived == 0 || w.Total.Open == 0 || w.Total.SendBacks == 0 || w.Total.Revisited == 0 {
		t.Errorf("work orders %+v", *w.Total)
	}
	for _, o := range plan.Orders {
		if o.Order.TakingRegion != "" {
			t.Errorf("order %q sets taking_region %s: the server decides it", o.Order.Subject, o.Order.TakingRegion)
			break
		}
	}
	ok, _ := process.OutageKPIsOf(tx, region, false, process.Period{})
	if len(ok.Total.ByType) != 3 || ok.Total.NoticeRequired != 3 || ok.Total.NoticeOnTime != 2 {
		t.Errorf("outages %+v", *ok.Total)
	}
	paused := false
	for _, p := range plan.Projects {
		for _, s := range p.Steps {
			paused = paused || s.Action == "pause"
		}
	}
	if !paused {
		t.Error("no project waits on its customer")
	}
}

// Every time of a plan is at least a minute before Now (the server refuses
// a time in the future), whatever the seed and the customers.
func TestGenerateProcesses_NothingInTheFuture(t *testing.T) {
	now := time.Date(2026, 12, 6, 18, 49, 0, 0, time.UTC)
	limit := now.Add(-time.Minute)
	for seed := range int64(500) {
		d := Generate(Options{Region: "320803", Customers: 30, Seed: seed})
		AssignFeeders(d.Customers, "320803")
		for i := range d.Customers {
			d.Customers[i].ID = crm.NewID("cus", now)
		}
		plan := GenerateProcesses(ProcessOptions{Region: "320803", Customers: d.Customers, StaffIDs: []string{"stf_1", "stf_2"}, Now: now, Seed: seed})
		for _, o := range plan.Orders {
			if o.Order.ReceivedAt.After(limit) {
				t.Fatalf("seed %d: order received at %v, after %v", seed, o.Order.ReceivedAt, limit)
			}
			for _, st := range o.Steps {
				if st.At.After(limit) {
					t.Fatalf("seed %d: order step %+v after %v", seed, st, limit)
				}
			}
		}
		for _, p := range plan.Projects {
			for _, st := range p.Steps {
				if st.At.After(limit) {
					t.Fatalf("seed %d: project step %+v after %v", seed, st, limit)
				}
			}
		}
	}
}
