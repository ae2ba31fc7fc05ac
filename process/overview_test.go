package process_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/crm/workday"
	"gridcrm/process"
	"gridcrm/store/keyspace"
)

// aggTxn folds every record write into the aggregates in the same
// transaction, as the node's feed transaction does (replication/link
// FeedTxn with crm.AggregateDeltas and crm.ApplyDeltas).
type aggTxn struct{ *crm.MemTxn }

func (t aggTxn) Set(k, v []byte) error { return t.write(k, v) }
func (t aggTxn) Delete(k []byte) error { return t.write(k, nil) }

func (t aggTxn) write(k, v []byte) error {
	if !strings.HasPrefix(string(k), keyspace.RecordPrefix) {
		if v == nil {
			return t.MemTxn.Delete(k)
		}
		return t.MemTxn.Set(k, v)
	}
	old, err := t.MemTxn.Get(k)
	if err != nil {
		return err
	}
	old = append([]byte(nil), old...)
	if len(old) == 0 {
		old = nil
	}
	ds := crm.AggregateDeltas(string(k), old, v)
	if v == nil {
		err = t.MemTxn.Delete(k)
	} else {
		err = t.MemTxn.Set(k, v)
	}
	if err != nil {
		return err
	}
	return crm.ApplyDeltas(t.MemTxn, ds)
}

