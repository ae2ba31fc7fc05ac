package process_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
	"gridcrm/store/keyspace"
)

// kpiWorld writes a random year of projects, work orders and outages in
// two counties (random walks through their stages and states: completed,
// paused, resumed, cancelled; dispatched, sent back, revisited, archived)
// and answers the world.
func kpiWorld(t *testing.T, seed uint64) *world {
	rng := rand.New(rand.NewPCG(seed, 7))
	w := newWorld(t, "320722")
	type county struct {
		region string
		cus    []string
		staff  []string
	}
	var counties []county
	for _, region := range []string{"320722", "320723"} {
		w.Region = region
		c := county{region: region}
		for i := range 3 {
			c.staff = append(c.staff, w.Staff(fmt.Sprintf("S%s-%d", region, i)))
		}
		for _, cat := range []string{"residential", "commercial", "industrial"} {
			kv := map[string]float64{"residential": 0.22, "commercial": 0.4, "industrial": 10}[cat]
			c.cus = append(c.cus, w.Customer(cat, kv))
		}
		counties = append(counties, c)
	}
	start := cst(2025, 12, 1, 9, 0)
	at := func(day int) time.Time {
		return start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(10*60)) * time.Minute)
	}
	for i := range 60 {
		c := counties[i%2]
		w.Region = c.region
		acc := at(rng.IntN(330))
		body := crmtest.Obj{"kind": "new_connection", "customer_id": c.cus[rng.IntN(len(c.cus))], "capacity_kva": 100, "accepted_at": acc}
		kv := []float64{0.22, 0.4, 10}[rng.IntN(3)]
		body["voltage_kv"] = kv
		if rng.IntN(4) > 0 {
			body["manager_id"] = c.staff[rng.IntN(len(c.staff))]
		}
		p := w.getProject(w.Create(acc, "projects", "prj", body))
		now := acc
		for p.Status == process.ProjectOpen && rng.IntN(12) > 0 {
			now = now.Add(time.Duration(rng.IntN(9*24)) * time.Hour)
			cur := p.Stages[p.Current()]
			paused := len(cur.Pauses) > 0 && cur.Pauses[len(cur.Pauses)-1].To == nil
			var a crmtest.Obj
			switch r := rng.IntN(20); {
			case r == 0:
				a = crmtest.Obj{"action": "cancel", "reason": "客户撤回"}
			case paused:
				a = crmtest.Obj{"action": "resume", "stage": cur.Name}
			case r < 3:
				a = crmtest.Obj{"action": "pause", "stage": cur.Name, "reason": "等客户"}
			default:
				a = crmtest.Obj{"action": "complete", "stage": cur.Name}
			}
			np, e := w.stage(now, p, a)
			if e == nil {
				p = np
			}
		}
	}
	kinds := []string{"complaint", "consultation", "fault_repair", "report"}
	for i := range 120 {
		c := counties[i%2]
		w.Region = c.region
		recv := at(rng.IntN(340))
		o := w.order(recv, crmtest.Obj{"channel": []string{"web", "sms", "95598_hotline"}[rng.IntN(3)], "kind": kinds[rng.IntN(len(kinds))], "subject": "s", "site_class": "urban"})
		now := recv
		for range rng.IntN(9) {
			now = now.Add(time.Duration(rng.IntN(40)) * time.Hour)
			var a crmtest.Obj
			switch o.State {
			case process.WOReceived:
				a = crmtest.Obj{"to": "dispatched", "assignee_id": c.staff[rng.IntN(len(c.staff))]}
			case process.WODispatched:
				a = crmtest.Obj{"to": "accepted"}
			case process.WOAccepted:
				a = crmtest.Obj{"to": []string{"on_site", "done"}[rng.IntN(2)]}
			case process.WOOnSite:
				a = crmtest.Obj{"to": "done"}
			case process.WODone:
				a = crmtest.Obj{"to": "revisited", "satisfaction": []string{"satisfied", "basically_satisfied", "dissatisfied"}[rng.IntN(3)]}
			case process.WORevisited:
				a = crmtest.Obj{"to": "archived"}
				if o.Satisfaction == "dissatisfied" {
					a = crmtest.Obj{"to": "dispatched", "note": "再处理"}
				}
			default:
				continue
			}
			if no, e := w.move(now, o, a); e == nil {
				o = no
			}
		}
	}
	for i := range 40 {
		c := counties[i%2]
		w.Region = c.region
		s := at(rng.IntN(360))
		typ := []string{"planned", "temporary", "fault"}[rng.IntN(3)]
		body := crmtest.Obj{"type": typ, "feeder": "F1", "start": s, "end": s.Add(3 * time.Hour)}
		created := s.AddDate(0, 0, 1)
		if typ == "fault" {
			created = s
		}
		if typ != "fault" && rng.IntN(3) > 0 {
			body["notices"] = []crmtest.Obj{{"channel": "sms", "at": s.AddDate(0, 0, -rng.IntN(10)), "audience": "all"}}
		}
		id := w.Create(created, "outages", "otg", body)
		if rng.IntN(8) == 0 {
			w.At(created, crm.OpUpdate, "outages", id, 1, crmtest.Obj{"status": "cancelled"})
		}
	}
	w.Region = "320722"
	return w
}

