// Package console is the web console every tier serves: a framework-free,
// Chinese (zh-CN) single page under /console/ on the node's public API
// listener, with Apache ECharts vendored (static/vendor, pinned and checked
// by scripts/console-assets.sh) and everything embedded with go:embed.
//
// It holds no data and no authority of its own. The page logs in with
// POST /api/v1/auth/login {"cookie": true}: the session's token lives in
// an HttpOnly, SameSite=Strict cookie no script can read, and the page
// keeps only the session's CSRF token (in memory), which it sends in
// X-CSRF-Token with every write (api/session_cookie.go checks it, and the
// request's Origin and Sec-Fetch-Site). It reads the same /api/v1 routes a
// curl user would, so the user's role and region scope are the API's (a
// county user's console cannot read a sibling county because the API
// refuses it). The Content Security Policy allows scripts from the node
// only (no inline scripts), and the page builds the DOM with textContent,
// never innerHTML on data, so a user-supplied string renders as text.
// Tables export to Excel through GC.exportButton (GET /api/v1/export.xlsx,
// api/export.go).
//
// What a page shows comes from materialised aggregates and indexes (for
// the overview, GET /api/v1/stats/overview in api/console.go); the console
// never asks the node for a scan of the subtree's records.
//
// It is not a design system or a build pipeline: one HTML file, one
// script, one stylesheet, so a Go developer can change a page. The browser
// test (browser_test.go, chromedp against Debian's chromium) drives it on
// a three-tier test hierarchy and skips where chromium is missing.
package console
