package api

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"gridcrm/crm"
)

// maxCached bounds each map of the auth cache; a full map is emptied.
const maxCached = 1 << 14

// authCache saves authenticate the decoding of what it reads on every
// request: the token's user record and its session. Entries are keyed by
// id and hold the raw bytes they were decoded from; one is used only when
// the local replica still holds exactly those bytes. The replica is read
// on every request as before, so the cache is never stale: a password or
// role change, a disable or an ended session shows at once.
type authCache struct {
	mu       sync.RWMutex
	users    map[string]cachedUser    // by user id; guarded by mu
	sessions map[string]cachedSession // by session id; guarded by mu
}

type cachedUser struct {
	raw  []byte
	user crm.User
}

type cachedSession struct {
	raw     []byte
	expires time.Time
}

func newAuthCache() *authCache {
	return &authCache{users: map[string]cachedUser{}, sessions: map[string]cachedSession{}}
}

// user answers the user record raw (read just now) decodes to, as a copy
// the caller owns.
func (a *authCache) user(id string, raw []byte) (*crm.User, error) {
	a.mu.RLock()
	c, ok := a.users[id]
	a.mu.RUnlock()
	if ok && bytes.Equal(c.raw, raw) {
		u := c.user
		return &u, nil
	}
	u := &crm.User{}
	if err := json.Unmarshal(raw, u); err != nil {
		return nil, err
	}
	a.mu.Lock()
	if len(a.users) >= maxCached {
		a.users = map[string]cachedUser{}
	}
	a.users[id] = cachedUser{raw: raw, user: *u}
	a.mu.Unlock()
	return u, nil
}

// sessionExpiry answers when the session stored as raw (read just now)
// expires.
func (a *authCache) sessionExpiry(sid string, raw []byte) (time.Time, error) {
	a.mu.RLock()
	c, ok := a.sessions[sid]
	a.mu.RUnlock()
	if ok && bytes.Equal(c.raw, raw) {
		return c.expires, nil
	}
	var s struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, err
	}
	a.mu.Lock()
	if len(a.sessions) >= maxCached {
		a.sessions = map[string]cachedSession{}
	}
	a.sessions[sid] = cachedSession{raw: raw, expires: s.ExpiresAt}
	a.mu.Unlock()
	return s.ExpiresAt, nil
}
