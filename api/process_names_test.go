package api_test

import (
	"strings"
	"testing"
)

// TestAPI_SupervisionNames: the supervision list and the warnings carry,
// beside the ids, the project's title or order's subject, the customer's
// name and 户号 and the manager's name, for the page answered (limit,
// offset), with count the whole list's; a bad page is refused naming the
// field.
func TestAPI_SupervisionNames(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	mgr := admin.create("staff", staffBody("M-9").with("name", "王经理"))
	cus := admin.create("customers", customerBody("N-1").with("name", "东海纺织厂"))
	for _, title := range []string{"纺织厂新装", "纺织厂增容"} {
		admin.create("projects", projectBody(cus).with("manager_id", mgr, "title", title, "accepted_at", "2026-03-02T09:00:00+08:00"))
	}
	admin.create("work_orders", workOrderBody(cus).with("received_at", "2026-03-02T09:00:00+08:00", "subject", "电表走字异常"))

	type item struct {
		Type         string `json:"type"`
		ID           string `json:"id"`
		Title        string `json:"title"`
		CustomerName string `json:"customer_name"`
		AccountNo    string `json:"account_no"`
		ManagerName  string `json:"manager_name"`
	}
	var sup struct {
		Count   int    `json:"count"`
		Offset  int    `json:"offset"`
		Overdue []item `json:"overdue"`
	}
	at := "at=2026-03-20T10:00:00%2B08:00&level=all"
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?"+at, nil), &sup)
	if sup.Count < 3 || len(sup.Overdue) != sup.Count {
		t.Fatalf("supervision: %+v; want both projects and the order's SLAs", sup)
	}
	titles := map[string]bool{}
	for _, it := range sup.Overdue {
		titles[it.Title] = true
		if it.CustomerName != "东海纺织厂" || it.AccountNo != "N-1" {
			t.Errorf("item %+v lacks the customer's name and 户号", it)
		}
		if it.Type == "project_stage" && it.ManagerName != "王经理" {
			t.Errorf("project item %+v lacks the manager's name", it)
		}
	}
	for _, want := range []string{"纺织厂新装", "纺织厂增容", "电表走字异常"} {
		if !titles[want] {
			t.Errorf("no item titled %q in %+v", want, sup.Overdue)
		}
	}
	all := sup
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?"+at+"&limit=1&offset=1", nil), &sup)
	if sup.Count != all.Count || sup.Offset != 1 || len(sup.Overdue) != 1 || sup.Overdue[0] != all.Overdue[1] {
		t.Errorf("page 2 of size 1: %+v; want the second of %+v", sup, all.Overdue)
	}
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision?"+at+"&offset=999", nil), &sup)
	if sup.Count != all.Count || len(sup.Overdue) != 0 {
		t.Errorf("past the end: %+v", sup)
	}
	var warn struct {
		Count    int    `json:"count"`
		Warnings []item `json:"warnings"`
	}
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/supervision/warnings?at=2026-03-09T10:00:00%2B08:00", nil), &warn)
	if warn.Count == 0 || warn.Warnings[0].ManagerName != "王经理" || warn.Warnings[0].CustomerName != "东海纺织厂" {
		t.Errorf("warnings: %+v; want the projects due soon with names", warn)
	}
	for _, q := range []struct{ query, field string }{{"limit=0", "limit"}, {"limit=5000", "limit"}, {"offset=-1", "offset"}, {"limit=x", "limit"}} {
		st, out := admin.do("GET", "/api/v1/supervision?"+q.query, nil)
		wantError(t, st, out, 400, "invalid", q.field)
		st, out = admin.do("GET", "/api/v1/supervision/warnings?"+q.query, nil)
		wantError(t, st, out, 400, "invalid", q.field)
	}
}

// TestAPI_ManagementPage: GET /api/v1/management is an admin's (other
// roles are refused), and a county's answer says it manages nothing.
func TestAPI_ManagementPage(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	var m struct {
		Manages  bool   `json:"manages"`
		Reason   string `json:"reason"`
		Children []any  `json:"children"`
	}
	decodeJSON(t, mustRaw(t, admin, 200, "GET", "/api/v1/management", nil), &m)
	if m.Manages || !strings.Contains(m.Reason, "county") || m.Children == nil || len(m.Children) != 0 {
		t.Errorf("a county's management answer: %+v; want manages false, the reason, no children", m)
	}
	for name, cl := range addUsers(t, admin, map[string]string{"mona": "manager", "andy": "analyst"}) {
		st, out := cl.do("GET", "/api/v1/management", nil)
		t.Run(name, func(t *testing.T) { wantError(t, st, out, 403, "forbidden", "") })
	}
}
