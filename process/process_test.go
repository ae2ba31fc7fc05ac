package process_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/crm/workday"
	"gridcrm/process"
)

// cst makes a time in China Standard Time.
var cst = crmtest.CST

// world is a county's state for these tests (crmtest.World).
type world struct{ *crmtest.World }

func newWorld(t *testing.T, region string) *world { return &world{crmtest.NewWorld(t, region)} }

func (w *world) project(acceptedAt time.Time, cus string, kv float64, supply string) *process.Project {
	w.T.Helper()
	id := w.Create(acceptedAt.Add(time.Minute), "projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus,
		"voltage_kv": kv, "supply": supply, "capacity_kva": 400, "accepted_at": acceptedAt})
	return w.getProject(id)
}

func (w *world) getProject(id string) *process.Project {
	w.T.Helper()
	raw, e := crm.Get(w.Tx, "projects", id)
	if e != nil {
		w.T.Fatal(e)
	}
	return crmtest.Decode[process.Project](w.T, raw)
}

// stage applies a project action at now and answers the error.
func (w *world) stage(now time.Time, p *process.Project, body crmtest.Obj) (*process.Project, *crm.Error) {
	w.T.Helper()
	res := w.At(now, crm.OpAction, "projects", p.ID, p.Version, body)
	if res.Err != nil {
		return p, res.Err
	}
	return crmtest.Decode[process.Project](w.T, res.Record), nil
}

func (w *world) mustStage(now time.Time, p *process.Project, body crmtest.Obj) *process.Project {
	w.T.Helper()
	np, e := w.stage(now, p, body)
	if e != nil {
		w.T.Fatalf("stage %v: %v (field %q)", body, e, e.Field)
	}
	return np
}

func stageNames(p *process.Project) string {
	var n []string
	for _, s := range p.Stages {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func deadlineOf(p *process.Project, stage string) string {
	for _, s := range p.Stages {
		if s.Name == stage && s.Deadline != nil {
			return s.Deadline.In(workday.CST).Format("2006-01-02 15:04")
		}
	}
	return ""
}

// TestProject_RuleSetVersions accepts projects of every class under the
// old per-stage rule set and the current totals and checks the path and
// the first deadline, counted on the official calendar.
func TestProject_RuleSetVersions(t *testing.T) {
	cases := []struct {
		name      string
		accepted  time.Time
		category  string
		kv        float64
		supply    string
		ruleSet   string
		class     string
		path      string
		stage     string // whose deadline is checked
		deadline  string // end of the limit (exclusive), CST
		limitName string
	}{
		// 2011 per-stage: supply plan reply counted from acceptance.
		{"2011 residential plan reply 3 WD over National Day", cst(2022, 9, 30, 10, 0), "residential", 0.22, "single", "builtin:2011-per-stage", "residential",
			"acceptance,site_survey,supply_plan,completion_acceptance,energisation", "supply_plan", "", "supply_plan_reply"},
		{"2011 hv dual", cst(2022, 3, 1, 10, 0), "industrial", 10, "dual", "builtin:2011-per-stage", "hv_dual",
			"acceptance,site_survey,supply_plan,design_review,intermediate_inspection,completion_acceptance,energisation", "site_survey", "", "supply_plan_reply"},
		// 2023 totals, on the 2025 calendar.
		{"residential 5 WD from 30 Sep 2025 ends after the holiday, make-up Saturday counts", cst(2025, 9, 30, 16, 0), "residential", 0.22, "single", "builtin:2023-total", "residential",
			"acceptance,energisation", "energisation", "2025-10-15 00:00", "utility_total"},
		{"lv 6 WD", cst(2025, 9, 30, 16, 0), "commercial", 0.4, "single", "builtin:2023-total", "lv",
			"acceptance,supply_plan,energisation", "supply_plan", "2025-10-16 00:00", "utility_total"},
		{"hv single 22 WD", cst(2026, 9, 21, 9, 0), "industrial", 10, "single", "builtin:2023-total", "hv_single",
			"acceptance,supply_plan,completion_acceptance,energisation", "supply_plan", "2026-10-29 00:00", "utility_total"},
		{"hv dual 32 WD", cst(2025, 3, 3, 9, 0), "industrial", 110, "dual", "builtin:2023-total", "hv_dual",
			"acceptance,supply_plan,completion_acceptance,energisation", "energisation", "2025-04-18 00:00", "utility_total"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "320722")
			p := w.project(tc.accepted, w.Customer(tc.category, tc.kv), tc.kv, tc.supply)
			if p.RuleSet != tc.ruleSet || p.Class != tc.class || stageNames(p) != tc.path {
				t.Fatalf("rule set %s class %s path %s; want %s %s %s", p.RuleSet, p.Class, stageNames(p), tc.ruleSet, tc.class, tc.path)
			}
			if p.Status != process.ProjectOpen || p.Stages[0].DoneAt == nil || p.Stages[1].StartedAt == nil {
				t.Fatalf("acceptance not done / next stage not started: %+v", p.Stages[:2])
			}
			if tc.deadline != "" {
				if got := deadlineOf(p, tc.stage); got != tc.deadline {
					t.Errorf("deadline of %s = %q; want %q", tc.stage, got, tc.deadline)
				}
			} else if p.ClockError == "" {
				t.Errorf("accepted in %d: the calendar has no data for it; want a clock_error, got deadline %q", tc.accepted.Year(), deadlineOf(p, tc.stage))
			}
			for _, s := range p.Stages[1:] {
				if s.Name == tc.stage && s.Limit != tc.limitName {
					t.Errorf("stage %s is under limit %q; want %q", s.Name, s.Limit, tc.limitName)
				}
			}
		})
	}
}

