package link_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports: replication and replication/link never import the domain
// (crm) nor the API (api), directly or through another package; the domain
// reaches the link protocol only through link.Domain. (Test files may: the
// check is on what the packages build from.)
func TestImports(t *testing.T) {
	for _, root := range []string{"gridcrm/replication", "gridcrm/replication/link"} {
		out, err := exec.Command("go", "list", "-deps", root).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", root, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range []string{"gridcrm/crm", "gridcrm/api"} {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", root, dep)
				}
			}
		}
	}
}
