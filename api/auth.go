package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// bcryptCost is the work factor for password hashes (about 50 ms here).
const bcryptCost = 10

// testPasswordCost, when not 0, is the work factor of the hashes this
// process makes instead of bcryptCost. TEST HOOK: set only through
// SetPasswordCostForTests.
var testPasswordCost atomic.Int32

// SetPasswordCostForTests makes the password hashes this process makes
// from now on use cost (bcrypt.MinCost, 4, is 64 times cheaper than
// bcryptCost); 0 restores bcryptCost. TEST HOOK for the test binaries of
// packages that start many regions and test no password: every region's
// bootstrap admin and every login costs a hash, most of a second under
// -race. The server never calls it.
func SetPasswordCostForTests(cost int) {
	testPasswordCost.Store(int32(cost))
}

// claims is what a token carries. The role is re-read from the user record
// on every request, and the session the token names must still be in the
// replicated state (crm.SessionOf): after a read barrier for linearizable
// reads, so a logout, a session ended by an admin, a password or role
// change, a disable or a delete acknowledged anywhere in the region holds
// at once on every node. Other requests read the local replica: they see
// it within replication lag (and the FSM refuses writes of a disabled or
// deleted user where they commit).
type claims struct {
	UserID   string `json:"uid"`
	Username string `json:"sub"`
	Region   string `json:"rgn"` // the region whose key signed it
	Session  string `json:"sid"` // the session (crm.Session) the login started
	Issued   int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	// KeyID names the region's key that signed it (tokenkeys.go); empty
	// for the region's first key (crm.TokenKeyLegacy).
	KeyID string `json:"kid,omitempty"`
}

// principal is the authenticated caller of a request.
type principal struct {
	User    *crm.User
	Session string // the token's session id
	expires int64  // the token's expiry (Unix seconds)
	cookie  bool   // authenticated by the console's session cookie (session_cookie.go)
	token   string // the token, for a cookie session's CSRF token
}

const (
	principalKey = "gridcrm.principal"
	barrierKey   = "gridcrm.barrier" // the request's read barrier has been passed
)

// sign signs c with the region's current key; its id goes in the kid
// claim (none for the region's first key, crm.TokenKeyLegacy, so tokens
// of a region that never rotated read as before).
func (s *Server) sign(c claims) (string, error) {
	keys, err := s.signingKeys()
	if err != nil {
		return "", err
	}
	c.KeyID = keys.ring.Current
	if c.KeyID == crm.TokenKeyLegacy {
		c.KeyID = ""
	}
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, keys.keys[keys.ring.Current])
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// verify checks a token: the key its kid names (the legacy key without
// one), the signature, the key's retirement, the lifetime and expiry.
func (s *Server) verify(ctx context.Context, token string) (*claims, *crm.Error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, apiErr(codeInvalidToken, "", "the token is malformed")
	}
	// The payload is read before the signature is checked only to learn
	// which key to check it with; nothing else of it is trusted until then.
	payload, err := base64.RawURLEncoding.DecodeString(p)
	var c claims
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return nil, apiErr(codeInvalidToken, "", "the token is malformed")
	}
	tk, key, e := s.signingKey(ctx, c.KeyID)
	if e != nil {
		return nil, e
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	// The signature's one spelling: decoding would skip line breaks and
	// the last character's spare bits, letting other strings pass as it.
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, apiErr(codeInvalidToken, "", "the token's signature does not check out: log in again")
	}
	now := time.Now()
	if tk.Retired(now) {
		return nil, apiErr(codeInvalidToken, "", fmt.Sprintf("token key retired; log in again (key %s was rotated out and retired at %s)", tk.ID, tk.RetireAt.UTC().Format(time.RFC3339)))
	}
	if life := time.Duration(c.Expires-c.Issued) * time.Second; life > s.cfg.MaxTokenLifetime {
		return nil, apiErr(codeInvalidToken, "", fmt.Sprintf("the token claims to live %s, longer than the %s this server accepts: log in again", life, s.cfg.MaxTokenLifetime))
	}
	if c.Issued > now.Add(maxClockSkew).Unix() {
		return nil, apiErr(codeInvalidToken, "", "the token was issued in the future: log in again")
	}
	if now.Unix() >= c.Expires {
		return nil, apiErr(codeTokenExpired, "", "the token expired at "+time.Unix(c.Expires, 0).UTC().Format(time.RFC3339)+": log in again")
	}
	return &c, nil
}