// TestProject_OldRulesPerStage runs a 2011 project through its stages on a
// pushed calendar and checks that each limit starts when its stage starts.
func TestProject_OldRulesPerStage(t *testing.T) {
	w := newWorld(t, "320722")
	// A 2022 calendar pushed down (weekends only plus National Day) so the
	// old rule set can be counted.
	cal := crmtest.Obj{"kind": "calendar", "title": "2022", "scope": "32", "body": crmtest.Obj{"years": crmtest.Obj{"2022": crmtest.Obj{
		"holidays": crmtest.Obj{"国庆节": []string{"2022-10-01", "2022-10-02", "2022-10-03", "2022-10-04", "2022-10-05", "2022-10-06", "2022-10-07"}},
		"workdays": []string{"2022-10-08", "2022-10-09"}}}}}
	w.Region = "32"
	w.Create(crmtest.T0, "directives", "dir", cal)
	w.Region = "320722"
	cus := w.Customer("industrial", 10)
	p := w.project(cst(2022, 9, 29, 10, 0), cus, 10, "single") // Thursday
	if p.ClockError != "" {
		t.Fatalf("clock error with the 2022 calendar pushed: %s", p.ClockError)
	}
	// Supply plan reply 15 WD from Thu 29 Sep: 30 Sep (1), 8 and 9 Oct
	// (make-up, 3), 10..14 (8), 17..21 (13), 24, 25 (15): ends with 25 Oct.
	if got := deadlineOf(p, "supply_plan"); got != "2022-10-26 00:00" {
		t.Errorf("supply plan reply deadline %q; want 2022-10-26 00:00", got)
	}
	p = w.mustStage(cst(2022, 10, 10, 9, 0), p, crmtest.Obj{"action": "complete", "stage": "site_survey"})
	p = w.mustStage(cst(2022, 10, 26, 9, 0), p, crmtest.Obj{"action": "complete", "stage": "supply_plan"}) // 9 hours late
	if !p.Stages[2].Late || p.Stages[1].Late {
		t.Errorf("late flags survey %v plan %v; want false, true", p.Stages[1].Late, p.Stages[2].Late)
	}
	// Design review 10 WD from 26 Oct (Wed): 27,28,31,1..4,7,8,9 → ends 9 Nov.
	if got := deadlineOf(p, "design_review"); got != "2022-11-10 00:00" {
		t.Errorf("design review deadline %q; want 2022-11-10 00:00", got)
	}
}

