package process_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/crm/workday"
	"gridcrm/process"
	"gridcrm/tiers"
)

func (w *world) order(now time.Time, body crmtest.Obj) *process.WorkOrder {
	w.T.Helper()
	id := w.Create(now, "work_orders", "wko", body)
	raw, e := crm.Get(w.Tx, "work_orders", id)
	if e != nil {
		w.T.Fatal(e)
	}
	return crmtest.Decode[process.WorkOrder](w.T, raw)
}

func (w *world) move(now time.Time, o *process.WorkOrder, body crmtest.Obj) (*process.WorkOrder, *crm.Error) {
	w.T.Helper()
	res := w.At(now, crm.OpAction, "work_orders", o.ID, o.Version, body)
	if res.Err != nil {
		return o, res.Err
	}
	return crmtest.Decode[process.WorkOrder](w.T, res.Record), nil
}

func fmtCST(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(workday.CST).Format("2006-01-02 15:04")
}

// TestWorkOrder_SLA checks the deadlines each kind gets from the rule set.
func TestWorkOrder_SLA(t *testing.T) {
	// Monday before National Day: 30 Sep (1), 1-8 Oct off, 9 (2), 10 (3),
	// Saturday 11 Oct make-up (4), 13 (5), 14 (6), 15 (7), 16 (8), 17 (9).
	recv := cst(2025, 9, 29, 15, 0)
	cases := []struct {
		name                              string
		body                              crmtest.Obj
		contact, arrival, answer, restore string
	}{
		{"complaint: contact 24 h, answer 4 WD over the holiday", crmtest.Obj{"kind": "complaint"}, "2025-09-30 15:00", "", "2025-10-12 00:00", ""},
		{"report: 9 WD", crmtest.Obj{"kind": "report"}, "", "", "2025-10-18 00:00", ""},
		{"repair urban 45 min", crmtest.Obj{"kind": "fault_repair", "site_class": "urban"}, "", "2025-09-29 15:45", "", ""},
		{"repair rural 90 min", crmtest.Obj{"kind": "fault_repair", "site_class": "rural"}, "", "2025-09-29 16:30", "", ""},
		{"repair remote 2 h", crmtest.Obj{"kind": "fault_repair", "site_class": "remote"}, "", "2025-09-29 17:00", "", ""},
		{"meter anomaly 4 WD", crmtest.Obj{"kind": "service_application", "subtype": "meter_anomaly"}, "", "", "2025-10-12 00:00", ""},
		{"reading anomaly 6 WD", crmtest.Obj{"kind": "service_application", "subtype": "reading_anomaly"}, "", "", "2025-10-15 00:00", ""},
		{"reconnection 24 h", crmtest.Obj{"kind": "service_application", "subtype": "reconnection"}, "", "", "2025-09-30 15:00", ""},
		{"praise: no limit", crmtest.Obj{"kind": "praise"}, "", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "320722")
			body := tc.body.With("channel", "95598_hotline", "subject", "s", "received_at", recv)
			o := w.order(recv.Add(time.Minute), body)
			if o.State != process.WOReceived || o.RuleSet != "builtin:2023-total" || len(o.History) != 1 {
				t.Fatalf("state %s rule set %s history %d", o.State, o.RuleSet, len(o.History))
			}
			got := []string{fmtCST(o.ContactDue), fmtCST(o.ArrivalDue), fmtCST(o.AnswerDue), fmtCST(o.RestoreDue)}
			want := []string{tc.contact, tc.arrival, tc.answer, tc.restore}
			if !slices.Equal(got, want) {
				t.Errorf("contact, arrival, answer, restore = %q; want %q", got, want)
			}
		})
	}
}

