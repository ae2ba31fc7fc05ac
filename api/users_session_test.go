package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/api"
)

// TestSession_EndsOnEveryNode: a token names a session kept in the
// region's replicated state. Logout, an admin ending sessions, a password
// change (by an admin or the user), a role change, a disable and a delete
// end the sessions at once on every node; a lock holds on every node; a
// token claiming a longer life than the server allows is refused. Before,
// a token lived out its exp whatever happened: there was no logout, and a
// password change left old tokens valid for 12 hours.
func TestSession_EndsOnEveryNode(t *testing.T) {
	c := newCluster(t, 3)
	admin := adminOf(t, c, 0)
	at := func(cl client, i int) client { cl.base = c.Node(i).APIURL(); return cl }
	id := admin.create("users", obj{"username": "vera", "role": "agent", "password": userPassword})
	pw := userPassword

	// works and ended check a token on every node: GET /auth/me passes
	// the read barrier, so an ending acknowledged anywhere holds here.
	works := func(t *testing.T, cl client, what string) {
		t.Helper()
		for i := range 3 {
			if st, out := at(cl, i).do("GET", "/api/v1/auth/me", nil); st != 200 {
				t.Fatalf("%s on node %d: %d %s", what, i, st, out)
			}
		}
	}
	ended := func(t *testing.T, cl client, what string) {
		t.Helper()
		for i := range 3 {
			st, out := at(cl, i).do("GET", "/api/v1/auth/me", nil)
			wantError(t, st, out, 401, "invalid_token", "")
			if st == 200 {
				t.Fatalf("%s: node %d still honours the token", what, i)
			}
		}
	}
	loginAt := func(t *testing.T, i int) client { return login(t, c.Node(i).APIURL(), "vera", pw) }

	t.Run("logout", func(t *testing.T) {
		a, b := loginAt(t, 0), loginAt(t, 1)
		works(t, a, "a fresh token")
		if st, out := a.do("POST", "/api/v1/auth/logout", nil); st != 204 {
			t.Fatalf("logout: %d %s", st, out)
		}
		ended(t, a, "after logout")
		works(t, b, "another session of the same user")
		st, out := at(a, 2).do("POST", "/api/v1/auth/logout", nil)
		wantError(t, st, out, 401, "invalid_token", "")
	})

	t.Run("an admin lists and ends sessions", func(t *testing.T) {
		a, b := loginAt(t, 1), loginAt(t, 2)
		list := at(admin, 2).on(t).must(200, "GET", "/api/v1/users/"+id+"/sessions", nil)
		sid := tokenClaims(t, a.token())["sid"].(string)
		var found bool
		for _, s := range list["sessions"].([]any) {
			s := s.(map[string]any)
			if s["id"] == sid {
				found = true
				if s["source"] != "127.0.0.1" || s["node"] != "n2" || s["expires_at"] == nil {
					t.Errorf("session as listed: %v", s)
				}
			}
		}
		if raw, _ := json.Marshal(list); !found || strings.Contains(string(raw), "token") {
			t.Fatalf("session %s not listed (or a token leaked): %v", sid, list)
		}
		if st, out := at(admin, 1).do("DELETE", "/api/v1/users/"+id+"/sessions/"+sid, nil); st != 204 {
			t.Fatalf("end one session: %d %s", st, out)
		}
		ended(t, a, "a session an admin ended")
		works(t, b, "the other session")
		if got := admin.on(t).must(200, "DELETE", "/api/v1/users/"+id+"/sessions", nil)["ended"]; got.(float64) < 2 {
			t.Errorf("ending all answered ended=%v; want at least 2 (b and the one from the logout test)", got)
		}
		ended(t, b, "after an admin ended them all")
	})

	t.Run("an admin sets a new password", func(t *testing.T) {
		a := loginAt(t, 1)
		v := admin.on(t).must(200, "GET", "/api/v1/users/"+id, nil)["version"]
		pw = "Harbour-lantern-8"
		admin.on(t).must(200, "PATCH", "/api/v1/users/"+id, obj{"version": v, "password": pw})
		ended(t, a, "after a password reset")
	})

	t.Run("the user changes their password", func(t *testing.T) {
		a, b := loginAt(t, 1), loginAt(t, 2)
		ans := a.on(t).must(200, "POST", "/api/v1/auth/password", obj{"old_password": pw, "password": "Meadow-lantern-9"})
		old := pw
		pw = "Meadow-lantern-9"
		ended(t, a, "the token that changed the password")
		ended(t, b, "another session after the password change")
		works(t, a.asToken(ans["token"].(string)), "the token the change answered")
		if a := tryLogin(c.Node(0).APIURL(), "vera", old); a.status != 401 {
			t.Errorf("the old password: %d %s", a.status, a.body)
		}
	})

	t.Run("a role change", func(t *testing.T) {
		a := loginAt(t, 2)
		v := admin.on(t).must(200, "GET", "/api/v1/users/"+id, nil)["version"]
		admin.on(t).must(200, "PATCH", "/api/v1/users/"+id, obj{"version": v, "role": "analyst"})
		ended(t, a, "after a role change")
	})

	t.Run("a disable, then enabled again", func(t *testing.T) {
		a := loginAt(t, 0)
		v := admin.on(t).must(200, "GET", "/api/v1/users/"+id, nil)["version"].(float64)
		admin.on(t).must(200, "PATCH", "/api/v1/users/"+id, obj{"version": v, "disabled": true})
		admin.on(t).must(200, "PATCH", "/api/v1/users/"+id, obj{"version": v + 1, "disabled": false})
		ended(t, a, "after a disable and re-enable")
	})

	t.Run("a lock holds on every node", func(t *testing.T) {
		ps := newPolicyServer(t, c.Node(0), func(cfg *api.Config) {
			cfg.Logins = api.LoginPolicy{UserFreeFailures: 100, LockAfter: 2, LockFor: time.Hour}
		})
		for range 2 {
			if a := tryLogin(ps.URL, "vera", "Wrong-guess-z"); a.status != 401 {
				t.Fatalf("wrong password: %d %s", a.status, a.body)
			}
		}
		for i := range 3 {
			if a := tryLogin(c.Node(i).APIURL(), "vera", pw); a.status != 429 || a.code != "account_locked" || a.retryAfter < 1 {
				t.Errorf("the right password at node %d while locked: %d, Retry-After %d: %s", i, a.status, a.retryAfter, a.body)
			}
		}
		at(admin, 2).on(t).must(200, "POST", "/api/v1/users/"+id+"/unlock", nil)
		works(t, loginAt(t, 1), "a login after the unlock")
	})

	t.Run("a token longer-lived than the server allows", func(t *testing.T) {
		ps := newPolicyServer(t, c.Node(0), func(cfg *api.Config) { cfg.TokenTTL = 10 * 365 * 24 * time.Hour })
		a := tryLogin(ps.URL, "vera", pw)
		if a.status != 200 {
			t.Fatalf("login through a server with 10-year tokens: %d %s", a.status, a.body)
		}
		for i := range 3 {
			st, out := at(admin, i).asToken(a.token).do("GET", "/api/v1/auth/me", nil)
			if e := wantError(t, st, out, 401, "invalid_token", ""); !strings.Contains(e.Message, "longer than") {
				t.Errorf("node %d: %s", i, out)
			}
		}
	})

	t.Run("a delete", func(t *testing.T) {
		a := loginAt(t, 2)
		if st, out := admin.do("DELETE", "/api/v1/users/"+id, nil); st != 204 {
			t.Fatalf("delete: %d %s", st, out)
		}
		ended(t, a, "after the user was deleted")
	})
}
