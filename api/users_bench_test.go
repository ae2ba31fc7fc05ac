package api_test

import (
	"net/http/httptest"
	"testing"

	"gridcrm/internal/testcluster"
)

// BenchmarkAuthenticate measures the per-request cost of authentication
// (signature, lifetime, the user and its session read from the local
// replica) on the cheapest authenticated route, in process and without
// TCP: GET /api/v1/auth/me?consistency=stale on a one-node region.
func BenchmarkAuthenticate(b *testing.B) {
	c := testcluster.New(b, testcluster.Opts{Nodes: 1, Region: region})
	admin := adminOf(b, c, 0)
	h := shadow(c.Node(0), 0).Handler()
	req := httptest.NewRequest("GET", "/api/v1/auth/me?consistency=stale", nil)
	req.Header.Set("Authorization", admin.auth)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("GET /api/v1/auth/me: %d %s", rec.Code, rec.Body)
		}
	}
}