// TestWorkOrder_Transitions tries every pair of states: the legal moves
// succeed, the others are refused with a clear error and write nothing.
func TestWorkOrder_Transitions(t *testing.T) {
	legal := map[[2]string]bool{}
	for _, p := range [][2]string{
		{"received", "dispatched"},
		{"dispatched", "accepted"}, {"dispatched", "received"},
		{"accepted", "on_site"}, {"accepted", "done"}, {"accepted", "dispatched"},
		{"on_site", "done"}, {"on_site", "accepted"},
		{"done", "revisited"}, {"done", "accepted"},
		{"revisited", "archived"}, {"revisited", "dispatched"},
	} {
		legal[p] = true
	}
	// paths reach each state from received.
	paths := map[string][]string{
		"received":   nil,
		"dispatched": {"dispatched"},
		"accepted":   {"dispatched", "accepted"},
		"on_site":    {"dispatched", "accepted", "on_site"},
		"done":       {"dispatched", "accepted", "on_site", "done"},
		"revisited":  {"dispatched", "accepted", "on_site", "done", "revisited"},
		"archived":   {"dispatched", "accepted", "on_site", "done", "revisited", "archived"},
	}
	w := newWorld(t, "320722")
	agent := w.Staff("A-1")
	body := func(to string, now time.Time, sat string) crmtest.Obj {
		b := crmtest.Obj{"to": to, "at": now}
		if to == "dispatched" {
			b["assignee_id"] = agent
		}
		if to == "revisited" {
			b["satisfaction"] = sat
		}
		if to == "received" || to == "dispatched" && sat == "back" {
			b["note"] = "send back: wrong team"
		}
		return b
	}
	for _, from := range process.WorkOrderStates {
		for _, to := range process.WorkOrderStates {
			t.Run(from+"→"+to, func(t *testing.T) {
				now := cst(2026, 3, 2, 8, 0)
				o := w.order(now, crmtest.Obj{"channel": "app", "kind": "complaint", "subject": "no answer from the hall"})
				// A dissatisfied revisit may be sent back to dispatch; only a
				// satisfied one may be archived (TestWorkOrder_TransitionRules
				// refuses archiving a dissatisfied one).
				sat := "dissatisfied"
				if from == "archived" || from == "revisited" && to == "archived" {
					sat = "satisfied"
				}
				for _, s := range paths[from] {
					now = now.Add(5 * time.Minute)
					var e *crm.Error
					if o, e = w.move(now.Add(time.Second), o, body(s, now, sat)); e != nil {
						t.Fatalf("reaching %s: %s: %v", from, s, e)
					}
				}
				now = now.Add(5 * time.Minute)
				b := body(to, now, "dissatisfied")
				if slices.Index(process.WorkOrderStates, to) < slices.Index(process.WorkOrderStates, from) {
					b["note"] = "send back"
				}
				before := crmtest.Snapshot(t, w.Tx)
				got, e := w.move(now.Add(time.Second), o, b)
				if legal[[2]string{from, to}] {
					if e != nil {
						t.Fatalf("legal move refused: %v", e)
					}
					if got.State != to || got.History[len(got.History)-1].From != from {
						t.Errorf("state %s history %+v", got.State, got.History[len(got.History)-1])
					}
					return
				}
				crmtest.WantErr(t, e, crm.CodeConflict, "to")
				if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
					t.Errorf("a refused transition wrote:\n%s", d)
				}
			})
		}
	}
}

