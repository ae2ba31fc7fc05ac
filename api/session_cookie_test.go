package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gridcrm/internal/testcluster"
)

// browserClient talks to a server as the console's page does: a session
// cookie, and the headers a page's fetch sends.
type browserClient struct {
	t      testing.TB
	base   string
	http   *http.Client
	cookie *http.Cookie
	csrf   string
}

// send sends body (JSON when not nil) with the cookie and hdr.
func (b *browserClient) send(method, path string, body any, hdr map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// page are the headers a same-origin fetch of a write carries.
func (b *browserClient) page() map[string]string {
	return map[string]string{"X-CSRF-Token": b.csrf, "Origin": b.base, "Sec-Fetch-Site": "same-origin"}
}

// sessionCookieOf finds the session cookie a response sets, or nil.
func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == "gridcrm_session" || ck.Name == "__Host-gridcrm_session" {
			return ck
		}
	}
	return nil
}

// cookieLogin logs in as a browser does and checks the cookie's attributes.
func cookieLogin(t testing.TB, base string, hc *http.Client, user, password string) *browserClient {
	t.Helper()
	b := &browserClient{t: t, base: base, http: hc}
	resp, out := b.send("POST", "/api/v1/auth/login", obj{"username": user, "password": password, "cookie": true},
		map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 200 {
		t.Fatalf("cookie login of %s: %d %s", user, resp.StatusCode, out)
	}
	var ans map[string]any
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatal(err)
	}
	if _, ok := ans["token"]; ok {
		t.Errorf("a cookie login's answer holds the token, readable by the page's scripts: %s", out)
	}
	b.csrf, _ = ans["csrf_token"].(string)
	if b.csrf == "" {
		t.Fatalf("a cookie login answers no csrf_token: %s", out)
	}
	b.cookie = sessionCookieOf(resp)
	if b.cookie == nil {
		t.Fatalf("a cookie login sets no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	raw := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(raw, want) {
			t.Errorf("session cookie %q lacks %s", raw, want)
		}
	}
	if strings.Contains(string(out), b.cookie.Value) {
		t.Errorf("the login's body repeats the cookie's token")
	}
	return b
}

