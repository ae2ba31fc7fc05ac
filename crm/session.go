package crm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"

	"gridcrm/store/keyspace"
)

// Sessions and login failures are replicated state of the region, beside
// the users (they never cross links: only r/ keys go up the feed):
//
//	m/sess/<user id>/<session id>  → Session JSON: a login that has not ended
//	m/login/<user id>              → LoginState JSON: failed logins, lock
//
// A bearer token names its session; the API refuses a token whose session
// key is gone. So ending a session anywhere in the region (logout, an admin,
// a password or role change, a disable or delete of the user) ends it on
// every node once applied there. They are written by OpSession, and by the
// users' update and delete hooks (user.go), in the same batch as the change
// that ends them.

// OpSession starts, ends or counts logins: Body is a SessionRequest.
const OpSession Op = "session"

// CodeLocked answers a login of a user locked after too many failed
// logins (the API answers 429 with Retry-After).
const CodeLocked = "account_locked"

// Session actions.
const (
	SessionStart  = "start"   // a login succeeded: store Session, forget failures
	SessionEnd    = "end"     // logout or an admin: end SessionID
	SessionEndAll = "end_all" // an admin: end every session of the user
	SessionFail   = "fail"    // a login failed: count it, lock at LockAfter
	SessionUnlock = "unlock"  // an admin: lift the lock, forget failures
)

// Session is one login: what the token it answered names.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Source    string    `json:"source,omitempty"` // the client's address at login
	Node      string    `json:"node,omitempty"`   // the node that answered the login
}