// TestWorkOrder_TransitionRules checks the rules beyond the state table.
func TestWorkOrder_TransitionRules(t *testing.T) {
	w := newWorld(t, "320722")
	agent := w.Staff("A-2")
	now := cst(2026, 3, 2, 8, 0)
	fresh := func(kind string) *process.WorkOrder {
		b := crmtest.Obj{"channel": "95598_ivr", "kind": kind, "subject": "s"}
		if kind == "fault_repair" {
			b["site_class"] = "rural"
		}
		return w.order(now, b)
	}
	step := func(o *process.WorkOrder, b crmtest.Obj) *process.WorkOrder {
		t.Helper()
		o, e := w.move(now, o, b)
		if e != nil {
			t.Fatalf("%v: %v", b, e)
		}
		return o
	}
	cases := []struct {
		name  string
		setup []crmtest.Obj
		kind  string
		body  crmtest.Obj
		code  string
		field string
	}{
		{"dispatch without assignee", nil, "complaint", crmtest.Obj{"to": "dispatched"}, crm.CodeInvalid, "assignee_id"},
		{"dispatch to a bad id", nil, "complaint", crmtest.Obj{"to": "dispatched", "assignee_id": "bob"}, crm.CodeInvalid, "assignee_id"},
		{"dispatch to a missing staff member", nil, "complaint", crmtest.Obj{"to": "dispatched", "assignee_id": crm.NewID("stf", crmtest.T0)}, crm.CodeReference, "assignee_id"},
		{"unknown state", nil, "complaint", crmtest.Obj{"to": "closed"}, crm.CodeInvalid, "to"},
		{"no state", nil, "complaint", crmtest.Obj{}, crm.CodeInvalid, "to"},
		{"unknown field", nil, "complaint", crmtest.Obj{"to": "dispatched", "assignee_id": agent, "x": 1}, crm.CodeInvalid, "x"},
		{"in the future", nil, "complaint", crmtest.Obj{"to": "dispatched", "assignee_id": agent, "at": now.Add(time.Hour)}, crm.CodeInvalid, "at"},
		{"before the last step", nil, "complaint", crmtest.Obj{"to": "dispatched", "assignee_id": agent, "at": now.Add(-time.Hour)}, crm.CodeInvalid, "at"},
		{"send-back without a note", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}}, "complaint", crmtest.Obj{"to": "received"}, crm.CodeInvalid, "note"},
		{"repair done before arriving", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}}, "fault_repair", crmtest.Obj{"to": "done"}, crm.CodeConflict, "to"},
		{"revisit without satisfaction", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}, {"to": "done"}}, "complaint", crmtest.Obj{"to": "revisited"}, crm.CodeInvalid, "satisfaction"},
		{"revisit with a bad satisfaction", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}, {"to": "done"}}, "complaint", crmtest.Obj{"to": "revisited", "satisfaction": "meh"}, crm.CodeInvalid, "satisfaction"},
		{"satisfaction outside a revisit", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}}, "complaint", crmtest.Obj{"to": "accepted", "satisfaction": "satisfied"}, crm.CodeInvalid, "satisfaction"},
		{"dissatisfied revisit archived", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "dissatisfied"}}, "complaint", crmtest.Obj{"to": "archived"}, crm.CodeConflict, "to"},
		{"satisfied revisit sent back", []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "satisfied"}}, "complaint", crmtest.Obj{"to": "dispatched", "note": "again"}, crm.CodeConflict, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fresh(tc.kind)
			for _, b := range tc.setup {
				o = step(o, b)
			}
			before := crmtest.Snapshot(t, w.Tx)
			_, e := w.move(now, o, tc.body)
			crmtest.WantErr(t, e, tc.code, tc.field)
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
				t.Errorf("a refused transition wrote:\n%s", d)
			}
		})
	}
	// The loop: a dissatisfied revisit goes back to dispatch, is handled
	// again, and a satisfied revisit archives it.
	o := fresh("complaint")
	for _, b := range []crmtest.Obj{{"to": "dispatched", "assignee_id": agent}, {"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "dissatisfied"},
		{"to": "dispatched", "note": "customer not satisfied"}, {"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "satisfied"}, {"to": "archived"}} {
		o = step(o, b)
	}
	if o.State != process.WOArchived || o.SendBacks != 1 || o.Satisfaction != "satisfied" || len(o.History) != 10 || o.ArchivedAt == nil {
		t.Errorf("closed loop: state %s send-backs %d satisfaction %s history %d", o.State, o.SendBacks, o.Satisfaction, len(o.History))
	}
	// State cannot be patched.
	res := w.At(now, crm.OpUpdate, "work_orders", o.ID, o.Version, crmtest.Obj{"state": "received"})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "state")
	res = w.At(now, crm.OpUpdate, "work_orders", o.ID, o.Version, crmtest.Obj{"kind": "praise"})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "kind")
	if res := w.At(now, crm.OpUpdate, "work_orders", o.ID, o.Version, crmtest.Obj{"description": "details"}); res.Err != nil {
		t.Errorf("plain update refused: %v", res.Err)
	}
}

