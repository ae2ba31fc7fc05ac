package api

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestPasswordCost pins the work factor the server hashes passwords with
// (the package's other tests run at bcrypt.MinCost, testcluster.Main): a hash
// made without the test hook, and the hash an unknown user's login is
// checked against, both cost bcryptCost; with the hook, the hook's cost.
func TestPasswordCost(t *testing.T) {
	prev := testPasswordCost.Load()
	defer testPasswordCost.Store(prev)
	for _, c := range []struct{ hook, want int }{{0, bcryptCost}, {bcrypt.MinCost, bcrypt.MinCost}} {
		SetPasswordCostForTests(c.hook)
		h, e := hashPassword("costcheck", "Grid-pw-cost-2026")
		if e != nil {
			t.Fatal(e)
		}
		if got, err := bcrypt.Cost([]byte(h)); err != nil || got != c.want {
			t.Errorf("hook %d: hash cost %d (%v), want %d", c.hook, got, err, c.want)
		}
	}
	if got, err := bcrypt.Cost(dummyHash); err != nil || got != bcryptCost {
		t.Errorf("the unknown user's hash costs %d (%v), want %d", got, err, bcryptCost)
	}
	if bcryptCost < 10 {
		t.Errorf("bcryptCost %d is below 10, OWASP's floor for bcrypt", bcryptCost)
	}
}
