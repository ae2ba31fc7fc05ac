package testcluster

import (
	"flag"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gridcrm/api"
)

// Main runs a test binary's tests (call it from the package's TestMain)
// with bcrypt's cheapest work factor for the passwords its nodes hash
// (api.SetPasswordCostForTests, a test hook): every region's bootstrap
// admin, every user and every login hashed at the server's cost took about
// half a second of CPU under -race, most of the time of the packages that
// start regions (api's tests 237 s → 82 s). The password rules are checked
// before any hash, whatever the cost; the server's own cost is pinned by
// api's TestPasswordCost. Benchmarks (-bench) keep the server's cost.
func Main(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		api.SetPasswordCostForTests(bcrypt.MinCost)
	}
	os.Exit(m.Run())
}
