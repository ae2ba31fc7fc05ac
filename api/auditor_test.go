package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAudit_AuditorRole: an auditor reads, exports and verifies the audit
// trail of its region's subtree, and nothing else: not another region's
// trail, not the domain's records, no write; its own session it may use.
// (TestAPI_Auth holds the role on every route.)
func TestAudit_AuditorRole(t *testing.T) {
	f := newFake(t, "3207") // a city: its subtree holds its counties
	admin := f.admin(t)
	admin.create("customers", customerBody("AUD-1").with("region", "3207"))
	aud := addUsers(t, admin, map[string]string{"aud": "auditor"})["aud"]

	if me := aud.must(200, "GET", "/api/v1/auth/me", nil); me["role"] != "auditor" {
		t.Fatalf("me: %v", me)
	}
	for _, p := range []string{"/api/v1/audit", "/api/v1/audit?region=320722", "/api/v1/audit?user=admin&collection=customers",
		"/api/v1/audit/verify", "/api/v1/audit/verify?region=320722", "/api/v1/audit/export", "/api/v1/audit/export?format=csv"} {
		if st, out := aud.do("GET", p, nil); st != 200 {
			t.Errorf("auditor GET %s: %d %s", p, st, out)
		}
	}
	// The admin's create is in the trail the auditor reads.
	var page struct{ Items []map[string]any }
	if st, out := aud.do("GET", "/api/v1/audit?user=admin&collection=customers", nil); st != 200 || json.Unmarshal(out, &page) != nil || len(page.Items) == 0 {
		t.Errorf("the auditor does not see the admin's create: %d %s", st, out)
	}
	var v struct{ OK bool }
	if st, out := aud.do("GET", "/api/v1/audit/verify", nil); st != 200 || json.Unmarshal(out, &v) != nil || !v.OK {
		t.Errorf("verify: %d %s", st, out)
	}
	// Another region's trail: a sibling city, the province above.
	for _, p := range []string{"/api/v1/audit?region=3208", "/api/v1/audit?region=32", "/api/v1/audit/verify?region=3208", "/api/v1/audit/export?region=32"} {
		st, out := aud.do("GET", p, nil)
		wantError(t, st, out, 403, "forbidden", "region")
	}
	// Nothing of the domain, nothing that writes.
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/customers", nil},
		{"GET", "/api/v1/users", nil},
		{"GET", "/api/v1/stats/summary", nil},
		{"POST", "/api/v1/customers", customerBody("AUD-2").with("region", "3207")},
		{"POST", "/api/v1/users", obj{"username": "x2", "role": "admin", "password": userPassword}},
		{"GET", "/api/v1/ops/backup", nil},
		{"PUT", "/api/v1/regions/320722/management", obj{"mode": "full"}},
	} {
		st, out := aud.do(r.method, r.path, r.body)
		if e := wantError(t, st, out, 403, "forbidden", ""); !strings.Contains(e.Message, `role "auditor"`) {
			t.Errorf("%s %s: %s", r.method, r.path, e.Message)
		}
	}
	// Its own session: a logout ends it.
	aud.must(204, "POST", "/api/v1/auth/logout", nil)
	if st, _ := aud.do("GET", "/api/v1/audit", nil); st != 401 {
		t.Errorf("after logout: %d", st)
	}
}
