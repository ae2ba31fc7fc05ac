package bigcustomer_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func rules(t *testing.T, body string) bigcustomer.ClassRuleSet {
	t.Helper()
	r, e := bigcustomer.ParseClassRules(json.RawMessage(body))
	if e != nil {
		t.Fatalf("ParseClassRules(%s): %v", body, e)
	}
	return bigcustomer.ClassRuleSet{Rules: r}
}

// TestClassify_Rules: one row per rule, at and just below its threshold.
func TestClassify_Rules(t *testing.T) {
	std := `{"annual_kwh": 1000000, "monthly_bill": 100000, "voltage_kv": 35, "tags": ["government_key_project", "emergency_livelihood"],
		"grades": {"core": {"annual_kwh": 10000000, "voltage_kv": 110, "tags": ["government_key_project"]}, "key": {"annual_kwh": 3000000, "monthly_bill": 300000}}}`
	for _, tc := range []struct {
		name         string
		kwh, bill    float64
		kv           float64
		tags         []string
		class, grade string
		reason       string
	}{
		{"annual kWh at the threshold", 1_000_000, 0, 10, nil, "big", "general", "annual kWh"},
		{"annual kWh just below", 999_999, 0, 10, nil, "ordinary", "general", ""},
		{"monthly bill at the threshold", 0, 100_000, 10, nil, "big", "general", "monthly bill"},
		{"monthly bill just below", 0, 99_999.99, 10, nil, "ordinary", "general", ""},
		{"35 kV supply", 0, 0, 35, nil, "big", "general", "supply voltage"},
		{"20 kV supply", 0, 0, 20, nil, "ordinary", "general", ""},
		{"government key project", 0, 0, 0.4, []string{"government_key_project"}, "big", "core", "tag government_key_project"},
		{"emergency / livelihood project", 0, 0, 0.4, []string{"emergency_livelihood"}, "big", "general", "tag emergency_livelihood"},
		{"unrelated tag", 0, 0, 0.4, []string{"vip"}, "ordinary", "general", ""},
		{"core by kWh", 10_000_000, 0, 10, nil, "big", "core", ""},
		{"core by 110 kV", 0, 0, 110, nil, "big", "core", ""},
		{"key by kWh", 3_000_000, 0, 10, nil, "big", "key", ""},
		{"key by bill", 0, 300_000, 10, nil, "big", "key", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &crm.Customer{Meta: crm.Meta{ID: "cus_x"}, VoltageKV: tc.kv, Tags: tc.tags}
			got := bigcustomer.Classify(c, crm.Figures{AnnualKWh: tc.kwh, MonthlyBill: tc.bill}, rules(t, std))
			if got.Class != tc.class || got.Grade != tc.grade {
				t.Errorf("class %s grade %s (%v); want %s %s", got.Class, got.Grade, got.Reasons, tc.class, tc.grade)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(got.Reasons, "; "), tc.reason) {
				t.Errorf("reasons %v lack %q", got.Reasons, tc.reason)
			}
		})
	}
}

func TestParseClassRules_BadInput(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{``, "body"},
		{`{}`, "body"},
		{`[1]`, "body"},
		{`{"annual_kwh": -5}`, "body.annual_kwh"},
		{`{"annual_kwh": "lots"}`, "body.annual_kwh"},
		{`{"voltage_kv": 35, "grades": {"gold": {}}}`, "body.gold"},
		{`{"voltage_kv": 35, "grades": {"core": {"monthly_bill": -1}}}`, "body.grades.core.monthly_bill"},
		{`{"tags": ["` + strings.Repeat("x", 40) + `"]}`, "body.tags"},
	} {
		_, e := bigcustomer.ParseClassRules(json.RawMessage(tc.body))
		if e == nil || e.Field != tc.field {
			t.Errorf("ParseClassRules(%s) = %v; want an error on %s", tc.body, e, tc.field)
		}
	}
}

// classWorld is a store holding a county's customers and the directives
// of the province, the city and the county, as the county's replica does.
type classWorld struct {
	t   *testing.T
	tx  *crm.MemTxn
	ids crmtest.IDGen
}

func (w *classWorld) customer(acct string, kv float64, kwh float64, tags ...string) string {
	id := w.ids.Next("cus")
	body := crmtest.CustomerBody(acct, county).With("voltage_kv", kv)
	if len(tags) > 0 {
		body = body.With("tags", tags)
	}
	crmtest.MustApply(w.t, w.tx, crmtest.NewCmd(w.t, crm.OpCreate, "customers", id, county, 0, body))
	for m := 1; m <= 12; m++ {
		crmtest.MustApply(w.t, w.tx, crmtest.NewCmd(w.t, crm.OpCreate, "bills", w.ids.Next("bil"), county, 0,
			crmtest.BillBody(id, fmt.Sprintf("2025-%02d", m)).With("kwh", kwh/12, "billed", kwh/12*0.6)))
	}
	return id
}