// TestProject_KeepsRuleSetOfAcceptance checks that a rule set pushed later
// does not change a project accepted before it took effect, and that a
// project accepted after takes it.
func TestProject_KeepsRuleSetOfAcceptance(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("commercial", 0.4)
	before := w.project(cst(2026, 1, 5, 9, 0), cus, 0.4, "single")
	rs := process.BuiltinRuleSets[1]
	rs.ID, rs.Name, rs.EffectiveFrom = "", "Jiangsu 2026 (lv 4)", "2026-02-01"
	rs.Limits = []process.StageLimit{{Name: "utility_total", Stages: []string{"supply_plan", "energisation"}, Days: map[string]int{"residential": 3, "lv": 4, "hv_single": 15, "hv_dual": 25}}}
	w.Region = "32"
	dirID := w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "rule_set", "title": "江苏2026", "scope": "32", "body": rs})
	w.Region = "320722"
	after := w.project(cst(2026, 2, 2, 9, 0), cus, 0.4, "single")
	if before.RuleSet != "builtin:2023-total" {
		t.Errorf("project accepted before keeps %s; want builtin:2023-total", before.RuleSet)
	}
	if after.RuleSet != dirID {
		t.Errorf("project accepted after has %s; want the pushed rule set %s", after.RuleSet, dirID)
	}
	// 4 WD from Mon 2 Feb 2026: 3, 4, 5, 6 → ends 7 Feb.
	if got := deadlineOf(after, "energisation"); got != "2026-02-07 00:00" {
		t.Errorf("deadline under the pushed set %q; want 2026-02-07 00:00", got)
	}
	// The old project, written again, still counts 6 WD.
	b2 := w.mustStage(cst(2026, 1, 6, 9, 0), before, crmtest.Obj{"action": "complete", "stage": "supply_plan"})
	if b2.RuleSet != "builtin:2023-total" || deadlineOf(b2, "energisation") != "2026-01-14 00:00" {
		t.Errorf("old project after a write: %s %s; want builtin:2023-total 2026-01-14 00:00", b2.RuleSet, deadlineOf(b2, "energisation"))
	}
}

