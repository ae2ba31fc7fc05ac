package main

import (
	"strings"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestStatus_Hierarchy: status at the city shows the city with its raft
// members, the county below it with the county's own leader (carried up by
// the heartbeat), modes, and the from-child link's lag.
func TestStatus_Hierarchy(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722", Nodes: 3}}})
	county := h.Region("320722")
	// Leadership may move on a busy machine: each wait checks against the
	// county's leader of the moment.
	var leader string
	countyLeader := func() string { leader = county.Node(county.Leader()).Config().NodeID; return leader }
	t.Setenv("GRIDCRM_PASSWORD", testcluster.AdminPassword)
	var out string
	testcluster.WaitFor(t, 30*time.Second, "the county's heartbeat at the city", func() bool {
		var err error
		out, err = run(t, "status", "--url", h.Region("3207").Node(0).APIURL())
		return err == nil && strings.Contains(out, "└── 320722 county  leader "+countyLeader())
	})
	t.Logf("\n%s", out)
	for _, want := range []string{
		"seen from node n1 of region 3207 (city), leader",
		"3207 city  leader n1 (term ",
		"mode autonomous",
		"members n1* (applied ",
		"link from-child",
		"└── 320722 county  leader " + leader + " (term ",
		"heartbeat ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// At the county: its three members, and the links to the parent.
	testcluster.WaitFor(t, 30*time.Second, "status at the county (its admin replicated)", func() bool {
		var err error
		out, err = run(t, "status", "--url", county.Node(0).APIURL())
		return err == nil && strings.Contains(out, "link down") && strings.Contains(out, "320722 county  leader "+countyLeader())
	})
	for _, want := range []string{"320722 county  leader " + leader, "link up", "link down", "members "} {
		if !strings.Contains(out, want) {
			t.Errorf("status at the county lacks %q:\n%s", want, out)
		}
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		if !strings.Contains(out, " "+id) {
			t.Errorf("member %s not listed:\n%s", id, out)
		}
	}
	t.Logf("\n%s", out)
	// Bad credentials are a clear error.
	t.Setenv("GRIDCRM_PASSWORD", "wrong")
	if _, err := run(t, "status", "--url", county.Node(0).APIURL()); err == nil || !strings.Contains(err.Error(), "login at") {
		t.Errorf("wrong password: %v", err)
	}
}
