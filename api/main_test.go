package api_test

import (
	"flag"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gridcrm/api"
)

// TestMain runs this package's tests with bcrypt's cheapest work factor for
// the passwords their nodes hash (api.SetPasswordCostForTests, a test hook):
// every bootstrap admin, user and login hashed at the server's cost took
// about half a second of CPU under -race, and the package starts hundreds.
// The password rules are checked before any hash, whatever the cost; the
// server's own cost is pinned by TestPasswordCost (password_cost_test.go,
// inside the package). Benchmarks (-bench) keep the server's cost.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		api.SetPasswordCostForTests(bcrypt.MinCost)
	}
	os.Exit(m.Run())
}
