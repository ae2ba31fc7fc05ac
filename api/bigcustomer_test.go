package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// seedBigCustomer creates one record of every big-customer collection, for
// the role contract: a gold manager, a key project with an overdue stage,
// the four ones, a service team and a request, a pool entry, a grid plan,
// a VIP service and a bulletin.
func seedBigCustomer(c client, ids map[string]string) {
	c.t.Helper()
	cus, mgr := ids["customers"], ids["staff"]
	gold := c.create("staff", obj{"staff_no": "G-1", "name": "金牌经理", "role": "gold_manager", "region": region})
	ids["key_projects"] = c.create("key_projects", keyProjectBody(cus))
	ids["gold_assignments"] = c.create("gold_assignments", obj{"customer_id": cus, "staff_id": gold, "from": "2026-01-01"})
	ids["service_plans"] = c.create("service_plans", servicePlanBody(cus, mgr))
	ids["service_memos"] = c.create("service_memos", obj{"customer_id": cus,
		"communication": []obj{{"date": "2026-01-08", "participants": "客户经理、客户电气负责人", "summary": "沟通送电计划"}}})
	ids["backoffice_teams"] = c.create("backoffice_teams", obj{"team": "service", "name": "服务支撑组",
		"departments": []string{"fee_management", "connection", "supply_service_command"}})
	ids["service_requests"] = c.create("service_requests", obj{"customer_id": cus, "front_manager_id": mgr, "title": "电费清单核对", "needs": []string{"billing"}})
	ids["pool_entries"] = c.create("pool_entries", poolBody(cus, mgr, ids["contacts"]))
	plan := c.must(200, "POST", "/api/v1/grid_plans/divide", obj{"k": 1, "managers": []string{mgr}, "day": "2026-02-15", "save": true})
	ids["grid_plans"] = plan["plan"].(map[string]any)["id"].(string)
	ids["vip_services"] = c.create("vip_services", obj{"customer_id": cus, "service": "safety_inspection", "title": "迎峰度夏安全检查",
		"scheduled_on": "2026-01-20", "every_months": 6})
	b := c.must(201, "POST", "/api/v1/bulletins/generate", obj{"period": "2026-01"})
	ids["bulletins"] = b["id"].(string)
}

func keyProjectBody(cus string) obj {
	return obj{"name": "东海县硅材料产业园 110kV 新装", "kind": "government_key", "customer_id": cus, "capacity_kva": 40000,
		"stages": []obj{
			{"name": "accepted", "due": "2026-01-05", "done_on": "2026-01-04"},
			{"name": "site_survey", "due": "2026-01-12"},
			{"name": "supply_plan", "due": "2026-02-20"},
		},
		"progress": 20, "difficulties": []string{"线路通道协调困难"}, "service_info": []string{"开通绿色通道"}}
}

func servicePlanBody(cus, owner string) obj {
	item := func(title, due string) []obj { return []obj{{"title": title, "owner_id": owner, "due": due}} }
	return obj{"customer_id": cus, "title": "重点项目服务方案",
		"implementation": item("制定供电方案", "2026-02-01"), "internal_tracking": item("周例会跟踪", "2026-02-08"),
		"revisit": item("送电后回访", "2026-04-01"), "post_energisation": item("用电分析报告", "2026-05-01")}
}

func poolBody(cus, mgr, contact string) obj {
	return obj{"customer_id": cus, "status": "admitted", "front_manager_id": mgr, "contact_id": contact,
		"assessment": obj{"score": 86, "annual_kwh": 0, "credit": "A", "reason": "35kV 专线用户", "assessed_by": mgr, "assessed_on": "2026-01-10"}}
}