// TestOverviewCounters_MatchRecords writes, rewrites and deletes bills,
// projects and outages at random through a transaction that keeps the
// aggregates as the node does, then checks (1) every counter equals the
// one rebuilt from the records alone, and (2) the overview's clock figures
// read from counters — arrears by age bucket, stages overdue now, outages
// this month — equal the same figures recomputed from the records (stages
// overdue by Supervise, which reads the projects) at several times.
func TestOverviewCounters_MatchRecords(t *testing.T) {
	tx := aggTxn{crm.NewMemTxn()}
	rng := rand.New(rand.NewPCG(14, 1))
	var ids crmtest.IDGen
	apply := func(now time.Time, op crm.Op, coll, id string, ver uint64, body any) crm.Result {
		t.Helper()
		cmd := crmtest.NewCmd(t, op, coll, id, county, ver, body)
		cmd.Time = now.UTC()
		return crm.Apply(tx, cmd)
	}
	must := func(res crm.Result) crm.Result {
		t.Helper()
		if res.Err != nil {
			t.Fatalf("%v (field %q)", res.Err, res.Err.Field)
		}
		return res
	}
	create := func(now time.Time, coll, prefix string, body any) string {
		t.Helper()
		id := ids.Next(prefix)
		must(apply(now, crm.OpCreate, coll, id, 0, body))
		return id
	}
	version := func(coll, id string) uint64 {
		raw, e := crm.Get(tx, coll, id)
		if e != nil {
			t.Fatal(e)
		}
		var m crm.Meta
		json.Unmarshal(raw, &m)
		return m.Version
	}
	start := cst(2026, 1, 5, 9, 0)
	var customers []string
	for i := range 4 {
		customers = append(customers, create(start, "customers", "cus", crmtest.CustomerBody(fmt.Sprintf("OV-%d", i), county)))
	}

	// Bills: 4 customers × 14 months, paid in full, in part or not at all;
	// then some paid later, some moved to an unbilled month, some deleted.
	var bills []string
	for _, c := range customers {
		for m := range 14 {
			period := cst(2025, 10, 1, 0, 0).AddDate(0, m, 0).Format("2006-01")
			billed := float64(100 + rng.IntN(900))
			paid := []float64{billed, 0, math.Round(billed*rng.Float64()*100) / 100}[rng.IntN(3)]
			bills = append(bills, create(start, "bills", "bil", crmtest.Obj{"customer_id": c, "period": period, "kwh": 1000, "billed": billed, "paid": paid, "pay_date": "2026-01-05"}))
		}
	}
	for i, id := range bills {
		switch i % 7 {
		case 1:
			must(apply(start, crm.OpUpdate, "bills", id, version("bills", id), crmtest.Obj{"paid": 10000, "pay_date": "2026-02-01"}))
		case 3:
			must(apply(start, crm.OpUpdate, "bills", id, version("bills", id), crmtest.Obj{"paid": 1, "pay_date": "2026-01-06"}))
		case 5:
			must(apply(start, crm.OpDelete, "bills", id, version("bills", id), nil))
		}
	}
	// the bill of 2025-10 of the first customer moves to 2024-12 (old arrears)
	must(apply(start, crm.OpUpdate, "bills", bills[0], version("bills", bills[0]), crmtest.Obj{"period": "2024-12", "paid": 0}))

	// Projects: accepted on different days; some stages completed, one
	// paused, one paused and resumed, one cancelled, one energised, one
	// whose clock runs into a year with no calendar (clock_error).
	var projects []string
	for i := range 12 {
		acc := cst(2026, time.Month(1+i%11), 3+i, 10, 0)
		kv, supply := 10.0, "single"
		if i%3 == 0 {
			kv, supply = 0.4, "single"
		}
		if i == 11 {
			acc = cst(2026, 12, 14, 9, 0) // runs into 2027: no calendar for it
		}
		projects = append(projects, create(acc.Add(time.Minute), "projects", "prj", crmtest.Obj{"kind": "new_connection",
			"customer_id": customers[i%4], "voltage_kv": kv, "supply": supply, "capacity_kva": 400, "accepted_at": acc}))
	}
	act := func(id string, at time.Time, body crmtest.Obj) {
		t.Helper()
		raw, _ := crm.Get(tx, "projects", id)
		p := crmtest.Decode[process.Project](t, raw)
		if body["stage"] == "" {
			body["stage"] = p.Stages[p.Current()].Name
		}
		must(apply(at, crm.OpAction, "projects", id, p.Version, body))
	}
	act(projects[1], cst(2026, 2, 20, 9, 0), crmtest.Obj{"action": "complete", "stage": ""})
	act(projects[2], cst(2026, 3, 20, 9, 0), crmtest.Obj{"action": "pause", "stage": "", "reason": "等客户资料"})
	act(projects[3], cst(2026, 4, 10, 9, 0), crmtest.Obj{"action": "pause", "stage": "", "reason": "等客户资料"})
	act(projects[3], cst(2026, 4, 20, 9, 0), crmtest.Obj{"action": "resume", "stage": ""})
	act(projects[4], cst(2026, 5, 20, 9, 0), crmtest.Obj{"action": "cancel", "reason": "客户撤回"})
	for range 10 { // energise project 5
		raw, _ := crm.Get(tx, "projects", projects[5])
		if crmtest.Decode[process.Project](t, raw).Status != process.ProjectOpen {
			break
		}
		act(projects[5], cst(2026, 6, 28, 9, 0), crmtest.Obj{"action": "complete", "stage": ""})
	}

	// Outages: starts in several months, one cancelled, one moved.
	var outages []string
	for i := range 9 {
		st := cst(2026, time.Month(9+i%4), 2+i, 8, 0)
		typ := []string{"planned", "temporary", "fault"}[i%3]
		outages = append(outages, create(st.AddDate(0, 0, -10), "outages", "otg", crmtest.Obj{"type": typ, "feeder": "F1", "start": st, "end": st.Add(3 * time.Hour)}))
	}
	must(apply(start, crm.OpUpdate, "outages", outages[2], version("outages", outages[2]), crmtest.Obj{"status": "cancelled"}))
	moved := cst(2026, 11, 30, 23, 30) // 30 Nov 23:30 CST: November in CST, 30 Nov 15:30 UTC
	must(apply(start, crm.OpUpdate, "outages", outages[3], version("outages", outages[3]), crmtest.Obj{"start": moved, "end": moved.Add(time.Hour)}))

	// (1) Every counter equals the one rebuilt from the records.
	stored := map[string]float64{}
	for _, p := range []string{keyspace.AggregatePrefix, keyspace.TallyPrefix} { // counters and tallies
		tx.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, v []byte) bool {
			stored[string(k)] = math.Float64frombits(binary.BigEndian.Uint64(v))
			return true
		})
	}
	rebuilt := map[string]float64{}
	tx.Iterate([]byte(keyspace.RecordPrefix), []byte(keyspace.End(keyspace.RecordPrefix)), func(k, v []byte) bool {
		for _, d := range crm.AggregateDeltas(string(k), nil, v) {
			key := keyspace.Aggregate(d.Region, d.Metric)
			if name, ok := strings.CutPrefix(d.Metric, crm.TallyMark); ok {
				key = keyspace.Tally(d.Region, name)
			}
			rebuilt[key] += d.Value
		}
		return true
	})
	for k, v := range rebuilt {
		if math.Abs(v) < 1e-9 {
			delete(rebuilt, k)
		}
	}
	for k, v := range rebuilt {
		if math.Abs(stored[k]-v) > 1e-6 {
			t.Errorf("counter %s = %v; rebuilt from the records: %v", k, stored[k], v)
		}
	}
	for k, v := range stored {
		if _, ok := rebuilt[k]; !ok {
			t.Errorf("counter %s = %v; the records give none", k, v)
		}
	}
	for _, want := range []string{"arrears.2024-12", "arrears_bills.2026-01", "projects.stages_due.", "projects.stages_no_deadline", "outages.started.type.fault.2026-"} {
		found := false
		for k := range stored {
			found = found || strings.Contains(k, "/"+want)
		}
		if !found {
			t.Errorf("no counter %s… kept; the test does not exercise it", want)
		}
	}

	// (2) The clock figures from the counters equal those from the records.
	sum, err := crm.Summarize(tx, county, true)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := process.ProcessCounters(tx, county, true)
	if err != nil {
		t.Fatal(err)
	}
	nows := []time.Time{cst(2026, 3, 1, 0, 0), cst(2026, 4, 15, 12, 0), cst(2026, 9, 30, 23, 59), cst(2026, 11, 30, 23, 59),
		cst(2026, 12, 1, 0, 0), cst(2027, 3, 1, 8, 0)}
	for _, days := range []int{0, 30, 31, 60, 61, 90, 91} { // at the buckets' edges for bills of 2026-01 (due 1 Feb)
		nows = append(nows, cst(2026, 2, 1, 0, 0).AddDate(0, 0, days), cst(2026, 2, 1, 23, 59).AddDate(0, 0, days))
	}
	for _, id := range projects { // at each current stage's deadline and just before it
		raw, _ := crm.Get(tx, "projects", id)
		p := crmtest.Decode[process.Project](t, raw)
		if i := p.Current(); i >= 0 && p.Status == process.ProjectOpen && p.Stages[i].Deadline != nil {
			nows = append(nows, *p.Stages[i].Deadline, p.Stages[i].Deadline.Add(-time.Second))
		}
	}
	for _, now := range nows {
		t.Run(now.Format(time.DateTime), func(t *testing.T) {
			// arrears by age, from the bills
			var want [4]crm.AgeBucket
			process.EachRecord(tx, "bills", county, true, func(raw []byte) error {
				b := crmtest.Decode[crm.Bill](t, raw)
				if b.Arrears <= 0 {
					return nil
				}
				p, _ := time.ParseInLocation("2006-01", b.Period, workday.CST)
				due := p.AddDate(0, 1, 0)
				y, m, d := now.In(workday.CST).Date()
				days := 0
				for day := due; day.Before(time.Date(y, m, d, 0, 0, 0, 0, workday.CST)); day = day.AddDate(0, 0, 1) {
					days++
				}
				i := min(3, max(0, (days-1)/30))
				want[i].Amount += b.Arrears
				want[i].Bills++
				return nil
			})
			got := crm.AgeArrears(sum.ArrearsByPeriod, sum.ArrearsBillsByPeriod, now)
			for i := range want {
				if math.Abs(got[i].Amount-want[i].Amount) > 0.005 || got[i].Bills != want[i].Bills {
					t.Errorf("bucket %s: %v yuan, %d bills; the bills give %.2f yuan, %d bills", got[i].Bucket, got[i].Amount, got[i].Bills, want[i].Amount, want[i].Bills)
				}
			}
			// stages overdue now, as Supervise lists them from the projects
			l, err := process.Supervise(tx, county, true, now)
			if err != nil {
				t.Fatal(err)
			}
			var overdue, stopped int64
			for _, it := range l.Overdue {
				if it.Type == "project_stage" && it.Deadline.IsZero() {
					stopped++
				} else if it.Type == "project_stage" {
					overdue++
				}
			}
			cf := process.ClockFiguresOf(pc, now)
			if cf.StagesOverdue != overdue || cf.StagesNoDeadline != stopped {
				t.Errorf("stages overdue %d, without deadline %d; Supervise lists %d and %d", cf.StagesOverdue, cf.StagesNoDeadline, overdue, stopped)
			}
			// outages this month
			byType := map[string]int64{}
			var n int64
			process.EachRecord(tx, "outages", county, true, func(raw []byte) error {
				o := crmtest.Decode[process.Outage](t, raw)
				if o.Status != "cancelled" && o.Start.In(workday.CST).Format("2006-01") == now.In(workday.CST).Format("2006-01") {
					byType[o.Type]++
					n++
				}
				return nil
			})
			if cf.Outages != n || fmt.Sprint(cf.OutagesByType) != fmt.Sprint(byType) {
				t.Errorf("outages in %s: %d %v; the records give %d %v", cf.Month, cf.Outages, cf.OutagesByType, n, byType)
			}
		})
	}

	// The KPIs of a period add up the tallies and read the open items by
	// deadline: the same answers as a read of every record.
	for i, at := range []time.Time{cst(2026, 1, 20, 9, 0), cst(2026, 3, 3, 9, 0), cst(2026, 6, 30, 23, 0)} {
		create(at, "work_orders", "wko", crmtest.Obj{"channel": "web", "kind": []string{"complaint", "consultation", "fault_repair"}[i], "subject": "s", "site_class": "urban"})
	}
	now := cst(2026, 7, 1, 9, 0)
	for _, per := range []process.Period{{From: "2026-01-01"}, {From: "2026-02-01", To: "2026-03-01"}, {From: "2026-03-01", To: "2026-06-01"},
		{From: "2026-06-15", To: "2026-07-01"}, {From: "2025-01-01", To: "2025-12-31"}, {From: "2026-04-11", To: "2026-04-12"}, {}, {To: "2026-04-01"}} {
		kpis := func(pk func(crm.Reader, string, bool, process.Period, time.Time) (process.ProjectKPIs, error),
			wk func(crm.Reader, string, bool, process.Period, time.Time) (process.WorkOrderKPIs, error),
			ok func(crm.Reader, string, bool, process.Period) (process.OutageKPIs, error)) (any, any, any) {
			p, err := pk(tx, "32", true, per, now)
			if err != nil {
				t.Fatal(err)
			}
			w, err := wk(tx, "32", true, per, now)
			if err != nil {
				t.Fatal(err)
			}
			o, err := ok(tx, county, false, per)
			if err != nil {
				t.Fatal(err)
			}
			return p, w, o
		}
		p, w, o := kpis(process.ProjectKPIsOf, process.WorkOrderKPIsOf, process.OutageKPIsOf)
		sp, sw, so := kpis(process.ProjectKPIsFromRecords, process.WorkOrderKPIsFromRecords, process.OutageKPIsFromRecords)
		for _, c := range []struct {
			what      string
			got, want any
		}{{"projects", p, sp}, {"work orders", w, sw}, {"outages", o, so}} {
			g, w := process.KPIJSON(c.got), process.KPIJSON(c.want)
			if g != w {
				t.Errorf("%s KPIs of %+v from the tallies:\n%s\nfrom every record:\n%s", c.what, per, g, w)
			}
		}
	}
}