// maxClockSkew is how far in the future a token's iat may be (another
// node of the region signed it with a clock ahead of this one).
const maxClockSkew = 5 * time.Minute

// authenticate is the middleware on every route but /healthz, /readyz and
// login: it checks the bearer token, or the console's session cookie
// (session_cookie.go) when no Authorization header is sent, and loads the
// user. A cookie-authenticated write must pass checkCSRF; a cookie whose
// session does not check out is cleared.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	viaCookie := false
	if h == "" {
		tok, viaCookie = cookieToken(c)
		ok = viaCookie
	}
	if !ok || strings.TrimSpace(tok) == "" {
		fail(c, apiErr(codeUnauthenticated, "", "send Authorization: Bearer <token>; get a token from POST /api/v1/auth/login"))
		return
	}
	tok = strings.TrimSpace(tok)
	if viaCookie && !safeMethod(c.Request.Method) {
		if e := checkCSRF(c, tok); e != nil {
			fail(c, e)
			return
		}
	}
	// refuse answers e; a cookie whose token or session does not check
	// out (401) is cleared, so the browser stops sending it.
	refuse := func(e *crm.Error) {
		if viaCookie && statusOf[e.Code] == http.StatusUnauthorized {
			clearSessionCookie(c)
		}
		fail(c, e)
	}
	cl, e := s.verify(c.Request.Context(), tok)
	if e != nil {
		refuse(e)
		return
	}
	// A read that asks for the linearizable view (the default) waits for the
	// read barrier before the user and session are loaded (and the token is
	// checked again), so a disable, a role change, an ended session or a
	// token key rotated out acknowledged anywhere in the region holds here
	// at once. Other requests read the local replica, and wait
	// for the barrier only when the user or session is missing there (a
	// login a moment ago through another node may not have reached it).
	// Writes are checked again where they commit: the FSM refuses a
	// disabled or deleted actor.
	barrier := c.Request.Method == http.MethodGet && !strings.EqualFold(c.Query("consistency"), "stale")
	for {
		if barrier {
			if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
				fail(c, err)
				return
			}
			c.Set(barrierKey, true)
			// The token again, on the state the barrier reached: a key
			// rotation acknowledged anywhere in the region holds here too.
			if cl, e = s.verify(c.Request.Context(), tok); e != nil {
				refuse(e)
				return
			}
		}
		u, e := s.caller(s.b.Reader(), cl)
		if e != nil && e.Code == codeInvalidToken && !barrier {
			barrier = true // missing here: look again once this replica has caught up
			continue
		}
		if e != nil {
			refuse(e)
			return
		}
		c.Set(principalKey, &principal{User: u, Session: cl.Session, expires: cl.Expires, cookie: viaCookie, token: tok})
		c.Next()
		return
	}
}

// caller loads the token's user and checks its session from r.
func (s *Server) caller(r crm.Reader, cl *claims) (*crm.User, *crm.Error) {
	raw, err := r.Get([]byte(keyspace.Record("users", cl.UserID)))
	if err != nil {
		return nil, toAPIError(err)
	}
	var u *crm.User
	if raw != nil {
		u, err = s.auth.user(cl.UserID, raw)
	}
	if raw == nil || err != nil || u.Username != cl.Username {
		return nil, apiErr(codeInvalidToken, "", "the token's user no longer exists here")
	}
	if u.Disabled {
		return nil, apiErr(codeInvalidToken, "", "user "+u.Username+" is disabled")
	}
	if e := s.liveSession(r, cl); e != nil {
		return nil, e
	}
	return u, nil
}

