package console_test

import (
	"flag"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gridcrm/api"
)

// TestMain runs this package's tests with bcrypt's cheapest work factor for
// the passwords their nodes hash (api.SetPasswordCostForTests, a test hook):
// each region's bootstrap admin and each login hashed at the server's cost
// took about half a second of CPU under -race. Passwords and their cost are
// tested in api. Benchmarks (-bench) keep the server's cost.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		api.SetPasswordCostForTests(bcrypt.MinCost)
	}
	os.Exit(m.Run())
}
