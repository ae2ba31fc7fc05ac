package api

import (
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"gridcrm/crm"
	"gridcrm/tiers"
)

// accountRoutes are the routes of accounts and sessions beyond the users
// collection's own: logout and a user's own password for every role;
// listing and ending a user's sessions and lifting a lock for admins.
func (s *Server) accountRoutes(v1 *gin.RouterGroup) {
	v1.POST("/auth/logout", allow(selfRoles...), s.logout)
	v1.POST("/auth/password", allow(selfRoles...), s.changePassword)
	v1.GET("/users/:id/sessions", allow(adminOnly...), s.listSessions)
	v1.DELETE("/users/:id/sessions", allow(adminOnly...), s.endSessions)
	v1.DELETE("/users/:id/sessions/:sid", allow(adminOnly...), s.endSession)
	v1.POST("/users/:id/unlock", allow(adminOnly...), s.unlockUser)
}

// sessionCommand commits an OpSession command as the caller.
func (s *Server) sessionCommand(c *gin.Context, req crm.SessionRequest) (crm.Result, bool) {
	return s.commit(c, &crm.Command{Op: crm.OpSession, Body: mustJSON(req)})
}

// logout ends the caller's session (on every node of the region).
func (s *Server) logout(c *gin.Context) {
	p := who(c)
	if _, ok := s.sessionCommand(c, crm.SessionRequest{Action: crm.SessionEnd, UserID: p.User.ID, SessionID: p.Session}); !ok {
		return
	}
	s.cfg.Logger.Info("api: logout", "user", p.User.Username, "source", c.RemoteIP(), "session", p.Session)
	if p.cookie {
		clearSessionCookie(c) // session_cookie.go
	}
	c.Status(204)
}

type passwordChange struct {
	OldPassword string `json:"old_password"`
	Password    string `json:"password"`
}

// changePassword lets a user change their own password given the current
// one. Every session of the user ends (this one too) and a new one starts:
// the answer is a login's. A wrong old password counts as a failed login.
func (s *Server) changePassword(c *gin.Context) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req passwordChange
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return
	}
	if req.OldPassword == "" {
		fail(c, apiErr(crm.CodeInvalid, "old_password", "is required: your current password"))
		return
	}
	if req.Password == "" {
		fail(c, apiErr(crm.CodeInvalid, "password", "is required: the new password"))
		return
	}
	me, src := who(c).User, c.RemoteIP()
	release, ok := s.throttle.take(c.Request.Context(), me.Username)
	if !ok {
		s.refuseLogin(c, me.Username, src, loginThrottled, time.Second, "too many logins of "+me.Username+" at once")
		return
	}
	defer release()
	if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
		fail(c, err)
		return
	}
	r := s.b.Reader()
	u, ok := s.userOf(c, r, me.ID)
	if !ok || s.refuseTooSoon(c, r, u, src) {
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.OldPassword)) != nil {
		s.loginFailed(c, u, u.Username, src, loginBadPassword)
		fail(c, apiErr(crm.CodeInvalid, "old_password", "is not your current password"))
		return
	}
	if req.Password == req.OldPassword {
		fail(c, apiErr(crm.CodeInvalid, "password", "must differ from the current password"))
		return
	}
	h, e := hashPassword(u.Username, req.Password)
	if e != nil {
		fail(c, e)
		return
	}
	if _, ok := s.commit(c, &crm.Command{Op: crm.OpUpdate, Collection: "users", ID: u.ID, Version: u.Version,
		Body: mustJSON(map[string]string{"password_hash": h})}); !ok {
		return
	}
	u.PasswordHash = h
	s.cfg.Logger.Info("api: password changed", "user", u.Username, "source", src)
	tok, sess, err := s.startSession(c.Request.Context(), u, src)
	if err != nil {
		fail(c, err)
		return
	}
	answerLogin(c, u, tok, sess, who(c).cookie) // a cookie session gets its new cookie
}

