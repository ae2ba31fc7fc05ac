package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/internal/testcluster"
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
	// 导出Excel: every item, read a page at a time (one item a page here),
	// with the names and Chinese headers.
	defer api.SetExportOffsetPage(1)()
	st, rows, out := xlsx(t, admin, "path=/api/v1/supervision&"+at)
	if st != 200 || len(rows) != all.Count+1 {
		t.Fatalf("supervision export: %d, %d rows %s; want the header and %d items", st, len(rows), out, all.Count)
	}
	sheet := fmt.Sprint(rows)
	for _, want := range []string{"名称", "客户", "户号", "督办层级", "纺织厂新装", "电表走字异常", "东海纺织厂", "N-1", "王经理", "省级"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the supervision export lacks %q: %v", want, rows)
		}
	}
	if all.Count < 2 {
		t.Fatalf("supervision lists %d items; the export's paging needs two", all.Count)
	}
	if st, _, out := xlsx(t, admin, "path=/api/v1/supervision&"+at+"&offset=1"); st != 400 || !strings.Contains(string(out), "offset") {
		t.Errorf("an export with offset: %d %s; want 400 naming offset (an export holds every item)", st, out)
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

// TestAPI_ClassificationExport: the big-customer list exports with its
// class, grade, figures and reasons under Chinese headers.
func TestAPI_ClassificationExport(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	admin.create("customers", customerBody("K-1").with("name", "东海特钢", "category", "industrial", "voltage_kv", 110, "capacity_kva", 40000))
	admin.create("customers", customerBody("K-2"))
	st, rows, out := xlsx(t, admin, "path=/api/v1/classification&class=big")
	if st != 200 || len(rows) != 2 {
		t.Fatalf("classification export: %d %v %s; want the header and the one big customer", st, rows, out)
	}
	sheet := fmt.Sprint(rows)
	for _, want := range []string{"户号", "等级", "依据", "K-1", "东海特钢", "大客户", "核心", "110"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the classification export lacks %q: %v", want, rows)
		}
	}
}

// TestAPI_ManagementPageTiers: on a province, a city and a county, the
// management page lists each tier's regions directly below with their
// names, mode and epoch (the province its city, the city its county), and
// the city's answer carries the commands it forwarded down still pending
// and the conflicts kept there.
func TestAPI_ManagementPageTiers(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: region}}})
	county, city, prov := adminOf(t, h.Region(region), 0), adminOf(t, h.Region("3207"), 0), adminOf(t, h.Region("32"), 0)
	county.create("customers", customerBody("T-1"))
	h.WaitReplicated(region, "32", 30*time.Second)
	if st, out := city.do("PUT", "/api/v1/regions/"+region+"/management", obj{"mode": "partial", "collections": []string{"interactions"}}); st != 200 {
		t.Fatalf("partial management: %d %s", st, out)
	}
	type page struct {
		Region   string `json:"region"`
		Name     string `json:"name"`
		Manages  bool   `json:"manages"`
		Children []struct {
			Region      string   `json:"region"`
			Name        string   `json:"name"`
			Mode        string   `json:"mode"`
			Epoch       uint64   `json:"epoch"`
			Collections []string `json:"collections"`
		} `json:"children"`
		Pending   []any `json:"pending_commands"`
		Conflicts []any `json:"conflicts"`
	}
	var p page
	decodeJSON(t, mustRaw(t, prov, 200, "GET", "/api/v1/management", nil), &p)
	if !p.Manages || p.Name != "江苏省" || len(p.Children) != 1 || p.Children[0].Region != "3207" || p.Children[0].Name != "连云港市" || p.Children[0].Mode != "autonomous" {
		t.Errorf("the province's management page: %+v; want its one city, autonomous", p)
	}
	decodeJSON(t, mustRaw(t, city, 200, "GET", "/api/v1/management", nil), &p)
	if !p.Manages || len(p.Children) != 1 || p.Children[0].Region != region || p.Children[0].Mode != "partial" ||
		p.Children[0].Epoch != 1 || len(p.Children[0].Collections) != 1 || p.Pending == nil || p.Conflicts == nil {
		t.Errorf("the city's management page: %+v; want its county under partial management", p)
	}
	decodeJSON(t, mustRaw(t, county, 200, "GET", "/api/v1/management", nil), &p)
	if p.Manages || len(p.Children) != 0 {
		t.Errorf("the county's management page: %+v; want nothing to manage", p)
	}
}
