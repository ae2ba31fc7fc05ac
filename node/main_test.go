package node_test

import (
	"flag"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gridcrm/api"
)

// TestMain runs this package's tests with bcrypt's cheapest work factor for
// the passwords their nodes hash (api.SetPasswordCostForTests, a test hook):
// they start many regions, and every bootstrap admin, user and login hashed
// at the server's cost took most of a second under -race. The password
// rules are checked before any hash (and tested here and in api); the cost
// is tested in api. Benchmarks (-bench) keep the server's cost.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		api.SetPasswordCostForTests(bcrypt.MinCost)
	}
	os.Exit(m.Run())
}