// LoginState is a user's failed logins, counted region-wide.
type LoginState struct {
	FailedLogins int        `json:"failed_logins"`
	LastFailedAt *time.Time `json:"last_failed_at,omitempty"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
}

// Locked reports whether the state locks logins at t.
func (s LoginState) Locked(t time.Time) bool { return s.LockedUntil != nil && t.Before(*s.LockedUntil) }

// SessionRequest is the Body of an OpSession command. Everything that is
// not deterministic (the session id, its times, the credential) is filled
// in by the proposer.
type SessionRequest struct {
	Action    string   `json:"action"`
	UserID    string   `json:"user_id"`
	Session   *Session `json:"session,omitempty"`    // start
	SessionID string   `json:"session_id,omitempty"` // end
	// Credential is CredentialOf the user the login was checked against
	// (start): a start whose password changed meanwhile is refused.
	Credential  string `json:"credential,omitempty"`
	MaxSessions int    `json:"max_sessions,omitempty"` // start: the oldest sessions beyond it end
	LockAfter   int    `json:"lock_after,omitempty"`   // fail: this many failures lock the user (0: never)
	// LockForMS is how long a lock lasts, and how long failures are
	// remembered without a new one (fail), in milliseconds.
	LockForMS int64 `json:"lock_for_ms,omitempty"`
}

var sessionIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// SessionKey is where session sid of user uid is kept.
func SessionKey(uid, sid string) []byte { return []byte(keyspace.Session(uid, sid)) }

func sessionPrefix(uid string) []byte { return []byte(keyspace.SessionsOf(uid)) }

func loginKey(uid string) []byte { return []byte(keyspace.Login(uid)) }

// CredentialOf fingerprints u's password hash (not the hash itself).
func CredentialOf(u *User) string {
	h := sha256.Sum256([]byte(u.PasswordHash))
	return hex.EncodeToString(h[:8])
}

// SessionOf reads session sid of user uid; nil if it has ended.
func SessionOf(r Reader, uid, sid string) (*Session, error) {
	raw, err := r.Get(SessionKey(uid, sid))
	if err != nil || raw == nil {
		return nil, err
	}
	s := &Session{}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, err
	}
	return s, nil
}

// SessionsOf lists the sessions of user uid that have not ended, oldest
// first; expired ones are included (the caller knows the time).
func SessionsOf(r Reader, uid string) ([]Session, error) {
	var out []Session
	var derr error
	p := sessionPrefix(uid)
	err := r.Iterate(p, prefixEnd(p), func(_, v []byte) bool {
		var s Session
		if derr = json.Unmarshal(v, &s); derr != nil {
			return false
		}
		out = append(out, s)
		return true
	})
	if err == nil {
		err = derr
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].IssuedAt.Equal(out[j].IssuedAt) {
			return out[i].IssuedAt.Before(out[j].IssuedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// LoginStateOf reads user uid's failed logins (zero when there are none).
func LoginStateOf(r Reader, uid string) (LoginState, error) {
	var s LoginState
	raw, err := r.Get(loginKey(uid))
	if err != nil || raw == nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}

// sessionOp applies an OpSession command. It answers the session (start),
// the login state (fail, unlock) or {"ended": n} (end, end_all).
func sessionOp(tx *overlay, cmd *Command) Result {
	var req SessionRequest
	if e := decodeAction(cmd.Body, &req); e != nil {
		return Result{Err: e}
	}
	u, e := sessionUser(tx, req.UserID, cmd.Region)
	if e != nil {
		return Result{Err: e}
	}
	var out any
	switch req.Action {
	case SessionStart:
		out, e = startSession(tx, u, &req, cmd)
	case SessionEnd:
		if !sessionIDRe.MatchString(req.SessionID) {
			return Result{Err: invalid("session_id", "%q is not a session id", req.SessionID)}
		}
		cur, err := tx.Get(SessionKey(u.ID, req.SessionID))
		if err != nil {
			return Result{Err: AsError(err)}
		}
		if cur == nil {
			return Result{Err: &Error{Code: CodeNotFound, Field: "session_id", Message: fmt.Sprintf("user %s has no session %s (it ended already)", u.Username, req.SessionID)}}
		}
		if err := tx.Delete(SessionKey(u.ID, req.SessionID)); err != nil {
			return Result{Err: AsError(err)}
		}
		out = map[string]int{"ended": 1}
	case SessionEndAll:
		n, e2 := endSessions(tx, u.ID)
		out, e = map[string]int{"ended": n}, e2
	case SessionFail:
		out, e = failLogin(tx, u, &req, cmd)
	case SessionUnlock:
		if err := tx.Delete(loginKey(u.ID)); err != nil {
			return Result{Err: AsError(err)}
		}
		out = LoginState{}
	default:
		return Result{Err: invalid("action", "%q is not a session action (start, end, end_all, fail, unlock)", req.Action)}
	}
	if e != nil {
		return Result{Err: e}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: raw}
}

// sessionUser loads the user a session command is about.
func sessionUser(tx *overlay, uid, region string) (*User, *Error) {
	raw, err := tx.Get(recordKey("users", uid))
	if err != nil {
		return nil, AsError(err)
	}
	if raw == nil {
		return nil, notFound("users", uid)
	}
	u := &User{}
	if err := unmarshal(raw, u); err != nil {
		return nil, AsError(err)
	}
	if u.Owner != region {
		return nil, wrongOwner(Kinds["users"], uid, u.Owner, region)
	}
	return u, nil
}

func startSession(tx *overlay, u *User, req *SessionRequest, cmd *Command) (any, *Error) {
	s := req.Session
	switch {
	case s == nil:
		return nil, invalid("session", "is required")
	case !sessionIDRe.MatchString(s.ID):
		return nil, invalid("session.id", "%q is not a session id (16-64 letters, digits, '-' or '_')", s.ID)
	case s.UserID != u.ID || s.Username != u.Username:
		return nil, invalid("session.user_id", "the session is for %s (%s), not for user %s (%s)", s.Username, s.UserID, u.Username, u.ID)
	case !s.ExpiresAt.After(s.IssuedAt):
		return nil, invalid("session.expires_at", "must be after issued_at")
	case u.Disabled:
		return nil, &Error{Code: CodeConflict, Field: "disabled", Message: "user " + u.Username + " is disabled"}
	case req.Credential != CredentialOf(u):
		return nil, &Error{Code: CodeConflict, Field: "password", Message: "the password of user " + u.Username + " changed while logging in: log in again"}
	}
	st, err := LoginStateOf(tx, u.ID)
	if err != nil {
		return nil, AsError(err)
	}
	if st.Locked(cmd.Time) {
		return nil, lockedError(u, st)
	}
	// Ended by time or beyond the cap: the oldest go first.
	all, err := SessionsOf(tx, u.ID)
	if err != nil {
		return nil, AsError(err)
	}
	live := all[:0]
	for _, old := range all {
		if !cmd.Time.Before(old.ExpiresAt) || old.ID == s.ID {
			if err := tx.Delete(SessionKey(u.ID, old.ID)); err != nil {
				return nil, AsError(err)
			}
			continue
		}
		live = append(live, old)
	}
	for i := 0; req.MaxSessions > 0 && len(live)-i >= req.MaxSessions; i++ {
		if err := tx.Delete(SessionKey(u.ID, live[i].ID)); err != nil {
			return nil, AsError(err)
		}
	}
	raw, jerr := json.Marshal(s)
	if jerr != nil {
		return nil, AsError(jerr)
	}
	if err := tx.Set(SessionKey(u.ID, s.ID), raw); err != nil {
		return nil, AsError(err)
	}
	if st.FailedLogins > 0 || st.LockedUntil != nil {
		if err := tx.Delete(loginKey(u.ID)); err != nil {
			return nil, AsError(err)
		}
	}
	return s, nil
}

func failLogin(tx *overlay, u *User, req *SessionRequest, cmd *Command) (any, *Error) {
	st, err := LoginStateOf(tx, u.ID)
	if err != nil {
		return nil, AsError(err)
	}
	if st.Locked(cmd.Time) {
		return st, nil // locked already: nothing more to count
	}
	lockFor := time.Duration(req.LockForMS) * time.Millisecond
	if st.LockedUntil != nil || (st.LastFailedAt != nil && lockFor > 0 && cmd.Time.Sub(*st.LastFailedAt) >= lockFor) {
		st = LoginState{} // a lock that ran out, or failures long forgotten: start over
	}
	st.FailedLogins++
	st.LastFailedAt = tp(cmd.Time)
	if req.LockAfter > 0 && st.FailedLogins >= req.LockAfter && lockFor > 0 {
		st.LockedUntil = tp(cmd.Time.Add(lockFor))
	}
	raw, jerr := json.Marshal(st)
	if jerr != nil {
		return nil, AsError(jerr)
	}
	if err := tx.Set(loginKey(u.ID), raw); err != nil {
		return nil, AsError(err)
	}
	return st, nil
}

func lockedError(u *User, st LoginState) *Error {
	return &Error{Code: CodeLocked, Field: "username", Message: fmt.Sprintf("user %s is locked after %d failed logins until %s; an admin can lift it (POST /api/v1/users/%s/unlock)",
		u.Username, st.FailedLogins, st.LockedUntil.UTC().Format(time.RFC3339), u.ID)}
}

// endSessions deletes every session of user uid and answers how many there
// were. Iterate does not see the command's own writes: a session started
// by the same command is not ended (none is).
func endSessions(tx Txn, uid string) (int, *Error) {
	var keys [][]byte
	p := sessionPrefix(uid)
	if err := tx.Iterate(p, prefixEnd(p), func(k, _ []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return true
	}); err != nil {
		return 0, AsError(err)
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return 0, AsError(err)
		}
	}
	return len(keys), nil
}
