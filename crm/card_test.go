package crm_test

import (
	"math/rand/v2"
	"testing"

	"gridcrm/crm"
)

// TestCards_MalformedNeverPanics: a card that does not decode is an error.
func TestCards_MalformedNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.IntN(64))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		if len(b) > 0 && i%2 == 0 {
			b[0] = 1 // the version, to reach the fields
		}
		_ = crm.DecodeCard(b)
	}
	if crm.DecodeCard([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) == nil {
		t.Error("a card with a string longer than itself decoded")
	}
}
