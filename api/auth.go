package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"gridcrm/crm"
)

// bcryptCost is the work factor for password hashes (about 50 ms here).
const bcryptCost = 10

// claims is what a token carries. The role is re-read from the user record
// on every request: after a read barrier for linearizable reads, and the
// FSM refuses writes of a disabled user, so a disable takes effect at once;
// stale reads (?consistency=stale) see it within replication lag.
type claims struct {
	UserID   string `json:"uid"`
	Username string `json:"sub"`
	Region   string `json:"rgn"` // the region whose key signed it
	Issued   int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// principal is the authenticated caller of a request.
type principal struct {
	User *crm.User
}

const (
	principalKey = "gridcrm.principal"
	barrierKey   = "gridcrm.barrier" // the request's read barrier has been passed
)

// tokenKey returns the region's signing key from the replicated state.
func (s *Server) tokenKey() ([]byte, error) {
	if k := s.key.Load(); k != nil {
		return *k, nil
	}
	raw, err := crm.System(s.b.Reader(), "token_key")
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("api: the region has no token key yet (not initialised)")
	}
	var hexKey string
	if err := json.Unmarshal(raw, &hexKey); err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(hexKey)
	if err != nil || len(k) < 16 {
		return nil, errors.New("api: the region's token key is malformed")
	}
	s.key.Store(&k)
	return k, nil
}

func (s *Server) sign(c claims) (string, error) {
	key, err := s.tokenKey()
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func (s *Server) verify(token string) (*claims, *crm.Error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, apiErr(codeInvalidToken, "", "the token is malformed")
	}
	key, err := s.tokenKey()
	if err != nil {
		return nil, apiErr(codeUnavailable, "", err.Error())
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	want := m.Sum(nil)
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return nil, apiErr(codeInvalidToken, "", "the token's signature does not check out: log in again")
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	var c claims
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return nil, apiErr(codeInvalidToken, "", "the token is malformed")
	}
	if time.Now().Unix() >= c.Expires {
		return nil, apiErr(codeTokenExpired, "", "the token expired at "+time.Unix(c.Expires, 0).UTC().Format(time.RFC3339)+": log in again")
	}
	return &c, nil
}

// authenticate is the middleware on every route but /healthz, /readyz and
// login: it checks the bearer token and loads the user.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if h == "" || !ok || strings.TrimSpace(tok) == "" {
		fail(c, apiErr(codeUnauthenticated, "", "send Authorization: Bearer <token>; get a token from POST /api/v1/auth/login"))
		return
	}
	cl, e := s.verify(strings.TrimSpace(tok))
	if e != nil {
		fail(c, e)
		return
	}
	// A read that asks for the linearizable view (the default) waits for the
	// read barrier before the user is loaded, so a disable or role change
	// acknowledged anywhere in the region holds here at once. Writes are
	// checked again where they commit: the FSM refuses a disabled actor.
	if c.Request.Method == http.MethodGet && !strings.EqualFold(c.Query("consistency"), "stale") {
		if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
			fail(c, err)
			return
		}
		c.Set(barrierKey, true)
	}
	raw, err := s.b.Reader().Get([]byte("r/users/" + cl.UserID))
	if err != nil {
		fail(c, err)
		return
	}
	u := &crm.User{}
	if raw == nil || json.Unmarshal(raw, u) != nil || u.Username != cl.Username {
		fail(c, apiErr(codeInvalidToken, "", "the token's user no longer exists here"))
		return
	}
	if u.Disabled {
		fail(c, apiErr(codeInvalidToken, "", "user "+u.Username+" is disabled"))
		return
	}
	c.Set(principalKey, &principal{User: u})
	c.Next()
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

// Who may do what. Reads of domain records: every role. Writes: see below.
var (
	readRoles    = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent, crm.RoleAnalyst}
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
}

// dummyHash makes a login for an unknown user cost as much as a real one.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("gridcrm-no-such-user"), bcryptCost)

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
	if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
		fail(c, err)
		return
	}
	u, err := crm.UserByName(s.b.Reader(), req.Username)
	if err != nil {
		fail(c, err)
		return
	}
	hash := dummyHash
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || u == nil || u.Disabled {
		fail(c, apiErr(codeBadLogin, "", "wrong username or password, or the user is disabled"))
		return
	}
	now := time.Now()
	tok, err := s.sign(claims{UserID: u.ID, Username: u.Username, Region: s.cfg.Region, Issued: now.Unix(), Expires: now.Add(s.cfg.TokenTTL).Unix()})
	if err != nil {
		fail(c, apiErr(codeUnavailable, "", err.Error()))
		return
	}
	c.JSON(200, gin.H{"token": tok, "expires_at": now.Add(s.cfg.TokenTTL).UTC().Format(time.RFC3339),
		"user": gin.H{"id": u.ID, "username": u.Username, "role": u.Role, "region": u.Region}})
}

// hashPassword checks the password rule and hashes it.
func hashPassword(pw string) (string, *crm.Error) {
	if len(pw) < 8 {
		return "", apiErr(crm.CodeInvalid, "password", "must be at least 8 characters")
	}
	if len(pw) > 72 {
		return "", apiErr(crm.CodeInvalid, "password", "must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return "", apiErr(codeInternal, "password", err.Error())
	}
	return string(h), nil
}

// EnsureUser creates a user with the given password unless one with that
// name exists (used for the bootstrap admin).
func (s *Server) EnsureUser(ctx context.Context, username, password, role string) error {
	if u, err := crm.UserByName(s.b.Reader(), username); err != nil || u != nil {
		return err
	}
	h, e := hashPassword(password)
	if e != nil {
		return e
	}
	body, _ := json.Marshal(crm.User{Username: username, Role: role, Region: s.cfg.Region, PasswordHash: h, DisplayName: "Administrator"})
	res, err := s.b.Propose(ctx, &crm.Command{Op: crm.OpCreate, Collection: "users", ID: crm.NewID("usr", time.Now()), Body: body,
		Region: s.cfg.Region, Actor: "system", Time: time.Now().UTC()})
	if err != nil {
		return err
	}
	if res.Err != nil && res.Err.Code != crm.CodeDuplicate {
		return res.Err
	}
	return nil
}
