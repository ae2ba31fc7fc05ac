package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAPI_BulletinsOnlyGenerated: the generic create, replace, patch and
// import routes refuse bulletins (a forged bulletin could carry any HTML,
// served from the API's origin), naming the generate route; delete stays;
// the HTML route is sandboxed.
func TestAPI_BulletinsOnlyGenerated(t *testing.T) {
	admin := newFake(t, region).admin(t)
	b := admin.must(201, "POST", "/api/v1/bulletins/generate", obj{"period": "2026-01"})
	id := b["id"].(string)
	forged := obj{"region": region, "period": "2026-02", "title": "forged", "html": "<script>alert(document.cookie)</script>", "pdf": "JVBERi0xLjQK"}
	before := admin.snapshot()
	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/v1/bulletins"},
		{"PUT", "/api/v1/bulletins/" + id},
		{"PATCH", "/api/v1/bulletins/" + id},
		{"POST", "/api/v1/bulletins/import"},
	} {
		body := obj(forged)
		if tc.method != "POST" {
			body = obj{"version": b["version"], "html": "<script>alert(1)</script>"}
		}
		st, out := admin.do(tc.method, tc.path, body)
		e := wantError(t, st, out, 405, "method_not_allowed", "")
		if !strings.Contains(e.Message, "POST /api/v1/bulletins/generate") {
			t.Errorf("%s %s: the error does not name the generate route: %s", tc.method, tc.path, out)
		}
	}
	admin.wantUnchanged(before)

	req, _ := http.NewRequestWithContext(context.Background(), "GET", admin.base+"/api/v1/bulletins/"+id+"/html", nil)
	req.Header.Set("Authorization", admin.auth)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET html: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "sandbox" {
		t.Errorf("Content-Security-Policy = %q, want sandbox", csp)
	}
	if n := resp.Header.Get("X-Content-Type-Options"); n != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", n)
	}

	st, out := admin.do("DELETE", "/api/v1/bulletins/"+id+"?version="+fmt.Sprint(b["version"]), nil)
	if st != 204 {
		t.Errorf("DELETE bulletin: %d %s", st, out)
	}
}
