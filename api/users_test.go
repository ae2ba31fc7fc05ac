package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// wantNoSecret fails when an answer carries a password or its hash.
func wantNoSecret(t testing.TB, what string, body []byte) {
	t.Helper()
	for _, s := range []string{"password_hash", `"password"`, "$2a$", "$2b$", "$2y$"} {
		if strings.Contains(string(body), s) {
			t.Errorf("%s leaks %q: %s", what, s, body)
		}
	}
}

// TestAPI_Users checks that no users answer carries a password hash, that a
// wrong password is refused, and that a password change or disabling a
// user ends its session.
func TestAPI_Users(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)

	st, out := admin.do("POST", "/api/v1/users", obj{"username": "ursula", "display_name": "Ursula", "role": "agent", "password": "Umbra-lantern-1"})
	if st != 201 {
		t.Fatalf("create user: %d %s", st, out)
	}
	wantNoSecret(t, "POST /api/v1/users", out)
	id := admin.must(200, "GET", "/api/v1/users?username=ursula", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	st, out = client{base: admin.base}.do("POST", "/api/v1/auth/login", obj{"username": "ursula", "password": "Umbra-lantern-1"})
	var ans struct{ Token string }
	if st != 200 || json.Unmarshal(out, &ans) != nil || ans.Token == "" {
		t.Fatalf("login: %d %s", st, out)
	}
	wantNoSecret(t, "POST /api/v1/auth/login", out)
	ursula := client{t: t, base: admin.base}.asToken(ans.Token)

	t.Run("no answer carries the hash", func(t *testing.T) {
		reads := []struct {
			who  client
			path string
		}{
			{admin, "/api/v1/users/" + id},
			{admin, "/api/v1/users"},
			{admin, "/api/v1/users?role=agent"},
			{admin, "/api/v1/users?limit=1"},
			{admin, "/api/v1/users?consistency=stale"},
			{admin, "/api/v1/auth/me"},
			{ursula, "/api/v1/auth/me"},
		}
		for _, r := range reads {
			st, out := r.who.do("GET", r.path, nil)
			if st != 200 {
				t.Errorf("GET %s: %d %s", r.path, st, out)
			}
			wantNoSecret(t, "GET "+r.path, out)
		}
		st, out := admin.do("PATCH", "/api/v1/users/"+id, obj{"version": 1, "display_name": "Ursula U."})
		if st != 200 {
			t.Fatalf("PATCH display_name: %d %s", st, out)
		}
		wantNoSecret(t, "PATCH /api/v1/users/{id}", out)
	})

	t.Run("password change", func(t *testing.T) {
		v := admin.on(t).must(200, "GET", "/api/v1/users/"+id, nil)["version"]
		st, out := admin.do("PATCH", "/api/v1/users/"+id, obj{"version": v, "password": "Umbra-lantern-2"})
		if st != 200 {
			t.Fatalf("PATCH password: %d %s", st, out)
		}
		wantNoSecret(t, "PATCH password", out)
		// The change ended ursula's session; she logs in with the new one.
		st, out = ursula.on(t).do("GET", "/api/v1/auth/me", nil)
		wantError(t, st, out, 401, "invalid_token", "")
		ursula = login(t, admin.base, "ursula", "Umbra-lantern-2")
	})

	t.Run("wrong password", func(t *testing.T) {
		anon := client{t: t, base: admin.base}
		for _, body := range []obj{
			{"username": "ursula", "password": "Umbra-lantern-1"}, // the old one
			{"username": "nobody", "password": "Umbra-lantern-1"},
		} {
			st, out := anon.do("POST", "/api/v1/auth/login", body)
			wantError(t, st, out, 401, "bad_credentials", "")
		}
	})

	t.Run("disabled user's token stops working", func(t *testing.T) {
		u := ursula.on(t)
		u.must(200, "GET", "/api/v1/auth/me", nil)
		v := admin.on(t).must(200, "GET", "/api/v1/users/"+id, nil)["version"]
		st, out := admin.do("PATCH", "/api/v1/users/"+id, obj{"version": v, "disabled": true})
		if st != 200 {
			t.Fatalf("disable: %d %s", st, out)
		}
		wantNoSecret(t, "PATCH disabled", out)
		for _, p := range []string{"/api/v1/auth/me", "/api/v1/customers"} {
			st, out := u.do("GET", p, nil)
			wantError(t, st, out, 401, "invalid_token", "")
		}
		st, out = client{base: admin.base}.do("POST", "/api/v1/auth/login", obj{"username": "ursula", "password": "Umbra-lantern-2"})
		wantError(t, st, out, 401, "bad_credentials", "")
	})
}
