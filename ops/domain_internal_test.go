package ops

import (
	"math/rand/v2"
	"testing"
)

// TestIsPeriod: isPeriod answers what periodRE answers, on the periods the
// domain writes and on strings made of their characters.
func TestIsPeriod(t *testing.T) {
	for _, s := range []string{"2026", "2026-03", "2026-Q1", "2026-H2", "2026-W05", "2026-03-05", "2026-Q5", "2026-H3", "2026-W5", "2026-", "202", "20261", "2026-03-5", "2026-03-05x", "x2026", "", "2026-W05-01", "abcd"} {
		if got, want := isPeriod(s), periodRE.MatchString(s); got != want {
			t.Errorf("isPeriod(%q) = %v, periodRE %v", s, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789-QHWx"
	for range 200_000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(2) == 0 && len(b) >= 4 { // most random strings fail at the year: give half of them one
			copy(b, "2026")
		}
		if got, want := isPeriod(string(b)), periodRE.MatchString(string(b)); got != want {
			t.Fatalf("isPeriod(%q) = %v, periodRE %v", b, got, want)
		}
	}
}
