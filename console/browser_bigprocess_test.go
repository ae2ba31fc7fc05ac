package console_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/internal/testcluster"
)

// TestBrowser_BigCustomersAndProcesses drives the 大客户 and 流程 pages on
// a county with sample customers, three 110 kV customers in the managed
// pool divided into a grid cell, a gold manager, an overdue connection
// project, a complaint past its SLA, a dispatched order and a planned
// outage noticed too late: the supervision list shows the names beside the
// ids, the board the orders by state, the outage its affected customers;
// the big-customer page the classification, the grid cell against the ±5%
// band and the gold manager, and a bulletin generated from the page.
func TestBrowser_BigCustomersAndProcesses(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "320722"}}})
	cl := h.Region("320722").Client(0)
	seed(t, cl, "320722", 30)
	create := func(coll string, body map[string]any) string {
		t.Helper()
		st, out := cl.Do("POST", "/api/v1/"+coll, body)
		if st != 201 {
			t.Fatalf("create %s: %d %s", coll, st, out)
		}
		var r struct{ ID string }
		json.Unmarshal(out, &r)
		return r.ID
	}
	mgr := create("staff", map[string]any{"staff_no": "M-1", "name": "王建国", "role": "account_manager", "region": "320722"})
	gold := create("staff", map[string]any{"staff_no": "G-1", "name": "李金牌", "role": "gold_manager", "region": "320722"})
	var big []string
	for i, name := range []string{"东海特钢有限公司", "东海硅材料有限公司", "东海县自来水厂"} {
		id := create("customers", map[string]any{"account_no": fmt.Sprintf("B-%d", i+1), "name": name, "category": "industrial", "voltage_kv": 110,
			"capacity_kva": 40000, "region": "320722", "feeder": "110kV 城东线"})
		big = append(big, id)
		contact := create("contacts", map[string]any{"customer_id": id, "name": "电气负责人", "phone": "13800000000"})
		create("pool_entries", map[string]any{"customer_id": id, "status": "admitted", "front_manager_id": mgr, "contact_id": contact,
			"assessment": map[string]any{"score": 90, "annual_kwh": 0, "credit": "A", "reason": "110kV 专线用户", "assessed_by": mgr, "assessed_on": time.Now().AddDate(0, -1, 0).Format(time.DateOnly)}})
	}
	if st, out := cl.Do("POST", "/api/v1/grid_plans/divide", map[string]any{"k": 1, "managers": []string{mgr}, "save": true}); st != 200 {
		t.Fatalf("divide the pool: %d %s", st, out)
	}
	create("gold_assignments", map[string]any{"customer_id": big[0], "staff_id": gold, "from": time.Now().AddDate(0, -2, 0).Format(time.DateOnly)})
	long := time.Now().AddDate(0, 0, -40).Format(time.RFC3339)
	create("projects", map[string]any{"kind": "new_connection", "customer_id": big[0], "voltage_kv": 110, "capacity_kva": 40000, "title": "东海特钢110kV新装",
		"manager_id": mgr, "accepted_at": long})
	create("work_orders", map[string]any{"channel": "95598_hotline", "kind": "complaint", "subject": "电费账单有误", "customer_id": big[1], "received_at": long})
	wo := create("work_orders", map[string]any{"channel": "business_hall", "kind": "consultation", "subject": "咨询峰谷电价", "customer_id": big[2]})
	if st, out := cl.Do("POST", "/api/v1/work_orders/"+wo+"/transition", map[string]any{"version": 1, "to": "dispatched", "assignee_id": mgr}); st != 200 {
		t.Fatalf("dispatch: %d %s", st, out)
	}
	startAt := time.Now().AddDate(0, 0, 3)
	create("outages", map[string]any{"type": "planned", "feeder": "110kV 城东线", "reason": "城东线检修", "start": startAt.Format(time.RFC3339),
		"end": startAt.Add(8 * time.Hour).Format(time.RFC3339), "notices": []map[string]any{{"channel": "sms", "at": time.Now().Format(time.RFC3339), "audience": "all"}}})
	if st, out := cl.Do("POST", "/api/v1/users", map[string]any{"username": "xiaoli", "password": "Desk-320722-autumn", "role": "agent", "region": "320722"}); st != 201 {
		t.Fatalf("create an agent: %d %s", st, out)
	}
	t.Logf("county seeded in %v", time.Since(start).Round(time.Millisecond))

	base := h.Region("320722").Node(0).APIURL()
	b := newBrowser(t, base)
	do, wantIn, waitTitle, shot := b.Do, b.WantIn, b.WaitTitle, b.Shot
	do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("东海县")

	// 流程: supervision with names, warnings, KPIs, the board, outages.
	do("open the processes page", chromedp.Click(chromedp.CSS(`[data-nav="processes"]`)))
	waitTitle("流程监督")
	do("wait for the supervision list", chromedp.WaitVisible(chromedp.CSS(`#supervision tbody tr`)))
	wantIn(`#supervision`, "报装环节", "东海特钢110kV新装", "东海特钢有限公司（B-1）", "王建国", "工单时限", "电费账单有误", "东海硅材料有限公司（B-2）")
	if ids := Eval[int](b, `[...document.querySelectorAll('#supervision tbody tr')].filter((tr) => /^(prj|wor|wo)_/.test(tr.cells[1].textContent)).length`); ids != 0 {
		t.Errorf("%d supervision rows show an id where the name belongs", ids)
	}
	wantIn(`#sup-count`, "共")
	for _, path := range []string{"/api/v1/supervision", "/api/v1/outages"} {
		if n := Eval[int](b, `document.querySelectorAll('[data-export="`+path+`"]').length`); n != 1 {
			t.Errorf("%d 导出Excel buttons for %s, want 1", n, path)
		}
	}
	wantIn(`#kpi-cards`, "报装达标率", "平均周期", "工单答复及时率", "停电通知合规率")
	wantIn(`#kpi-managers tr[data-manager="`+mgr+`"]`, "王建国")
	wantIn(`#board [data-state="dispatched"]`, "咨询峰谷电价", "（1）")
	wantIn(`#board [data-state="received"]`, "电费账单有误")
	wantIn(`#outages`, "城东线检修", "计划停电", "不合规")
	do("show the outage's customers", chromedp.Click(chromedp.CSS(`#outages button.affected`)))
	b.WaitJS(`document.querySelector('#outages').textContent`, func(s string) bool { return strings.Contains(s, "3 户，其中重要客户 3 户") }, "the affected customers")
	wantIn(`#outages`, "东海特钢有限公司", "东海县自来水厂")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	shot("p1-processes")

	noStray(t, b)

	// 大客户: classification, Pareto, grid against the band, pool, gold manager, bulletins.
	do("open the big-customer page", chromedp.Click(chromedp.CSS(`[data-nav="bigcustomers"]`)))
	waitTitle("大客户")
	do("wait for the list", chromedp.WaitVisible(chromedp.CSS(`#classification tbody tr`)))
	wantIn(`#classification`, "东海特钢有限公司", "东海硅材料有限公司", "东海县自来水厂")
	wantIn(`#class-cards`, "大客户", "二八")
	wantIn(`#grid`, "王建国", "3", "+0.00%", "是")
	wantIn(`#grid-summary`, "电量最大偏差")
	wantIn(`#pool`, "已入池", "110kV 专线用户")
	wantIn(`#gold`, "李金牌", "东海特钢有限公司")
	if n := Eval[int](b, `document.querySelectorAll('#chart-pareto canvas, #chart-grid canvas').length`); n < 2 {
		t.Errorf("%d chart canvases, want the Pareto and grid charts", n)
	}
	period := time.Now().AddDate(0, -1, 0).Format("2006-01")
	do("generate a bulletin", chromedp.SetValue(chromedp.CSS(`#bulletin-period`), period), chromedp.Click(chromedp.CSS(`#bulletin-generate button`)))
	b.WaitJS(`String(document.querySelectorAll('#bulletins tbody tr').length)`, func(s string) bool { return s == "1" }, "the generated bulletin in the list")
	wantIn(`#bulletins`, period)
	do("fetch its PDF and HTML", chromedp.Click(chromedp.CSS(`#bulletins button.download-pdf`)), chromedp.Click(chromedp.CSS(`#bulletins button.view-html`)),
		chromedp.Sleep(500*time.Millisecond))
	if msg := b.Text(`#bulletins tbody tr span.error`); msg != "" {
		t.Errorf("fetching the bulletin's files: %s", msg)
	}
	for _, path := range []string{"/api/v1/classification", "/api/v1/pool_entries", "/api/v1/gold_assignments", "/api/v1/bulletins"} {
		if n := Eval[int](b, `document.querySelectorAll('[data-export="`+path+`"]').length`); n != 1 {
			t.Errorf("%d 导出Excel buttons for %s, want 1", n, path)
		}
	}
	noStray(t, b)
	shot("p2-bigcustomers")

	// An agent reads both pages, without the bulletin form or the 管理 link.
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.Login("xiaoli", "Desk-320722-autumn")
	waitTitle("东海县") // the page the admin left: 大客户
	b.Hash("#/processes")
	waitTitle("流程监督")
	wantIn(`#supervision`, "东海特钢110kV新装")
	noStray(t, b)
	b.Hash("#/bigcustomers")
	waitTitle("大客户")
	do("wait for the list", chromedp.WaitVisible(chromedp.CSS(`#classification tbody tr`)))
	if n := Eval[int](b, `document.querySelectorAll('#bulletin-generate').length`); n != 0 {
		t.Errorf("an agent is offered the bulletin generation form")
	}
	wantIn(`#bulletins`, period)
	noStray(t, b)
	if hidden := Eval[bool](b, `document.querySelector('[data-nav="management"]').hidden`); !hidden {
		t.Errorf("an agent sees the 管理 link")
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

// noStray fails t when the page shows what a script left by mistake: an
// object, null or undefined rendered as text.
func noStray(t *testing.T, b *browser) {
	t.Helper()
	text := Eval[string](b, `document.querySelector('main').innerText`)
	for _, bad := range []string{"[object", "undefined", "NaN", "null"} {
		if i := strings.Index(text, bad); i >= 0 {
			t.Errorf("the page shows %q: …%s…", bad, text[max(0, i-60):min(len(text), i+40)])
		}
	}
}
