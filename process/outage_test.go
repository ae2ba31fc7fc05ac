package process_test

import (
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// TestOutage_NoticeCompliance covers the notice rules per outage type.
func TestOutage_NoticeCompliance(t *testing.T) {
	start := cst(2026, 3, 20, 8, 0)
	notice := func(at time.Time, audience string) crmtest.Obj {
		return crmtest.Obj{"channel": "sms", "at": at, "audience": audience, "recipients": 40}
	}
	cases := []struct {
		name    string
		typ     string
		notices []crmtest.Obj
		want    *bool // nil: exempt
	}{
		{"planned, 7 days ahead", "planned", []crmtest.Obj{notice(start.AddDate(0, 0, -7), "all")}, ptr(true)},
		{"planned, 6 days ahead", "planned", []crmtest.Obj{notice(start.AddDate(0, 0, -6), "all")}, ptr(false)},
		{"planned, only important customers told in time", "planned", []crmtest.Obj{notice(start.AddDate(0, 0, -8), "important"), notice(start.AddDate(0, 0, -2), "all")}, ptr(false)},
		{"planned, no notice", "planned", nil, ptr(false)},
		{"temporary, 24 h to important customers", "temporary", []crmtest.Obj{notice(start.Add(-24*time.Hour), "important")}, ptr(true)},
		{"temporary, 23 h", "temporary", []crmtest.Obj{notice(start.Add(-23*time.Hour), "important")}, ptr(false)},
		{"fault: exempt", "fault", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "320722")
			id := w.Create(start.Add(-time.Hour), "outages", "otg", crmtest.Obj{"type": tc.typ, "feeder": "10kV 城东线", "start": start, "end": start.Add(6 * time.Hour), "notices": tc.notices})
			raw, _ := crm.Get(w.Tx, "outages", id)
			o := crmtest.Decode[process.Outage](t, raw)
			if (o.NoticeCompliant == nil) != (tc.want == nil) || tc.want != nil && *o.NoticeCompliant != *tc.want {
				t.Errorf("notice_compliant %v; want %v", o.NoticeCompliant, tc.want)
			}
			if o.RuleSet != "builtin:2023-total" || tc.typ == "planned" && o.PlannedNoticeDays != 7 {
				t.Errorf("rule set %s planned days %d", o.RuleSet, o.PlannedNoticeDays)
			}
		})
	}
	// A notice added later by an update is counted again.
	w := newWorld(t, "320722")
	id := w.Create(crmtest.T0, "outages", "otg", crmtest.Obj{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)})
	res := w.At(start.AddDate(0, 0, -9), crm.OpUpdate, "outages", id, 1, crmtest.Obj{"notices": []crmtest.Obj{notice(start.AddDate(0, 0, -10), "all")}})
	if res.Err != nil || !*crmtest.Decode[process.Outage](t, res.Record).NoticeCompliant {
		t.Errorf("after adding a notice: %v %s", res.Err, res.Record)
	}
	res = w.At(crmtest.T0, crm.OpUpdate, "outages", id, 2, crmtest.Obj{"planned_notice_days": 1})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "rule_set")
}

// TestOutage_FutureNotice: a notice records one that was sent, so one
// dated after the command's time (beyond process.NoticeClockSkew) is refused,
// on create and when added by an update, naming the notice; the notices
// already stored stay acceptable as time passes.
func TestOutage_FutureNotice(t *testing.T) {
	w := newWorld(t, "320722")
	now := cst(2026, 3, 2, 9, 30)
	start := now.AddDate(0, 0, 20)
	sent := crmtest.Obj{"channel": "sms", "at": now.Add(-time.Hour), "audience": "all"}
	future := crmtest.Obj{"channel": "sms", "at": now.AddDate(0, 0, 3), "audience": "all"}
	body := crmtest.Obj{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)}
	before := crmtest.Snapshot(t, w.Tx)
	res := w.At(now, crm.OpCreate, "outages", w.IDs.Next("otg"), 0, body.With("notices", []crmtest.Obj{future}))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "notices[0].at")
	if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
		t.Errorf("a refused outage wrote:\n%s", d)
	}
	// Within the clock skew: accepted.
	skewed := crmtest.Obj{"channel": "app", "at": now.Add(process.NoticeClockSkew), "audience": "all"}
	id := w.Create(now, "outages", "otg", body.With("notices", []crmtest.Obj{sent, skewed}))
	res = w.At(now, crm.OpUpdate, "outages", id, 1, crmtest.Obj{"notices": []crmtest.Obj{sent, skewed, future}})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "notices[2].at")
	// Three days on, the same notice has gone out: added.
	if res = w.At(now.AddDate(0, 0, 3), crm.OpUpdate, "outages", id, 1, crmtest.Obj{"notices": []crmtest.Obj{sent, skewed, future}}); res.Err != nil {
		t.Errorf("a notice sent by now: %v", res.Err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestOutage_BadInput refuses malformed outages naming the field.
func TestOutage_BadInput(t *testing.T) {
	w := newWorld(t, "320722")
	start := cst(2026, 3, 20, 8, 0)
	good := crmtest.Obj{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)}
	cases := []struct {
		name, field string
		body        crmtest.Obj
	}{
		{"no type", "type", good.With("type", nil)},
		{"bad type", "type", good.With("type", "rolling")},
		{"no feeder", "feeder", good.With("feeder", nil)},
		{"no start", "start", good.With("start", nil)},
		{"end before start", "end", good.With("end", start.Add(-time.Hour))},
		{"a month long", "end", good.With("end", start.AddDate(0, 2, 0))},
		{"bad status", "status", good.With("status", "maybe")},
		{"bad notice channel", "notices[0].channel", good.With("notices", []crmtest.Obj{{"channel": "pigeon", "at": start}})},
		{"bad notice audience", "notices[0].audience", good.With("notices", []crmtest.Obj{{"channel": "sms", "at": start, "audience": "vips"}})},
		{"notice without time", "notices[0].at", good.With("notices", []crmtest.Obj{{"channel": "sms"}})},
		{"client-set compliance", "rule_set", good.With("notice_compliant", true)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.At(crmtest.T0, crm.OpCreate, "outages", w.IDs.Next("otg"), 0, tc.body)
			crmtest.WantErr(t, res.Err, crm.CodeInvalid, tc.field)
		})
	}
}