// TestAPI_BigCustomer_BadInputAndTransitions refuses bad input and every
// illegal state change with a clear error naming the field, and changes
// nothing when it does.
func TestAPI_BigCustomer_BadInputAndTransitions(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	s := seed(admin)
	cus, mgr := s.ids["customers"], s.ids["staff"]

	before := admin.snapshot()
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"project stage unknown", "POST", "/api/v1/key_projects", keyProjectBody(cus).with("stages", []obj{{"name": "paperwork", "due": "2026-01-01"}}), 400, "invalid", "stages[0].name"},
		{"project stage out of order", "POST", "/api/v1/key_projects", keyProjectBody(cus).with("stages", []obj{{"name": "supply_plan", "due": "2026-01-01"}, {"name": "accepted", "due": "2026-01-02"}}), 400, "invalid", "stages[1].name"},
		{"project of another county", "POST", "/api/v1/key_projects", keyProjectBody("").with("customer_id", nil, "region", otherRegion), 403, "wrong_owner", "region"},
		{"project of a missing customer", "POST", "/api/v1/key_projects", keyProjectBody(strings.Replace(cus, cus[len(cus)-4:], "ZZZZ", 1)), 422, "reference", "customer_id"},
		{"project progress over 100", "POST", "/api/v1/key_projects", keyProjectBody(cus).with("progress", 120), 400, "invalid", "progress"},
		{"project energised without energisation", "POST", "/api/v1/key_projects", keyProjectBody(cus).with("status", "energised"), 400, "invalid", "status"},
		{"second active gold manager", "POST", "/api/v1/gold_assignments", obj{"customer_id": cus, "staff_id": goldOf(t, admin), "from": "2026-02-01"}, 409, "duplicate", "staff_id"},
		{"gold manager who is not gold", "POST", "/api/v1/gold_assignments", obj{"project_id": s.ids["key_projects"], "staff_id": mgr, "from": "2026-02-01"}, 400, "invalid", "staff_id"},
		{"gold assignment active with a last day", "POST", "/api/v1/gold_assignments", obj{"project_id": s.ids["key_projects"], "staff_id": goldOf(t, admin), "from": "2026-02-01", "to": "2026-02-02"}, 400, "invalid", "to"},
		{"plan missing a part", "POST", "/api/v1/service_plans", servicePlanBody(cus, mgr).with("customer_id", nil, "project_id", s.ids["key_projects"], "revisit", []obj{}), 400, "invalid", "revisit"},
		{"second plan for a customer", "POST", "/api/v1/service_plans", servicePlanBody(cus, mgr), 409, "duplicate", "customer_id"},
		{"memo meeting without decision", "POST", "/api/v1/service_memos", obj{"project_id": s.ids["key_projects"], "meetings": []obj{{"date": "2026-01-09", "attendees": "县政府、供电公司", "issues": "线路通道"}}}, 400, "invalid", "meetings[0].decisions"},
		{"memo unknown section", "POST", "/api/v1/service_memos", obj{"project_id": s.ids["key_projects"], "gossip": []obj{}}, 400, "invalid", "gossip"},
		{"team with a foreign department", "POST", "/api/v1/backoffice_teams", obj{"team": "technical", "name": "技术支撑组", "departments": []string{"metering", "marketing"}}, 400, "invalid", "departments"},
		{"request for an unknown need", "POST", "/api/v1/service_requests", obj{"customer_id": cus, "front_manager_id": mgr, "title": "x", "needs": []string{"magic"}}, 400, "invalid", "needs"},
		{"request routed to a team the region lacks", "POST", "/api/v1/service_requests", obj{"customer_id": cus, "front_manager_id": mgr, "title": "计量装置校验", "needs": []string{"metering"}}, 422, "reference", "tasks[0].team"},
		{"request with a done task", "POST", "/api/v1/service_requests", obj{"customer_id": cus, "front_manager_id": mgr, "title": "x", "needs": []string{"billing"},
			"tasks": []obj{{"need": "billing", "department": "fee_management", "team": "service", "status": "done"}}}, 409, "illegal_transition", "tasks[0].status"},
		{"pool admit without contact", "POST", "/api/v1/pool_entries", poolBody(cus, mgr, "").with("contact_id", nil), 400, "invalid", "contact_id"},
		{"pool customer twice", "POST", "/api/v1/pool_entries", poolBody(cus, mgr, s.ids["contacts"]), 409, "duplicate", "customer_id"},
		{"vip outage without window", "POST", "/api/v1/vip_services", obj{"customer_id": cus, "service": "scheduled_outage", "title": "预约停电", "scheduled_on": "2026-03-01"}, 400, "invalid", "window_start"},
		{"vip outage window backwards", "POST", "/api/v1/vip_services", obj{"customer_id": cus, "service": "scheduled_outage", "title": "预约停电", "scheduled_on": "2026-03-01",
			"window_start": "2026-03-01T08:00:00+08:00", "window_end": "2026-03-01T06:00:00+08:00"}, 400, "invalid", "window_end"},
		{"vip service created done", "POST", "/api/v1/vip_services", obj{"customer_id": cus, "service": "energy_saving", "title": "节能诊断", "scheduled_on": "2026-03-01", "status": "done", "done_on": "2026-03-02"}, 409, "illegal_transition", "status"},
		{"vip unknown service", "POST", "/api/v1/vip_services", obj{"customer_id": cus, "service": "massage", "title": "x", "scheduled_on": "2026-03-01"}, 400, "invalid", "service"},
		{"class rules with an unknown field", "POST", "/api/v1/directives", obj{"kind": "class_thresholds", "title": "bad", "body": obj{"annual_kw": 5}}, 400, "invalid", "body.annual_kw"},
		{"class rules negative", "POST", "/api/v1/directives", obj{"kind": "class_thresholds", "title": "bad", "body": obj{"annual_kwh": -1}}, 400, "invalid", "body.annual_kwh"},
		{"class rules empty", "POST", "/api/v1/directives", obj{"kind": "class_thresholds", "title": "bad", "body": obj{}}, 400, "invalid", "body"},
		{"classification bad class", "GET", "/api/v1/classification?class=huge", nil, 400, "invalid", "class"},
		{"classification bad day", "GET", "/api/v1/classification?day=2026-13-01", nil, 400, "invalid", "day"},
		{"pareto other county", "GET", "/api/v1/reports/pareto?region=" + otherRegion, nil, 403, "forbidden", "region"},
		{"bulletin bad period", "POST", "/api/v1/bulletins/generate", obj{"period": "2026-1"}, 400, "invalid", "period"},
		{"bulletin twice", "POST", "/api/v1/bulletins/generate", obj{"period": "2026-01"}, 409, "duplicate", "period"},
		{"divide k zero", "POST", "/api/v1/grid_plans/divide", obj{"k": 0}, 400, "invalid", "k"},
		{"divide more cells than customers", "POST", "/api/v1/grid_plans/divide", obj{"k": 5}, 400, "invalid", "k"},
		{"divide managers mismatch", "POST", "/api/v1/grid_plans/divide", obj{"k": 1, "managers": []string{mgr, mgr}}, 400, "invalid", "managers"},
		{"rebalance tolerance", "POST", "/api/v1/grid_plans/rebalance", obj{"tolerance": 3}, 400, "invalid", "tolerance"},
	} {
		st, out := admin.do(tc.method, tc.path, tc.body)
		t.Run(tc.name, func(t *testing.T) { wantError(t, st, out, tc.status, tc.code, tc.field) })
	}
	admin.wantUnchanged(before)

	// Illegal changes of stored records, one by one.
	get := func(coll, id string) map[string]any { return admin.must(200, "GET", "/api/v1/"+coll+"/"+id, nil) }
	ver := func(m map[string]any) float64 { return m["version"].(float64) }
	patch := func(coll, id string, body obj) (int, []byte) {
		return admin.do("PATCH", "/api/v1/"+coll+"/"+id, body.with("version", ver(get(coll, id))))
	}
	vip := s.ids["vip_services"]
	for _, step := range []struct {
		name        string
		coll, id    string
		body        obj
		status      int
		code, field string
	}{
		{"vip planned to done", "vip_services", vip, obj{"status": "done", "done_on": "2026-01-21"}, 409, "illegal_transition", "status"},
		{"vip planned to confirmed", "vip_services", vip, obj{"status": "confirmed"}, 200, "", ""},
		{"vip confirmed back to planned", "vip_services", vip, obj{"status": "planned"}, 409, "illegal_transition", "status"},
		{"vip confirmed to in_progress", "vip_services", vip, obj{"status": "in_progress"}, 200, "", ""},
		{"vip done without done_on", "vip_services", vip, obj{"status": "done"}, 400, "invalid", "done_on"},
		{"vip done", "vip_services", vip, obj{"status": "done", "done_on": "2026-01-21", "outcome": "无安全隐患"}, 200, "", ""},
		{"vip done to cancelled", "vip_services", vip, obj{"status": "cancelled", "done_on": nil}, 409, "illegal_transition", "status"},
		{"vip changes service", "vip_services", vip, obj{"service": "energy_saving"}, 409, "illegal_transition", "service"},
		{"gold changes staff", "gold_assignments", s.ids["gold_assignments"], obj{"staff_id": mgr}, 409, "illegal_transition", "staff_id"},
		{"gold ends without a last day", "gold_assignments", s.ids["gold_assignments"], obj{"status": "ended"}, 400, "invalid", "to"},
		{"gold ends", "gold_assignments", s.ids["gold_assignments"], obj{"status": "ended", "to": "2026-02-28"}, 200, "", ""},
		{"gold ended is history", "gold_assignments", s.ids["gold_assignments"], obj{"note": "x"}, 409, "illegal_transition", "status"},
		{"request task jumps to done", "service_requests", s.ids["service_requests"], obj{"tasks": []obj{{"need": "billing", "department": "fee_management", "team": "service", "status": "done"}}}, 409, "illegal_transition", "tasks[0].status"},
		{"request closed while open", "service_requests", s.ids["service_requests"], obj{"status": "closed"}, 409, "illegal_transition", "status"},
		{"request needs change", "service_requests", s.ids["service_requests"], obj{"needs": []string{"billing", "connection"}}, 409, "illegal_transition", "needs"},
		{"pool admitted back to candidate", "pool_entries", s.ids["pool_entries"], obj{"status": "candidate"}, 409, "illegal_transition", "status"},
		{"pool exit without reason", "pool_entries", s.ids["pool_entries"], obj{"status": "exited"}, 400, "invalid", "exit_reason"},
		{"project suspended", "key_projects", s.ids["key_projects"], obj{"status": "suspended"}, 200, "", ""},
		{"project suspended to energised", "key_projects", s.ids["key_projects"], obj{"status": "energised"}, 400, "invalid", "status"},
		{"plan item done without date", "service_plans", s.ids["service_plans"], obj{"revisit": []obj{{"title": "送电后回访", "owner_id": mgr, "due": "2026-04-01", "status": "done"}}}, 400, "invalid", "revisit[0].done_on"},
		{"plan item done", "service_plans", s.ids["service_plans"], obj{"revisit": []obj{{"title": "送电后回访", "owner_id": mgr, "due": "2026-04-01", "status": "done", "done_on": "2026-03-30"}}}, 200, "", ""},
		{"plan item reopened", "service_plans", s.ids["service_plans"], obj{"revisit": []obj{{"title": "送电后回访", "owner_id": mgr, "due": "2026-04-01"}}}, 409, "illegal_transition", "revisit[0].status"},
	} {
		st, out := patch(step.coll, step.id, step.body)
		if step.status == 200 {
			if st != 200 {
				t.Fatalf("%s: %d %s", step.name, st, out)
			}
			continue
		}
		t.Run(step.name, func(t *testing.T) { wantError(t, st, out, step.status, step.code, step.field) })
	}

	// Status flows back to the manager: the task's team works it.
	req := s.ids["service_requests"]
	task := func(status, note string) obj {
		return obj{"tasks": []obj{{"need": "billing", "department": "fee_management", "team": "service", "status": status, "note": note}}}
	}
	if st, out := patch("service_requests", req, task("in_progress", "")); st != 200 {
		t.Fatalf("task in progress: %d %s", st, out)
	}
	if got := get("service_requests", req)["status"]; got != "in_progress" {
		t.Errorf("request status %v; want in_progress", got)
	}
	if st, out := patch("service_requests", req, task("done", "清单已核对")); st != 200 {
		t.Fatalf("task done: %d %s", st, out)
	}
	r := get("service_requests", req)
	if r["status"] != "resolved" || r["tasks"].([]any)[0].(map[string]any)["team_id"] != s.ids["backoffice_teams"] {
		t.Errorf("request after its task is done: %v", r)
	}
	if st, out := patch("service_requests", req, obj{"status": "closed"}); st != 200 {
		t.Fatalf("close: %d %s", st, out)
	}
	if st, out := patch("service_requests", req, obj{"title": "again"}); st != 409 || !strings.Contains(string(out), "closed") {
		t.Errorf("closed request changed: %d %s", st, out)
	}
	// Listed by team.
	if n := itemCount(t, string(admin.must200("/api/v1/service_requests?teams=service"))); n != 1 {
		t.Errorf("requests of the service team: %d; want 1", n)
	}
}