// TestWorkOrder_BadInput refuses malformed orders naming the field.
func TestWorkOrder_BadInput(t *testing.T) {
	w := newWorld(t, "320722")
	good := crmtest.Obj{"channel": "95598_hotline", "kind": "complaint", "subject": "billing"}
	cases := []struct {
		name  string
		body  crmtest.Obj
		code  string
		field string
	}{
		{"no channel", good.With("channel", nil), crm.CodeInvalid, "channel"},
		{"bad channel", good.With("channel", "pigeon"), crm.CodeInvalid, "channel"},
		{"bad kind", good.With("kind", "rant"), crm.CodeInvalid, "kind"},
		{"bad urgency", good.With("urgency", "asap"), crm.CodeInvalid, "urgency"},
		{"repair without site class", good.With("kind", "fault_repair"), crm.CodeInvalid, "site_class"},
		{"bad site class", good.With("kind", "fault_repair", "site_class", "moon"), crm.CodeInvalid, "site_class"},
		{"service application without subtype", good.With("kind", "service_application"), crm.CodeInvalid, "subtype"},
		{"subtype on a complaint", good.With("subtype", "meter_anomaly"), crm.CodeInvalid, "subtype"},
		{"no subject", good.With("subject", nil), crm.CodeInvalid, "subject"},
		{"bad customer id", good.With("customer_id", "c1"), crm.CodeInvalid, "customer_id"},
		{"missing customer", good.With("customer_id", crm.NewID("cus", crmtest.T0)), crm.CodeReference, "customer_id"},
		{"bad taking region", good.With("taking_region", "3x"), crm.CodeInvalid, "taking_region"},
		{"received in the future", good.With("received_at", crmtest.T0.Add(time.Hour)), crm.CodeInvalid, "received_at"},
		{"client-set state", good.With("state", "done"), crm.CodeInvalid, "state"},
		{"another handling region", good.With("region", "320723"), crm.CodeWrongOwner, "region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, w.Tx)
			res := w.At(crmtest.T0, crm.OpCreate, "work_orders", w.IDs.Next("wko"), 0, tc.body)
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if tc.code == crm.CodeWrongOwner && res.Err.Owner != "320723" {
				t.Errorf("wrong_owner names %q; want 320723", res.Err.Owner)
			}
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
				t.Errorf("a refused create wrote:\n%s", d)
			}
		})
	}
}

// TestRouteWorkOrder covers routing across tiers.
func TestRouteWorkOrder(t *testing.T) {
	cases := []struct {
		name                   string
		owner, given, taking   string
		want, errField, errHas string
	}{
		{"province hotline, county customer", "320722", "", "32", "320722", "", ""},
		{"city hall, county customer", "320803", "", "3208", "320803", "", ""},
		{"county takes its own customer", "320722", "", "320722", "320722", "", ""},
		{"county takes a neighbour's customer it holds", "320723", "", "320722", "320723", "", ""},
		{"city-owned customer taken at the province", "3207", "", "32", "3207", "", ""},
		{"given region agrees with the customer", "320722", "320722", "32", "320722", "", ""},
		{"given region contradicts the customer", "320722", "320723", "32", "", "region", "320722"},
		{"no customer, region given", "", "320804", "32", "320804", "", ""},
		{"no customer, no region: where taken", "", "", "3207", "3207", "", ""},
		{"bad given region", "", "32x", "32", "", "region", "32x"},
		{"bad taking region", "", "", "", "", "taking_region", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, e := process.RouteWorkOrder(tc.owner, tc.given, tc.taking)
			if tc.errField != "" {
				if e == nil || e.Field != tc.errField || e.Code != crm.CodeInvalid {
					t.Fatalf("RouteWorkOrder = %q, %v; want an invalid error on %s", got, e, tc.errField)
				}
				if tc.errHas != "" && !strings.Contains(e.Message, tc.errHas) {
					t.Errorf("message %q does not name %s", e.Message, tc.errHas)
				}
				return
			}
			if e != nil || got != tc.want {
				t.Errorf("RouteWorkOrder(%q, %q, %q) = %q, %v; want %q", tc.owner, tc.given, tc.taking, got, e, tc.want)
			}
		})
	}
}