// liveSession checks that the token's session has not ended: one point
// read of the local replica.
func (s *Server) liveSession(r crm.Reader, cl *claims) *crm.Error {
	if cl.Session == "" {
		return apiErr(codeInvalidToken, "", "the token names no session (it was issued before sessions were kept): log in again")
	}
	raw, err := r.Get(crm.SessionKey(cl.UserID, cl.Session))
	if err != nil {
		return toAPIError(err)
	}
	var expires time.Time
	if raw != nil {
		expires, err = s.auth.sessionExpiry(cl.Session, raw)
	}
	if raw == nil || err != nil {
		return apiErr(codeInvalidToken, "", "the session has ended (logged out, ended by an admin, or the user's password, role or account changed): log in again")
	}
	if !time.Now().Before(expires) {
		return apiErr(codeTokenExpired, "", "the session expired at "+expires.UTC().Format(time.RFC3339)+": log in again")
	}
	return nil
}

func who(c *gin.Context) *principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(*principal)
	return pr
}

// allow is the role check: the route is open to the listed roles only.
func allow(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := who(c)
		for _, r := range roles {
			if p != nil && p.User.Role == r {
				c.Next()
				return
			}
		}
		role := ""
		if p != nil {
			role = p.User.Role
		}
		fail(c, apiErr(codeForbidden, "", fmt.Sprintf("role %q may not %s %s; allowed: %s", role, c.Request.Method, c.FullPath(), strings.Join(roles, ", "))))
	}
}

// Who may do what. Reads of domain records: every role but the auditor.
// Writes: see below. The auditor reads the audit trail (auditRoles) and
// uses its own session (selfRoles), nothing else.
var (
	readRoles    = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent, crm.RoleAnalyst}
	selfRoles    = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent, crm.RoleAnalyst, crm.RoleAuditor}
	adminOnly    = []string{crm.RoleAdmin}
	writeRolesOf = map[string][]string{
		"customers":    {crm.RoleAdmin, crm.RoleManager, crm.RoleAgent},
		"bills":        {crm.RoleAdmin, crm.RoleManager, crm.RoleAgent},
		"contacts":     {crm.RoleAdmin, crm.RoleManager, crm.RoleAgent},
		"interactions": {crm.RoleAdmin, crm.RoleManager, crm.RoleAgent},
		"staff":        {crm.RoleAdmin, crm.RoleManager},
		"directives":   {crm.RoleAdmin, crm.RoleManager},
		"users":        adminOnly,
	}
	readRolesOf = map[string][]string{"users": adminOnly}
)

func rolesToRead(coll string) []string {
	if r, ok := readRolesOf[coll]; ok {
		return r
	}
	return readRoles
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Cookie asks for a browser session: the token in an HttpOnly cookie,
	// a CSRF token in the answer (session_cookie.go).
	Cookie bool `json:"cookie,omitempty"`
}

// dummyHash makes a login for an unknown user cost as much as a real one.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("gridcrm-no-such-user"), bcryptCost)

// login checks a username and password and starts a session. In order:
// the source address's failures on this node (429 too_many_attempts with
// Retry-After), one login per username at a time on this node (others
// wait their turn), the user's lock and failures in the replicated state
// (429 account_locked, or too_many_attempts while a delay runs), then the
// bcrypt check. A failure is counted for the address and, for a known
// user, in the replicated state (the LockAfter-th locks the user); every
// outcome is logged (user, source, outcome) and counted in
// gridcrm_logins_total{outcome}.
func (s *Server) login(c *gin.Context) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req loginRequest
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return
	}
	if req.Username == "" {
		fail(c, apiErr(crm.CodeInvalid, "username", "is required"))
		return
	}
	if req.Password == "" {
		fail(c, apiErr(crm.CodeInvalid, "password", "is required"))
		return
	}
	if req.Cookie {
		// A cookie login from another site would log the browser in as
		// the attacker's user (login CSRF).
		if e := sameOrigin(c); e != nil {
			fail(c, e)
			return
		}
	}
	name, src, pol := strings.ToLower(strings.TrimSpace(req.Username)), c.RemoteIP(), s.cfg.Logins
	if w := s.throttle.addrWait(pol, src, time.Now()); w > 0 {
		s.refuseLogin(c, name, src, loginThrottled, w, "too many failed logins from "+src)
		return
	}
	release, ok := s.throttle.take(c.Request.Context(), name)
	if !ok {
		s.refuseLogin(c, name, src, loginThrottled, time.Second, "too many logins of "+name+" at once")
		return
	}
	defer release()
	if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
		fail(c, err)
		return
	}
	r := s.b.Reader()
	u, err := crm.UserByName(r, name)
	if err != nil {
		fail(c, err)
		return
	}
	hash := dummyHash
	if u != nil {
		if s.refuseTooSoon(c, r, u, src) {
			return
		}
		hash = []byte(u.PasswordHash)
	}
	bad := bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil
	outcome := ""
	switch {
	case u == nil:
		outcome = loginUnknownUser
	case u.Disabled:
		outcome = loginDisabled
	case bad:
		outcome = loginBadPassword
	}
	if outcome != "" {
		s.loginFailed(c, u, name, src, outcome)
		fail(c, apiErr(codeBadLogin, "", "wrong username or password, or the user is disabled"))
		return
	}
	tok, sess, err := s.startSession(c.Request.Context(), u, src)
	if err != nil {
		if e := toAPIError(err); e.Code == crm.CodeLocked && s.refuseTooSoon(c, s.b.Reader(), u, src) {
			return // locked since the check above
		}
		fail(c, err)
		return
	}
	s.logLogin(name, src, loginSuccess, "session", sess.ID)
	answerLogin(c, u, tok, sess, req.Cookie)
}

