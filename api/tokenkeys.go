package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// Token signing keys. The region's keys are a replicated ring
// (crm.TokenKeyRing): the current key signs new tokens and its id goes in
// the token's "kid" claim; previous keys still verify the tokens they
// signed until their retire_at, then those tokens are refused ("token key
// retired; log in again"). A token without "kid" was signed by the key the
// region was initialised with (crm.TokenKeyLegacy): tokens issued before
// rotation existed, or before the region's first rotation. An admin of the
// region rotates with POST /api/v1/auth/keys/rotate, through raft: the new
// key's id and bytes are made here, before proposing.

// signingKeys is the ring as last read from the local replica, decoded.
type signingKeys struct {
	raw    []byte // what crm.TokenKeysRaw read
	legacy bool
	ring   *crm.TokenKeyRing
	keys   map[string][]byte // id → key
}

// signingKeys answers the region's keys from the local replica. It reads
// the stored ring on every call (one point read) and decodes it again
// only when it changed.
func (s *Server) signingKeys() (*signingKeys, error) {
	raw, legacy, err := crm.TokenKeysRaw(s.b.Reader())
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("api: the region has no token key yet (not initialised)")
	}
	if k := s.key.Load(); k != nil && k.legacy == legacy && bytes.Equal(k.raw, raw) {
		return k, nil
	}
	ring, err := crm.ParseTokenKeys(raw, legacy)
	if err != nil {
		return nil, err
	}
	k := &signingKeys{raw: bytes.Clone(raw), legacy: legacy, ring: ring, keys: make(map[string][]byte, len(ring.Keys))}
	for _, tk := range ring.Keys {
		b, err := tk.Bytes()
		if err != nil {
			return nil, errors.New("api: the region's token key " + tk.ID + " is malformed")
		}
		k.keys[tk.ID] = b
	}
	s.key.Store(k)
	return k, nil
}

// signingKey answers the key a token with kid was signed by. A kid the
// local replica does not know may come from a rotation that has not
// reached it yet: it waits for the read barrier and looks again.
func (s *Server) signingKey(ctx context.Context, kid string) (crm.TokenKey, []byte, *crm.Error) {
	id := kid
	if id == "" {
		id = crm.TokenKeyLegacy
	}
	for barrier := false; ; barrier = true {
		keys, err := s.signingKeys()
		if err != nil {
			return crm.TokenKey{}, nil, apiErr(codeUnavailable, "", err.Error())
		}
		if tk, ok := keys.ring.Key(id); ok {
			return tk, keys.keys[id], nil
		}
		if barrier {
			break
		}
		if err := s.b.ReadBarrier(ctx); err != nil {
			return crm.TokenKey{}, nil, toAPIError(err)
		}
	}
	if kid == "" {
		return crm.TokenKey{}, nil, apiErr(codeInvalidToken, "", "token key retired; log in again (the token carries no key id: it was signed by the region's first key, which has been rotated out)")
	}
	return crm.TokenKey{}, nil, apiErr(codeInvalidToken, "", fmt.Sprintf("the token names signing key %q, which region %s does not hold (unknown, or dropped after it retired): log in again", kid, s.cfg.Region))
}

// tokenKeyRoutes: listing and rotating the region's signing keys, for
// admins of the region.
func (s *Server) tokenKeyRoutes(v1 *gin.RouterGroup) {
	v1.GET("/auth/keys", allow(adminOnly...), s.listTokenKeys)
	v1.POST("/auth/keys/rotate", allow(adminOnly...), s.rotateTokenKey)
}

// ownRegion refuses an admin of a region below this node's: the signing
// keys are the region's own.
func (s *Server) ownRegion(c *gin.Context) bool {
	if u := who(c).User; u.Region != s.cfg.Region {
		fail(c, &crm.Error{Code: codeForbidden, Field: "region", Owner: s.cfg.Region,
			Message: fmt.Sprintf("user %s of region %s may not manage the token keys of region %s: only its own admins may", u.Username, u.Region, s.cfg.Region)})
		return false
	}
	return true
}

// tokenKeyView is a key as GET /api/v1/auth/keys lists it: never its bytes.
type tokenKeyView struct {
	crm.TokenKeyInfo
	Retired bool `json:"retired"` // past retire_at: its tokens are refused
}

func (s *Server) keyViews(info []crm.TokenKeyInfo) []tokenKeyView {
	now := time.Now()
	out := make([]tokenKeyView, 0, len(info))
	for _, i := range info {
		out = append(out, tokenKeyView{TokenKeyInfo: i, Retired: i.RetireAt != nil && !now.Before(*i.RetireAt)})
	}
	return out
}

// listTokenKeys answers the ring: ids, created, retire_at.
func (s *Server) listTokenKeys(c *gin.Context) {
	if !s.ownRegion(c) || !s.consistent(c) {
		return
	}
	ring, err := crm.TokenKeys(s.b.Reader())
	if err == nil && ring == nil {
		err = apiErr(codeUnavailable, "", "the region has no token key yet (not initialised)")
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{"region": s.cfg.Region, "current": ring.Current, "max_token_lifetime": s.cfg.MaxTokenLifetime.String(), "keys": s.keyViews(ring.Info())})
}

type rotateRequest struct {
	Grace *string `json:"grace"`
}

// rotateTokenKey makes a new current key. Tokens signed by the keys it
// replaces stay valid for the grace (default and at most the maximum
// token lifetime; "0s" refuses them at once, for a key that leaked); keys
// already past their grace are dropped from the ring.
func (s *Server) rotateTokenKey(c *gin.Context) {
	if !s.ownRegion(c) {
		return
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req rotateRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if e := crm.DecodeStrict(body, &req); e != nil {
			fail(c, e)
			return
		}
	}
	limit := min(s.cfg.MaxTokenLifetime, crm.MaxTokenKeyGrace)
	grace := limit
	if req.Grace != nil {
		d, err := time.ParseDuration(*req.Grace)
		switch {
		case err != nil:
			fail(c, apiErr(crm.CodeInvalid, "grace", fmt.Sprintf("%q is not a duration: send one such as \"1h\" or \"30m\" (\"0s\" refuses tokens of the old keys at once)", *req.Grace)))
			return
		case d < 0:
			fail(c, apiErr(crm.CodeInvalid, "grace", "must not be negative"))
			return
		case d > limit:
			fail(c, apiErr(crm.CodeInvalid, "grace", fmt.Sprintf("%s is longer than %s, the maximum token lifetime: no token lives longer than that anyway", d, limit)))
			return
		}
		grace = d
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		fail(c, apiErr(codeInternal, "", err.Error()))
		return
	}
	id := crm.NewID("tk", time.Now())
	res, ok := s.commit(c, &crm.Command{Op: crm.OpTokenKey, ID: id,
		Body: mustJSON(crm.TokenKeyRotation{ID: id, Key: hex.EncodeToString(key[:]), GraceMS: grace.Milliseconds()})})
	if !ok {
		return
	}
	var info []crm.TokenKeyInfo
	if err := json.Unmarshal(res.Record, &info); err != nil {
		fail(c, err)
		return
	}
	u := who(c).User
	s.cfg.Logger.Info("api: token key rotated", "user", u.Username, "source", c.RemoteIP(), "key", id, "grace", grace.String(), "keys", len(info))
	c.JSON(200, gin.H{"region": s.cfg.Region, "current": id, "grace": grace.String(), "keys": s.keyViews(info)})
}
