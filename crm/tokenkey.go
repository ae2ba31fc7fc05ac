package crm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"gridcrm/store/keyspace"
)

// The region's token signing keys are replicated system values:
//
//	m/sys/token_key   → the first key, hex in a JSON string (OpInitSys, at
//	                    bootstrap); never rewritten, so a node that knows only
//	                    it (node.Ready, node.initSystem) keeps working
//	m/sys/token_keys  → TokenKeyRing JSON, from the first rotation on
//
// While m/sys/token_keys is absent the ring is the legacy key alone, under
// id TokenKeyLegacy. The first rotation (OpTokenKey) converts it: the legacy
// key becomes a previous key with a retire time, the new one the current.

// OpTokenKey rotates the region's token signing key: Body is a
// TokenKeyRotation. The new key's id and bytes are made by the proposer.
const OpTokenKey Op = "token_key_rotate"

// TokenKeyLegacy is the id of the key the region was initialised with
// (m/sys/token_key). Tokens that carry no key id were signed by it.
const TokenKeyLegacy = "legacy"

// MaxTokenKeyGrace bounds a rotation's grace in the state machine; the
// API bounds it further by its maximum token lifetime.
const MaxTokenKeyGrace = 30 * 24 * time.Hour

// System value names of the token keys (System).
const (
	LegacyTokenKeyName = "token_key"
	TokenKeyRingName   = "token_keys"
)

// TokenKey is one signing key of the region.
type TokenKey struct {
	ID        string     `json:"id"`
	Key       string     `json:"key"` // hex; never leaves the API
	CreatedAt time.Time  `json:"created_at,omitzero"`
	CreatedBy string     `json:"created_by,omitempty"`
	RetireAt  *time.Time `json:"retire_at,omitempty"` // nil for the current key
}

// Bytes decodes the key.
func (k TokenKey) Bytes() ([]byte, error) {
	b, err := hex.DecodeString(k.Key)
	if err != nil || len(b) < 16 {
		return nil, fmt.Errorf("crm: token key %s is malformed", k.ID)
	}
	return b, nil
}

// Retired reports whether tokens signed by k are refused at t.
func (k TokenKey) Retired(t time.Time) bool { return k.RetireAt != nil && !t.Before(*k.RetireAt) }

// TokenKeyRing is the region's signing keys: the current one, which signs
// new tokens, first; then previous ones, newest first, each accepted until
// its RetireAt.
type TokenKeyRing struct {
	Current string     `json:"current"`
	Keys    []TokenKey `json:"keys"`
}

// Key answers the key with id, or false.
func (r *TokenKeyRing) Key(id string) (TokenKey, bool) {
	for _, k := range r.Keys {
		if k.ID == id {
			return k, true
		}
	}
	return TokenKey{}, false
}

// TokenKeyRotation is the Body of an OpTokenKey command.
type TokenKeyRotation struct {
	ID  string `json:"id"`  // the new key's id (NewID("tk", ...))
	Key string `json:"key"` // the new key, hex, at least 32 bytes
	// GraceMS is how long tokens signed by the keys it replaces stay
	// valid, in milliseconds from the command's time. A previous key that
	// retires sooner keeps its time.
	GraceMS int64 `json:"grace_ms"`
}

var tokenKeyID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// TokenKeys reads the region's token key ring: m/sys/token_keys, or the
// legacy key alone when the region has never rotated. Nil when the region
// has no key yet.
func TokenKeys(r Reader) (*TokenKeyRing, error) {
	raw, legacy, err := TokenKeysRaw(r)
	if err != nil || raw == nil {
		return nil, err
	}
	return ParseTokenKeys(raw, legacy)
}

// TokenKeysRaw reads the stored ring, or (legacy true) the legacy key
// when there is no ring; nil when the region has neither. Callers that
// cache the parsed ring compare it to decide whether to parse again.
func TokenKeysRaw(r Reader) (raw []byte, legacy bool, err error) {
	if raw, err = System(r, TokenKeyRingName); err != nil || raw != nil {
		return raw, false, err
	}
	raw, err = System(r, LegacyTokenKeyName)
	return raw, true, err
}