// TestProject_Transitions walks legal and illegal stage actions.
func TestProject_Transitions(t *testing.T) {
	w := newWorld(t, "320722")
	mgr := w.Staff("M-1")
	cus := w.Customer("industrial", 10)
	p := w.project(cst(2025, 3, 3, 9, 0), cus, 10, "single") // 2023 totals: acceptance, supply_plan, completion, energisation
	steps := []struct {
		name  string
		at    time.Time
		body  crmtest.Obj
		code  string // "" = allowed
		field string
	}{
		{"complete a later stage first", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "energisation"}, crm.CodeConflict, "stage"},
		{"complete acceptance again", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "acceptance"}, crm.CodeConflict, "stage"},
		{"stage not on the path", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "design_review"}, crm.CodeInvalid, "stage"},
		{"unknown action", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "finish", "stage": "supply_plan"}, crm.CodeInvalid, "action"},
		{"no stage", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete"}, crm.CodeInvalid, "stage"},
		{"unknown field", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan", "when": "now"}, crm.CodeInvalid, "when"},
		{"in the future", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan", "at": cst(2025, 3, 5, 9, 0)}, crm.CodeInvalid, "at"},
		{"before the stage started", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan", "at": cst(2025, 3, 1, 9, 0)}, crm.CodeInvalid, "at"},
		{"resume a running stage", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "resume", "stage": "supply_plan"}, crm.CodeConflict, "action"},
		{"pause without reason", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "pause", "stage": "supply_plan"}, crm.CodeInvalid, "reason"},
		{"assign a missing staff member", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "assign", "stage": "supply_plan", "responsible": crm.NewID("stf", crmtest.T0)}, crm.CodeReference, "responsible"},
		{"assign", cst(2025, 3, 4, 9, 0), crmtest.Obj{"action": "assign", "stage": "supply_plan", "responsible": mgr}, "", ""},
		{"pause waiting on the customer", cst(2025, 3, 5, 9, 0), crmtest.Obj{"action": "pause", "stage": "supply_plan", "reason": "customer to send the load list"}, "", ""},
		{"pause twice", cst(2025, 3, 5, 10, 0), crmtest.Obj{"action": "pause", "stage": "supply_plan", "reason": "x"}, crm.CodeConflict, "action"},
		{"complete while paused", cst(2025, 3, 6, 9, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan"}, crm.CodeConflict, "action"},
		{"resume", cst(2025, 3, 10, 9, 0), crmtest.Obj{"action": "resume", "stage": "supply_plan"}, "", ""},
		{"complete", cst(2025, 3, 11, 9, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan"}, "", ""},
		{"complete a done stage", cst(2025, 3, 11, 10, 0), crmtest.Obj{"action": "complete", "stage": "supply_plan"}, crm.CodeConflict, "stage"},
		{"assign a done stage", cst(2025, 3, 11, 10, 0), crmtest.Obj{"action": "assign", "stage": "supply_plan", "responsible": mgr}, crm.CodeConflict, "stage"},
		{"complete completion acceptance", cst(2025, 3, 20, 9, 0), crmtest.Obj{"action": "complete", "stage": "completion_acceptance"}, "", ""},
		{"energise", cst(2025, 3, 21, 9, 0), crmtest.Obj{"action": "complete", "stage": "energisation"}, "", ""},
		{"anything after energisation", cst(2025, 3, 22, 9, 0), crmtest.Obj{"action": "pause", "stage": "energisation", "reason": "x"}, crm.CodeConflict, "action"},
		{"cancel after energisation", cst(2025, 3, 22, 9, 0), crmtest.Obj{"action": "cancel", "reason": "x"}, crm.CodeConflict, "action"},
	}
	for _, st := range steps {
		before := crmtest.Snapshot(t, w.Tx)
		np, e := w.stage(st.at, p, st.body)
		if st.code == "" {
			if e != nil {
				t.Fatalf("%s: refused: %v (field %q)", st.name, e, e.Field)
			}
			p = np
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			crmtest.WantErr(t, e, st.code, st.field)
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
				t.Errorf("a refused action wrote:\n%s", d)
			}
		})
	}
	if p.Status != process.ProjectEnergised || p.EnergisedAt == nil {
		t.Fatalf("status %s; want energised", p.Status)
	}
	// Paused 5 Mar 09:00 → 10 Mar 09:00: 6, 7, 10 March = 3 working days added to 22.
	// 22 WD from Mon 3 Mar 2025 is 2 Apr; 3 more: 3, 7, 8 Apr (4 Apr is Qingming).
	if got := deadlineOf(p, "energisation"); got != "2025-04-09 00:00" {
		t.Errorf("deadline with 3 paused working days = %q; want 2025-04-09 00:00", got)
	}
	if p.Stages[1].Responsible != mgr {
		t.Errorf("responsible %q; want %s", p.Stages[1].Responsible, mgr)
	}
	// Stale version.
	res := w.At(cst(2025, 3, 23, 9, 0), crm.OpAction, "projects", p.ID, p.Version-1, crmtest.Obj{"action": "cancel", "reason": "x"})
	crmtest.WantErr(t, res.Err, crm.CodeConflict, "version")
}

// TestProject_BadInput refuses malformed projects, naming the field.
func TestProject_BadInput(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("industrial", 10)
	good := crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 10, "capacity_kva": 400}
	cases := []struct {
		name  string
		body  crmtest.Obj
		code  string
		field string
	}{
		{"no kind", good.With("kind", nil), crm.CodeInvalid, "kind"},
		{"bad kind", good.With("kind", "upgrade"), crm.CodeInvalid, "kind"},
		{"no customer", good.With("customer_id", nil), crm.CodeInvalid, "customer_id"},
		{"missing customer", good.With("customer_id", crm.NewID("cus", crmtest.T0)), crm.CodeReference, "customer_id"},
		{"bad voltage", good.With("voltage_kv", 11), crm.CodeInvalid, "voltage_kv"},
		{"bad supply", good.With("supply", "triple"), crm.CodeInvalid, "supply"},
		{"dual at low voltage", good.With("voltage_kv", 0.4, "supply", "dual"), crm.CodeInvalid, "supply"},
		{"no capacity", good.With("capacity_kva", nil), crm.CodeInvalid, "capacity_kva"},
		{"negative capacity", good.With("capacity_kva", -5), crm.CodeInvalid, "capacity_kva"},
		{"bad manager id", good.With("manager_id", "bob"), crm.CodeInvalid, "manager_id"},
		{"missing manager", good.With("manager_id", crm.NewID("stf", crmtest.T0)), crm.CodeReference, "manager_id"},
		{"accepted in the future", good.With("accepted_at", crmtest.T0.Add(time.Hour)), crm.CodeInvalid, "accepted_at"},
		{"client-set stages", good.With("stages", []crmtest.Obj{{"name": "acceptance"}}), crm.CodeInvalid, "stages"},
		{"client-set status", good.With("status", "energised"), crm.CodeInvalid, "status"},
		{"client-set rule set", good.With("rule_set", "builtin:2011-per-stage"), crm.CodeInvalid, "rule_set"},
		{"another region", good.With("region", "320723"), crm.CodeWrongOwner, "region"},
		{"unknown field", good.With("colour", "red"), crm.CodeInvalid, "colour"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, w.Tx)
			res := w.At(crmtest.T0, crm.OpCreate, "projects", w.IDs.Next("prj"), 0, tc.body)
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
				t.Errorf("a refused create wrote:\n%s", d)
			}
		})
	}
	// Updates may not touch what the stages decide.
	p := w.project(cst(2026, 3, 2, 9, 0), cus, 10, "single")
	for _, u := range []struct {
		patch crmtest.Obj
		field string
	}{
		{crmtest.Obj{"status": "energised"}, "stages"},
		{crmtest.Obj{"voltage_kv": 35}, "voltage_kv"},
		{crmtest.Obj{"supply": "dual"}, "supply"},
		{crmtest.Obj{"accepted_at": cst(2026, 3, 1, 9, 0)}, "accepted_at"},
		{crmtest.Obj{"stages": []crmtest.Obj{}}, "stages"},
	} {
		res := w.At(crmtest.T0, crm.OpUpdate, "projects", p.ID, p.Version, u.patch)
		crmtest.WantErr(t, res.Err, crm.CodeInvalid, u.field)
	}
	if res := w.At(crmtest.T0, crm.OpUpdate, "projects", p.ID, p.Version, crmtest.Obj{"title": "新厂房 400 kVA", "key_project": true}); res.Err != nil {
		t.Errorf("a plain field update was refused: %v", res.Err)
	}
}

