package console_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/internal/testcluster"
)

// setValue sets a form control's value as a script does (no input event).
func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	set := chromedp.Evaluate[bool](`(() => { const e = document.querySelector(` + jsString(sel) + `); if (!e) throw new Error('no ' + ` + jsString(sel) + `); e.value = ` + jsString(v) + `; return true; })()`)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := set(ctx, t)
		return chromedp.Void{}, err
	}
}

// TestBrowser_Customers drives the 客户 page in headless Chromium on a city
// and two counties: search finds a customer by part of its name and by a
// 户号 prefix as the user types; the customer page shows its profile and
// figures; the create form with one bad field shows the API's error next to
// that field and creates nothing (checked through the API), and saves once
// it is fixed; editing a stale version shows the conflict with a reload; an
// analyst sees no create or edit buttons (and the API refuses); a county
// user finds no sibling customer by search and reaches no sibling customer
// page by URL.
func TestBrowser_Customers(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	county := h.Region("320722")
	cl := county.Client(0)
	seeded := seed(t, cl, "320722", 20)
	seed(t, h.Region("320723").Client(0), "320723", 10)
	st, body := cl.Do("POST", "/api/v1/customers", map[string]any{"account_no": "3207229990001", "name": "东海县恒通机械有限公司", "category": "industrial",
		"voltage_kv": 10, "capacity_kva": 800, "region": "320722", "address": "牛山街道晶都大道 88 号", "phone": "0518-87123456", "tags": []string{"VIP"}})
	if st != 201 {
		t.Fatalf("create the customer to find: %d %s", st, body)
	}
	var target struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &target)
	for _, r := range []struct {
		coll string
		body map[string]any
	}{
		{"contacts", map[string]any{"customer_id": target.ID, "name": "王建国", "title": "设备科长", "phone": "13812345678", "primary": true}},
		{"interactions", map[string]any{"customer_id": target.ID, "kind": "visit", "at": "2026-11-20T10:00:00+08:00", "summary": "上门走访，核对用电需求"}},
	} {
		if st, body := cl.Do("POST", "/api/v1/"+r.coll, r.body); st != 201 {
			t.Fatalf("create %s: %d %s", r.coll, st, body)
		}
	}
	for _, u := range []struct{ region, name, role string }{{"320722", "donghai-view", "analyst"}, {"320723", "guanyun-desk", "agent"}} {
		if st, body := h.Region(u.region).Client(0).Do("POST", "/api/v1/users", map[string]any{"username": u.name, "password": "Desk-" + u.region + "-autumn", "role": u.role, "region": u.region}); st != 201 {
			t.Fatalf("create user %s: %d %s", u.name, st, body)
		}
	}
	// The city searches its subtree from the index its replicas keep.
	h.WaitReplicated("320722", "3207", 20*time.Second)
	city := h.Region("3207").Client(0)
	for _, c := range []struct {
		query string
		want  int
	}{{"q=" + url.QueryEscape("恒通机"), 1}, {"q=" + url.QueryEscape("恒通机") + "&region=320723", 0}, {"q=32072299", 1}} {
		st, body := city.Do("GET", "/api/v1/customers/search?"+c.query, nil)
		var page struct{ Items []struct{ ID string } }
		if st != 200 || json.Unmarshal(body, &page) != nil || len(page.Items) != c.want || (c.want == 1 && page.Items[0].ID != target.ID) {
			t.Errorf("the city's search %s: %d %s; want %d item(s)", c.query, st, body, c.want)
		}
	}
	t.Logf("hierarchy up and seeded in %v", time.Since(start).Round(time.Millisecond))

	base := county.Node(0).APIURL()
	b := newBrowser(t, base)
	do, wantIn, waitTitle, hash, shot := b.Do, b.WantIn, b.WaitTitle, b.Hash, b.Shot
	do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("东海县")

	// 1. Search as the user types: part of the name, then a 户号 prefix.
	hash("#/customers")
	waitTitle("客户")
	do("wait for the list", chromedp.WaitVisible(chromedp.CSS(`#customers tr[data-id]`)))
	row := `#customers tr[data-id="` + target.ID + `"]`
	t0 := time.Now()
	do("type part of the name", chromedp.SendKeys(chromedp.CSS(`#customer-q`), "恒通机"))
	b.WaitJS(`String(document.querySelectorAll('#customers tr[data-id]').length)+'/'+!!document.querySelector('`+row+`')`,
		func(s string) bool { return s == "1/true" }, "the search to show the one customer named 恒通机…")
	t.Logf("typed to found: %v", time.Since(t0).Round(time.Millisecond))
	wantIn(`#search-status`, "恒通机")
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.Contains(loc, "q=") {
		t.Errorf("the URL does not keep the search: %s", loc)
	}
	shot("c1-search-name")
	do("type a 户号 prefix", setValue(`#customer-q`, ""), chromedp.SendKeys(chromedp.CSS(`#customer-q`), "32072299"))
	b.WaitJS(`String(document.querySelectorAll('#customers tr[data-id]').length)+'/'+!!document.querySelector('`+row+`')+'/'+document.querySelector('#search-status').textContent`,
		func(s string) bool { return strings.HasPrefix(s, "1/true/") && strings.Contains(s, "32072299") }, "the search to find the customer by its 户号 prefix")
	hash("#/customers?q=" + url.QueryEscape("ＶＩＰ"))
	waitTitle("客户")
	do("a full-width tag finds it", chromedp.WaitVisible(chromedp.CSS(row)))

	// 2. The customer page.
	do("open the customer", chromedp.Click(chromedp.CSS(row+` a`)), chromedp.WaitVisible(chromedp.CSS(`#profile`)))
	waitTitle("东海县恒通机械有限公司")
	wantIn(`#profile`, "3207229990001", "牛山街道晶都大道", "VIP")
	wantIn(`#figures`, "近12个月电量", "欠费", "峰/平/谷", "分级")
	wantIn(`#contacts`, "王建国", "设备科长")
	wantIn(`#visits`, "上门走访")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	shot("c2-customer-page")
	// A customer with two years of bills: its chart is drawn, and every
	// section is a heading and a table or 无 (nothing rendered as [object …]).
	hash("#/customer/" + seeded[0])
	do("open a billed customer", chromedp.WaitVisible(chromedp.CSS(`#profile`)), chromedp.WaitVisible(chromedp.CSS(`#chart-customer canvas`)))
	if main := b.Text(`main`); strings.Contains(main, "[object") {
		t.Errorf("the customer page renders an object as text: %.400s", main)
	}
	for _, h := range []string{"电量、电费与分级", "金牌客户经理", "服务方案", "服务备忘", "报装项目", "重点项目", "工单", "联系人", "走访与联系记录"} {
		if !Eval[bool](b, `[...document.querySelectorAll('main h2')].some(e => e.textContent === `+jsString(h)+`)`) {
			t.Errorf("the customer page has no section %s", h)
		}
	}
	shot("c2b-customer-billed")
	hash("#/customer/" + target.ID)
	do("back to the customer", chromedp.WaitVisible(chromedp.CSS(`#edit-customer`)))

	// 3. Edit a stale version: the conflict and its reload.
	do("open the edit form", chromedp.Click(chromedp.CSS(`#edit-customer`)), chromedp.WaitVisible(chromedp.CSS(`#customer-form`)))
	wantIn(`#edit-version`, "版本 1")
	if st, body := cl.Do("PATCH", "/api/v1/customers/"+target.ID, map[string]any{"version": 1, "industry": "通用设备制造"}); st != 200 {
		t.Fatalf("edit behind the form's back: %d %s", st, body)
	}
	b.ExpectRefusals(true)
	do("save the stale form", setValue(`#f-name`, "东海县恒通机械股份公司"), chromedp.Click(chromedp.CSS(`#save`)),
		chromedp.WaitVisible(chromedp.CSS(`#conflict`)))
	wantIn(`#form-error`, "已被他人修改", "重新加载")
	shot("c3-edit-conflict")
	do("reload", chromedp.Click(chromedp.CSS(`#reload`)))
	b.WaitJS(`(document.querySelector('#edit-version')||{}).textContent||''`, func(s string) bool { return strings.Contains(s, "版本 2") }, "the form to reload version 2")
	if v := Eval[string](b, `document.querySelector('#f-industry').value`); v != "通用设备制造" {
		t.Errorf("the reloaded form holds industry %q, want the other edit's", v)
	}

	// 4. Create with one bad field: the error next to it, nothing created.
	hash("#/customers/new")
	waitTitle("新建客户")
	do("fill the form with a bad phone",
		setValue(`#f-account_no`, "3207228880001"), setValue(`#f-name`, "东海县新建测试户"),
		setValue(`#f-category`, "commercial"), setValue(`#f-voltage_kv`, "0.4"),
		setValue(`#f-phone`, "not a phone"), chromedp.Click(chromedp.CSS(`#save`)))
	b.WaitJS(`(document.querySelector('#err-phone')||{}).textContent||''`, func(s string) bool { return s != "" }, "the phone's error next to it")
	if others := Eval[string](b, `[...document.querySelectorAll('.field-error')].filter(e => e.id !== 'err-phone' && e.textContent).map(e => e.id).join(',') + document.querySelector('#form-error').textContent`); others != "" {
		t.Errorf("errors shown elsewhere than next to the phone: %q", others)
	}
	if !Eval[bool](b, `document.querySelector('#f-phone').classList.contains('invalid')`) {
		t.Error("the phone field is not marked invalid")
	}
	shot("c4-create-bad-field")
	created := func() int {
		st, body := cl.Do("GET", "/api/v1/customers?account_no=3207228880001", nil)
		var page struct{ Items []json.RawMessage }
		if st != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("look the new customer up: %d %s", st, body)
		}
		return len(page.Items)
	}
	if n := created(); n != 0 {
		t.Fatalf("a refused create left %d customers", n)
	}
	do("fix the phone, a contract end that is no day", setValue(`#f-phone`, "13912345678"), setValue(`#f-contract_end`, "2026-02-30"),
		chromedp.Click(chromedp.CSS(`#save`)))
	b.WaitJS(`(document.querySelector('#err-contract_end')||{}).textContent||''`, func(s string) bool { return s != "" }, "the contract end's error next to it")
	if n := created(); n != 0 {
		t.Fatalf("a refused create (contract_end) left %d customers", n)
	}
	do("fix the contract end and save", setValue(`#f-contract_end`, "2030-06-30"), chromedp.Click(chromedp.CSS(`#save`)),
		chromedp.WaitVisible(chromedp.CSS(`#profile`)))
	waitTitle("东海县新建测试户")
	if n := created(); n != 1 {
		t.Errorf("the fixed create left %d customers, want 1", n)
	}
	if p := Eval[string](b, `document.querySelector('#profile').textContent`); !strings.Contains(p, "合同到期2030-06-30") {
		t.Errorf("the profile does not show the contract end: %q", p)
	}

	// 5. An analyst: no create or edit buttons; the API refuses anyway.
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.Login("donghai-view", "Desk-320722-autumn")
	waitTitle("东海县")
	hash("#/customers?q=" + url.QueryEscape("恒通"))
	waitTitle("客户")
	do("the analyst's search", chromedp.WaitVisible(chromedp.CSS(row)))
	hash("#/customer/" + target.ID)
	waitTitle("恒通")
	do("wait for the profile", chromedp.WaitVisible(chromedp.CSS(`#profile`)))
	if n := Eval[int](b, `document.querySelectorAll('#new-customer, #edit-customer').length`); n != 0 {
		t.Errorf("an analyst sees %d create/edit buttons", n)
	}
	hash("#/customer/" + target.ID + "/edit")
	waitTitle("编辑客户")
	if n := Eval[int](b, `document.querySelectorAll('#customer-form').length`); n != 0 {
		t.Error("an analyst is shown the edit form")
	}
	analyst := testcluster.Login(t, base, "donghai-view", "Desk-320722-autumn")
	if st, _ := analyst.Do("PATCH", "/api/v1/customers/"+target.ID, map[string]any{"version": 2, "name": "x"}); st != 403 {
		t.Errorf("an analyst's edit: %d, want 403", st)
	}

	// 6. A county user of 320723: no sibling customer by search, link or URL.
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	other := h.Region("320723").Node(0).APIURL()
	b.SetNode(other)
	do("open the sibling county's console", chromedp.Navigate(other+"/console/"))
	b.Login("guanyun-desk", "Desk-320723-autumn")
	waitTitle("灌云县")
	hash("#/customers?q=" + url.QueryEscape("恒通机"))
	waitTitle("客户")
	do("no sibling customer found", chromedp.WaitVisible(chromedp.CSS(`#no-customers`)))
	for _, p := range []string{"#/customer/" + target.ID, "#/customers?q=" + url.QueryEscape("恒通") + "&region=320722", "#/customer/" + target.ID + "/edit"} {
		hash(p)
		waitTitle("无法显示")
		if msg := b.Text(`#page-error`); !strings.Contains(msg, "无权查看") && !strings.Contains(msg, "未找到") {
			t.Errorf("%s for a county user of 320723: %q, want 无权查看 or 未找到", p, msg)
		}
	}
	shot("c5-sibling-refused")
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}
