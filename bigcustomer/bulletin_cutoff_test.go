package bigcustomer_test

import (
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestBulletin_CutOff: a bulletin is judged at the earlier of the period's
// end and the generation day; stages due later are not overdue, a stage
// done after the cut-off shows as open at it, and a future month is refused.
func TestBulletin_CutOff(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	cus := w.customer("KP-CUT", 110, 5_000_000)
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "key_projects", w.ids.Next("kpj"), county, 0, crmtest.Obj{
		"name": "徐圩新区 110kV 配套", "kind": "government_key", "customer_id": cus, "progress": 30,
		"stages": []crmtest.Obj{
			{"name": "accepted", "due": "2026-02-20", "done_on": "2026-03-05"},    // late in February, done late in March
			{"name": "site_survey", "due": "2026-03-02", "done_on": "2026-03-12"}, // done after the 10 March cut-off
			{"name": "supply_plan", "due": "2026-03-05"},                          // open, 5 days late on 10 March
			{"name": "design_review", "due": "2026-03-20"},                        // not yet due on 10 March
		}}))
	now := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC) // 10 March, 09:00 CST
	type late struct {
		days int
		done crm.Date
	}
	for _, tc := range []struct {
		period string
		want   map[string]late
	}{
		{"2026-03", map[string]late{"accepted": {13, "2026-03-05"}, "site_survey": {8, ""}, "supply_plan": {5, ""}}},
		{"2026-02", map[string]late{"accepted": {8, ""}}},
	} {
		d, e := bigcustomer.BuildBulletin(w.tx, county, "连云区", tc.period, now)
		if e != nil {
			t.Fatalf("%s: %v", tc.period, e)
		}
		got := map[string]late{}
		for _, p := range d.Projects {
			for _, o := range p.Overdue {
				got[o.Stage] = late{o.DaysLate, o.DoneOn}
			}
		}
		if len(got) != len(tc.want) || d.Overdue != len(tc.want) {
			t.Errorf("%s: overdue %v (count %d); want %v", tc.period, got, d.Overdue, tc.want)
			continue
		}
		for st, w := range tc.want {
			if got[st] != w {
				t.Errorf("%s: %s is %+v; want %+v", tc.period, st, got[st], w)
			}
		}
	}
	if _, e := bigcustomer.BuildBulletin(w.tx, county, "", "2026-04", now); e == nil || e.Field != "period" || e.Code != crm.CodeInvalid {
		t.Errorf("future month: %v; want an invalid period", e)
	}
	// 31 March 17:00 UTC is 1 April in CST: April has begun.
	if _, e := bigcustomer.BuildBulletin(w.tx, county, "", "2026-04", time.Date(2026, 3, 31, 17, 0, 0, 0, time.UTC)); e != nil {
		t.Errorf("April on 1 April CST: %v", e)
	}
}

// TestKeyProject_StageNames: a key project names its stages from the one
// list (crm.Stages); "accepted", the name key projects used for acceptance
// before, is still the same stage, kept as written.
func TestKeyProject_StageNames(t *testing.T) {
	base := bigcustomer.KeyProject{Region: county, Name: "p", Kind: "other", CustomerID: crm.NewID("cus", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	for _, c := range []struct {
		stages []string
		field  string // "" when valid
	}{
		{[]string{"acceptance", "site_survey", "energisation"}, ""},
		{[]string{"accepted", "site_survey"}, ""},
		{[]string{"accepted", "acceptance"}, "stages[1].name"},
		{[]string{"site_survey", "accepted"}, "stages[1].name"},
		{[]string{"accept"}, "stages[0].name"},
	} {
		p := base
		for _, s := range c.stages {
			p.Stages = append(p.Stages, bigcustomer.ProjectStage{Name: s, Due: "2026-01-05"})
		}
		p.Normalize()
		e := p.Validate()
		if (e == nil) != (c.field == "") || e != nil && e.Field != c.field {
			t.Errorf("%v: %v; want field %q", c.stages, e, c.field)
		}
		if e == nil && p.Stages[0].Name != c.stages[0] {
			t.Errorf("%v: stored as %q", c.stages, p.Stages[0].Name)
		}
	}
	if crm.StageName("accepted") != "受理" || crm.StageName(crm.StageAcceptance) != "受理" || crm.StageName("x") != "" {
		t.Errorf("stage names: %q %q %q", crm.StageName("accepted"), crm.StageName(crm.StageAcceptance), crm.StageName("x"))
	}
}