// TestWorkOrder_RoutedInApply: at the province, an order for a county
// customer (held as a replica) is refused with wrong_owner naming the
// county; the county writes it with the province as taking region.
func TestWorkOrder_RoutedInApply(t *testing.T) {
	county := newWorld(t, "320722")
	cus := county.Customer("residential", 0.22)
	raw, _ := crm.Get(county.Tx, "customers", cus)
	prov := newWorld(t, "32")
	if err := crm.ApplyReplica(prov.Tx, "r/customers/"+cus, raw); err != nil {
		t.Fatal(err)
	}
	body := crmtest.Obj{"channel": "95598_hotline", "kind": "complaint", "subject": "bill too high", "customer_id": cus, "taking_region": "32"}
	res := prov.At(crmtest.T0, crm.OpCreate, "work_orders", prov.IDs.Next("wko"), 0, body)
	crmtest.WantErr(t, res.Err, crm.CodeWrongOwner, "region")
	if res.Err.Owner != "320722" {
		t.Errorf("wrong_owner names %q; want 320722", res.Err.Owner)
	}
	o := county.order(crmtest.T0, body.With("region", "320722"))
	if o.Region != "320722" || o.TakingRegion != "32" || o.Owner != "320722" {
		t.Errorf("region %s taking %s owner %s", o.Region, o.TakingRegion, o.Owner)
	}
}

// TestEscalate covers every escalation step.
func TestEscalate(t *testing.T) {
	e := process.Escalation{CityAfter: 2, ProvinceAfter: 5}
	cases := []struct {
		owner string
		days  int
		want  string
	}{
		{"320722", 0, "county"}, {"320722", 1, "county"}, {"320722", 2, "city"}, {"320722", 4, "city"},
		{"320722", 5, "province"}, {"320722", 40, "province"},
		{"3207", 0, "city"}, {"3207", 5, "province"}, {"32", 0, "province"},
	}
	for _, tc := range cases {
		if got := process.Escalate(e, tc.owner, tc.days); string(got) != tc.want {
			t.Errorf("Escalate(%s, %d) = %s; want %s", tc.owner, tc.days, got, tc.want)
		}
	}
}