// The KPIs from the tallies and the open items by deadline equal those
// read from every record (kpi_reference_test.go), for periods whole and
// cut (months, days at either end, one day, open ends), at several times,
// over a county, the other county and the city; and so do the supervision
// lists. Then a store stripped of the tallies and the due index, as an
// earlier version wrote it, gets them back from Migrate, key for key.
func TestKPIs_TalliesMatchRecords(t *testing.T) {
	for seed := range uint64(3) {
		w := kpiWorld(t, seed)
		periods := []process.Period{{}, {From: "2026-01-01"}, {To: "2026-04-01"}, {From: "2026-01-01", To: "2027-01-01"},
			{From: "2026-02-01", To: "2026-03-01"}, {From: "2026-02-14", To: "2026-05-09"}, {From: "2026-03-31", To: "2026-04-02"},
			{From: "2026-06-15", To: "2026-06-16"}, {From: "2025-12-30"}, {To: "2026-07-17"}, {From: "2026-04-10", To: "2026-04-30"}}
		for _, now := range []time.Time{cst(2026, 3, 1, 0, 0), cst(2026, 6, 17, 15, 30), cst(2027, 1, 5, 9, 0)} {
			for _, scope := range []struct {
				region  string
				subtree bool
			}{{"320722", false}, {"320723", true}, {"3207", true}, {"32", true}} {
				for _, per := range periods {
					what := fmt.Sprintf("seed %d, %s subtree %v, %+v at %s", seed, scope.region, scope.subtree, per, now.Format(time.DateTime))
					p, err := process.ProjectKPIsOf(w.Tx, scope.region, scope.subtree, per, now)
					rp, rerr := process.ProjectKPIsFromRecords(w.Tx, scope.region, scope.subtree, per, now)
					compareKPIs(t, "projects", what, p, rp, err, rerr)
					wo, err := process.WorkOrderKPIsOf(w.Tx, scope.region, scope.subtree, per, now)
					rwo, rerr := process.WorkOrderKPIsFromRecords(w.Tx, scope.region, scope.subtree, per, now)
					compareKPIs(t, "work orders", what, wo, rwo, err, rerr)
					o, err := process.OutageKPIsOf(w.Tx, scope.region, scope.subtree, per)
					ro, rerr := process.OutageKPIsFromRecords(w.Tx, scope.region, scope.subtree, per)
					compareKPIs(t, "outages", what, o, ro, err, rerr)
				}
				l, err := process.Supervise(w.Tx, scope.region, scope.subtree, now)
				rl, rerr := process.SuperviseFromRecords(w.Tx, scope.region, scope.subtree, now)
				if err != nil || rerr != nil || !reflect.DeepEqual(l, rl) {
					t.Errorf("seed %d %s at %s: Supervise %d overdue %d warnings (%v); from every record %d, %d (%v)", seed, scope.region, now,
						len(l.Overdue), len(l.Warnings), err, len(rl.Overdue), len(rl.Warnings), rerr)
				}
			}
		}
		if t.Failed() {
			return
		}
		// What the test is worth: the world has something of each.
		k, _ := process.ProjectKPIsOf(w.Tx, "32", true, process.Period{}, cst(2026, 6, 17, 15, 30))
		wk, _ := process.WorkOrderKPIsOf(w.Tx, "32", true, process.Period{}, cst(2026, 6, 17, 15, 30))
		ok, _ := process.OutageKPIsOf(w.Tx, "32", true, process.Period{})
		if k.Total.Energised == 0 || k.Total.LateStages == 0 || k.Total.OverdueNow == 0 || len(k.ByManager) == 0 || wk.Total.OverdueNow == 0 ||
			wk.Total.Archived == 0 || wk.Total.SendBacks == 0 || len(wk.ByAssignee) == 0 || len(ok.Total.NonCompliant) == 0 {
			t.Errorf("seed %d: a world without each kind of count: %+v %+v %+v", seed, k.Total, wk.Total, ok.Total)
		}

		derived := func(k []byte) bool {
			s := string(k)
			return strings.HasPrefix(s, keyspace.TallyPrefix) || strings.Contains(s, "/"+process.DueIndex+"/") ||
				strings.Contains(s, "/"+process.NonCompliantIndex+"/") || s == keyspace.ProcessLayoutKey
		}
		old := crm.NewMemTxn()
		w.Tx.Iterate(nil, []byte{0xff}, func(k, v []byte) bool {
			if !derived(k) {
				old.Set(append([]byte(nil), k...), append([]byte(nil), v...))
			}
			return true
		})
		old.Set([]byte(keyspace.Tally("320722", "kpi.p.m.2020-01.accepted")), []byte{0, 0, 0, 0, 0, 0, 0, 1}) // a stale tally Migrate drops
		if _, err := process.Migrate(old, func() (crm.Txn, func() error) { return old, func() error { return nil } }); err != nil {
			t.Fatal(err)
		}
		want, got := map[string]string{}, map[string]string{}
		for _, x := range []struct {
			r crm.Reader
			m map[string]string
		}{{w.Tx, want}, {old, got}} {
			x.r.Iterate(nil, []byte{0xff}, func(k, v []byte) bool {
				if derived(k) && string(k) != keyspace.ProcessLayoutKey {
					x.m[string(k)] = fmt.Sprintf("%x", v)
				}
				return true
			})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: Migrate wrote %d tallies and due entries; the writes kept %d (%s)", seed, len(got), len(want), crmtest.DiffSnapshots(want, got))
		}
	}
}