// TestDirective_CalendarAndRuleSetBodies refuses bad calendar and rule-set
// directives with the field named.
func TestDirective_CalendarAndRuleSetBodies(t *testing.T) {
	w := newWorld(t, "32")
	rs := process.BuiltinRuleSets[1]
	rs.ID = ""
	good := func() map[string]any {
		var m map[string]any
		b, _ := json.Marshal(rs)
		_ = json.Unmarshal(b, &m)
		return m
	}
	with := func(f func(m map[string]any)) map[string]any { m := good(); f(m); return m }
	cases := []struct {
		name, kind string
		body       any
		field      string
	}{
		{"calendar without body", "calendar", nil, "body"},
		{"calendar no years", "calendar", crmtest.Obj{"years": crmtest.Obj{}}, "body.years"},
		{"calendar bad date", "calendar", crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"holidays": crmtest.Obj{"元旦": []string{"2027-02-30"}}}}}, "body.years.2027.holidays.元旦[0]"},
		{"calendar duplicate day", "calendar", crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"holidays": crmtest.Obj{"元旦": []string{"2027-01-01", "2027-01-01"}}}}}, "body.years.2027.holidays.元旦[1]"},
		{"calendar year without holidays", "calendar", crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"workdays": []string{"2027-02-06"}}}}, "body.years.2027.holidays"},
		{"calendar weekday workday", "calendar", crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"holidays": crmtest.Obj{"a": []string{"2027-01-01"}}, "workdays": []string{"2027-01-05"}}}}, "body.years.2027.workdays[0]"},
		{"rule set without body", "rule_set", nil, "body"},
		{"rule set no name", "rule_set", with(func(m map[string]any) { delete(m, "name") }), "body.name"},
		{"rule set no date", "rule_set", with(func(m map[string]any) { delete(m, "effective_from") }), "body.effective_from"},
		{"rule set bad date", "rule_set", with(func(m map[string]any) { m["effective_from"] = "2026-13-01" }), "body.effective_from"},
		{"rule set path without acceptance", "rule_set", with(func(m map[string]any) { m["paths"].(map[string]any)["lv"] = []string{"supply_plan"} }), "body.paths.lv"},
		{"rule set unknown stage", "rule_set", with(func(m map[string]any) {
			m["paths"].(map[string]any)["lv"] = []string{"acceptance", "coffee"}
		}), "body.paths.lv[1]"},
		{"rule set missing class", "rule_set", with(func(m map[string]any) { delete(m["paths"].(map[string]any), "hv_dual") }), "body.paths.hv_dual"},
		{"rule set zero days", "rule_set", with(func(m map[string]any) {
			m["limits"].([]any)[0].(map[string]any)["days"].(map[string]any)["lv"] = 0
		}), "body.limits[0].days.lv"},
		{"rule set unknown work-order kind", "rule_set", with(func(m map[string]any) { m["work_orders"].(map[string]any)["gossip"] = map[string]any{} }), "body.work_orders.gossip"},
		{"rule set bad province", "rule_set", with(func(m map[string]any) { m["province"] = "3207" }), "body.province"},
		{"rule set unknown field", "rule_set", with(func(m map[string]any) { m["colour"] = "red" }), "body.colour"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := crmtest.Obj{"kind": tc.kind, "title": tc.name}
			if tc.body != nil {
				body["body"] = tc.body
			}
			before := crmtest.Snapshot(t, w.Tx)
			res := w.At(crmtest.T0, crm.OpCreate, "directives", w.IDs.Next("dir"), 0, body)
			crmtest.WantErr(t, res.Err, crm.CodeInvalid, tc.field)
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.Tx)); d != "" {
				t.Errorf("a refused directive wrote:\n%s", d)
			}
		})
	}
	w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "rule_set", "title": "ok", "body": good()})
}

