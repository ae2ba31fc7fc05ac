package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAPI_Auth checks authentication and the role table on every route the
// router serves: without a token, with a malformed, tampered or expired one,
// and as each role.
func TestAPI_Auth(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	s := seed(admin)
	routes := servedRoutes(t, f.shadow(0))

	// One user per role, named after it; admin is the bootstrap admin.
	as := addUsers(t, admin, map[string]string{"manager": "manager", "agent": "agent", "analyst": "analyst", "auditor": "auditor"})
	as["admin"] = admin

	// Bad credentials, each with the code it must answer.
	expired := expiredToken(t, f.shadow(time.Nanosecond))
	adminClaims := tokenClaims(t, admin.token())
	badAuth := []struct {
		name, header, code string
	}{
		{"no Authorization", "", "unauthenticated"},
		{"Basic scheme", "Basic YWRtaW46eA==", "unauthenticated"},
		{"Bearer without token", "Bearer ", "unauthenticated"},
		{"Bearer garbage", "Bearer garbage", "invalid_token"},
		{"garbage with a dot", "Bearer garbage.garbage", "invalid_token"},
		{"tampered expiry", "Bearer " + tamper(t, admin.token(), "exp", time.Now().Add(48*time.Hour).Unix()), "invalid_token"},
		{"analyst posing as admin", "Bearer " + tamper(t, tamper(t, as["analyst"].token(), "uid", adminClaims["uid"]), "sub", "admin"), "invalid_token"},
		{"expired", "Bearer " + expired, "token_expired"},
	}

	t.Run("public routes need no token", func(t *testing.T) {
		for _, h := range []string{"", "Bearer garbage", "Bearer " + expired} {
			anon := admin.asHeader(h).on(t)
			for _, p := range []string{"/healthz", "/readyz"} {
				if st, out := anon.do("GET", p, nil); st != 200 {
					t.Errorf("GET %s with Authorization %q: %d %s", p, h, st, out)
				}
			}
			// Login is public: an empty one is judged on its body. (A
			// real login costs a bcrypt hash; adminOf and addUsers log in
			// without a token.)
			st, out := anon.do("POST", "/api/v1/auth/login", obj{})
			wantError(t, st, out, 400, "invalid", "username")
		}
	})

	// Logout ends each role's session: it goes last.
	logout := route{"POST", "/api/v1/auth/logout"}
	if i := slices.Index(routes, logout); i >= 0 {
		routes = append(slices.Delete(routes, i, i+1), logout)
	}
	for _, r := range routes {
		if public(r) {
			continue
		}
		allowed, known := allowedRoles(r)
		t.Run(r.String(), func(t *testing.T) {
			if !known {
				t.Fatalf("%s is served but not in the role contract (allowedRoles)", r)
			}
			path, body := concrete(t, r, s), bodyFor(r)
			for _, b := range badAuth {
				cl := admin.asHeader(b.header)
				st, out := cl.do(r.method, path, body)
				t.Run(b.name, func(t *testing.T) { wantError(t, st, out, 401, b.code, "") })
			}
			for _, role := range everyone {
				st, out := as[role].do(r.method, path, body)
				if slices.Contains(allowed, role) {
					if st == 401 || st == 403 || st == 405 || st == 404 && strings.Contains(string(out), `"no_route"`) {
						t.Errorf("role %s may use it but got %d %s", role, st, out)
					}
					continue
				}
				t.Run("role "+role, func(t *testing.T) { wantError(t, st, out, 403, "forbidden", "") })
			}
		})
	}
}
