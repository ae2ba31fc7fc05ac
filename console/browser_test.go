package console_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/crm/sample"
	"gridcrm/internal/testcluster"
)

// chromium answers the path of a Chromium or Chrome binary, or "".
func chromium() string {
	if p := os.Getenv("GRIDCRM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test leaves a PNG of every page it
// visits (GRIDCRM_SCREENSHOTS, default $TMPDIR/gridcrm-console).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("GRIDCRM_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gridcrm-console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// seed imports n sample customers with 13 months of bills into region
// through the API, and answers their ids.
func seed(t *testing.T, cl *testcluster.Client, region string, n int) []string {
	t.Helper()
	d := sample.Generate(sample.Options{Region: region, Customers: n, Months: 13, End: time.Now().UTC().AddDate(0, -1, 0), Seed: 14})
	st, body := cl.Do("POST", "/api/v1/customers/import", d.Customers)
	if st != 201 {
		t.Fatalf("import customers into %s: %d %s", region, st, body)
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.IDs) != n {
		t.Fatalf("import customers into %s: %s", region, body)
	}
	var bills []any
	for i, id := range out.IDs {
		for _, b := range d.Bills[i] {
			b.CustomerID = id
			bills = append(bills, b)
		}
	}
	if st, body := cl.Do("POST", "/api/v1/bills/import", bills); st != 201 {
		t.Fatalf("import bills into %s: %d %s", region, st, body)
	}
	return out.IDs
}

// TestBrowser_OverviewDrillDownCustomers drives the console in headless
// Chromium on a province → city → two counties hierarchy: log in at the
// province; the overview shows its cards in Chinese and the city; a click
// opens the city's overview with both counties, another the county's, and
// its customer list, where a customer named like markup renders as text; a
// county user at the city's node is refused a sibling county's pages. No
// request leaves the node and no script error is logged.
func TestBrowser_OverviewDrillDownCustomers(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	prov := h.Region("32")
	ids := seed(t, h.Region("320722").Client(0), "320722", 40)
	seed(t, h.Region("320723").Client(0), "320723", 30)
	const xss = `<img src=x onerror=alert(1)>`
	cl := h.Region("320722").Client(0)
	if st, body := cl.Do("PATCH", "/api/v1/customers/"+ids[0], map[string]any{"name": xss, "version": 1}); st != 200 {
		t.Fatalf("rename a customer: %d %s", st, body)
	}
	// A county user of 320723 (made at its county; users roll up like any record).
	if st, body := h.Region("320723").Client(0).Do("POST", "/api/v1/users", map[string]any{"username": "guanyun", "password": "Desk-320723-spring", "role": "agent", "region": "320723"}); st != 201 {
		t.Fatalf("create a county user: %d %s", st, body)
	}
	for _, r := range []string{"320722", "320723"} {
		h.WaitReplicated(r, "32", 20*time.Second)
	}
	h.WaitReplicated("3207", "32", 20*time.Second)
	t.Logf("hierarchy up and seeded in %v", time.Since(start).Round(time.Millisecond))

	base := prov.Node(0).APIURL()
	b := newBrowser(t, base)
	do, text, wantIn, login, waitTitle, hash, shot := b.Do, b.Text, b.WantIn, b.Login, b.WaitTitle, b.Hash, b.Shot
	shots := screenshotDir(t)

	// 1. / redirects to the console, which asks for a login; the province overview.
	t0 := time.Now()
	do("open /", chromedp.Navigate(base+"/"))
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.HasSuffix(loc, "/console/") {
		t.Errorf("/ led to %s, want /console/", loc)
	}
	login("admin", testcluster.AdminPassword)
	waitTitle("江苏省")
	do("wait for the cities", chromedp.WaitVisible(chromedp.CSS(`#children tr[data-region="3207"]`)))
	t.Logf("province overview: page open to rendered, with login, in %v", time.Since(t0).Round(time.Millisecond))
	wantIn(`#cards`, "客户数", "售电量", "同比", "应收电费", "电费回收率", "欠费金额", "在办工单", "逾期完成环节", "停电事件", "70 户")
	wantIn(`#children`, "连云港市", "千瓦时")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	shot("1-province-overview")

	// 2. Drill down: the city, then a county, then its customers.
	t0 = time.Now()
	do("click the city", chromedp.Click(chromedp.CSS(`#children tr[data-region="3207"] a`)))
	waitTitle("连云港市")
	do("wait for the counties", chromedp.WaitVisible(chromedp.CSS(`#children tr[data-region="320723"]`)))
	t.Logf("city overview after the click: %v", time.Since(t0).Round(time.Millisecond))
	wantIn(`#children`, "东海县", "灌云县")
	wantIn(`#crumbs`, "江苏省", "连云港市")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	shot("2-city-overview")
	do("click the county", chromedp.Click(chromedp.CSS(`#children tr[data-region="320722"] a`)))
	waitTitle("东海县")
	wantIn(`#cards`, "40 户")
	do("open the county's customers", chromedp.Click(chromedp.CSS(`#to-customers`)))
	waitTitle("客户")
	do("wait for the list", chromedp.WaitVisible(chromedp.CSS(`#customers tr[data-id]`)))
	wantIn(`#customers`, xss)
	if imgs := Eval[int](b, `document.querySelectorAll('#customers img').length`); imgs != 0 {
		t.Errorf("the customer named %s became %d <img> elements", xss, imgs)
	}
	shot("3-county-customers")

	// 3. The customer page and the hierarchy page.
	do("open a customer", chromedp.Click(chromedp.CSS(`#customers tr[data-id="`+ids[1]+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`#profile`)))
	wantIn(`#profile`, "户号", "320722")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	shot("4-customer")
	hash("#/hierarchy")
	waitTitle("层级")
	do("wait for the links", chromedp.WaitVisible(chromedp.CSS(`#links tr[data-peer="3207"]`)))
	wantIn(`#regions`, "东海县 320722", "自治")
	shot("5-hierarchy")

	// 4. A county user (users belong to their region's node): its own
	// county's console, and no way to a sibling county by URL.
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	countyURL := h.Region("320723").Node(0).APIURL()
	b.SetNode(countyURL)
	b.ExpectRefusals(true)
	do("open the county's console", chromedp.Navigate(countyURL+"/console/"))
	login("guanyun", "Desk-320723-spring")
	waitTitle("灌云县")
	wantIn(`#cards`, "30 户")
	for _, p := range []string{"#/overview/320722", "#/overview/3207", "#/customer/" + ids[1], "#/customers?region=320722"} {
		hash(p)
		waitTitle("无法显示")
		if msg := text(`#page-error`); !strings.Contains(msg, "无权查看") && !strings.Contains(msg, "未找到") {
			t.Errorf("%s for a county user of 320723: %q, want 无权查看 or 未找到", p, msg)
		}
	}

	t.Logf("screenshots in %s; whole test %v", shots, time.Since(start).Round(time.Millisecond))
}