// ParseTokenKeys decodes what TokenKeysRaw read.
func ParseTokenKeys(raw []byte, legacy bool) (*TokenKeyRing, error) {
	if legacy {
		var hexKey string
		if err := json.Unmarshal(raw, &hexKey); err != nil {
			return nil, fmt.Errorf("crm: the token key is malformed: %w", err)
		}
		return &TokenKeyRing{Current: TokenKeyLegacy, Keys: []TokenKey{{ID: TokenKeyLegacy, Key: hexKey}}}, nil
	}
	var ring TokenKeyRing
	if err := json.Unmarshal(raw, &ring); err != nil {
		return nil, fmt.Errorf("crm: the token key ring is malformed: %w", err)
	}
	if _, ok := ring.Key(ring.Current); !ok {
		return nil, fmt.Errorf("crm: the token key ring has no current key %q", ring.Current)
	}
	return &ring, nil
}

// TokenKeyInfo is a key as listed: never its bytes.
type TokenKeyInfo struct {
	ID        string     `json:"id"`
	Current   bool       `json:"current"`
	CreatedAt *time.Time `json:"created_at"` // null for the legacy key
	CreatedBy string     `json:"created_by,omitempty"`
	RetireAt  *time.Time `json:"retire_at"` // null for the current key
}

// Info lists the ring's keys without their bytes.
func (r *TokenKeyRing) Info() []TokenKeyInfo {
	out := make([]TokenKeyInfo, 0, len(r.Keys))
	for _, k := range r.Keys {
		i := TokenKeyInfo{ID: k.ID, Current: k.ID == r.Current, CreatedBy: k.CreatedBy, RetireAt: k.RetireAt}
		if !k.CreatedAt.IsZero() {
			t := k.CreatedAt
			i.CreatedAt = &t
		}
		out = append(out, i)
	}
	return out
}

// rotateTokenKey applies OpTokenKey: the new key becomes current, the
// keys it replaces retire at cmd.Time + grace (or sooner, as set before),
// and keys past their retire time are dropped. Applied again (a retried
// proposal), it answers the ring as it is.
func rotateTokenKey(tx *overlay, cmd *Command) Result {
	var req TokenKeyRotation
	if e := DecodeStrict(cmd.Body, &req); e != nil {
		return Result{Err: e}
	}
	if !tokenKeyID.MatchString(req.ID) || req.ID == TokenKeyLegacy {
		return Result{Err: invalid("id", "%q is not a token key id", req.ID)}
	}
	if b, err := hex.DecodeString(req.Key); err != nil || len(b) < 32 || len(b) > 128 {
		return Result{Err: invalid("key", "must be 32 to 128 bytes in hex")}
	}
	if req.GraceMS < 0 || req.GraceMS > MaxTokenKeyGrace.Milliseconds() {
		return Result{Err: invalid("grace", "must be between 0 and %s", MaxTokenKeyGrace)}
	}
	ring, err := TokenKeys(tx)
	if err != nil {
		return Result{Err: AsError(err)}
	}
	if ring == nil {
		return Result{Err: &Error{Code: CodeConflict, Message: "the region has no token key yet (not initialised)"}}
	}
	if k, ok := ring.Key(req.ID); ok {
		if ring.Current == req.ID && k.Key == req.Key {
			return Result{Record: mustMarshal(ring.Info())}
		}
		return Result{Err: &Error{Code: CodeDuplicate, Field: "id", Message: fmt.Sprintf("token key %s exists", req.ID)}}
	}
	now := cmd.Time.UTC()
	retire := now.Add(time.Duration(req.GraceMS) * time.Millisecond)
	next := TokenKeyRing{Current: req.ID, Keys: []TokenKey{{ID: req.ID, Key: req.Key, CreatedAt: now, CreatedBy: cmd.Actor}}}
	for _, k := range ring.Keys {
		if k.Retired(now) {
			continue // past its grace: dropped
		}
		if k.RetireAt == nil || retire.Before(*k.RetireAt) {
			t := retire
			k.RetireAt = &t
		}
		next.Keys = append(next.Keys, k)
	}
	raw, merr := json.Marshal(next)
	if merr != nil {
		return Result{Err: AsError(merr)}
	}
	if err := tx.Set(sysKey(TokenKeyRingName), bytes.Clone(raw)); err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: mustMarshal(next.Info())}
}

func sysKey(name string) []byte { return []byte(keyspace.Sys(name)) }

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
