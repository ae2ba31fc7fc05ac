package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridcrm/internal/testcluster"
)

// TestBrowser_AuditorAudit: an auditor logs in to the console and lands on
// the 审计 page, its only link, which lists the region's audit entries
// (a refused write among them), filters them by user, and verifies the
// chains; the other pages are refused it. An admin sees the 审计 link
// beside the others.
func TestBrowser_AuditorAudit(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	c := testcluster.New(t, testcluster.Opts{Region: "320722", Nodes: 1})
	c.WaitReady()
	admin := c.Client(0)
	if st, out := admin.Do("POST", "/api/v1/users", map[string]any{"username": "shen.ji", "password": "Audit-320722-winter", "role": "auditor", "region": "320722"}); st != 201 {
		t.Fatalf("create an auditor: %d %s", st, out)
	}
	seed(t, admin, "320722", 3)
	if st, out := admin.Do("POST", "/api/v1/customers", map[string]any{"name": "", "account_no": "x"}); st != 400 {
		t.Fatalf("a bad customer: %d %s; want 400", st, out)
	}

	base := c.Node(0).APIURL()
	b := newBrowser(t, base)
	b.Do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("shen.ji", "Audit-320722-winter")
	b.WaitTitle("审计日志")
	b.Do("wait for the entries", chromedp.WaitVisible(chromedp.CSS(`#audit tr[data-id]`)))
	b.WantIn(`#audit`, "POST /api/v1/customers/import", "invalid", "admin")
	if nav := Eval[string](b, `[...document.querySelectorAll('[data-nav]')].filter((a) => !a.hidden).map((a) => a.dataset.nav).join(',')`); nav != "audit" {
		t.Errorf("an auditor's links: %q, want audit only", nav)
	}
	b.Do("verify", chromedp.Click(chromedp.CSS(`#verify`)), chromedp.WaitVisible(chromedp.CSS(`#verify-result`)))
	b.WantIn(`#audit-verify`, "全部哈希链完整", "320722", "完整")
	b.Shot("audit-1-auditor")

	// Filter by a user nobody is: nothing.
	b.Do("filter", chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name=user]`), "nobody"), chromedp.Click(chromedp.CSS(`#audit-filter button[type=submit]`)))
	b.WaitJS(`(document.querySelector('#audit tbody')||{}).textContent||''`, func(s string) bool { return strings.Contains(s, "没有符合条件的条目") }, "the filtered list to be empty")

	// Other pages are refused.
	b.ExpectRefusals(true)
	b.Hash("#/customers")
	b.WaitTitle("无法显示")
	b.WantIn(`#page-error`, "无权查看")
	b.ExpectRefusals(false)

	// An admin has the link beside the others.
	b.Do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.Login("admin", testcluster.AdminPassword)
	b.WaitTitle("客户") // the page the auditor was refused, now the admin's
	if nav := Eval[string](b, `[...document.querySelectorAll('[data-nav]')].filter((a) => !a.hidden).map((a) => a.dataset.nav).join(',')`); !strings.Contains(nav, "audit") || !strings.Contains(nav, "customers") {
		t.Errorf("an admin's links: %q, want customers and audit among them", nav)
	}
}
