package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// Browser sessions (the web console). A login that asks for a cookie
// ({"cookie": true}) answers the session's token in an HttpOnly,
// SameSite=Strict cookie (Secure, and named with the __Host- prefix, over
// TLS) instead of in its body, so no script of the page can read it. The
// token is the same signed token a bearer client gets, naming the same
// replicated session: a logout, a password or role change or an admin
// ending the session ends it alike.
//
// A request that authenticates with the cookie and is not a read (GET,
// HEAD, OPTIONS) must also show that the page sent it:
//   - the X-CSRF-Token header holds the session's CSRF token, which the
//     login's answer (and GET /api/v1/auth/session's) gives the page
//     (a synchronizer token derived from the session's token, so every node
//     of the region checks it without state of its own);
//   - an Origin header, when sent, names this server's host (and port),
//     and a Sec-Fetch-Site header, when sent, says same-origin.
//
// Each refusal is a 403 naming the header. Requests with an Authorization
// header (the CLI, scripts) are not affected: a site cannot make a browser
// send one.
const (
	// SessionCookie names the session cookie over plain HTTP;
	// SessionCookieTLS over TLS (the __Host- prefix binds it to this host,
	// path / and Secure).
	SessionCookie    = "gridcrm_session"
	SessionCookieTLS = "__Host-gridcrm_session"
	// CSRFHeader is the header a cookie-authenticated write must carry.
	CSRFHeader = "X-CSRF-Token"
)

// csrfOf is the CSRF token of a session token: a hash of it under a label
// of its own. Knowing it tells nothing of the token; only a holder of the
// token (the server, given the cookie) can compute it.
func csrfOf(token string) string {
	sum := sha256.Sum256([]byte("gridcrm csrf token\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// sessionCookieName is the cookie's name for the request's transport.
func sessionCookieName(c *gin.Context) string {
	if c.Request.TLS != nil {
		return SessionCookieTLS
	}
	return SessionCookie
}

// cookieToken answers the session token of the request's cookie, if any.
func cookieToken(c *gin.Context) (string, bool) {
	for _, name := range []string{SessionCookieTLS, SessionCookie} {
		if name == SessionCookieTLS && c.Request.TLS == nil {
			continue // a __Host- cookie is only ever set over TLS
		}
		if ck, err := c.Request.Cookie(name); err == nil && strings.TrimSpace(ck.Value) != "" {
			return strings.TrimSpace(ck.Value), true
		}
	}
	return "", false
}

// setSessionCookie hands the browser tok until expires.
func setSessionCookie(c *gin.Context, tok string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookieName(c), Value: tok, Path: "/", Expires: expires.UTC(),
		MaxAge: max(1, int(time.Until(expires).Seconds())), HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// clearSessionCookie tells the browser to drop the session cookie.
func clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookieName(c), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// safeMethod: a read, which a cookie may authenticate without a CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin checks that a browser's request comes from a page of this
// server: Origin (when sent) is this server's origin and Sec-Fetch-Site
// (when sent) is same-origin. It answers the refusal, or nil.
func sameOrigin(c *gin.Context) *crm.Error {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return apiErr(codeForbidden, "Sec-Fetch-Site", "is "+site+": the console's session cookie works only for requests from its own pages (same-origin)")
	}
	if o := c.GetHeader("Origin"); o != "" {
		// The host (and port) must be this server's; the scheme is not
		// compared, so that a proxy terminating TLS in front of the node
		// (which then sees plain HTTP) passes.
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, c.Request.Host) {
			return apiErr(codeForbidden, "Origin", "is "+o+", not this server's origin (host "+c.Request.Host+"): the session cookie works only for requests from the console's own pages")
		}
	}
	return nil
}

// checkCSRF is the cookie's check of a write: same origin, and the
// session's CSRF token in X-CSRF-Token.
func checkCSRF(c *gin.Context, tok string) *crm.Error {
	if e := sameOrigin(c); e != nil {
		return e
	}
	got := c.GetHeader(CSRFHeader)
	if got == "" {
		return apiErr(codeForbidden, CSRFHeader, "is required: a request authenticated by the session cookie that writes must carry the session's CSRF token (from the login's answer or GET /api/v1/auth/session) in "+CSRFHeader)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(csrfOf(tok))) != 1 {
		return apiErr(codeForbidden, CSRFHeader, "does not match the session's CSRF token: reload the console")
	}
	return nil
}

// answerLogin writes a login's answer for a new session: the token in the
// body for a bearer client; for a cookie login the token in the cookie and
// the CSRF token in the body instead.
func answerLogin(c *gin.Context, u *crm.User, tok string, sess crm.Session, cookie bool) {
	out := gin.H{"expires_at": sess.ExpiresAt.UTC().Format(time.RFC3339), "session_id": sess.ID,
		"user": gin.H{"id": u.ID, "username": u.Username, "role": u.Role, "region": u.Region}}
	if cookie {
		setSessionCookie(c, tok, sess.ExpiresAt)
		out["csrf_token"] = csrfOf(tok)
	} else {
		out["token"] = tok
	}
	c.JSON(200, out)
}

// sessionProbe answers {"authenticated": false} (200) to a request that
// sends no credential at all, so the console can ask whether the browser
// holds a session without an error; a credential goes on to be checked
// (401 when it does not hold).
func sessionProbe(c *gin.Context) {
	if _, ok := cookieToken(c); !ok && c.GetHeader("Authorization") == "" {
		c.Header("Cache-Control", "no-store")
		c.AbortWithStatusJSON(200, gin.H{"authenticated": false})
	}
}

// session answers the caller's session: user, expiry and, for a cookie
// session, its CSRF token (how the console learns it after a reload).
func (s *Server) session(c *gin.Context) {
	p := who(c)
	u := p.User
	out := gin.H{"authenticated": true, "session_id": p.Session, "via": "bearer", "expires_at": time.Unix(p.expires, 0).UTC().Format(time.RFC3339),
		"user": gin.H{"id": u.ID, "username": u.Username, "role": u.Role, "region": u.Region, "display_name": u.DisplayName},
		// the node answering, for the console's header and home region (an
		// auditor may not read /api/v1/cluster)
		"node": gin.H{"region": s.cfg.Region, "tier": regionRef(s.cfg.Region).Tier, "node": s.cfg.NodeID}}
	if p.cookie {
		out["via"] = "cookie"
		out["csrf_token"] = csrfOf(p.token)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(200, out)
}
