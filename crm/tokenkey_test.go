package crm_test

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// rotation is an OpTokenKey command at t.
func rotation(t testing.TB, id string, fill byte, grace time.Duration, at time.Time) *crm.Command {
	key := hex.EncodeToString([]byte(strings.Repeat(string(rune(fill)), 32)))
	return &crm.Command{Op: crm.OpTokenKey, Region: county, Actor: "ann", Time: at,
		Body: crmtest.RawJSON(t, crm.TokenKeyRotation{ID: id, Key: key, GraceMS: grace.Milliseconds()})}
}

// TestTokenKey_Rotation: a region with only the legacy key (as every
// region before rotation existed) reads as a ring of one; the first
// rotation converts it, the legacy key retiring after the grace; a later
// rotation drops keys past their grace and never lengthens a grace set
// before; a retried rotation answers the ring as it is; bad bodies are
// refused naming the field, leaving the state as it was.
func TestTokenKey_Rotation(t *testing.T) {
	tx := crm.NewMemTxn()
	if ring, err := crm.TokenKeys(tx); err != nil || ring != nil {
		t.Fatalf("an empty region's ring: %v, %v", ring, err)
	}
	if res := crm.Apply(tx, rotation(t, "tk_1", 'a', time.Hour, time.Now())); res.Err == nil {
		t.Fatal("a rotation before the region has a key was applied")
	}
	legacyHex := hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: crmtest.RawJSON(t, `"`+legacyHex+`"`), Region: county, Actor: crm.SystemActor})
	ring, err := crm.TokenKeys(tx)
	if err != nil || ring.Current != crm.TokenKeyLegacy || len(ring.Keys) != 1 || ring.Keys[0].Key != legacyHex || ring.Keys[0].RetireAt != nil {
		t.Fatalf("the legacy ring: %+v, %v", ring, err)
	}

	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	res := crmtest.MustApply(t, tx, rotation(t, "tk_1", 'a', time.Hour, start))
	var info []crm.TokenKeyInfo
	if err := json.Unmarshal(res.Record, &info); err != nil || len(info) != 2 {
		t.Fatalf("the first rotation answered %s", res.Record)
	}
	if strings.Contains(string(res.Record), `"key"`) {
		t.Errorf("the answer holds key bytes: %s", res.Record)
	}
	ring, _ = crm.TokenKeys(tx)
	if ring.Current != "tk_1" || ring.Keys[0].ID != "tk_1" || ring.Keys[0].RetireAt != nil || !ring.Keys[0].CreatedAt.Equal(start) || ring.Keys[0].CreatedBy != "ann" {
		t.Errorf("after the first rotation: %+v", ring)
	}
	legacy, ok := ring.Key(crm.TokenKeyLegacy)
	if !ok || legacy.Key != legacyHex || legacy.RetireAt == nil || !legacy.RetireAt.Equal(start.Add(time.Hour)) {
		t.Errorf("the legacy key after the first rotation: %+v", legacy)
	}
	if legacy.Retired(start.Add(time.Hour-time.Second)) || !legacy.Retired(start.Add(time.Hour)) {
		t.Errorf("Retired around %v is wrong", legacy.RetireAt)
	}
	if raw, _ := crm.System(tx, "token_key"); raw == nil {
		t.Error("the legacy value was removed: nodes that check it for readiness would stop")
	}

	// Retried: the same command answers the ring, changes nothing.
	crmtest.MustApply(t, tx, rotation(t, "tk_1", 'a', time.Hour, start))
	if again, _ := crm.TokenKeys(tx); len(again.Keys) != 2 || again.Current != "tk_1" {
		t.Errorf("a retried rotation changed the ring: %+v", again)
	}
	if res := crm.Apply(tx, rotation(t, "tk_1", 'b', time.Hour, start)); res.Err == nil || res.Err.Field != "id" {
		t.Errorf("another key under a taken id: %+v", res.Err)
	}

	// A second rotation 10 minutes later, grace 2 h: tk_1 retires at
	// start+2h10m; the legacy key keeps its earlier time.
	t1 := start.Add(10 * time.Minute)
	crmtest.MustApply(t, tx, rotation(t, "tk_2", 'b', 2*time.Hour, t1))
	ring, _ = crm.TokenKeys(tx)
	if ids := keyIDs(ring); ids != "tk_2 tk_1 legacy" {
		t.Errorf("keys after the second rotation: %s", ids)
	}
	if k, _ := ring.Key("tk_1"); !k.RetireAt.Equal(t1.Add(2 * time.Hour)) {
		t.Errorf("tk_1 retires at %v", k.RetireAt)
	}
	if k, _ := ring.Key(crm.TokenKeyLegacy); !k.RetireAt.Equal(start.Add(time.Hour)) {
		t.Errorf("the legacy key's grace changed: %v", k.RetireAt)
	}

	// Two hours on: the legacy key is past its grace and dropped; a grace
	// of 0 retires every other key at once.
	t2 := start.Add(2 * time.Hour)
	crmtest.MustApply(t, tx, rotation(t, "tk_3", 'c', 0, t2))
	ring, _ = crm.TokenKeys(tx)
	if ids := keyIDs(ring); ids != "tk_3 tk_2 tk_1" {
		t.Errorf("keys after the third rotation: %s", ids)
	}
	for _, id := range []string{"tk_2", "tk_1"} {
		if k, _ := ring.Key(id); !k.Retired(t2) {
			t.Errorf("%s is not retired after a rotation with no grace: %v", id, k.RetireAt)
		}
	}

	for _, bad := range []struct {
		field string
		body  any
	}{
		{"id", crm.TokenKeyRotation{ID: "no/slash", Key: strings.Repeat("ab", 32)}},
		{"id", crm.TokenKeyRotation{ID: crm.TokenKeyLegacy, Key: strings.Repeat("ab", 32)}},
		{"key", crm.TokenKeyRotation{ID: "tk_9", Key: "abcd"}},
		{"key", crm.TokenKeyRotation{ID: "tk_9", Key: strings.Repeat("zz", 32)}},
		{"grace", crm.TokenKeyRotation{ID: "tk_9", Key: strings.Repeat("ab", 32), GraceMS: -1}},
		{"grace", crm.TokenKeyRotation{ID: "tk_9", Key: strings.Repeat("ab", 32), GraceMS: (crm.MaxTokenKeyGrace + time.Second).Milliseconds()}},
		{"grace", crm.TokenKeyRotation{ID: "tk_9", Key: strings.Repeat("ab", 32), GraceMS: 1 << 62}},
		{"extra", `{"id":"tk_9","key":"` + strings.Repeat("ab", 32) + `","extra":1}`},
	} {
		res := crm.Apply(tx, &crm.Command{Op: crm.OpTokenKey, Region: county, Actor: "ann", Time: t2, Body: crmtest.RawJSON(t, bad.body)})
		if res.Err == nil || res.Err.Code != crm.CodeInvalid || res.Err.Field != bad.field {
			t.Errorf("%v: %+v; want invalid %s", bad.body, res.Err, bad.field)
		}
	}
	if after, _ := crm.TokenKeys(tx); keyIDs(after) != "tk_3 tk_2 tk_1" {
		t.Errorf("a refused rotation changed the ring: %s", keyIDs(after))
	}
}

func keyIDs(r *crm.TokenKeyRing) string {
	var ids []string
	for _, k := range r.Keys {
		ids = append(ids, k.ID)
	}
	return strings.Join(ids, " ")
}
