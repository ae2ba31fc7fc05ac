package api_test

import (
	"strings"
	"testing"

	"gridcrm/crm"
)

// TestLeave_UnknownNode: removing a node that is not a member of the
// region's raft group answers 404 naming it, and the membership stays.
func TestLeave_UnknownNode(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	st, out := admin.do("DELETE", "/api/v1/cluster/nodes/no-such-node", nil)
	e := wantError(t, st, out, 404, crm.CodeNotFound, "id")
	if !strings.Contains(e.Message, `"no-such-node"`) {
		t.Errorf("message %q does not name the node", e.Message)
	}
	cl := admin.must(200, "GET", "/api/v1/cluster", nil)
	if ms, _ := cl["members"].([]any); len(ms) != 1 {
		t.Errorf("members after a refused removal: %v; want the one node", cl["members"])
	}
}