func (w *classWorld) directive(owner, scope, from, body string) string {
	id := w.ids.Next("dir")
	d := crmtest.Obj{"kind": "class_thresholds", "title": "rules of " + scope, "scope": scope, "body": json.RawMessage(body)}
	if from != "" {
		d = d.With("effective_from", from)
	}
	crmtest.MustApply(w.t, w.tx, crmtest.NewCmd(w.t, crm.OpCreate, "directives", id, owner, 0, d))
	return id
}

func (w *classWorld) class(id, day string) bigcustomer.Classification {
	w.t.Helper()
	c, e := bigcustomer.ClassifyCustomer(w.tx, id, crm.Date(day))
	if e != nil {
		w.t.Fatalf("ClassifyCustomer: %v", e)
	}
	return *c
}

// TestClassify_RuleChanges: a rule change is seen by the next read; the
// most specific scope in force wins, then the latest effective_from.
func TestClassify_RuleChanges(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	mid := w.customer("MID-1", 10, 600_000) // 600 MWh a year, 10 kV
	small := w.customer("SMALL-1", 0.4, 50_000)
	const day = "2026-01-15" // window 2025-01..2025-12

	steps := []struct {
		name      string
		change    func() string // answers the directive id expected in force ("" = defaults)
		id        string
		day       string
		wantClass string
		wantGrade string
	}{
		{"defaults: 600 MWh is ordinary", func() string { return "" }, mid, day, "ordinary", "general"},
		{"province lowers the bar to 500 MWh", func() string {
			return w.directive("32", "32", "2025-01-01", `{"annual_kwh": 500000, "grades": {"key": {"annual_kwh": 500000}}}`)
		}, mid, day, "big", "key"},
		{"another city's rule does not apply", func() string {
			w.directive("3208", "3208", "2025-06-01", `{"annual_kwh": 10}`)
			return "" // still the province's: checked by scope below
		}, small, day, "ordinary", "general"},
		{"city raises it to 800 MWh, older effective_from but more specific", func() string {
			return w.directive(city, city, "2024-01-01", `{"annual_kwh": 800000}`)
		}, mid, day, "ordinary", "general"},
		{"county rule from February is not yet in force in January", func() string {
			w.directive(county, county, "2026-02-01", `{"annual_kwh": 40000, "grades": {"core": {"annual_kwh": 500000}}}`)
			return ""
		}, small, day, "ordinary", "general"},
		{"county rule in force in February", func() string { return "" }, small, "2026-02-15", "big", "general"},
		{"and makes the mid customer core", func() string { return "" }, mid, "2026-02-15", "big", "core"},
		{"a later city rule does not beat the county's", func() string {
			w.directive(city, city, "2026-02-10", `{"annual_kwh": 900000000}`)
			return ""
		}, small, "2026-02-15", "big", "general"},
		{"a later county rule replaces the earlier one", func() string {
			return w.directive(county, county, "2026-02-12", `{"voltage_kv": 35}`)
		}, small, "2026-02-15", "ordinary", "general"},
	}
	for _, st := range steps {
		want := st.change()
		got := w.class(st.id, st.day)
		if got.Class != st.wantClass || got.Grade != st.wantGrade {
			t.Errorf("%s: %s/%s (%v, rules %+v); want %s/%s", st.name, got.Class, got.Grade, got.Reasons, got.Rules, st.wantClass, st.wantGrade)
		}
		if want != "" && got.Rules.DirectiveID != want {
			t.Errorf("%s: rules from %q; want %q", st.name, got.Rules.DirectiveID, want)
		}
	}

	// The customer's own data changes its class: 35 kV under the last county rule.
	c := w.class(mid, "2026-02-15")
	if c.Class != "ordinary" {
		t.Fatalf("mid before the voltage change: %s", c.Class)
	}
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", mid, county, 1, crmtest.Obj{"voltage_kv": 35}))
	if c := w.class(mid, "2026-02-15"); c.Class != "big" {
		t.Errorf("mid at 35 kV: %s (%v)", c.Class, c.Reasons)
	}
	// A region listing filters by class and agrees with the single reads.
	rep, e := bigcustomer.ClassifyRegion(w.tx, bigcustomer.ClassQuery{Region: county, Day: "2026-02-15", Class: "big"})
	if e != nil {
		t.Fatal(e)
	}
	if rep.Matched != 1 || rep.Items[0].CustomerID != mid || rep.Counts["ordinary"]["general"] != 1 {
		t.Errorf("region listing: %+v", rep)
	}
}

func TestPareto(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	// Two customers make 90% of the kWh of ten.
	for i := 0; i < 10; i++ {
		kwh := 10_000.0
		if i < 2 {
			kwh = 360_000
		}
		w.customer(fmt.Sprintf("P-%d", i), 10, kwh)
	}
	rep, e := bigcustomer.Pareto(w.tx, county, false, "2026-01-15", 5)
	if e != nil {
		t.Fatal(e)
	}
	if rep.KWh.Customers != 2 || rep.KWh.CustomerShare != 0.2 || rep.Revenue.Customers != 2 || len(rep.KWh.TopCustomerIDs) != 2 {
		t.Errorf("pareto: %+v", rep)
	}
	if rep.KWh.TopFifthShare != 0.9 {
		t.Errorf("top 20%% share %v; want 0.9", rep.KWh.TopFifthShare)
	}
}