// TestOutage_AffectedCustomers finds customers by feeder and area.
func TestOutage_AffectedCustomers(t *testing.T) {
	w := newWorld(t, "320722")
	mk := func(acct, feeder, area string, kv float64, tags []string) {
		w.Create(crmtest.T0, "customers", "cus", crmtest.Obj{"account_no": acct, "name": acct, "category": "commercial", "voltage_kv": kv,
			"capacity_kva": 50, "feeder": feeder, "transformer_area": area, "tags": tags})
	}
	mk("A1", "F1", "T1", 0.4, nil)
	mk("A2", "F1", "T2", 0.4, []string{"重要客户"})
	mk("A3", "F1", "", 35, nil)
	mk("A4", "F2", "T9", 0.4, nil)
	o := &process.Outage{Region: "320722", Feeder: "F1"}
	all, err := process.AffectedCustomers(w.Tx, o)
	if err != nil || len(all) != 3 {
		t.Fatalf("feeder F1 reaches %d customers (%v); want 3", len(all), err)
	}
	important := 0
	for i := range all {
		if process.ImportantCustomer(&all[i]) {
			important++
		}
	}
	if important != 2 {
		t.Errorf("%d important; want 2 (tagged 重要客户, 35 kV)", important)
	}
	o.TransformerArea = "T2"
	if area, _ := process.AffectedCustomers(w.Tx, o); len(area) != 1 || area[0].AccountNo != "A2" {
		t.Errorf("area T2 reaches %v; want A2", area)
	}
	// A transformer area needs a feeder on the customer.
	res := w.At(crmtest.T0, crm.OpCreate, "customers", w.IDs.Next("cus"), 0, crmtest.Obj{"account_no": "A5", "name": "x", "category": "commercial", "voltage_kv": 0.4, "transformer_area": "T1"})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "feeder")
}

// TestProcessAggregates checks the counters a write of each process kind
// brings.
func TestProcessAggregates(t *testing.T) {
	w := newWorld(t, "320722")
	o := w.order(crmtest.T0, crmtest.Obj{"channel": "sms", "kind": "consultation", "subject": "tariff"})
	raw, _ := crm.Get(w.Tx, "work_orders", o.ID)
	ds := crm.AggregateDeltas("r/work_orders/"+o.ID, nil, raw)
	got := map[string]float64{}
	for _, d := range ds {
		if d.Region != "320722" {
			t.Errorf("delta for region %s", d.Region)
		}
		got[d.Metric] = d.Value
	}
	want := map[string]float64{"work_orders.kind.consultation": 1, "work_orders.open.kind.consultation": 1, "work_orders.open.state.received": 1,
		"work_orders.open.state_kind.received.consultation": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v; want %v (all: %v)", k, got[k], v, got)
		}
	}
	agent := w.Staff("A-5")
	o2, e := w.move(crmtest.T0, o, crmtest.Obj{"to": "dispatched", "assignee_id": agent})
	if e != nil {
		t.Fatal(e)
	}
	raw2, _ := crm.Get(w.Tx, "work_orders", o2.ID)
	got = map[string]float64{}
	for _, d := range crm.AggregateDeltas("r/work_orders/"+o.ID, raw, raw2) {
		if !strings.HasPrefix(d.Metric, crm.TallyMark) { // the KPIs' tallies: TestKPIs_TalliesMatchRecords
			got[d.Metric] = d.Value
		}
	}
	if len(got) != 4 || got["work_orders.open.state.received"] != -1 || got["work_orders.open.state.dispatched"] != 1 ||
		got["work_orders.open.state_kind.received.consultation"] != -1 || got["work_orders.open.state_kind.dispatched.consultation"] != 1 {
		t.Errorf("dispatch deltas %v; want received -1, dispatched +1, by state and by state and kind", got)
	}
	c, err := process.ProcessCounters(w.Tx, "32", true)
	if err != nil || c["work_orders.open.state.dispatched"] != 1 {
		t.Errorf("ProcessCounters %v %v", c, err)
	}
}
