package crm_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func TestUser_PasswordRule(t *testing.T) {
	for _, tc := range []struct {
		user, pw string
		why      string // "" = accepted; else a word the message must hold
	}{
		{"bo", "correct horse battery", ""},
		{"bo", "电网客户关系管理", ""}, // 8 characters, 24 bytes
		{"bo", "Tr0ub4dor&3x", ""},
		{"li", "lilac-garden-7", ""},                           // a 2-letter name only forbids itself
		{"ursula", "密码密码", "at least 8 characters (it has 4)"}, // 12 bytes, 4 characters
		{"ursula", "short", "at least 8"},
		{"ursula", strings.Repeat("电", 25), "at most 72 bytes"}, // 25 characters, 75 bytes
		{"ursula", strings.Repeat("x1", 37), "at most 72 bytes"},
		{"ursula", "password", "common"},
		{"ursula", "PassWord", "common"},
		{"ursula", "12345678", "common"},
		{"ursula", "qwertyuiop", "common"},
		{"ursula", "11111111", "common"},
		{"ursula", "aaaaaaaa", "common"},
		{"ursula", "88888888", "common"},
		{"ursula", "woaini1314", "common"},
		{"ursula", "woaini2026!", "common password (\"woaini\")"},
		{"ursula", "zzzzzzzzzz", "one character repeated"},
		{"ursula", "23456789", "consecutive"},
		{"ursula", "hgfedcba", "consecutive"},
		{"ursula", "xk9!xk9!", "repeated"},
		{"ursula", "ursula", "at least 8"},
		{"ursula.w", "Ursula.W", "must not be the username"},
		{"ursula", "my-ursula-pw", "must not contain the username"},
		{"ursula", "MYURSULAPW", "must not contain the username"},
		{"admin", "test-admin-pw", "must not contain the username"},
		{"bo", "bad\xffutf8!!", "UTF-8"},
	} {
		e := crm.CheckPassword(tc.user, tc.pw)
		switch {
		case tc.why == "" && e != nil:
			t.Errorf("%s / %q refused: %v", tc.user, tc.pw, e)
		case tc.why != "" && e == nil:
			t.Errorf("%s / %q accepted; want refused (%s)", tc.user, tc.pw, tc.why)
		case e != nil && (e.Code != crm.CodeInvalid || e.Field != "password" || !strings.Contains(e.Message, tc.why)):
			t.Errorf("%s / %q: %v (code %s field %q); want invalid password saying %q", tc.user, tc.pw, e, e.Code, e.Field, tc.why)
		}
	}
}

func adminBody(name string) crmtest.Obj { return crmtest.UserBody(name, county).With("role", "admin") }

func TestUser_LastActiveAdminStays(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	a, b, c := g.Next("usr"), g.Next("usr"), g.Next("usr")
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", a, county, 0, adminBody("ann")))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", c, county, 0, adminBody("cid").With("disabled", true)))

	// ann is the only active admin (cid is disabled).
	crmtest.WantErr(t, crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "users", a, county, 1, crmtest.Obj{"role": "manager"})).Err, crm.CodeConflict, "role")
	crmtest.WantErr(t, crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "users", a, county, 1, crmtest.Obj{"disabled": true})).Err, crm.CodeConflict, "disabled")
	crmtest.WantErr(t, crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "users", a, county, 0, nil)).Err, crm.CodeConflict, "id")
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "users", a, county, 1, crmtest.Obj{"role": "analyst"}))
	if res.Err == nil || !strings.Contains(res.Err.Message, "last active admin of region "+county) {
		t.Fatalf("demoting the last admin: %v", res.Err)
	}

	// With a second active admin either may go, but not both: two
	// admins demoting each other at once leave one.
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", b, county, 0, adminBody("ben")))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", a, county, 1, crmtest.Obj{"role": "manager"}))
	crmtest.WantErr(t, crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "users", b, county, 1, crmtest.Obj{"role": "manager"})).Err, crm.CodeConflict, "role")
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpDelete, "users", c, county, 0, nil)) // a disabled admin may go
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", b, county, 1, crmtest.Obj{"display_name": "Ben"}))
}