// TestBulletin_OverdueStages: the stages late in the month appear, the
// others do not.
func TestBulletin_OverdueStages(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	cus := w.customer("KP-1", 110, 5_000_000)
	id := w.ids.Next("kpj")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "key_projects", id, county, 0, crmtest.Obj{
		"name": "连云港石化基地 220kV 变电站配套", "kind": "government_key", "customer_id": cus, "progress": 45,
		"stages": []crmtest.Obj{
			{"name": "accepted", "due": "2026-01-05", "done_on": "2026-01-20"},    // due 5 Jan, done 20 Jan: 15 days late, in January
			{"name": "site_survey", "due": "2025-12-20", "done_on": "2025-12-28"}, // late, but in December
			{"name": "supply_plan", "due": "2026-01-25", "done_on": "2026-01-24"}, // on time
			{"name": "design_review", "due": "2026-01-28"},                        // open and late at month end
			{"name": "intermediate_inspection", "due": "2026-02-10"},              // next month
			{"name": "completion_acceptance", "due": "2026-03-01"},                // later
		},
		"difficulties": []string{"征地拆迁进度滞后"}, "service_info": []string{"每周现场协调会"}}))
	d, e := bigcustomer.BuildBulletin(w.tx, county, "东海县", "2026-01", time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC))
	if e != nil {
		t.Fatal(e)
	}
	if len(d.Projects) != 1 || d.Overdue != 2 {
		t.Fatalf("bulletin: %d projects, %d overdue; want 1 and 2: %+v", len(d.Projects), d.Overdue, d.Projects)
	}
	got := map[string]int{}
	for _, o := range d.Projects[0].Overdue {
		got[o.Stage] = o.DaysLate
	}
	if got["accepted"] != 15 || got["design_review"] != 3 || len(got) != 2 {
		t.Errorf("overdue stages %v; want accepted 15 days and design_review 3 days", got)
	}
	names := map[string]string{}
	for _, o := range d.Projects[0].Overdue {
		names[o.Stage] = o.StageName
	}
	if names["accepted"] != "受理" || names["design_review"] != "图纸审查" {
		t.Errorf("overdue stage names %v", names)
	}
	if p := d.Projects[0]; p.Region != county || len(p.Difficulties) != 1 || len(p.ServiceInfo) != 1 {
		t.Errorf("project line %+v", p)
	}
	if _, e := bigcustomer.BuildBulletin(w.tx, county, "", "2026-13", time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC)); e == nil || e.Field != "period" {
		t.Errorf("bad period: %v", e)
	}
}

// TestBigCustomer_Transitions drives each life cycle through every illegal
// move at the domain level.
func TestBigCustomer_Transitions(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	cus := w.customer("T-1", 10, 100_000)
	vip := w.ids.Next("vip")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "vip_services", vip, county, 0,
		crmtest.Obj{"customer_id": cus, "service": "electrician_training", "title": "电工培训", "scheduled_on": "2026-04-01"}))
	legal := map[string][]string{"planned": {"confirmed", "cancelled"}, "confirmed": {"in_progress", "cancelled"}, "in_progress": {"done"}}
	all := []string{"planned", "confirmed", "in_progress", "done", "cancelled"}
	path := []string{"confirmed", "in_progress", "done"}
	cur, ver := "planned", uint64(1)
	for _, next := range path {
		for _, to := range all {
			if to == cur || contains(legal[cur], to) {
				continue
			}
			body := crmtest.Obj{"status": to}
			if to == "done" {
				body = body.With("done_on", "2026-04-02")
			}
			res := crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpUpdate, "vip_services", vip, county, ver, body))
			crmtest.WantErr(t, res.Err, crm.CodeTransition, "status")
		}
		body := crmtest.Obj{"status": next}
		if next == "done" {
			body = body.With("done_on", "2026-04-02")
		}
		crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpUpdate, "vip_services", vip, county, ver, body))
		cur, ver = next, ver+1
	}
	for _, to := range all {
		if to == "done" {
			continue
		}
		res := crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpUpdate, "vip_services", vip, county, ver, crmtest.Obj{"status": to, "done_on": nil}))
		crmtest.WantErr(t, res.Err, crm.CodeTransition, "status")
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A core or key grade makes a customer big even when the class thresholds
// alone would not.
func TestClassify_GradeImpliesBig(t *testing.T) {
	rs := rules(t, `{"annual_kwh": 5000000, "grades": {"key": {"tags": ["保供民生"]}}}`)
	c := &crm.Customer{Meta: crm.Meta{ID: "cus_x"}, VoltageKV: 10, Tags: []string{"保供民生"}}
	if got := bigcustomer.Classify(c, crm.Figures{AnnualKWh: 1000}, rs); got.Class != "big" || got.Grade != "key" {
		t.Errorf("tagged livelihood customer: %s/%s (%v)", got.Class, got.Grade, got.Reasons)
	}
}