// refuseTooSoon answers 429 and true when u is locked, or when its last
// failures ask for a wait that has not run out.
func (s *Server) refuseTooSoon(c *gin.Context, r crm.Reader, u *crm.User, src string) bool {
	st, err := crm.LoginStateOf(r, u.ID)
	if err != nil {
		fail(c, err)
		return true
	}
	now := time.Now()
	if st.Locked(now) {
		c.Header("Retry-After", retryAfter(st.LockedUntil.Sub(now)))
		s.logLogin(u.Username, src, loginLocked, "locked_until", st.LockedUntil.UTC().Format(time.RFC3339))
		fail(c, &crm.Error{Code: crm.CodeLocked, Field: "username", Message: fmt.Sprintf(
			"user %s is locked after %d failed logins until %s: wait, or ask an admin to lift it (POST /api/v1/users/%s/unlock)",
			u.Username, st.FailedLogins, st.LockedUntil.UTC().Format(time.RFC3339), u.ID)})
		return true
	}
	if st.LastFailedAt != nil {
		if w := s.cfg.Logins.wait(st.FailedLogins, s.cfg.Logins.UserFreeFailures, *st.LastFailedAt, now); w > 0 {
			s.refuseLogin(c, u.Username, src, loginThrottled, w, fmt.Sprintf("%d failed logins of user %s", st.FailedLogins, u.Username))
			return true
		}
	}
	return false
}

// refuseLogin answers 429 too_many_attempts with Retry-After.
func (s *Server) refuseLogin(c *gin.Context, name, src, outcome string, wait time.Duration, why string) {
	ra := retryAfter(wait)
	s.logLogin(name, src, outcome, "retry_after", ra)
	c.Header("Retry-After", ra)
	fail(c, apiErr(codeThrottled, "", why+": retry in "+ra+" s"))
}

// loginFailed counts a failed login: for the address here, and for a known
// user in the replicated state, which may lock it.
func (s *Server) loginFailed(c *gin.Context, u *crm.User, name, src, outcome string) {
	s.throttle.addrFailed(s.cfg.Logins, src, time.Now())
	if outcome != loginBadPassword {
		s.logLogin(name, src, outcome)
		return
	}
	st, err := s.countFailure(c.Request.Context(), u)
	switch {
	case err != nil:
		s.logLogin(name, src, outcome, "err", err.Error())
	case st.LockedUntil != nil:
		s.logLogin(name, src, outcome, "failed_logins", st.FailedLogins, "locked_until", st.LockedUntil.UTC().Format(time.RFC3339))
	default:
		s.logLogin(name, src, outcome, "failed_logins", st.FailedLogins)
	}
}

