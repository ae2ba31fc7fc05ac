package api_test

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gridcrm/api"
)

// route is one served method and path, in OpenAPI syntax ({id}).
type route struct{ method, path string }

func (r route) String() string { return r.method + " " + r.path }

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// servedRoutes lists what the router serves, from (*api.Server).Routes() of
// srv (built as a node builds its own: over a node, or a fake backend).
func servedRoutes(t testing.TB, srv *api.Server) []route {
	t.Helper()
	var out []route
	for _, r := range srv.Routes() {
		method, path, ok := strings.Cut(r, " ")
		if !ok {
			t.Fatalf("Routes() answered %q, not \"METHOD /path\"", r)
		}
		out = append(out, route{method, ginParam.ReplaceAllString(path, "{$1}")})
	}
	if len(out) == 0 {
		t.Fatal("the router serves no routes")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// The role contract, written out here rather than read from auth.go so that
// a change to either side shows up as a failure.
var (
	everyone      = []string{"admin", "manager", "agent", "analyst", "auditor"} // every role: TestAPI_Auth tries each on every route
	readers       = []string{"admin", "manager", "agent", "analyst"}            // reads of the domain: every role but the auditor
	auditors      = []string{"admin", "auditor"}                                // the audit trail
	adminOnly     = []string{"admin"}
	recordWriters = map[string][]string{
		"customers":    {"admin", "manager", "agent"},
		"bills":        {"admin", "manager", "agent"},
		"contacts":     {"admin", "manager", "agent"},
		"interactions": {"admin", "manager", "agent"},
		"staff":        {"admin", "manager"},
		"directives":   {"admin", "manager"},
		"users":        adminOnly,
		"projects":     {"admin", "manager", "agent"},
		"work_orders":  {"admin", "manager", "agent"},
		"outages":      {"admin", "manager"},
		// big-customer management
		"key_projects":     {"admin", "manager", "agent"},
		"gold_assignments": {"admin", "manager"},
		"service_plans":    {"admin", "manager", "agent"},
		"service_memos":    {"admin", "manager", "agent"},
		"bulletins":        {"admin", "manager"},
		"backoffice_teams": {"admin", "manager"},
		"service_requests": {"admin", "manager", "agent"},
		"pool_entries":     {"admin", "manager"},
		"grid_plans":       {"admin", "manager"},
		"vip_services":     {"admin", "manager", "agent"},
		// analytics: grades are written by the grade run only
		"credit_grades": {"admin", "manager"},
		"warning_acks":  {"admin", "manager", "agent"},
		// 违约用电 and 窃电 records, read by the credit grade
		"violations": {"admin", "manager", "agent"},
		// 减容 and 暂停 records, read by the churn risk
		"capacity_changes": {"admin", "manager", "agent"},
		// warnings are written by the warning run only
		"consumption_warnings": {"admin", "manager"},
		"analytics_runs":       {"admin"},
		"customer_trends":      {"admin", "manager"},
	}
)

// public reports whether a route answers without a token.
func public(r route) bool {
	switch r.String() {
	case "GET /healthz", "GET /readyz", "POST /api/v1/auth/login",
		"GET /api/v1/auth/session",                     // session_cookie.go: {"authenticated": false} without a credential
		"GET /", "GET /console", "GET /console/{file}": // the console's files hold no data
		return true
	}
	return false
}

// allowedRoles answers the roles that may use r; ok is false for a route
// the contract does not know (a new route needs a line here).
func allowedRoles(r route) (roles []string, ok bool) {
	switch r.String() {
	case "POST /api/v1/auth/logout", "POST /api/v1/auth/password", "GET /api/v1/openapi.json", "GET /api/v1/auth/me":
		return everyone, true // the auditor too: its own session
	case "GET /metrics", "GET /api/v1/cluster", "GET /api/v1/sync/status", "GET /api/v1/stats/summary", "GET /api/v1/stats/overview",
		"GET /api/v1/regions", "GET /api/v1/regions/{code}", "GET /api/v1/conflicts", "GET /api/v1/commands", "GET /api/v1/commands/{id}":
		return readers, true
	case "POST /api/v1/cluster/nodes", "DELETE /api/v1/cluster/nodes/{id}", "PUT /api/v1/regions/{code}/management", "POST /api/v1/conflicts/resolve":
		return adminOnly, true
	case "GET /api/v1/auth/keys", "POST /api/v1/auth/keys/rotate":
		return adminOnly, true
	case "GET /api/v1/audit", "GET /api/v1/audit/export", "GET /api/v1/audit/verify": // audit.go
		return auditors, true
	case "GET /api/v1/ops/regions":
		return readers, true
	case "GET /api/v1/ops/backup", "GET /api/v1/ops/log-level", "PUT /api/v1/ops/log-level":
		return adminOnly, true
	case "GET /api/v1/management": // console_manage.go
		return adminOnly, true
	case "GET /api/v1/export.xlsx": // export.go: the list route it runs checks the roles again
		return readers, true
	case "GET /api/v1/export/{collection}": // warehouse.go: the collection's read roles again (users: admins)
		return readers, true
	case "GET /api/v1/supervision", "GET /api/v1/supervision/warnings",
		"GET /api/v1/kpi/projects", "GET /api/v1/kpi/work_orders", "GET /api/v1/kpi/outages":
		return readers, true
	// big-customer reports: everyone reads; bulletin generation and grid
	// division are the collections' writers' (below, by path).
	case "GET /api/v1/classification", "GET /api/v1/reports/pareto":
		return readers, true
	// analytics: everyone reads; the grade run is the grades' writers'.
	case "GET /api/v1/forecast/demand", "GET /api/v1/credit/distribution", "GET /api/v1/warnings/abnormal", "GET /api/v1/warnings/churn",
		"GET /api/v1/analysis/tariff", "GET /api/v1/analysis/market", "GET /api/v1/analysis/customers",
		"GET /api/v1/analysis/tariff/effect", "GET /api/v1/analysis/market/top", "GET /api/v1/analysis/capacity":
		return readers, true
	case "POST /api/v1/credit/grades/run":
		return recordWriters["credit_grades"], true
	case "POST /api/v1/warnings/run":
		return recordWriters["consumption_warnings"], true
	}
	rest, ok := strings.CutPrefix(r.path, "/api/v1/")
	if !ok {
		return nil, false
	}
	coll, _, _ := strings.Cut(rest, "/")
	writers, ok := recordWriters[coll]
	if !ok {
		return nil, false
	}
	if coll == "users" {
		return adminOnly, true // users are read by admins only
	}
	if r.method == "GET" {
		return readers, true
	}
	return writers, true
}

// collectionOf answers the collection whose {id} a path holds, or "".
func collectionOf(path string) string {
	rest, _ := strings.CutPrefix(path, "/api/v1/")
	coll, _, _ := strings.Cut(rest, "/")
	if _, ok := recordWriters[coll]; ok {
		return coll
	}
	return ""
}

// concrete fills in a route's {id} with a real id of the right collection.
// A DELETE carries a stale version so that a role that may delete gets a
// 409 and the record stays for the next role.
func concrete(t testing.TB, r route, s seeds) string {
	t.Helper()
	if !strings.Contains(r.path, "{id}") {
		return r.path
	}
	if strings.HasPrefix(r.path, "/api/v1/cluster/nodes/") {
		return strings.Replace(r.path, "{id}", "no-such-node", 1)
	}
	if strings.HasPrefix(r.path, "/api/v1/commands/") { // a 404 still proves the role passed
		return strings.Replace(r.path, "{id}", "cmd_00000000000000000000000000", 1)
	}
	coll := collectionOf(r.path)
	id := s.ids[coll]
	if id == "" {
		t.Fatalf("no seeded id for %s", r)
	}
	p := strings.Replace(r.path, "{id}", id, 1)
	if r.method == "DELETE" {
		p += "?version=999999"
	}
	return p
}

func bodyFor(r route) any {
	if r.method == "GET" || r.method == "DELETE" {
		return nil
	}
	return "{}"
}

// diffRoutes answers the routes of a missing from b.
func diffRoutes(a, b []route) []route {
	var out []route
	for _, r := range a {
		if !slices.Contains(b, r) {
			out = append(out, r)
		}
	}
	return out
}