// TestSessionCookie: the console's browser session. A cookie login sets an
// HttpOnly, SameSite=Strict cookie and answers a CSRF token, not the token;
// reads pass with the cookie alone; a write needs the CSRF token (403
// naming X-CSRF-Token without or with a wrong one) and a same-origin
// Origin and Sec-Fetch-Site (403 naming them), and creates nothing when
// refused; bearer clients are unaffected; a cookie login from another site
// is refused; logout clears the cookie and ends the session; a password
// change (the user's own or an admin's) ends it too.
func TestSessionCookie(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	addUsers(t, admin, map[string]string{"vesna": "agent"})
	hc := &http.Client{Timeout: testcluster.RequestTimeout}
	b := cookieLogin(t, f.url, hc, "vesna", userPassword)

	if resp, out := b.send("GET", "/api/v1/auth/me", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(out), `"vesna"`) {
		t.Fatalf("read with the cookie: %d %s", resp.StatusCode, out)
	}
	resp, out := b.send("GET", "/api/v1/auth/session", nil, nil)
	var sess map[string]any
	_ = json.Unmarshal(out, &sess)
	if resp.StatusCode != 200 || sess["via"] != "cookie" || sess["csrf_token"] != b.csrf {
		t.Fatalf("GET /auth/session with the cookie: %d %s (want via cookie and the login's csrf_token)", resp.StatusCode, out)
	}
	if _, ok := sess["token"]; ok {
		t.Errorf("GET /auth/session answers the token: %s", out)
	}
	if st, out := admin.do("GET", "/api/v1/auth/session", nil); st != 200 || strings.Contains(string(out), "csrf_token") || !strings.Contains(string(out), `"bearer"`) {
		t.Errorf("GET /auth/session with a bearer token: %d %s (want via bearer, no csrf_token)", st, out)
	}

	before := admin.count("customers")
	refused := func(what string, hdr map[string]string, field string) {
		t.Helper()
		resp, out := b.send("POST", "/api/v1/customers", customerBody("CK-"+field), hdr)
		wantError(t, resp.StatusCode, out, 403, "forbidden", field)
		if n := admin.count("customers"); n != before {
			t.Fatalf("%s: refused, yet customers went from %d to %d", what, before, n)
		}
	}
	without := func(k string) map[string]string { h := b.page(); delete(h, k); return h }
	with := func(k, v string) map[string]string { h := b.page(); h[k] = v; return h }
	refused("a write without the CSRF header", without("X-CSRF-Token"), "X-CSRF-Token")
	refused("a write with another CSRF token", with("X-CSRF-Token", strings.Repeat("A", len(b.csrf))), "X-CSRF-Token")
	refused("a write from another site's page (Origin)", with("Origin", "http://evil.example"), "Origin")
	refused("a write from another port of the host (Origin)", with("Origin", strings.TrimSuffix(f.url, f.url[strings.LastIndex(f.url, ":"):])+":1"), "Origin")
	refused("a write from an opaque origin", with("Origin", "null"), "Origin")
	refused("a write from another site (Sec-Fetch-Site)", with("Sec-Fetch-Site", "cross-site"), "Sec-Fetch-Site")
	refused("a write from a sibling site", with("Sec-Fetch-Site", "same-site"), "Sec-Fetch-Site")
	for _, m := range []string{"PATCH", "DELETE"} {
		resp, out := b.send(m, "/api/v1/customers/cus_x", obj{"name": "x"}, without("X-CSRF-Token"))
		wantError(t, resp.StatusCode, out, 403, "forbidden", "X-CSRF-Token")
	}
	if resp, out := b.send("POST", "/api/v1/customers", customerBody("CK-OK"), b.page()); resp.StatusCode != 201 {
		t.Fatalf("a write from the console's page (cookie, CSRF token, same origin): %d %s", resp.StatusCode, out)
	}
	// Bearer clients send no CSRF token and may name any origin.
	hdrOnly := client{t: t, base: f.url, auth: admin.auth}
	if st, out := hdrOnly.do("POST", "/api/v1/customers", customerBody("CK-BEARER")); st != 201 {
		t.Fatalf("a bearer write without a CSRF token: %d %s", st, out)
	}

	// A cookie login from another site's page.
	evil := &browserClient{t: t, base: f.url, http: hc}
	resp, out = evil.send("POST", "/api/v1/auth/login", obj{"username": "vesna", "password": userPassword, "cookie": true},
		map[string]string{"Origin": "http://evil.example"})
	wantError(t, resp.StatusCode, out, 403, "forbidden", "Origin")
	if sessionCookieOf(resp) != nil {
		t.Errorf("a refused login set a cookie")
	}

	t.Run("logout ends it", func(t *testing.T) {
		b := cookieLogin(t, f.url, hc, "vesna", userPassword)
		resp, out := b.send("POST", "/api/v1/auth/logout", nil, without("X-CSRF-Token"))
		wantError(t, resp.StatusCode, out, 403, "forbidden", "X-CSRF-Token") // a site cannot log the user out either
		b.csrf = cookieCSRF(t, b)
		resp, out = b.send("POST", "/api/v1/auth/logout", nil, b.page())
		if resp.StatusCode != 204 {
			t.Fatalf("logout: %d %s", resp.StatusCode, out)
		}
		if ck := sessionCookieOf(resp); ck == nil || ck.MaxAge >= 0 || ck.Value != "" {
			t.Errorf("logout does not clear the cookie: %v", resp.Header.Values("Set-Cookie"))
		}
		resp, out = b.send("GET", "/api/v1/auth/me", nil, nil)
		wantError(t, resp.StatusCode, out, 401, "invalid_token", "")
		if ck := sessionCookieOf(resp); ck == nil || ck.MaxAge >= 0 {
			t.Errorf("a dead session's cookie is not cleared: %v", resp.Header.Values("Set-Cookie"))
		}
	})

	t.Run("own password change ends it and starts a new cookie session", func(t *testing.T) {
		old := cookieLogin(t, f.url, hc, "vesna", userPassword)
		resp, out := old.send("POST", "/api/v1/auth/password", obj{"old_password": userPassword, "password": "Harbour-violet-77"}, old.page())
		if resp.StatusCode != 200 {
			t.Fatalf("password change: %d %s", resp.StatusCode, out)
		}
		next := &browserClient{t: t, base: f.url, http: hc, cookie: sessionCookieOf(resp)}
		var ans map[string]any
		_ = json.Unmarshal(out, &ans)
		next.csrf, _ = ans["csrf_token"].(string)
		if next.cookie == nil || next.csrf == "" || ans["token"] != nil {
			t.Fatalf("a cookie session's password change answers no new cookie and CSRF token (or the token): %s %v", out, resp.Header.Values("Set-Cookie"))
		}
		resp, out = old.send("GET", "/api/v1/auth/me", nil, nil)
		wantError(t, resp.StatusCode, out, 401, "invalid_token", "")
		if resp, out := next.send("GET", "/api/v1/auth/me", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("the new cookie: %d %s", resp.StatusCode, out)
		}
		// An admin's password change ends the new one.
		id := admin.must(200, "GET", "/api/v1/users?username=vesna", nil)["items"].([]any)[0].(map[string]any)
		admin.must(200, "PATCH", "/api/v1/users/"+id["id"].(string), obj{"password": userPassword, "version": id["version"]})
		resp, out = next.send("GET", "/api/v1/auth/me", nil, nil)
		wantError(t, resp.StatusCode, out, 401, "invalid_token", "")
	})

	t.Run("over TLS the cookie is Secure and __Host-", func(t *testing.T) {
		ts := httptest.NewTLSServer(f.srv.Handler())
		defer ts.Close()
		b := cookieLogin(t, ts.URL, ts.Client(), "admin", testcluster.AdminPassword)
		if b.cookie.Name != "__Host-gridcrm_session" || !b.cookie.Secure {
			t.Errorf("session cookie over TLS: %s secure=%v, want __Host-gridcrm_session and Secure", b.cookie.Name, b.cookie.Secure)
		}
		if resp, out := b.send("GET", "/api/v1/auth/me", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("read over TLS with the cookie: %d %s", resp.StatusCode, out)
		}
		// A __Host- cookie is only honoured over TLS.
		plain := &browserClient{t: t, base: f.url, http: hc, cookie: b.cookie}
		resp, out := plain.send("GET", "/api/v1/auth/me", nil, nil)
		wantError(t, resp.StatusCode, out, 401, "unauthenticated", "")
	})
}

// cookieCSRF reads the session's CSRF token as the console does after a reload.
func cookieCSRF(t testing.TB, b *browserClient) string {
	t.Helper()
	resp, out := b.send("GET", "/api/v1/auth/session", nil, nil)
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &s) != nil || s.CSRF == "" {
		t.Fatalf("GET /auth/session: %d %s", resp.StatusCode, out)
	}
	return s.CSRF
}
