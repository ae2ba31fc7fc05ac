package crm_test

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
)

// rotation is an OpTokenKey command at t.
func rotation(t testing.TB, id string, fill byte, grace time.Duration, at time.Time) *crm.Command {
	key := hex.EncodeToString([]byte(strings.Repeat(string(rune(fill)), 32)))
	return &crm.Command{Op: crm.OpTokenKey, Region: county, Actor: "ann", Time: at,
		Body: rawJSON(t, crm.TokenKeyRotation{ID: id, Key: key, GraceMS: grace.Milliseconds()})}
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
	mustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: rawJSON(t, `"`+legacyHex+`"`), Region: county, Actor: crm.SystemActor})
	ring, err := crm.TokenKeys(tx)
	if err != nil || ring.Current != crm.TokenKeyLegacy || len(ring.Keys) != 1 || ring.Keys[0].Key != legacyHex || ring.Keys[0].RetireAt != nil {
		t.Fatalf("the legacy ring: %+v, %v", ring, err)
	}

	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	res := mustApply(t, tx, rotation(t, "tk_1", 'a', time.Hour, t0))
	var info []crm.TokenKeyInfo
	if err := json.Unmarshal(res.Record, &info); err != nil || len(info) != 2 {
		t.Fatalf("the first rotation answered %s", res.Record)
	}
	if strings.Contains(string(res.Record), `"key"`) {
		t.Errorf("the answer holds key bytes: %s", res.Record)
	}
	ring, _ = crm.TokenKeys(tx)
	if ring.Current != "tk_1" || ring.Keys[0].ID != "tk_1" || ring.Keys[0].RetireAt != nil || !ring.Keys[0].CreatedAt.Equal(t0) || ring.Keys[0].CreatedBy != "ann" {
		t.Errorf("after the first rotation: %+v", ring)
	}
	legacy, ok := ring.Key(crm.TokenKeyLegacy)
	if !ok || legacy.Key != legacyHex || legacy.RetireAt == nil || !legacy.RetireAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("the legacy key after the first rotation: %+v", legacy)
	}
	if legacy.Retired(t0.Add(time.Hour-time.Second)) || !legacy.Retired(t0.Add(time.Hour)) {
		t.Errorf("Retired around %v is wrong", legacy.RetireAt)
	}
	if raw, _ := crm.System(tx, "token_key"); raw == nil {
		t.Error("the legacy value was removed: nodes that check it for readiness would stop")
	}

	// Retried: the same command answers the ring, changes nothing.
	mustApply(t, tx, rotation(t, "tk_1", 'a', time.Hour, t0))
	if again, _ := crm.TokenKeys(tx); len(again.Keys) != 2 || again.Current != "tk_1" {
		t.Errorf("a retried rotation changed the ring: %+v", again)
	}
	if res := crm.Apply(tx, rotation(t, "tk_1", 'b', time.Hour, t0)); res.Err == nil || res.Err.Field != "id" {
		t.Errorf("another key under a taken id: %+v", res.Err)
	}

	// A second rotation 10 minutes later, grace 2 h: tk_1 retires at
	// t0+2h10m; the legacy key keeps its earlier time.
	t1 := t0.Add(10 * time.Minute)
	mustApply(t, tx, rotation(t, "tk_2", 'b', 2*time.Hour, t1))
	ring, _ = crm.TokenKeys(tx)
	if ids := keyIDs(ring); ids != "tk_2 tk_1 legacy" {
		t.Errorf("keys after the second rotation: %s", ids)
	}
	if k, _ := ring.Key("tk_1"); !k.RetireAt.Equal(t1.Add(2 * time.Hour)) {
		t.Errorf("tk_1 retires at %v", k.RetireAt)
	}
	if k, _ := ring.Key(crm.TokenKeyLegacy); !k.RetireAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("the legacy key's grace changed: %v", k.RetireAt)
	}

	// Two hours on: the legacy key is past its grace and dropped; a grace
	// of 0 retires every other key at once.
	t2 := t0.Add(2 * time.Hour)
	mustApply(t, tx, rotation(t, "tk_3", 'c', 0, t2))
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
		res := crm.Apply(tx, &crm.Command{Op: crm.OpTokenKey, Region: county, Actor: "ann", Time: t2, Body: rawJSON(t, bad.body)})
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