// countFailure commits a failed login of u (crm.SessionFail).
func (s *Server) countFailure(ctx context.Context, u *crm.User) (crm.LoginState, error) {
	pol := s.cfg.Logins
	var st crm.LoginState
	res, err := s.b.Propose(ctx, &crm.Command{Op: crm.OpSession, Region: s.cfg.Region, Actor: crm.SystemActor, Time: time.Now().UTC(),
		Body: mustJSON(crm.SessionRequest{Action: crm.SessionFail, UserID: u.ID, LockAfter: pol.LockAfter, LockForMS: pol.LockFor.Milliseconds()})})
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err == nil {
		err = json.Unmarshal(res.Record, &st)
	}
	return st, err
}

// startSession commits a new session of u and answers its signed token.
func (s *Server) startSession(ctx context.Context, u *crm.User, src string) (string, crm.Session, error) {
	now := time.Now().UTC()
	var id [24]byte
	_, _ = rand.Read(id[:])
	sess := crm.Session{ID: base64.RawURLEncoding.EncodeToString(id[:]), UserID: u.ID, Username: u.Username,
		IssuedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL), Source: src, Node: s.cfg.NodeID}
	res, err := s.b.Propose(ctx, &crm.Command{Op: crm.OpSession, Region: s.cfg.Region, Actor: crm.SystemActor, Time: now,
		Body: mustJSON(crm.SessionRequest{Action: crm.SessionStart, UserID: u.ID, Session: &sess, Credential: crm.CredentialOf(u), MaxSessions: s.cfg.Logins.MaxSessions})})
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		return "", sess, err
	}
	tok, err := s.sign(claims{UserID: u.ID, Username: u.Username, Region: s.cfg.Region, Session: sess.ID, Issued: now.Unix(), Expires: sess.ExpiresAt.Unix()})
	if err != nil {
		return "", sess, apiErr(codeUnavailable, "", err.Error())
	}
	return tok, sess, nil
}

// logLogin writes one line per login: user, source, outcome; successes at
// info, the rest at warn. It also counts the outcome.
func (s *Server) logLogin(name, src, outcome string, attrs ...any) {
	s.metrics.logins.WithLabelValues(outcome).Inc()
	s.auditLogin(name, src, outcome) // audit.go
	level := slog.LevelWarn
	if outcome == loginSuccess {
		level = slog.LevelInfo
	}
	s.cfg.Logger.Log(context.Background(), level, "api: login", append([]any{"user", name, "source", src, "outcome", outcome}, attrs...)...)
}

// retryAfter is a wait in whole seconds, at least 1, for Retry-After.
func retryAfter(d time.Duration) string {
	n := int64((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return strconv.FormatInt(n, 10)
}

// hashPassword checks the password rule (crm.CheckPassword) for username
// and hashes it.
func hashPassword(username, pw string) (string, *crm.Error) {
	if e := crm.CheckPassword(username, pw); e != nil {
		return "", e
	}
	cost := bcryptCost
	if c := testPasswordCost.Load(); c != 0 {
		cost = int(c)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", apiErr(codeInternal, "password", err.Error())
	}
	return string(h), nil
}

// BootstrapAdmin creates user admin with password when the region has no
// user at all, and answers whether it did. Apply decides "no user" where
// the create commits (crm: a user created by the system actor), so nodes
// racing at start create one admin, and a password given again on a later
// restart changes nothing. The password must pass crm.CheckPassword.
func (s *Server) BootstrapAdmin(ctx context.Context, password string) (bool, error) {
	if err := s.b.ReadBarrier(ctx); err != nil {
		return false, err
	}
	if has, err := crm.AnyUser(s.b.Reader()); err != nil || has {
		return false, err
	}
	h, e := hashPassword("admin", password)
	if e != nil {
		return false, e
	}
	body, _ := json.Marshal(crm.User{Username: "admin", Role: crm.RoleAdmin, Region: s.cfg.Region, PasswordHash: h, DisplayName: "Administrator"})
	res, err := s.b.Propose(ctx, &crm.Command{Op: crm.OpCreate, Collection: "users", ID: crm.NewID("usr", time.Now()), Body: body,
		Region: s.cfg.Region, Actor: crm.SystemActor, Time: time.Now().UTC()})
	if err != nil {
		return false, err
	}
	if res.Err != nil {
		if res.Err.Code == crm.CodeConflict || res.Err.Code == crm.CodeDuplicate {
			return false, nil // another node's bootstrap, or a user, came first
		}
		return false, res.Err
	}
	return true, nil
}