func TestUser_BootstrapAdminOnlyInAnEmptyRegion(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	sys := func(name string) *crm.Command {
		cmd := crmtest.NewCmd(t, crm.OpCreate, "users", g.Next("usr"), county, 0, adminBody(name))
		cmd.Actor = crm.SystemActor
		return cmd
	}
	crmtest.MustApply(t, tx, sys("admin"))
	crmtest.WantErr(t, crm.Apply(tx, sys("admin2")).Err, crm.CodeConflict, "username")
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", g.Next("usr"), county, 0, crmtest.UserBody("bo", county)))

	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "users", g.Next("usr"), county, 0, crmtest.UserBody(crm.SystemActor, county)))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "username")
}

// session applies an OpSession command at t.
func session(t testing.TB, tx crm.Txn, at time.Time, req crm.SessionRequest) crm.Result {
	t.Helper()
	cmd := &crm.Command{Op: crm.OpSession, Region: county, Actor: crm.SystemActor, Time: at, Body: crmtest.RawJSON(t, req)}
	return crm.Apply(tx, cmd)
}

func startReq(u *crm.User, sid string, at time.Time) crm.SessionRequest {
	return crm.SessionRequest{Action: crm.SessionStart, UserID: u.ID, Credential: crm.CredentialOf(u), MaxSessions: 3,
		Session: &crm.Session{ID: sid, UserID: u.ID, Username: u.Username, IssuedAt: at, ExpiresAt: at.Add(12 * time.Hour)}}
}

func sessionIDs(t testing.TB, tx crm.Reader, uid string) string {
	t.Helper()
	ss, err := crm.SessionsOf(tx, uid)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return strings.Join(ids, ",")
}

func TestUser_SessionsEndWithCredentials(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", id, county, 0, crmtest.UserBody("bo", county)))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", crm.NewID("usr", crmtest.T0.Add(time.Millisecond)), county, 0, adminBody("ann")))
	user := func() *crm.User {
		raw, e := crm.Get(tx, "users", id)
		u := &crm.User{}
		if e != nil || json.Unmarshal(raw, u) != nil {
			t.Fatalf("user %s: %v", id, e)
		}
		return u
	}
	start := func(sid string, at time.Time) {
		t.Helper()
		if res := session(t, tx, at, startReq(user(), sid, at)); res.Err != nil {
			t.Fatalf("start %s: %v", sid, res.Err)
		}
	}
	sid := func(n string) string { return "session-" + n + "-0123456789" }

	start(sid("a"), crmtest.T0)
	start(sid("b"), crmtest.T0.Add(time.Minute))
	if got := sessionIDs(t, tx, id); got != sid("a")+","+sid("b") {
		t.Fatalf("sessions %s", got)
	}
	// The cap (3) ends the oldest; expired sessions go at the next start.
	start(sid("c"), crmtest.T0.Add(2*time.Minute))
	start(sid("d"), crmtest.T0.Add(3*time.Minute))
	if got := sessionIDs(t, tx, id); got != sid("b")+","+sid("c")+","+sid("d") {
		t.Fatalf("after the cap: %s", got)
	}
	start(sid("e"), crmtest.T0.Add(12*time.Hour+2*time.Minute+time.Second))
	if got := sessionIDs(t, tx, id); got != sid("d")+","+sid("e") {
		t.Fatalf("after b and c expired: %s", got)
	}

	// A start checked against an old password is refused.
	stale := startReq(user(), sid("f"), crmtest.T0)
	stale.Credential = "0000000000000000"
	crmtest.WantErr(t, session(t, tx, crmtest.T0, stale).Err, crm.CodeConflict, "password")

	v := func() uint64 { return user().Version }
	for _, change := range []crmtest.Obj{{"password_hash": "$2a$10$another"}, {"role": "manager"}, {"username": "bob"}, {"disabled": true}} {
		crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, v(), crmtest.Obj{"display_name": "still here"}))
		if got := sessionIDs(t, tx, id); got == "" {
			t.Fatalf("a display name change ended the sessions")
		}
		crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, v(), change))
		if got := sessionIDs(t, tx, id); got != "" {
			t.Errorf("after %v the sessions %s are left", change, got)
		}
		if change["disabled"] == true {
			crmtest.WantErr(t, session(t, tx, crmtest.T0, startReq(user(), sid("g"), crmtest.T0)).Err, crm.CodeConflict, "disabled")
			crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, v(), crmtest.Obj{"disabled": false}))
		}
		if change["username"] != nil {
			crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, v(), crmtest.Obj{"username": "bo"}))
		}
		start(sid("h"), crmtest.T0)
	}

	// Logout ends one; end_all ends the rest; delete takes them all.
	start(sid("i"), crmtest.T0)
	crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpSession, Region: county, Actor: "bo", Time: crmtest.T0, Body: crmtest.RawJSON(t, crm.SessionRequest{Action: crm.SessionEnd, UserID: id, SessionID: sid("i")})})
	crmtest.WantErr(t, session(t, tx, crmtest.T0, crm.SessionRequest{Action: crm.SessionEnd, UserID: id, SessionID: sid("i")}).Err, crm.CodeNotFound, "session_id")
	if got := sessionIDs(t, tx, id); got != sid("h") {
		t.Fatalf("after logout: %s", got)
	}
	res := session(t, tx, crmtest.T0, crm.SessionRequest{Action: crm.SessionEndAll, UserID: id})
	if res.Err != nil || string(res.Record) != `{"ended":1}` {
		t.Fatalf("end_all: %s %v", res.Record, res.Err)
	}
	start(sid("j"), crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpDelete, "users", id, county, 0, nil))
	if got := sessionIDs(t, tx, id); got != "" {
		t.Errorf("a deleted user's sessions are left: %s", got)
	}
}

