package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/process"
)

// decodeJSON decodes an answer into v or fails.
func decodeJSON(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("answer does not decode: %v: %s", err, raw)
	}
}

type woView struct {
	ID           string `json:"id"`
	Version      uint64 `json:"version"`
	State        string `json:"state"`
	Region       string `json:"region"`
	TakingRegion string `json:"taking_region"`
	SendBacks    int    `json:"send_backs"`
	Satisfaction string `json:"satisfaction"`
}

type projectView struct {
	ID      string `json:"id"`
	Version uint64 `json:"version"`
	Status  string `json:"status"`
	RuleSet string `json:"rule_set"`
	Stages  []struct {
		Name     string `json:"name"`
		Deadline string `json:"deadline"`
		Late     bool   `json:"late"`
	} `json:"stages"`
}

// TestAPI_Processes runs a connection project, a work order and an outage
// through the API of one county, with every kind of bad input on the new
// routes.
func TestAPI_Processes(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	mgr := admin.create("staff", staffBody("M-1"))
	cus := admin.create("customers", customerBody("P-1").with("feeder", "F7", "transformer_area", "T1"))
	vip := admin.create("customers", customerBody("P-2").with("feeder", "F7", "category", "industrial", "voltage_kv", 35, "capacity_kva", 5000))

	// A residential project accepted on 30 Sep 2025 (2023 totals, 5 WD):
	// the holiday runs 1-8 Oct, 11 Oct is a make-up Saturday: due with 14 Oct.
	var p projectView
	decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/projects", projectBody(cus).with("manager_id", mgr, "accepted_at", "2025-09-30T16:00:00+08:00")), &p)
	if p.RuleSet != "builtin:2023-total" || len(p.Stages) != 2 || p.Stages[1].Deadline != "2025-10-15T00:00:00+08:00" {
		t.Fatalf("project %+v; want 2023 totals, 2 stages, due 2025-10-15 00:00 CST", p)
	}
	stage := "/api/v1/projects/" + p.ID + "/stage"
	t.Run("stage actions refused", func(t *testing.T) {
		cases := []struct {
			name        string
			body        any
			status      int
			code, field string
		}{
			{"no version", obj{"action": "complete", "stage": "energisation"}, 400, "invalid", "version"},
			{"stale version", obj{"version": 9, "action": "complete", "stage": "energisation"}, 409, "conflict", "version"},
			{"not JSON", `{"version":`, 400, "invalid", ""},
			{"unknown action", obj{"version": p.Version, "action": "finish", "stage": "energisation"}, 400, "invalid", "action"},
			{"stage off the path", obj{"version": p.Version, "action": "complete", "stage": "design_review"}, 400, "invalid", "stage"},
			{"done stage", obj{"version": p.Version, "action": "complete", "stage": "acceptance"}, 409, "conflict", "stage"},
			{"future time", obj{"version": p.Version, "action": "complete", "stage": "energisation", "at": "2099-01-01T00:00:00Z"}, 400, "invalid", "at"},
			{"unknown field", obj{"version": p.Version, "action": "complete", "stage": "energisation", "x": 1}, 400, "invalid", "x"},
		}
		before := admin.on(t).snapshot()
		for _, tc := range cases {
			st, out := admin.do("POST", stage, tc.body)
			t.Run(tc.name, func(t *testing.T) { wantError(t, st, out, tc.status, tc.code, tc.field) })
		}
		st, out := admin.do("POST", "/api/v1/projects/"+crm.NewID("prj", time.Now())+"/stage", obj{"version": 1, "action": "cancel", "reason": "x"})
		wantError(t, st, out, 404, "not_found", "id")
		st, out = admin.do("PATCH", "/api/v1/projects/"+p.ID, obj{"version": p.Version, "status": "energised"})
		wantError(t, st, out, 400, "invalid", "stages")
		admin.on(t).wantUnchanged(before)
	})
	decodeJSON(t, mustRaw(t, admin, 200, "POST", stage, obj{"version": p.Version, "action": "complete", "stage": "energisation", "at": "2025-10-20T10:00:00+08:00"}), &p)
	if p.Status != "energised" || !p.Stages[1].Late {
		t.Fatalf("project after energisation: %+v; want energised, late", p)
	}

	// A work order through the whole loop, with an illegal move on the way.
	var o woView
	decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/work_orders", workOrderBody(cus).with("received_at", "2026-03-02T09:00:00+08:00")), &o)
	if o.State != "received" || o.Region != region || o.TakingRegion != region {
		t.Fatalf("new order %+v", o)
	}
	move := func(want int, body obj) (int, []byte) {
		t.Helper()
		body["version"] = o.Version
		st, out := admin.do("POST", "/api/v1/work_orders/"+o.ID+"/transition", body)
		if st == 200 {
			decodeJSON(t, out, &o)
		}
		return st, out
	}
	st, out := move(409, obj{"to": "done"})
	if e := wantError(t, st, out, 409, "conflict", "to"); !strings.Contains(e.Message, "dispatched") {
		t.Errorf("the refusal does not say where the order may go: %s", e.Message)
	}
	st, out = move(400, obj{"to": "dispatched"})
	wantError(t, st, out, 400, "invalid", "assignee_id")
	st, out = move(400, obj{"to": "teleported"})
	wantError(t, st, out, 400, "invalid", "to")
	for _, b := range []obj{{"to": "dispatched", "assignee_id": mgr}, {"to": "received", "note": "wrong team"}, {"to": "dispatched"},
		{"to": "accepted"}, {"to": "done"}, {"to": "revisited", "satisfaction": "satisfied"}, {"to": "archived"}} {
		if st, out := move(200, b); st != 200 {
			t.Fatalf("%v: %d %s", b, st, out)
		}
	}
	if o.State != "archived" || o.SendBacks != 1 || o.Satisfaction != "satisfied" {
		t.Errorf("closed order %+v", o)
	}
	st, out = move(409, obj{"to": "dispatched", "note": "again"})
	wantError(t, st, out, 409, "conflict", "to")

	t.Run("routing: handled elsewhere", func(t *testing.T) {
		before := admin.on(t).snapshot()
		st, out := admin.do("POST", "/api/v1/work_orders", obj{"channel": "web", "kind": "consultation", "subject": "tariff", "region": otherRegion})
		if e := wantError(t, st, out, 403, "wrong_owner", "region"); e.Owner != otherRegion {
			t.Errorf("owner %q; want %s", e.Owner, otherRegion)
		}
		st, out = admin.do("POST", "/api/v1/work_orders", workOrderBody(cus).with("region", otherRegion))
		wantError(t, st, out, 400, "invalid", "region")
		st, out = admin.do("POST", "/api/v1/work_orders", workOrderBody(crm.NewID("cus", time.Now())))
		wantError(t, st, out, 422, "reference", "customer_id")
		st, out = admin.do("POST", "/api/v1/work_orders", workOrderBody(cus).with("region", "3x"))
		wantError(t, st, out, 400, "invalid", "region")
		st, out = admin.do("POST", "/api/v1/work_orders", workOrderBody(cus).with("kind", "fault_repair"))
		wantError(t, st, out, 400, "invalid", "site_class")
		st, out = admin.do("POST", "/api/v1/work_orders", workOrderBody(cus).with("region", 5))
		wantError(t, st, out, 400, "invalid", "region")
		admin.on(t).wantUnchanged(before)
	})

	// An outage on feeder F7: both customers reached, the 35 kV one important.
	var og struct {
		ID              string `json:"id"`
		NoticeCompliant *bool  `json:"notice_compliant"`
	}
	decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/outages", obj{"type": "temporary", "feeder": "F7", "start": "2026-03-10T08:00:00+08:00",
		"end": "2026-03-10T12:00:00+08:00", "notices": []obj{{"channel": "sms", "at": "2026-03-09T12:00:00+08:00", "audience": "important"}}}), &og)
	if og.NoticeCompliant == nil || *og.NoticeCompliant {
		t.Errorf("a temporary outage told 20 h ahead: compliant %v; want false", og.NoticeCompliant)
	}
	var aff struct {
		Count, Important int
		Customers        []struct {
			ID        string `json:"id"`
			Important bool   `json:"important"`
		}
	}
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/outages/"+og.ID+"/affected", nil), &aff)
	if aff.Count != 2 || aff.Important != 1 || aff.Customers[0].ID != vip {
		t.Errorf("affected %+v; want 2, the 35 kV customer first and important", aff)
	}

	t.Run("supervision and KPIs", func(t *testing.T) {
		// A second project left open past its deadline.
		var late projectView
		decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/projects", projectBody(cus).with("manager_id", mgr, "accepted_at", "2026-03-02T09:00:00+08:00")), &late)
		var sup struct {
			Level   string         `json:"level"`
			Count   int            `json:"count"`
			Overdue []process.Item `json:"overdue"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?at=2026-03-16T10:00:00%2B08:00", nil), &sup)
		if sup.Level != "county" || sup.Count != 1 || sup.Overdue[0].ID != late.ID || sup.Overdue[0].Level != "province" || sup.Overdue[0].WorkingDays != 5 {
			t.Errorf("supervision %+v", sup)
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?level=city&at=2026-03-11T10:00:00%2B08:00", nil), &sup)
		if sup.Count != 1 || sup.Overdue[0].Level != "city" {
			t.Errorf("city list on the second day: %+v", sup)
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?level=city&at=2026-03-10T10:00:00%2B08:00", nil), &sup)
		if sup.Count != 0 {
			t.Errorf("city list on the first day: %+v; want empty", sup)
		}
		var warn struct {
			Count     int            `json:"count"`
			ByManager map[string]int `json:"by_manager"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision/warnings?manager_id="+mgr+"&at=2026-03-09T10:00:00%2B08:00", nil), &warn)
		if warn.Count != 1 || warn.ByManager[mgr] != 1 {
			t.Errorf("warnings %+v", warn)
		}
		var kp struct {
			KPI      process.ProjectKPIs `json:"kpi"`
			Counters map[string]float64  `json:"counters"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/kpi/projects?from=2025-01-01&to=2027-01-01&at=2026-03-16T10:00:00%2B08:00", nil), &kp)
		if kp.KPI.Total.Accepted != 2 || kp.KPI.Total.Energised != 1 || kp.KPI.Total.OnTime != 0 || kp.KPI.Total.OverdueNow != 1 || kp.KPI.ByManager[mgr] == nil {
			t.Errorf("project KPIs %+v", kp.KPI.Total)
		}
		if kp.Counters["projects.status.open"] != 1 || kp.Counters["projects.status.energised"] != 1 || kp.Counters["projects.stages_late"] != 1 {
			t.Errorf("counters %v; want 1 open and 1 energised project, 1 late stage", kp.Counters)
		}
		var wk struct {
			KPI      process.WorkOrderKPIs `json:"kpi"`
			Counters map[string]float64    `json:"counters"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/kpi/work_orders", nil), &wk)
		if wk.KPI.Total.Received != 1 || wk.KPI.Total.Archived != 1 || wk.KPI.Total.SendBacks != 1 || *wk.KPI.Total.SatisfactionRate != 1 {
			t.Errorf("work-order KPIs %+v", wk.KPI.Total)
		}
		if wk.Counters["work_orders.kind.complaint"] != 1 || wk.Counters["work_orders.send_backs"] != 1 {
			t.Errorf("counters %v", wk.Counters)
		}
		// Without from, the twelve months ending with at's month: an order of
		// March 2026 is outside the year to June 2028.
		var far struct {
			From string                `json:"from"`
			KPI  process.WorkOrderKPIs `json:"kpi"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/kpi/work_orders?at=2028-06-15T10:00:00%2B08:00", nil), &far)
		if far.From != "2027-07-01" || far.KPI.Total.Received != 0 {
			t.Errorf("a year to June 2028: from %q, %d received; want 2027-07-01 and none", far.From, far.KPI.Total.Received)
		}
		var ok struct {
			KPI process.OutageKPIs `json:"kpi"`
		}
		decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/kpi/outages?scope=subtree", nil), &ok)
		if ok.KPI.Total.NoticeRequired != 1 || ok.KPI.Total.NoticeOnTime != 0 || len(ok.KPI.Total.NonCompliant) != 1 {
			t.Errorf("outage KPIs %+v", ok.KPI.Total)
		}
	})

	t.Run("calendar and rule-set directives", func(t *testing.T) {
		before := admin.on(t).snapshot()
		for _, tc := range []struct {
			name, field string
			body        obj
		}{
			{"bad date", "body.years.2027.holidays.元旦[0]", obj{"kind": "calendar", "title": "2027", "body": obj{"years": obj{"2027": obj{"holidays": obj{"元旦": []string{"2027-02-30"}}}}}}},
			{"duplicate day", "body.years.2027.workdays[1]", obj{"kind": "calendar", "title": "2027", "body": obj{"years": obj{"2027": obj{"holidays": obj{"元旦": []string{"2027-01-01"}}, "workdays": []string{"2027-02-06", "2027-02-06"}}}}}},
			{"year without data", "body.years.2027.holidays", obj{"kind": "calendar", "title": "2027", "body": obj{"years": obj{"2027": obj{}}}}},
			{"no calendar body", "body", obj{"kind": "calendar", "title": "2027"}},
			{"rule set without limits", "body.paths.residential", obj{"kind": "rule_set", "title": "x", "body": obj{"name": "x", "effective_from": "2027-01-01"}}},
		} {
			st, out := admin.do("POST", "/api/v1/directives", tc.body)
			t.Run(tc.name, func(t *testing.T) { wantError(t, st, out, 400, "invalid", tc.field) })
		}
		admin.on(t).wantUnchanged(before)
		// Before 2027 is loaded a limit that runs into it is flagged; a
		// calendar directive over this county makes it count.
		var p27 struct {
			ClockError string `json:"clock_error"`
			Stages     []struct {
				Deadline string `json:"deadline"`
			} `json:"stages"`
		}
		decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/projects", projectBody(cus).with("accepted_at", "2026-11-20T09:00:00+08:00", "voltage_kv", 10, "supply", "dual", "capacity_kva", 2000)), &p27)
		if !strings.Contains(p27.ClockError, "2027") {
			t.Errorf("clock_error %q; want it to name 2027", p27.ClockError)
		}
		admin.create("directives", obj{"kind": "calendar", "title": "2027年部分节假日安排", "body": obj{"years": obj{"2027": obj{"holidays": obj{"元旦": []string{"2027-01-01"}}}}}})
		p27.ClockError = ""
		decodeJSON(t, mustRaw(t, admin, 201, "POST", "/api/v1/projects", projectBody(cus).with("accepted_at", "2026-11-20T09:00:00+08:00", "voltage_kv", 10, "supply", "dual", "capacity_kva", 2000)), &p27)
		// HV dual, 32 WD from Fri 20 Nov 2026: 29 by 31 Dec, then 4, 5, 6 Jan 2027.
		if p27.ClockError != "" || p27.Stages[1].Deadline != "2027-01-07T00:00:00+08:00" {
			t.Errorf("with 2027 pushed: clock_error %q deadline %q; want 2027-01-07T00:00:00+08:00", p27.ClockError, p27.Stages[1].Deadline)
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, tc := range []struct {
			path, field string
			status      int
			code        string
		}{
			{"/api/v1/supervision?at=yesterday", "at", 400, "invalid"},
			{"/api/v1/supervision?level=planet", "level", 400, "invalid"},
			{"/api/v1/supervision?scope=everything", "scope", 400, "invalid"},
			{"/api/v1/supervision?region=3x", "region", 400, "invalid"},
			{"/api/v1/supervision?region=32", "region", 403, "forbidden"},
			{"/api/v1/supervision/warnings?manager_id=bob", "manager_id", 400, "invalid"},
			{"/api/v1/kpi/projects?from=2026-02-30", "from", 400, "invalid"},
			{"/api/v1/kpi/work_orders?from=2026-03-01&to=2026-02-01", "to", 400, "invalid"},
			{"/api/v1/kpi/outages?to=03/2026", "to", 400, "invalid"},
			{"/api/v1/kpi/outages?region=" + otherRegion, "region", 403, "forbidden"},
			{"/api/v1/outages/" + crm.NewID("otg", time.Now()) + "/affected", "id", 404, "not_found"},
		} {
			st, out := admin.do("GET", tc.path, nil)
			t.Run(tc.path, func(t *testing.T) { wantError(t, st, out, tc.status, tc.code, tc.field) })
		}
	})
}

func mustRaw(t testing.TB, c client, want int, method, path string, body any) []byte {
	t.Helper()
	st, out := c.do(method, path, body)
	if st != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, out)
	}
	return out
}

// TestAPI_WorkOrderForwardedDown: an order a city takes for a county
// below it is not proposed as the city's record: it goes down as a
// forwarded command (durable in the city's log) naming the county, with
// the order's region and taking region set by the server, and the API
// answers 202 naming the command when the county's outcome has not come
// back within ForwardWait. (The county applying it is TestAPI_ProcessTiers.)
func TestAPI_WorkOrderForwardedDown(t *testing.T) {
	city := newFake(t, "3207")
	admin := city.admin(t)
	before := len(city.b.commands())
	st, out := admin.do("POST", "/api/v1/work_orders", obj{"channel": "95598_hotline", "kind": "report", "subject": "meter tampering", "region": region})
	if st != 202 {
		t.Fatalf("an order for county %s at city 3207: %d %s; want 202 (forwarded, outcome pending)", region, st, out)
	}
	// The writes committed since (the audit trail's own entries aside).
	writes := func() (out []crm.Command) {
		for _, c := range city.b.commands()[before:] {
			if c.Op != crm.OpAudit {
				out = append(out, c)
			}
		}
		return out
	}
	cmds := writes()
	if len(cmds) != 1 || cmds[0].Op != crm.OpForward || cmds[0].Region != "3207" {
		t.Fatalf("committed %+v; want one forward command in the city's log", cmds)
	}
	var req crm.ForwardRequest
	if err := json.Unmarshal(cmds[0].Body, &req); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.Unmarshal(req.Body, &body)
	if req.Region != region || req.Op != crm.OpCreate || req.Collection != "work_orders" || req.RecordID == "" ||
		body["region"] != region || body["taking_region"] != "3207" {
		t.Errorf("forwarded %+v with body %v; want a create of a work order for %s taken at 3207", req, body, region)
	}
	if !strings.Contains(string(out), cmds[0].ID) {
		t.Errorf("the 202 answer %s does not name the command %s", out, cmds[0].ID)
	}
	// Outside the city's subtree: refused naming the handling region, nothing committed.
	st, out = admin.do("POST", "/api/v1/work_orders", obj{"channel": "web", "kind": "consultation", "subject": "tariff", "region": "320803"})
	if e := wantError(t, st, out, 403, "wrong_owner", "region"); e.Owner != "320803" {
		t.Errorf("owner %q; want 320803", e.Owner)
	}
	if n := len(writes()); n != 1 {
		t.Errorf("%d commands committed; want only the first forward", n)
	}
}

// TestAPI_ProcessTiers runs the supervision chain over a province, a city
// and a county: the county's overdue items appear on the city's and the
// province's lists from their replicas as they escalate, and an order taken
// at the province for a county customer is routed to the county.
func TestAPI_ProcessTiers(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: region}}})
	county, city, prov := adminOf(t, h.Region(region), 0), adminOf(t, h.Region("3207"), 0), adminOf(t, h.Region("32"), 0)
	mgr := county.create("staff", staffBody("M-1"))
	cus := county.create("customers", customerBody("T-1"))
	// Residential, accepted Mon 2 Mar 2026: due with Mon 9 Mar.
	county.create("projects", projectBody(cus).with("manager_id", mgr, "accepted_at", "2026-03-02T09:00:00+08:00"))
	orderID := county.create("work_orders", workOrderBody(cus).with("received_at", "2026-03-02T09:00:00+08:00"))
	h.WaitReplicated(region, "32", 30*time.Second)
	h.WaitReplicated(region, "3207", 30*time.Second)

	// The complaint (received Mon 2 Mar 09:00) breaches contact (24 h) at
	// 09:00 on 3 Mar and answer (4 WD) at the end of 6 Mar; the project's
	// stage is due with 9 Mar. Working days overdue → list (city from 2,
	// province from 5):
	//   6 Mar: contact 3 (city)
	//  10 Mar: contact 5 (province), answer 2 (city), stage 1 (county)
	//  11 Mar: contact 6 (province), answer 3 (city), stage 2 (city)
	//  16 Mar: contact 9, answer 6, stage 5: all at the province
	lists := []struct {
		at                     string
		county, city, province int
	}{
		{"2026-03-05T10:00:00+08:00", 1, 1, 0},
		{"2026-03-06T10:00:00+08:00", 1, 1, 0},
		{"2026-03-10T10:00:00+08:00", 3, 2, 1},
		{"2026-03-11T10:00:00+08:00", 3, 3, 1},
		{"2026-03-16T10:00:00+08:00", 3, 3, 3},
	}
	for _, l := range lists {
		for _, tier := range []struct {
			name string
			c    client
			path string
			want int
		}{
			{"county", county, "/api/v1/supervision", l.county},
			{"city", city, "/api/v1/supervision?region=3207&scope=subtree", l.city},
			{"province", prov, "/api/v1/supervision?region=32&scope=subtree", l.province},
		} {
			var sup struct {
				Level string         `json:"level"`
				Items []process.Item `json:"overdue"`
			}
			decodeJSON(t, mustRaw(t, tier.c, 200, "GET", tier.path+sep(tier.path)+"at="+strings.ReplaceAll(l.at, "+", "%2B"), nil), &sup)
			if len(sup.Items) != tier.want || sup.Level != tier.name {
				t.Errorf("%s list at %s: level %s, %d items (%s); want %d", tier.name, l.at, sup.Level, len(sup.Items), steps(sup.Items), tier.want)
			}
		}
	}

	// Unified acceptance: the province hotline takes a complaint about the
	// county's customer; it is the county's to handle: forwarded down two
	// tiers, created by the county's raft group, taken at the province.
	var wo struct {
		Owner, Region, State string
		TakingRegion         string `json:"taking_region"`
		CreatedBy            string `json:"created_by"`
	}
	decodeJSON(t, mustRaw(t, prov, 201, "POST", "/api/v1/work_orders", workOrderBody(cus)), &wo)
	if wo.Owner != region || wo.Region != region || wo.TakingRegion != "32" || wo.CreatedBy != "admin@32" {
		t.Errorf("the province's complaint about a county customer: %+v; want owned and handled by %s, taken at 32", wo, region)
	}
	wo = struct {
		Owner, Region, State string
		TakingRegion         string `json:"taking_region"`
		CreatedBy            string `json:"created_by"`
	}{}
	decodeJSON(t, mustRaw(t, city, 201, "POST", "/api/v1/work_orders", obj{"channel": "business_hall", "kind": "suggestion", "subject": "longer opening hours", "region": region}), &wo)
	if wo.Owner != region || wo.TakingRegion != "3207" {
		t.Errorf("the city's order for the county: %+v", wo)
	}
	// A supervisor at the province acts on the county's order: the county
	// applies it, as its own write.
	decodeJSON(t, mustRaw(t, prov, 200, "POST", "/api/v1/work_orders/"+orderID+"/transition", obj{"version": 1, "to": "dispatched", "assignee_id": mgr}), &wo)
	if wo.State != "dispatched" || wo.Owner != region {
		t.Errorf("the province's transition of the county's order: %+v", wo)
	}
	// An order for a region outside this one's subtree is refused naming it.
	st, out := city.do("POST", "/api/v1/work_orders", obj{"channel": "business_hall", "kind": "suggestion", "subject": "x", "region": "320803"})
	if e := wantError(t, st, out, 403, "wrong_owner", "region"); e.Owner != "320803" {
		t.Errorf("an order for another city's county names %q; want 320803", e.Owner)
	}
	// Taken at the province without a customer or region: the province handles it.
	prov.create("work_orders", obj{"channel": "95598_hotline", "kind": "consultation", "subject": "new tariff"})

	// KPIs over the subtree at the province, from the replicas and the
	// rolled-up counters.
	var kp struct {
		KPI      process.ProjectKPIs `json:"kpi"`
		Counters map[string]float64  `json:"counters"`
	}
	decodeJSON(t, mustRaw(t, prov, 200, "GET", "/api/v1/kpi/projects?region=32&scope=subtree&at=2026-03-16T10:00:00%2B08:00", nil), &kp)
	if kp.KPI.ByRegion[region] == nil || kp.KPI.ByRegion[region].OverdueNow != 1 || kp.Counters["projects.status.open"] != 1 {
		t.Errorf("province KPIs by region %v counters %v", kp.KPI.ByRegion, kp.Counters)
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func steps(items []process.Item) string {
	var s []string
	for _, it := range items {
		s = append(s, fmt.Sprintf("%s/%s %dd %s", it.Type, it.Step, it.WorkingDays, it.Level))
	}
	return strings.Join(s, ", ")
}

// TestAPI_CommandsInPages: the forwarded commands are listed a page at a
// time, in the order they were made (limit, next, after), and a limit or
// cursor that is none is refused naming it.
func TestAPI_CommandsInPages(t *testing.T) {
	city := newFake(t, "3207")
	admin := city.admin(t)
	for i := range 3 {
		if st, out := admin.do("POST", "/api/v1/work_orders", obj{"channel": "95598_hotline", "kind": "report", "subject": fmt.Sprintf("meter %d", i), "region": region}); st != 202 {
			t.Fatalf("order %d: %d %s", i, st, out)
		}
	}
	type page struct {
		Commands []struct {
			ID string `json:"id"`
		} `json:"commands"`
		Next *string `json:"next"`
	}
	get := func(path string, out *page) {
		t.Helper()
		if err := json.Unmarshal(mustRaw(t, admin, 200, "GET", path, nil), out); err != nil {
			t.Fatal(err)
		}
	}
	var all page
	get("/api/v1/commands", &all)
	if len(all.Commands) != 3 || all.Next != nil {
		t.Fatalf("the whole list: %d commands, next %v; want 3 and none", len(all.Commands), all.Next)
	}
	var p1, p2 page
	get("/api/v1/commands?limit=2", &p1)
	if len(p1.Commands) != 2 || p1.Next == nil || *p1.Next != all.Commands[1].ID {
		t.Fatalf("page 1: %+v; want the first two and a next", p1)
	}
	get("/api/v1/commands?limit=2&after="+*p1.Next, &p2)
	if len(p2.Commands) != 1 || p2.Commands[0].ID != all.Commands[2].ID || p2.Next != nil {
		t.Fatalf("page 2: %+v; want the third and no next", p2)
	}
	for _, q := range []struct{ query, field string }{{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=x", "limit"}, {"after=wko_1", "after"}} {
		st, out := admin.do("GET", "/api/v1/commands?"+q.query, nil)
		wantError(t, st, out, 400, "invalid", q.field)
	}
}