func (c client) must200(path string) []byte {
	c.t.Helper()
	st, out := c.do("GET", path, nil)
	if st != 200 {
		c.t.Fatalf("GET %s: %d %s", path, st, out)
	}
	return out
}

func goldOf(t *testing.T, c client) string {
	t.Helper()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(c.must200("/api/v1/staff?role=gold_manager"), &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("no gold manager: %v", err)
	}
	return page.Items[0].ID
}

// TestAPI_BigCustomer_ClassificationAndReports covers classification under
// a rule change, the Pareto report, the consumption report, the bulletin
// (its PDF read back with pdftotext) and the grid division.
func TestAPI_BigCustomer_ClassificationAndReports(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	mgr := admin.create("staff", staffBody("S-9"))
	// Ten customers: one 35 kV, one tagged, the rest sized by their bills.
	var ids []string
	for i := 0; i < 10; i++ {
		body := customerBody(fmt.Sprintf("C-%02d", i)).with("category", "industrial", "voltage_kv", 10.0)
		if i == 0 {
			body = body.with("voltage_kv", 35.0)
		}
		if i == 1 {
			body = body.with("tags", []string{"emergency_livelihood"})
		}
		id := admin.create("customers", body)
		ids = append(ids, id)
		kwh := float64(1000 * (i + 1) * (i + 1))
		for m := 1; m <= 12; m++ {
			admin.create("bills", obj{"customer_id": id, "period": fmt.Sprintf("2025-%02d", m), "kwh": kwh, "kwh_peak": kwh * 0.4, "kwh_flat": kwh * 0.35, "kwh_valley": kwh * 0.25, "billed": kwh * 0.7, "paid": 0})
		}
		con := admin.create("contacts", contactBody(id))
		admin.create("pool_entries", poolBody(id, mgr, con))
	}
	classOf := func(id, day string) map[string]any {
		return admin.must(200, "GET", "/api/v1/customers/"+id+"/class?day="+day, nil)
	}
	// Built-in defaults: big by 35 kV or a tag; annual kWh 100·1000·12 = 1.2 GWh for the biggest.
	if got := classOf(ids[0], "2026-01-15"); got["class"] != "big" || got["grade"] != "key" {
		t.Errorf("35 kV customer under defaults: %v", got)
	}
	if got := classOf(ids[2], "2026-01-15"); got["class"] != "ordinary" {
		t.Errorf("small customer under defaults: %v", got)
	}
	// A county rule from March: big from 300,000 kWh a year.
	admin.create("directives", obj{"kind": "class_thresholds", "title": "县大客户标准", "effective_from": "2026-03-01",
		"body": obj{"annual_kwh": 300000, "grades": obj{"core": obj{"annual_kwh": 1000000}, "key": obj{"annual_kwh": 300000}}}})
	if got := classOf(ids[5], "2026-02-15"); got["class"] != "ordinary" {
		t.Errorf("before the rule is in force: %v", got)
	}
	got := classOf(ids[5], "2026-03-15") // window 2025-03..2026-02: 36,000·10 = 360,000 kWh
	if got["class"] != "big" || got["grade"] != "key" || got["rules"].(map[string]any)["scope"] != region {
		t.Errorf("after the rule is in force: %v", got)
	}
	if got := classOf(ids[0], "2026-03-15"); got["class"] != "ordinary" {
		t.Errorf("35 kV customer under a rule without a voltage threshold: %v", got)
	}
	list := admin.must(200, "GET", "/api/v1/classification?day=2026-03-15&class=big", nil)
	if n := int(list["matched"].(float64)); n != 5 { // i = 5..9: 36k..100k per month
		t.Errorf("big customers: %d; want 5: %v", n, list["counts"])
	}

	par := admin.must(200, "GET", "/api/v1/reports/pareto?day=2026-01-15", nil)
	kwh := par["kwh"].(map[string]any)
	if kwh["customers_for_80_percent"].(float64) != 5 || par["customers"].(float64) != 10 {
		t.Errorf("pareto: %v", par)
	}

	cons := admin.must(200, "GET", "/api/v1/customers/"+ids[9]+"/consumption?day=2026-01-15", nil)
	if len(cons["months"].([]any)) != 12 || cons["peak_share"].(float64) != 0.4 || cons["compared_with_class"].(map[string]any)["peers"].(float64) < 1 {
		t.Errorf("consumption: %v", cons)
	}

	// Grid division: the optimiser against round-robin.
	div := admin.must(200, "POST", "/api/v1/grid_plans/divide", obj{"k": 2, "day": "2026-01-15", "save": true})
	st, rr := div["stats"].(map[string]any), div["round_robin"].(map[string]any)
	t.Logf("10 customers in 2 cells: optimiser kWh dev %.4f, count dev %.4f; round-robin kWh dev %.4f", st["max_kwh_deviation"], st["max_count_deviation"], rr["max_kwh_deviation"])
	if st["max_kwh_deviation"].(float64) > rr["max_kwh_deviation"].(float64) {
		t.Errorf("optimiser worse than round-robin: %v vs %v", st, rr)
	}
	// Nothing changed: no moves.
	reb := admin.must(200, "POST", "/api/v1/grid_plans/rebalance", obj{"day": "2026-01-15"})
	if n := len(reb["moves"].([]any)); n != 0 {
		t.Errorf("rebalance of an unchanged pool proposes %d moves", n)
	}
	// Not saved: a proposal without empty record fields, naming the plan it would replace.
	saved := div["plan"].(map[string]any)
	for _, f := range []string{"id", "owner", "version", "created_at", "updated_at", "created_by", "updated_by"} {
		if v, ok := reb["plan"].(map[string]any)[f]; ok {
			t.Errorf("an unsaved rebalance answers plan.%s = %v", f, v)
		}
	}
	if reb["replaces"] != saved["id"] || reb["saved"] != false {
		t.Errorf("an unsaved rebalance: replaces %v, saved %v; want %v, false", reb["replaces"], reb["saved"], saved["id"])
	}
	// Two customers join the pool: they are placed, and few others move.
	for i := 10; i < 12; i++ {
		id := admin.create("customers", customerBody(fmt.Sprintf("C-%02d", i)).with("category", "industrial", "voltage_kv", 10.0))
		for m := 1; m <= 12; m++ {
			admin.create("bills", obj{"customer_id": id, "period": fmt.Sprintf("2025-%02d", m), "kwh": 3000, "billed": 2100, "paid": 0})
		}
		admin.create("pool_entries", poolBody(id, mgr, admin.create("contacts", contactBody(id))))
	}
	reb = admin.must(200, "POST", "/api/v1/grid_plans/rebalance", obj{"day": "2026-01-15", "save": true})
	moves := reb["moves"].([]any)
	news := 0
	for _, m := range moves {
		if m.(map[string]any)["from"] == "(new)" {
			news++
		}
	}
	plan := reb["plan"].(map[string]any)
	held := 0
	for _, cell := range plan["cells"].([]any) {
		held += len(cell.(map[string]any)["customer_ids"].([]any))
	}
	t.Logf("rebalance after 2 new customers: %d moves, kWh dev %v", len(moves), reb["stats"].(map[string]any)["max_kwh_deviation"])
	if news != 2 || len(moves) > 6 || held != 12 || reb["saved"] != true || len(plan["revisions"].([]any)) != 2 {
		t.Errorf("rebalance: %d moves (%d new), %d customers held, plan %v", len(moves), news, held, plan)
	}
	// A customer who leaves the pool cannot stay in a cell.
	var pe struct {
		Items []struct {
			ID      string  `json:"id"`
			Version float64 `json:"version"`
		} `json:"items"`
	}
	if err := json.Unmarshal(admin.must200("/api/v1/pool_entries?customer_id="+ids[3]), &pe); err != nil || len(pe.Items) != 1 {
		t.Fatalf("pool entry of %s: %v", ids[3], err)
	}
	admin.must(200, "PATCH", "/api/v1/pool_entries/"+pe.Items[0].ID, obj{"version": pe.Items[0].Version, "status": "exited", "exit_reason": "企业搬迁"})
	st2, out := admin.do("PUT", "/api/v1/grid_plans/"+plan["id"].(string), obj(plan).without("id", "owner", "created_at", "updated_at", "created_by", "updated_by"))
	cell := -1
	for j, cl := range plan["cells"].([]any) {
		for _, id := range cl.(map[string]any)["customer_ids"].([]any) {
			if id == ids[3] {
				cell = j
			}
		}
	}
	wantError(t, st2, out, 400, "invalid", fmt.Sprintf("cells[%d].customer_ids", cell))

	// The bulletin of January: the survey stage due on the 12th is overdue.
	admin.create("key_projects", keyProjectBody(ids[0]))
	b := admin.must(201, "POST", "/api/v1/bulletins/generate", obj{"period": "2026-01"})
	if b["overdue_stages"].(float64) != 1 || b["html"] != nil || b["pdf"] != nil {
		t.Errorf("bulletin record: %v", b)
	}
	html := string(admin.must200("/api/v1/bulletins/" + b["id"].(string) + "/html"))
	for _, want := range []string{"现场查勘", "逾期 19 天", "线路通道协调困难", "开通绿色通道"} {
		if !strings.Contains(html, want) {
			t.Errorf("bulletin HTML lacks %q", want)
		}
	}
	pdf := admin.must200("/api/v1/bulletins/" + b["id"].(string) + "/pdf")
	text := strings.Join(strings.Fields(pdfText(t, pdf)), " ")
	for _, want := range []string{"site_survey", "2026-01-12", "19 days late"} {
		if !strings.Contains(text, want) {
			t.Errorf("bulletin PDF text lacks %q:\n%s", want, text)
		}
	}
	if font, _ := b["pdf_font"].(string); !strings.HasPrefix(font, "ASCII") && !strings.Contains(text, "现场查勘") {
		t.Errorf("PDF set in %s lacks the Chinese stage name:\n%s", font, text)
	}
	if n := itemCount(t, string(admin.must200("/api/v1/bulletins?period=2026-01"))); n != 1 {
		t.Errorf("bulletins listed for 2026-01: %d", n)
	}
}

// pdfText runs pdftotext on a PDF, or skips when it is not installed.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (poppler-utils; make test-deps installs it): the PDF is not read back")
	}
	p := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}
