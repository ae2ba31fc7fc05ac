package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
)

// keyList is GET /api/v1/auth/keys (and the rotation's answer).
type keyList struct {
	Region  string `json:"region"`
	Current string `json:"current"`
	Grace   string `json:"grace"`
	Keys    []struct {
		ID        string     `json:"id"`
		Current   bool       `json:"current"`
		CreatedAt *time.Time `json:"created_at"`
		CreatedBy string     `json:"created_by"`
		RetireAt  *time.Time `json:"retire_at"`
		Retired   bool       `json:"retired"`
	} `json:"keys"`
}

func (l keyList) ids() string {
	var ids []string
	for _, k := range l.Keys {
		ids = append(ids, k.ID)
	}
	return strings.Join(ids, " ")
}

// keysOf sends a key request that must answer 200 and decodes it; the
// answer must never hold a key's bytes.
func keysOf(t *testing.T, cl client, method, path string, body any) keyList {
	t.Helper()
	st, out := cl.do(method, path, body)
	if st != 200 {
		t.Fatalf("%s %s: %d %s", method, path, st, out)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(out, &raw)
	for _, k := range raw.Keys {
		if _, leaked := k["key"]; leaked {
			t.Fatalf("%s %s answers key bytes: %s", method, path, out)
		}
	}
	var l keyList
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, out)
	}
	return l
}