// TestSupervise walks one project stage and one complaint through time:
// warning, overdue at the county, escalated to the city, to the province;
// a pause takes it off the clock.
func TestSupervise(t *testing.T) {
	w := newWorld(t, "320722")
	mgr := w.Staff("M-7")
	cus := w.Customer("residential", 0.22)
	id := w.Create(cst(2026, 3, 2, 9, 0), "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.22,
		"capacity_kva": 8, "manager_id": mgr, "accepted_at": cst(2026, 3, 2, 9, 0)})
	p := w.getProject(id)
	// Residential 5 WD from Mon 2 Mar 2026: ends with Mon 9 Mar.
	if got := deadlineOf(p, "energisation"); got != "2026-03-10 00:00" {
		t.Fatalf("deadline %q", got)
	}
	esc := process.BuiltinRuleSets[1].Escalation // city after 2, province after 5
	steps := []struct {
		name     string
		now      time.Time
		warned   bool
		overdue  int    // working days; -1 = not overdue
		level    string // escalation level
		county   int    // items on the lists of each tier
		city     int
		province int
	}{
		{"two working days left", cst(2026, 3, 5, 10, 0), false, -1, "", 0, 0, 0},
		{"Friday, due Monday: warning", cst(2026, 3, 6, 10, 0), true, -1, "", 0, 0, 0},
		{"due tomorrow: warning", cst(2026, 3, 8, 10, 0), true, -1, "", 0, 0, 0},
		{"due today: warning", cst(2026, 3, 9, 10, 0), true, -1, "", 0, 0, 0},
		{"first day overdue: county", cst(2026, 3, 10, 10, 0), false, 1, "county", 1, 0, 0},
		{"second day: city", cst(2026, 3, 11, 10, 0), false, 2, "city", 1, 1, 0},
		{"weekend does not count", cst(2026, 3, 15, 10, 0), false, 4, "city", 1, 1, 0},
		{"fifth day: province", cst(2026, 3, 16, 10, 0), false, 5, "province", 1, 1, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			l, err := process.Supervise(w.Tx, "320722", false, st.now)
			if err != nil {
				t.Fatal(err)
			}
			if st.warned != (len(l.Warnings) == 1) {
				t.Errorf("warnings %+v; want warned=%v", l.Warnings, st.warned)
			}
			if st.warned && l.Warnings[0].ManagerID != mgr {
				t.Errorf("warning goes to %q; want the account manager %s", l.Warnings[0].ManagerID, mgr)
			}
			if st.overdue < 0 {
				if len(l.Overdue) != 0 {
					t.Errorf("overdue %+v; want none", l.Overdue)
				}
				return
			}
			if len(l.Overdue) != 1 || l.Overdue[0].WorkingDays != st.overdue || string(l.Overdue[0].Level) != st.level {
				t.Fatalf("overdue %+v; want 1 item, %d working days, level %s", l.Overdue, st.overdue, st.level)
			}
			if got := process.Escalate(esc, "320722", st.overdue); string(got) != st.level {
				t.Errorf("Escalate = %s", got)
			}
			for tier, n := range map[tiers.Tier]int{tiers.County: st.county, tiers.City: st.city, tiers.Province: st.province} {
				if got := len(process.OnList(l.Overdue, tier)); got != n {
					t.Errorf("%s list holds %d; want %d", tier, got, n)
				}
			}
		})
	}
	// Paused: off the clock, on no list.
	p = w.mustStage(cst(2026, 3, 16, 11, 0), p, crmtest.Obj{"action": "pause", "stage": "energisation", "reason": "customer's meter box not ready"})
	if l, _ := process.Supervise(w.Tx, "32", true, cst(2026, 3, 17, 10, 0)); len(l.Overdue) != 0 {
		t.Errorf("a paused stage is overdue: %+v", l.Overdue)
	}
	// A complaint not contacted within 24 h is overdue for contact.
	o := w.order(cst(2026, 3, 16, 9, 0), crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "s"})
	l, _ := process.Supervise(w.Tx, "3207", true, cst(2026, 3, 17, 10, 0))
	if len(l.Overdue) != 1 || l.Overdue[0].ID != o.ID || l.Overdue[0].Step != "contact" {
		t.Errorf("overdue %+v; want the complaint's contact", l.Overdue)
	}
	l, _ = process.Supervise(w.Tx, "3207", true, cst(2026, 3, 23, 10, 0))
	if len(l.Overdue) != 2 || l.Overdue[0].Step != "contact" || l.Overdue[1].Step != "answer" {
		t.Errorf("overdue %+v; want contact and answer", l.Overdue)
	}
	// KPIs at the same time.
	k, err := process.ProjectKPIsOf(w.Tx, "3207", true, process.Period{}, cst(2026, 3, 17, 10, 0))
	if err != nil || k.Total.Open != 1 || k.Total.OverdueNow != 0 || k.ByManager[mgr] == nil {
		t.Errorf("project KPIs %+v %v", k.Total, err)
	}
}