// TestCalendar_DirectiveOverrides: a deadline running into 2027 is flagged
// until the province pushes 2027; then it is counted.
func TestCalendar_DirectiveOverrides(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("industrial", 10)
	p := w.project(cst(2026, 12, 14, 9, 0), cus, 10, "single")
	if p.ClockError == "" || !strings.Contains(p.ClockError, "2027") || deadlineOf(p, "supply_plan") != "" {
		t.Fatalf("a limit running into 2027 with no 2027 data: clock_error %q deadline %q; want it flagged", p.ClockError, deadlineOf(p, "supply_plan"))
	}
	w.Region = "32"
	w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "calendar", "title": "2027年部分节假日安排", "scope": "32",
		"body": crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"holidays": crmtest.Obj{"元旦": []string{"2027-01-01"}}, "workdays": []string{}}}}})
	w.Region = "320722"
	p = w.mustStage(cst(2026, 12, 15, 9, 0), p, crmtest.Obj{"action": "assign", "stage": "supply_plan", "responsible": w.Staff("M-9")})
	// 22 WD from Mon 14 Dec 2026: 15..18 (4), 21..25 (9), 28..31 (13), 4..8 Jan (18), 11..14 (22).
	if p.ClockError != "" || deadlineOf(p, "supply_plan") != "2027-01-15 00:00" {
		t.Errorf("after the 2027 calendar: clock_error %q deadline %q; want 2027-01-15 00:00", p.ClockError, deadlineOf(p, "supply_plan"))
	}
	cal, err := process.CalendarFor(w.Tx, "320722")
	if err != nil {
		t.Fatal(err)
	}
	if ys := cal.Years(); len(ys) != 3 {
		t.Errorf("years in force %v; want 2025, 2026, 2027", ys)
	}
	other, _ := process.CalendarFor(w.Tx, "33")
	if ys := other.Years(); len(ys) != 2 {
		t.Errorf("province 33 got years %v; the directive addresses 32 only", ys)
	}
}

// TestProcess_CreateReplayed: a create applied twice (a proposer's retry)
// answers the record it created, for every process kind.
func TestProcess_CreateReplayed(t *testing.T) {
	w := newWorld(t, "320722")
	cus := w.Customer("industrial", 10)
	start := cst(2026, 3, 20, 8, 0)
	for _, tc := range []struct {
		coll, prefix string
		body         crmtest.Obj
	}{
		{"projects", "prj", crmtest.Obj{"kind": "new_connection", "customer_id": cus, "voltage_kv": 10, "capacity_kva": 400}},
		{"work_orders", "wko", crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "s", "customer_id": cus}},
		{"outages", "otg", crmtest.Obj{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)}},
	} {
		id := w.IDs.Next(tc.prefix)
		first := w.At(crmtest.T0, crm.OpCreate, tc.coll, id, 0, tc.body)
		again := w.At(crmtest.T0, crm.OpCreate, tc.coll, id, 0, tc.body)
		if first.Err != nil || again.Err != nil || string(first.Record) != string(again.Record) {
			t.Errorf("%s: replayed create answered %v / %v", tc.coll, first.Err, again.Err)
		}
	}
}
