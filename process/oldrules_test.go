package process_test

import (
	"gridcrm/crm/crmtest"
	"maps"
	"slices"
	"testing"
	"time"

	"gridcrm/crm/workday"
	"gridcrm/process"
)

// TestProject_OldRulesEveryLimit runs a project of every supply class under
// the 2011 per-stage rule set through all its stages, on a 2022 calendar
// pushed down by the province, and checks every limit of the set: supply
// plan reply 3/7/15/30, design review 10/20, intermediate inspection 5,
// completion acceptance 5, energisation 5 (residential 3, DOMAIN.md). Each
// limit's clock starts when its first stage starts.
func TestProject_OldRulesEveryLimit(t *testing.T) {
	type oldCase struct {
		class, category string
		kv              float64
		supply          string
		limits          map[string]int // limit name → working days
	}
	cases := []oldCase{
		{"residential", "residential", 0.22, "single", map[string]int{"supply_plan_reply": 3, "completion_acceptance": 5, "energisation": 3}},
		{"lv", "commercial", 0.4, "single", map[string]int{"supply_plan_reply": 7, "completion_acceptance": 5, "energisation": 5}},
		{"hv_single", "industrial", 10, "single", map[string]int{"supply_plan_reply": 15, "design_review": 10, "intermediate_inspection": 5, "completion_acceptance": 5, "energisation": 5}},
		{"hv_dual", "industrial", 10, "dual", map[string]int{"supply_plan_reply": 30, "design_review": 20, "intermediate_inspection": 5, "completion_acceptance": 5, "energisation": 5}},
	}
	for _, tc := range cases {
		t.Run(tc.class, func(t *testing.T) {
			w := newWorld(t, "320722")
			// 2022, weekends plus National Day: no holiday before October.
			w.Region = "32"
			w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "calendar", "title": "2022", "scope": "32", "body": crmtest.Obj{"years": crmtest.Obj{"2022": crmtest.Obj{
				"holidays": crmtest.Obj{"国庆节": []string{"2022-10-01", "2022-10-02", "2022-10-03", "2022-10-04", "2022-10-05", "2022-10-06", "2022-10-07"}},
				"workdays": []string{"2022-10-08", "2022-10-09"}}}}})
			w.Region = "320722"
			at := cst(2022, 3, 7, 9, 0) // a Monday
			p := w.project(at, w.Customer(tc.category, tc.kv), tc.kv, tc.supply)
			if p.RuleSet != "builtin:2011-per-stage" || p.Class != tc.class || p.ClockError != "" {
				t.Fatalf("rule set %s class %s clock error %q; want builtin:2011-per-stage %s", p.RuleSet, p.Class, p.ClockError, tc.class)
			}
			// Complete each stage on the following Monday, so every limit's
			// clock starts on a different day.
			for _, s := range p.Stages[1:] {
				at = at.AddDate(0, 0, 7)
				p = w.mustStage(at, p, crmtest.Obj{"action": "complete", "stage": s.Name})
			}
			if p.Status != process.ProjectEnergised {
				t.Fatalf("status %s after every stage; want energised", p.Status)
			}
			seen := map[string]int{}
			for _, s := range p.Stages[1:] {
				days, ok := tc.limits[s.Limit]
				if !ok {
					t.Errorf("stage %s is under limit %q, which a %s project does not have", s.Name, s.Limit, tc.class)
					continue
				}
				// The limit's clock: the start of its first stage.
				var start time.Time
				for _, f := range p.Stages {
					if f.Limit == s.Limit && f.StartedAt != nil {
						start = *f.StartedAt
						break
					}
				}
				want := afterWorkingDays(start, days)
				if s.Deadline == nil || !s.Deadline.Equal(want) {
					t.Errorf("stage %s (limit %s, %d WD from %s): deadline %v; want %s", s.Name, s.Limit, days,
						start.In(workday.CST).Format("Mon 2006-01-02"), s.Deadline, want.Format("Mon 2006-01-02 15:04"))
				}
				seen[s.Limit] = days
			}
			if !maps.Equal(seen, tc.limits) {
				t.Errorf("limits applied %v; want %v", seen, tc.limits)
			}
			if tc.class == "hv_dual" {
				// 30 WD from Mon 7 Mar 2022 end on Mon 18 Apr.
				if got := deadlineOf(p, "supply_plan"); got != "2022-04-19 00:00" {
					t.Errorf("hv dual plan reply deadline %s; want 2022-04-19 00:00", got)
				}
			}
		})
	}
	for _, c := range process.SupplyClasses {
		if !slices.ContainsFunc(cases, func(tc oldCase) bool { return tc.class == c }) {
			t.Errorf("supply class %s has no case", c)
		}
	}
}

// afterWorkingDays is the end (midnight CST) of the n-th weekday after
// start's day, counting Monday to Friday only (the pushed 2022 calendar
// has no holiday from March to September).
func afterWorkingDays(start time.Time, n int) time.Time {
	s := start.In(workday.CST)
	d := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, workday.CST)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			n--
		}
	}
	return d.AddDate(0, 0, 1)
}