// TestProjectKPIs checks cycle days, p90 and the on-time rate.
func TestProjectKPIs(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("residential", 0.22)
	// Four residential projects (2023: acceptance, energisation; 5 WD from
	// Mon 13 Apr 2026, ending with Mon 20 Apr): energised after 2, 3, 8
	// (late) and 11 (late) calendar days.
	for _, days := range []int{2, 3, 8, 11} {
		acc := cst(2026, 4, 13, 9, 0)
		p := w.project(acc, cus, 0.22, "single")
		w.mustStage(acc.AddDate(0, 0, days), p, crmtest.Obj{"action": "complete", "stage": "energisation"})
	}
	k, err := process.ProjectKPIsOf(w.Tx, "320722", false, process.Period{From: "2026-04-01", To: "2026-05-01"}, cst(2026, 5, 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	g := k.Total
	if g.Accepted != 4 || g.Energised != 4 || g.OnTime != 2 || *g.OnTimeRate != 0.5 || *g.CycleDaysMean != 6 || *g.CycleDaysP90 != 11 || g.LateStages != 2 {
		t.Errorf("KPIs %+v (mean %v p90 %v rate %v)", g, *g.CycleDaysMean, *g.CycleDaysP90, *g.OnTimeRate)
	}
	k, _ = process.ProjectKPIsOf(w.Tx, "320722", false, process.Period{From: "2026-05-01"}, cst(2026, 5, 1, 0, 0))
	if k.Total.Energised != 0 || k.Total.OnTimeRate != nil {
		t.Errorf("a period with nothing energised: %+v", k.Total)
	}
}

// getCounter counts the record reads (r/<coll>/…) of a Reader.
type getCounter struct {
	crm.Reader
	gets map[string]int
}

func (g getCounter) Get(k []byte) ([]byte, error) {
	if s := string(k); strings.HasPrefix(s, "r/") {
		coll, _, _ := strings.Cut(s[2:], "/")
		g.gets[coll]++
	}
	return g.Reader.Get(k)
}

// Supervise reads the open items by deadline (DueIndex), not every
// project and work order a region ever had: cancelled projects are not
// read; a store of before the index lists nothing until Migrate builds it,
// and then the same.
func TestSupervise_ReadsOpenItemsOnly(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("residential", 0.22)
	var open *process.Project
	for i := range 5 {
		id := w.Create(cst(2026, 3, 2, 9, 0), "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.22,
			"capacity_kva": 8, "accepted_at": cst(2026, 3, 2, 9, 0)})
		p := w.getProject(id)
		if i == 0 {
			open = p
			continue
		}
		w.mustStage(cst(2026, 3, 3, 9, 0), p, crmtest.Obj{"action": "cancel", "reason": "客户撤回"})
	}
	w.order(cst(2026, 3, 2, 9, 0), crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "s"})
	now := cst(2026, 3, 16, 10, 0)
	g := getCounter{w.Tx, map[string]int{}}
	l, err := process.Supervise(g, "32", true, now)
	if err != nil {
		t.Fatal(err)
	}
	if g.gets["projects"] != 1 || g.gets["work_orders"] != 1 {
		t.Errorf("Supervise read %v records; want the one open project and the one open work order", g.gets)
	}
	var stages, orders int
	for _, it := range l.Overdue {
		switch {
		case it.Type == "project_stage" && it.ID == open.ID:
			stages++
		case it.Type == "work_order":
			orders++
		default:
			t.Errorf("overdue: %+v", it)
		}
	}
	if stages != 1 || orders != 2 {
		t.Fatalf("overdue %+v; want the open project's stage and the complaint's contact and answer", l.Overdue)
	}
	// A store of before the due index: its entries and the tallies
	// dropped, the records and counters present. Migrate builds them
	// again: the same lists.
	old := crm.NewMemTxn()
	w.Tx.Iterate(nil, []byte{0xff}, func(k, v []byte) bool {
		if s := string(k); !strings.Contains(s, "/"+process.DueIndex+"/") && !strings.HasPrefix(s, "k/") && s != "m/process" {
			old.Set(append([]byte(nil), k...), append([]byte(nil), v...))
		}
		return true
	})
	g = getCounter{old, map[string]int{}}
	if l2, _ := process.Supervise(g, "32", true, now); len(l2.Overdue) != 0 {
		t.Errorf("without the due index: %+v overdue; want none read", l2.Overdue)
	}
	n, err := process.Migrate(old, func() (crm.Txn, func() error) { return old, func() error { return nil } })
	if err != nil || n != 6 {
		t.Fatalf("Migrate read %d records (%v); want the 5 projects and the work order", n, err)
	}
	if n, _ := process.Migrate(old, func() (crm.Txn, func() error) { return old, func() error { return nil } }); n != 0 {
		t.Errorf("Migrate ran again over a store of the current layout: %d records", n)
	}
	g = getCounter{old, map[string]int{}}
	l2, err := process.Supervise(g, "32", true, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, l2) {
		t.Errorf("after Migrate: lists %+v; want the same lists %+v", l2, l)
	}

}