// userOf loads user id from r, or answers 404 and false.
func (s *Server) userOf(c *gin.Context, r crm.Reader, id string) (*crm.User, bool) {
	raw, e := crm.Get(r, "users", id)
	if e != nil {
		fail(c, e)
		return nil, false
	}
	u := &crm.User{}
	if err := json.Unmarshal(raw, u); err != nil {
		fail(c, err)
		return nil, false
	}
	return u, true
}

// sessionView is a session as an admin sees it.
type sessionView struct {
	ID        string    `json:"id"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Source    string    `json:"source,omitempty"`
	Node      string    `json:"node,omitempty"`
}

// listSessions answers a user's live sessions and failed logins.
func (s *Server) listSessions(c *gin.Context) {
	if !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	u, ok := s.userOf(c, r, c.Param("id"))
	if !ok {
		return
	}
	all, err := crm.SessionsOf(r, u.ID)
	if err != nil {
		fail(c, err)
		return
	}
	st, err := crm.LoginStateOf(r, u.ID)
	if err != nil {
		fail(c, err)
		return
	}
	now := time.Now()
	out := []sessionView{}
	for _, ss := range all {
		if now.Before(ss.ExpiresAt) {
			out = append(out, sessionView{ID: ss.ID, IssuedAt: ss.IssuedAt, ExpiresAt: ss.ExpiresAt, Source: ss.Source, Node: ss.Node})
		}
	}
	ans := gin.H{"user_id": u.ID, "username": u.Username, "sessions": out, "failed_logins": st.FailedLogins,
		"last_failed_at": st.LastFailedAt, "locked": st.Locked(now)}
	if st.Locked(now) {
		ans["locked_until"] = st.LockedUntil
	}
	c.JSON(200, ans)
}

// endSessions ends every session of a user.
func (s *Server) endSessions(c *gin.Context) {
	res, ok := s.sessionCommand(c, crm.SessionRequest{Action: crm.SessionEndAll, UserID: c.Param("id")})
	if !ok {
		return
	}
	s.cfg.Logger.Info("api: sessions ended", "user_id", c.Param("id"), "by", who(c).User.Username)
	c.Data(200, "application/json", res.Record)
}

// endSession ends one session of a user.
func (s *Server) endSession(c *gin.Context) {
	if _, ok := s.sessionCommand(c, crm.SessionRequest{Action: crm.SessionEnd, UserID: c.Param("id"), SessionID: c.Param("sid")}); !ok {
		return
	}
	s.cfg.Logger.Info("api: session ended", "user_id", c.Param("id"), "session", c.Param("sid"), "by", who(c).User.Username)
	c.Status(204)
}

// unlockUser lifts a user's lock and forgets its failed logins, on every
// node of the region. (Failures per source address are each node's and
// run out by themselves.)
func (s *Server) unlockUser(c *gin.Context) {
	if _, ok := s.sessionCommand(c, crm.SessionRequest{Action: crm.SessionUnlock, UserID: c.Param("id")}); !ok {
		return
	}
	s.cfg.Logger.Info("api: user unlocked", "user_id", c.Param("id"), "by", who(c).User.Username)
	c.JSON(200, gin.H{"user_id": c.Param("id"), "locked": false, "failed_logins": 0})
}

// userInput is what a client sends to create a user.
type userInput struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Role        string `json:"role"`
	Region      string `json:"region,omitempty"`
	Password    string `json:"password"`
	Disabled    bool   `json:"disabled,omitempty"`
}

func (s *Server) createUser(c *gin.Context) {
	body, err := readBody(c, s.cfg.MaxBody)
	if err != nil {
		fail(c, err)
		return
	}
	var in userInput
	if e := crm.DecodeStrict(body, &in); e != nil {
		fail(c, e)
		return
	}
	u := crm.User{Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, Region: in.Region, Disabled: in.Disabled, PasswordHash: "-"}
	if in.Region == "" {
		u.Region = s.cfg.Region
	}
	u.Normalize()
	if e := u.Validate(); e != nil {
		fail(c, e)
		return
	}
	h, e := hashPassword(u.Username, in.Password)
	if e != nil {
		fail(c, e)
		return
	}
	u.PasswordHash = h
	out, _ := json.Marshal(struct {
		Username     string `json:"username"`
		DisplayName  string `json:"display_name,omitempty"`
		Role         string `json:"role"`
		Region       string `json:"region"`
		PasswordHash string `json:"password_hash"`
		Disabled     bool   `json:"disabled,omitempty"`
	}{u.Username, u.DisplayName, u.Role, u.Region, u.PasswordHash, u.Disabled})
	s.propose(c, crm.Kinds["users"], &crm.Command{Op: crm.OpCreate, ID: crm.NewID("usr", time.Now()), Body: out}, 201)
}

// Central administration: an admin of an upper tier manages the users of
// the regions below through the forwarding path of other writes (a
// durable command in this region's log, carried down, applied by the
// user's region as its own write, answered when it comes back, else 202
// with the pending command). Users never cross a link, so this region
// does not hold them: a create names the region in its body, a patch or a
// list names it in ?region=.

// userRegionBelow answers the region of ?region= when it lies below this
// one and the caller may read there (else "", having answered when the
// scope was refused: ok false).
func (s *Server) userRegionBelow(c *gin.Context) (region string, ok bool) {
	r := c.Query("region")
	if r == "" || r == s.cfg.Region {
		return "", true
	}
	region, _, ok = s.scopeOf(c)
	if !ok || !crm.InRegion(region, s.cfg.Region) || region == s.cfg.Region {
		return "", ok
	}
	return region, true
}

// listUsersBelow answers GET /users?region=<a region below> with that
// region's users (public fields), read there by a forwarded list; true
// when it answered.
func (s *Server) listUsersBelow(c *gin.Context) bool {
	region, ok := s.userRegionBelow(c)
	if !ok {
		return true
	}
	if region == "" {
		return false
	}
	for k := range c.Request.URL.Query() {
		if k != "region" && k != "scope" && k != "consistency" {
			fail(c, apiErr(crm.CodeInvalid, k, "the users of region "+region+" are listed whole, through the region itself (filters and paging apply to this region's own users)"))
			return true
		}
	}
	s.forwardDown(c, region, crm.Kinds["users"], &crm.Command{Op: crm.OpList}, 200)
	return true
}

// patchUserBelow forwards a patch of a user of ?region= (a region below)
// to that region; true when it answered.
func (s *Server) patchUserBelow(c *gin.Context, cmd *crm.Command) bool {
	region, ok := s.userRegionBelow(c)
	if !ok {
		return true
	}
	if region == "" {
		return false
	}
	if route, err := crm.RouteOf(s.b.Reader(), s.cfg.Region, region, "users", cmd.Op); err != nil || route != tiers.Forward {
		fail(c, &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: region, Message: "the users of region " + region + " are written there"})
		return true
	}
	s.forwardDown(c, region, crm.Kinds["users"], cmd, 200)
	return true
}

// extractPassword takes "password" out of a users patch, checks it for the
// user's username (the patched one, if the patch renames) and hashes it.
func (s *Server) extractPassword(c *gin.Context, body []byte) ([]byte, string, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(body, &p); err != nil || p == nil {
		return body, "", nil // CheckPatch reports it
	}
	raw, ok := p["password"]
	if !ok {
		return body, "", nil
	}
	var pw string
	if err := json.Unmarshal(raw, &pw); err != nil {
		return nil, "", apiErr(crm.CodeInvalid, "password", "must be a string")
	}
	var name string
	if n, ok := p["username"]; ok {
		_ = json.Unmarshal(n, &name)
	} else if cur, e := crm.Get(s.b.Reader(), "users", c.Param("id")); e == nil {
		var u crm.User
		_ = json.Unmarshal(cur, &u)
		name = u.Username
	}
	h, e := hashPassword(name, pw)
	if e != nil {
		return nil, "", e
	}
	delete(p, "password")
	out, _ := json.Marshal(p)
	return out, h, nil
}