// TestTokenKeys_Rotation: the region's token signing key rotates through
// raft with a grace time. A region as bootstrapped (and every region from
// before rotation existed) has only the legacy key: its tokens carry no
// kid and the first rotation converts the state to a ring. Tokens of a
// replaced key hold on every node until the grace ends, then are refused
// ("token key retired"); new tokens carry the new kid, and a follower
// verifies them at once; a tampered or unknown kid is refused; keys past
// their grace leave the ring at the next rotation; a restarted node
// verifies from the ring it persisted. Only admins of the region may list
// or rotate, and the grace is checked naming the field.
func TestTokenKeys_Rotation(t *testing.T) {
	c := newCluster(t, 3)
	lead := c.Leader()
	admin := adminOf(t, c, lead)
	at := func(cl client, i int) client { cl.base = c.Node(i).APIURL(); return cl }
	works := func(t *testing.T, cl client, what string) {
		t.Helper()
		for i := range 3 {
			if st, out := at(cl, i).do("GET", "/api/v1/auth/me", nil); st != 200 {
				t.Fatalf("%s on node %d: %d %s", what, i, st, out)
			}
		}
	}
	refused := func(t *testing.T, cl client, what, msg string) {
		t.Helper()
		for i := range 3 {
			st, out := at(cl, i).do("GET", "/api/v1/auth/me", nil)
			if e := wantError(t, st, out, 401, "invalid_token", ""); !strings.Contains(e.Message, msg) {
				t.Errorf("%s on node %d: %s; want a message with %q", what, i, out, msg)
			}
		}
	}
	kid := func(cl client) any { return tokenClaims(t, cl.token())["kid"] }
	// synced waits for every node to apply the rotation that made key id
	// (a GET passes the read barrier anyway; this makes the local checks
	// of other requests, and the reason given, predictable).
	synced := func(id string) {
		t.Helper()
		testcluster.WaitFor(t, 30*time.Second, "every node has key "+id, func() bool {
			for i := range 3 {
				if r, err := crm.TokenKeys(c.Node(i).Reader()); err != nil || r == nil || r.Current != id {
					return false
				}
			}
			return true
		})
	}
	legacyToken := admin

	t.Run("a bootstrapped region has the legacy key only", func(t *testing.T) {
		if k := kid(legacyToken); k != nil {
			t.Errorf("a token before any rotation carries kid %v", k)
		}
		if ring, _ := crm.System(c.Node(lead).Reader(), crm.TokenKeyRingName); ring != nil {
			t.Fatalf("a fresh region already has a ring: %s", ring)
		}
		l := keysOf(t, admin, "GET", "/api/v1/auth/keys", nil)
		if l.Current != crm.TokenKeyLegacy || l.ids() != crm.TokenKeyLegacy || l.Keys[0].RetireAt != nil || l.Keys[0].CreatedAt != nil {
			t.Errorf("keys of a fresh region: %+v", l)
		}
	})

	t.Run("admins of the region only", func(t *testing.T) {
		users := addUsers(t, admin, map[string]string{"kim": "manager"})
		for _, r := range []struct{ method, path string }{{"GET", "/api/v1/auth/keys"}, {"POST", "/api/v1/auth/keys/rotate"}} {
			st, out := users["kim"].do(r.method, r.path, obj{})
			wantError(t, st, out, 403, "forbidden", "")
		}
	})

	t.Run("a bad grace is refused naming the field", func(t *testing.T) {
		for _, body := range []any{obj{"grace": "soon"}, obj{"grace": "-1m"}, obj{"grace": "25h"}, obj{"grace": 3600}, obj{"grace": ""}} {
			st, out := admin.do("POST", "/api/v1/auth/keys/rotate", body)
			wantError(t, st, out, 400, "invalid", "grace")
		}
		st, out := admin.do("POST", "/api/v1/auth/keys/rotate", obj{"grace": "1h", "also": 1})
		wantError(t, st, out, 400, "invalid", "also")
		if l := keysOf(t, admin, "GET", "/api/v1/auth/keys", nil); l.ids() != crm.TokenKeyLegacy {
			t.Errorf("a refused rotation changed the keys: %s", l.ids())
		}
	})

	// The first rotation, through a follower: the legacy key retires in an hour.
	follower := (lead + 1) % 3
	before := time.Now()
	first := keysOf(t, at(admin, follower), "POST", "/api/v1/auth/keys/rotate", obj{"grace": "1h"})
	if first.Current == "" || first.ids() != first.Current+" "+crm.TokenKeyLegacy || !first.Keys[0].Current || first.Keys[0].CreatedBy != "admin" || first.Grace != "1h0m0s" {
		t.Fatalf("the first rotation answered %+v", first)
	}
	if r := first.Keys[1].RetireAt; r == nil || r.Before(before.Add(time.Hour-time.Second)) || r.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("the legacy key retires at %v; want an hour from now", r)
	}
	if legacy, _ := crm.System(c.Node(lead).Reader(), crm.LegacyTokenKeyName); legacy == nil {
		t.Error("the rotation removed the legacy value")
	}

	// A login on the leader right after: the new kid; the followers
	// verify it at once (a follower that has not applied the rotation
	// yet waits for the read barrier and finds the key).
	adminPW := testcluster.AdminPassword
	t1 := login(t, c.Node(lead).APIURL(), "admin", adminPW)
	if k := kid(t1); k != first.Current {
		t.Fatalf("a token after the rotation carries kid %v, want %s", k, first.Current)
	}
	works(t, t1, "a token of the new key")
	works(t, legacyToken, "a token of the legacy key during its grace")

	t.Run("a tampered or unknown kid is refused", func(t *testing.T) {
		for _, k := range []any{crm.TokenKeyLegacy, "", "tk_01ARZ3NDEKTSV4RRFFQ69G5FAV", 7} {
			forged := t1.asToken(tamper(t, t1.token(), "kid", k))
			for i := range 3 {
				st, out := at(forged, i).do("GET", "/api/v1/auth/me", nil)
				wantError(t, st, out, 401, "invalid_token", "")
			}
		}
		st, out := t1.asToken(tamper(t, t1.token(), "kid", "tk_nope")).do("GET", "/api/v1/auth/me", nil)
		if e := wantError(t, st, out, 401, "invalid_token", ""); !strings.Contains(e.Message, `"tk_nope"`) {
			t.Errorf("an unknown kid: %s", out)
		}
		// A legacy token given a kid: checked with that key, not its own.
		st, out = legacyToken.asToken(tamper(t, legacyToken.token(), "kid", first.Current)).do("GET", "/api/v1/auth/me", nil)
		wantError(t, st, out, 401, "invalid_token", "")
	})

	// A second rotation with a grace of 2 s: it also shortens the legacy
	// key's hour. Past it, both older keys' tokens are refused everywhere.
	second := keysOf(t, admin.asToken(t1.token()), "POST", "/api/v1/auth/keys/rotate", obj{"grace": "2s"})
	if second.ids() != second.Current+" "+first.Current+" "+crm.TokenKeyLegacy {
		t.Fatalf("keys after the second rotation: %s", second.ids())
	}
	t2 := login(t, c.Node(follower).APIURL(), "admin", adminPW)
	if k := kid(t2); k != second.Current {
		t.Fatalf("a token after the second rotation carries kid %v, want %s", k, second.Current)
	}
	time.Sleep(time.Until(*second.Keys[1].RetireAt) + 100*time.Millisecond)
	refused(t, t1, "a token of a key past its grace", "token key retired; log in again")
	refused(t, legacyToken, "a legacy token past its grace", "token key retired; log in again")
	works(t, t2, "a token of the current key")
	l := keysOf(t, t2, "GET", "/api/v1/auth/keys", nil)
	if !l.Keys[1].Retired || !l.Keys[2].Retired || l.Keys[0].Retired {
		t.Errorf("retired flags: %+v", l)
	}

	// The third rotation drops the keys past their grace.
	third := keysOf(t, t2, "POST", "/api/v1/auth/keys/rotate", nil)
	if third.ids() != third.Current+" "+second.Current || third.Grace != (24*time.Hour).String() {
		t.Fatalf("keys after the third rotation (default grace): %s, grace %s", third.ids(), third.Grace)
	}
	synced(third.Current)
	refused(t, t1, "a token of a dropped key", "does not hold")
	refused(t, legacyToken, "a legacy token after the legacy key was dropped", "token key retired; log in again")
	works(t, t2, "a token of the previous key during its grace")

	// A restarted node verifies from the ring it persisted.
	c.Kill(follower)
	c.Restart(follower)
	c.WaitReady()
	works(t, t2, "a token of the previous key after a restart")
	refused(t, t1, "a token of a dropped key after a restart", "does not hold")

	// A grace of 0 (a key that leaked) refuses every other key's tokens at once.
	keysOf(t, t2, "POST", "/api/v1/auth/keys/rotate", obj{"grace": "0s"})
	refused(t, t2, "a token of a key rotated out with no grace", "token key retired; log in again")
	works(t, login(t, c.Node(follower).APIURL(), "admin", adminPW), "a login after the rotation")
}