func compareKPIs(t *testing.T, kind, what string, got, want any, err, rerr error) {
	t.Helper()
	if err != nil || rerr != nil {
		t.Fatalf("%s KPIs, %s: %v / %v", kind, what, err, rerr)
	}
	g, w := process.KPIJSON(got), process.KPIJSON(want)
	if g != w {
		var gm, wm map[string]any
		_ = json.Unmarshal([]byte(g), &gm)
		_ = json.Unmarshal([]byte(w), &wm)
		for _, k := range []string{"total", "by_region", "by_manager", "by_assignee"} {
			if a, b := fmt.Sprint(gm[k]), fmt.Sprint(wm[k]); a != b {
				t.Errorf("%s KPIs %s, %s:\nfrom the tallies  %s\nfrom the records  %s", kind, k, what, a, b)
			}
		}
	}
}

// A rule set pushed with a wider warning (warn_working_days 12) widens
// what Supervise reads ahead: its project due in 10 working days is warned
// of, as the read of every record warns, and one under the shipped set (1)
// is not.
func TestSupervise_WarnsAsFarAsTheRuleSets(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("industrial", 10)
	old := w.project(cst(2026, 1, 5, 9, 0), cus, 10, "single")
	rs := process.BuiltinRuleSets[1]
	rs.ID, rs.Name, rs.EffectiveFrom, rs.WarnWorkingDays = "", "Jiangsu 2026 (warn 12)", "2026-02-01", 12
	w.Region = "32"
	w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "rule_set", "title": "江苏2026", "scope": "32", "body": rs})
	w.Region = "320722"
	p := w.project(cst(2026, 2, 2, 9, 0), cus, 10, "single")
	var due time.Time
	for _, st := range p.Stages {
		if st.Deadline != nil && st.DoneAt == nil {
			due = *st.Deadline
			break
		}
	}
	now := due.AddDate(0, 0, -14) // 10 working days ahead, at most 14 calendar days
	l, err := process.Supervise(w.Tx, "32", true, now)
	rl, rerr := process.SuperviseFromRecords(w.Tx, "32", true, now)
	if err != nil || rerr != nil || !reflect.DeepEqual(l, rl) {
		t.Fatalf("Supervise %+v (%v); from every record %+v (%v)", l.Warnings, err, rl.Warnings, rerr)
	}
	if len(l.Warnings) != 1 || l.Warnings[0].ID != p.ID || l.Warnings[0].WorkingDays < 2 {
		t.Errorf("warnings %+v; want the project under the pushed set only, days ahead (the shipped one's %s is not)", l.Warnings, old.ID)
	}
}
