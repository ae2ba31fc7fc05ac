package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"gridcrm/internal/testcluster"
)

// sessionAndExport drives the console's browser session and
// Excel export on a city with one county: the login sets an HttpOnly,
// SameSite=Strict cookie that document.cookie and sessionStorage do not
// show; a reload keeps the session; the overview's child regions and the
// filtered customer list download as .xlsx files that read back with
// Chinese headers and exactly the rows the API lists; a session ended by
// an admin returns the page to the login with a message; logout returns
// to the login, and the old cookie no longer works. The 中文/English switch
// changes core.js's labels and the navigation, and holds over a reload.
//
// It runs as a part of TestBrowser_AnalyticsSessionExport
// (browser_analytics_test.go), on its hierarchy: a city, 3207, with one
// county, 320722, of 25 customers replicated to the city (one hierarchy
// for both saves make test a cluster's start).
func sessionAndExport(t *testing.T, h *testcluster.Hierarchy) {
	city := h.Region("3207")
	base := city.Node(0).APIURL()
	admin := city.Client(0)

	b := newBrowser(t, base)
	downloads := t.TempDir()
	done := watchDownloads(b, downloads)

	b.Do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	b.WaitTitle("连云港市")

	// The cookie: HttpOnly, SameSite=Strict; no script sees the token.
	ck := sessionCookie(t, b, base)
	if ck == nil {
		t.Fatal("no session cookie after the login")
	}
	if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict || ck.Path != "/" {
		t.Errorf("session cookie: httpOnly=%v sameSite=%s path=%s, want HttpOnly, Strict, /", ck.HTTPOnly, ck.SameSite, ck.Path)
	}
	if c := Eval[string](b, `document.cookie`); strings.Contains(c, ck.Value) || strings.Contains(c, "gridcrm_session") {
		t.Errorf("document.cookie shows the session: %q", c)
	}
	if s := Eval[string](b, `JSON.stringify(Object.entries(sessionStorage))`); strings.Contains(s, ck.Value) || strings.Contains(s, "token") {
		t.Errorf("sessionStorage holds a token: %s", s)
	}

	// A reload keeps the session.
	b.Do("reload", chromedp.Reload())
	b.WaitTitle("连云港市")
	if n := Eval[int](b, `document.querySelectorAll('#login').length`); n != 0 {
		t.Fatal("the reload asked for a login again")
	}

	// The overview's child regions as .xlsx.
	b.Do("wait for the children", chromedp.WaitVisible(chromedp.CSS(`#children tr[data-region="320722"]`)))
	b.Do("export the children", chromedp.Click(chromedp.CSS(`button[data-export="/api/v1/stats/overview"]`)))
	rows := readXLSX(t, done)
	if len(rows) != 2 || len(rows[0]) < 3 || rows[0][0] != "下级区域" || rows[0][2] != "客户数" || rows[1][0] != "东海县" || rows[1][1] != "320722" || rows[1][2] != "25" {
		t.Errorf("the children's export: %q", rows)
	}

	// The customer list, filtered, as .xlsx: every matching row, as the API lists them.
	const filter = "region=320722&scope=subtree&category=residential"
	b.Hash("#/customers?" + filter)
	b.WaitTitle("客户")
	b.Do("wait for the list", chromedp.WaitVisible(chromedp.CSS(`#customers tr[data-id]`)))
	b.Do("export the customers", chromedp.Click(chromedp.CSS(`button[data-export="/api/v1/customers"]`)))
	rows = readXLSX(t, done)
	st, body := admin.Do("GET", "/api/v1/customers?limit=1000&"+filter, nil)
	var list struct {
		Items []struct {
			AccountNo string `json:"account_no"`
			Name      string `json:"name"`
		} `json:"items"`
	}
	if st != 200 || json.Unmarshal(body, &list) != nil || len(list.Items) == 0 {
		t.Fatalf("list the customers: %d %s", st, body)
	}
	if len(rows) == 0 || !slices.Equal(rows[0][:4], []string{"户号", "名称", "类别", "电压（千伏）"}) {
		t.Fatalf("the customers' export headers: %q", rows)
	}
	if len(rows)-1 != len(list.Items) {
		t.Fatalf("the export holds %d customers, the list %d", len(rows)-1, len(list.Items))
	}
	for i, c := range list.Items {
		if rows[i+1][0] != c.AccountNo || rows[i+1][1] != c.Name || rows[i+1][2] != "居民" {
			t.Errorf("export row %d %q, the list's %+v", i+1, rows[i+1], c)
		}
	}
	b.Shot("6-customers-export")

	// English: core.js's labels, the navigation and the buttons switch;
	// the choice survives a reload; 中文 switches back.
	b.Do("switch to English", chromedp.Click(chromedp.CSS(`#lang`)))
	b.WaitJS(`document.querySelector('[data-nav="customers"]').textContent`, func(s string) bool { return s == "Customers" }, "the English navigation")
	b.WaitJS(`(document.querySelector('#customers tbody tr td:nth-child(3)')||{}).textContent||''`, func(s string) bool { return s == "Residential" }, "English category labels")
	b.WantIn(`#whoami`, "Administrator")
	b.WantIn(`button[data-export="/api/v1/customers"]`, "Export to Excel")
	b.Do("reload in English", chromedp.Reload())
	b.WaitJS(`document.querySelector('[data-nav="customers"]').textContent`, func(s string) bool { return s == "Customers" }, "English after a reload")
	b.Do("settle", chromedp.WaitVisible(chromedp.CSS(`#customers tr[data-id]`)))
	b.Shot("7-customers-english")
	b.Do("back to Chinese", chromedp.Click(chromedp.CSS(`#lang`)))
	b.WaitJS(`document.querySelector('[data-nav="customers"]').textContent`, func(s string) bool { return s == "客户" }, "the Chinese navigation again")
	b.WaitJS(`(document.querySelector('#customers tbody tr td:nth-child(3)')||{}).textContent||''`, func(s string) bool { return s == "居民" }, "Chinese category labels again")

	// The hierarchy page's regions, with names.
	b.Hash("#/hierarchy")
	b.WaitTitle("层级")
	b.Do("wait for the regions", chromedp.WaitVisible(chromedp.CSS(`#regions tr[data-region="320722"]`)))
	b.Do("export the regions", chromedp.Click(chromedp.CSS(`button[data-export="/api/v1/ops/regions"]`)))
	rows = readXLSX(t, done)
	var county []string
	for _, r := range rows[1:] {
		if r[0] == "320722" {
			county = r
		}
	}
	if len(rows) < 3 || !slices.Equal(rows[0][:3], []string{"区域", "名称", "主节点"}) || len(county) < 5 || county[1] != "东海县" || county[4] != "自治" {
		t.Errorf("the regions' export: %q", rows)
	}

	// An admin ends the session: the next page returns to the login, saying why.
	b.ExpectRefusals(true)
	var me struct {
		ID string `json:"id"`
	}
	_, body = admin.Do("GET", "/api/v1/auth/me", nil)
	_ = json.Unmarshal(body, &me)
	_, body = admin.Do("GET", "/api/v1/users/"+me.ID+"/sessions", nil)
	var sessions struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	_ = json.Unmarshal(body, &sessions)
	ended := 0
	for _, s := range sessions.Sessions {
		if s.ID == tokenSID(t, admin.Token) {
			continue // the test's own
		}
		if st, body := admin.Do("DELETE", "/api/v1/users/"+me.ID+"/sessions/"+s.ID, nil); st != 204 {
			t.Fatalf("end the browser's session: %d %s", st, body)
		}
		ended++
	}
	if ended == 0 {
		t.Fatalf("the browser's session is not listed: %s", body)
	}
	b.Hash("#/customers")
	b.Do("the login page", chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.WantIn(`#login-error`, "会话已过期")

	// Logout: back to the login; the old cookie is dead.
	b.Login("admin", testcluster.AdminPassword)
	b.WaitTitle("客户")
	old := sessionCookie(t, b, base)
	b.Do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	if ck := sessionCookie(t, b, base); ck != nil {
		t.Errorf("the session cookie outlived the logout: %s", ck.Name)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/auth/me", nil)
	req.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("the logged-out cookie answers %d, want 401", resp.StatusCode)
	}
	b.Do("reload after logout", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#login`)))
}

// sessionCookie answers the browser's session cookie for base, or nil.
func sessionCookie(t *testing.T, b *browser, base string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatalf("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if strings.HasSuffix(c.Name, "gridcrm_session") {
			return c
		}
	}
	return nil
}

// tokenSID is the session id a bearer token names.
func tokenSID(t *testing.T, tok string) string {
	t.Helper()
	p, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p)
	var c struct {
		SID string `json:"sid"`
	}
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("token payload: %v", err)
	}
	return c.SID
}

// watchDownloads lets the browser save downloads into dir and answers a
// channel of each completed download's path.
func watchDownloads(b *browser, dir string) <-chan string {
	b.t.Helper()
	out := make(chan string, 4)
	var mu sync.Mutex
	seen := map[string]bool{}
	if err := chromedp.ListenBrowser(b.ctx, func(ev any) {
		if e, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && e.State == cdpbrowser.DownloadProgressStateCompleted {
			mu.Lock()
			defer mu.Unlock()
			if !seen[e.GUID] {
				seen[e.GUID] = true
				p := e.FilePath
				if p == "" {
					p = filepath.Join(dir, e.GUID)
				}
				out <- p
			}
		}
	}); err != nil {
		b.t.Fatal(err)
	}
	on := true
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on}); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	return out
}

// readXLSX waits for the next download and reads its first sheet back.
func readXLSX(t *testing.T, done <-chan string) [][]string {
	t.Helper()
	var path string
	select {
	case path = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("no download within 30 s")
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		raw, _ := os.ReadFile(path)
		t.Fatalf("open the download %s: %v (%.200q)", path, err, raw)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0], excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