func TestUser_FailedLoginsLock(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", id, county, 0, crmtest.UserBody("bo", county)))
	u, _ := crm.UserByName(tx, "bo")
	fail := func(at time.Time) crm.LoginState {
		t.Helper()
		res := session(t, tx, at, crm.SessionRequest{Action: crm.SessionFail, UserID: id, LockAfter: 3, LockForMS: (15 * time.Minute).Milliseconds()})
		var st crm.LoginState
		if res.Err != nil || json.Unmarshal(res.Record, &st) != nil {
			t.Fatalf("fail: %s %v", res.Record, res.Err)
		}
		return st
	}
	if st := fail(crmtest.T0); st.FailedLogins != 1 || st.Locked(crmtest.T0) {
		t.Fatalf("after one failure: %+v", st)
	}
	// Failures older than the lock period are forgotten.
	if st := fail(crmtest.T0.Add(20 * time.Minute)); st.FailedLogins != 1 {
		t.Fatalf("after a quiet 20 minutes: %+v", st)
	}
	at := crmtest.T0.Add(20 * time.Minute)
	fail(at.Add(time.Second))
	st := fail(at.Add(2 * time.Second))
	if !st.Locked(at.Add(2*time.Second)) || !st.LockedUntil.Equal(at.Add(2*time.Second+15*time.Minute)) {
		t.Fatalf("after three failures: %+v", st)
	}
	crmtest.WantErr(t, session(t, tx, at.Add(time.Minute), startReq(u, "session-k-0123456789", at.Add(time.Minute))).Err, crm.CodeLocked, "username")
	if got, _ := crm.LoginStateOf(tx, id); got.FailedLogins != 3 {
		t.Fatalf("state read back: %+v", got)
	}
	crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpSession, Region: county, Actor: "ann", Time: at.Add(time.Minute), Body: crmtest.RawJSON(t, crm.SessionRequest{Action: crm.SessionUnlock, UserID: id})})
	if res := session(t, tx, at.Add(time.Minute), startReq(u, "session-k-0123456789", at.Add(time.Minute))); res.Err != nil {
		t.Fatalf("start after unlock: %v", res.Err)
	}
	// A lock runs out by itself, and a success forgets the failures.
	for i := range 3 {
		fail(at.Add(time.Duration(2+i) * time.Minute))
	}
	later := at.Add(4*time.Minute + 15*time.Minute)
	if res := session(t, tx, later, startReq(u, "session-l-0123456789", later)); res.Err != nil {
		t.Fatalf("start after the lock ran out: %v", res.Err)
	}
	if got, _ := crm.LoginStateOf(tx, id); got.FailedLogins != 0 || got.LockedUntil != nil {
		t.Fatalf("a success left %+v", got)
	}
}
