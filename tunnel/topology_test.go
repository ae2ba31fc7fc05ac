package tunnel

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"gridcrm/tiers"
)

func TestAdjacent(t *testing.T) {
	for _, tc := range []struct {
		a, b  tiers.RegionCode
		intra bool
		want  bool
	}{
		{"320722", "3207", false, true},
		{"3207", "320722", false, true},
		{"3207", "32", false, true},
		{"32", "3207", false, true},
		{"320722", "32", false, false},     // grandparent: through the city, never direct
		{"320722", "320723", false, false}, // sibling county
		{"320722", "3208", false, false},   // another city
		{"320722", "320803", false, false}, // a cousin
		{"320722", "320722", false, false},
		{"320722", "320722", true, true},
		{"32", "33", false, false},
	} {
		if got := Adjacent(tc.a, tc.b, tc.intra); got != tc.want {
			t.Errorf("Adjacent(%s, %s, intra=%v) = %v, want %v", tc.a, tc.b, tc.intra, got, tc.want)
		}
	}
}

func testTopology(t *testing.T) *Topology {
	dir := t.TempDir()
	top := &Topology{}
	for i, n := range []struct {
		r   tiers.RegionCode
		idx int
	}{{"32", 1}, {"3207", 1}, {"3208", 1}, {"320722", 1}, {"320722", 2}, {"320723", 1}, {"320803", 1}} {
		_, pub := testKey(t, dir, string(n.r)+"-"+string(rune('0'+n.idx)))
		top.Nodes = append(top.Nodes, TopologyNode{Region: n.r, Index: n.idx, PublicKey: pub, Endpoint: "127.0.0.1:" + string(rune('0'+i)) + "1820", Port: 8500 + i})
	}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	return top
}

func TestTopology_PeersFollowTheTree(t *testing.T) {
	top := testTopology(t)
	names := func(ps []PeerConfig) []string {
		var out []string
		for _, p := range ps {
			out = append(out, string(p.Region)+"/"+string(rune('0'+p.Index)))
		}
		return out
	}
	for _, tc := range []struct {
		r     tiers.RegionCode
		idx   int
		intra bool
		want  []string
	}{
		{"32", 1, false, []string{"3207/1", "3208/1"}},
		{"3207", 1, false, []string{"32/1", "320722/1", "320722/2", "320723/1"}},
		{"3208", 1, false, []string{"32/1", "320803/1"}},
		{"320722", 1, false, []string{"3207/1"}},
		{"320722", 1, true, []string{"3207/1", "320722/2"}},
		{"320803", 1, false, []string{"3208/1"}},
	} {
		if got := names(top.Peers(tc.r, tc.idx, tc.intra)); !slices.Equal(got, tc.want) {
			t.Errorf("Peers(%s/%d, intra=%v) = %v, want %v", tc.r, tc.idx, tc.intra, got, tc.want)
		}
	}
	if got, want := top.Addrs("320722"), []string{"[fd47:7269:6463::3207:22:1]:8503", "[fd47:7269:6463::3207:22:2]:8504"}; !slices.Equal(got, want) {
		t.Errorf("Addrs(320722) = %v, want %v", got, want)
	}
	if top.Port("3208", 1) != 8502 || top.Port("3209", 1) != 0 {
		t.Errorf("Port: %d %d", top.Port("3208", 1), top.Port("3209", 1))
	}
}

func TestTopology_Validate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Topology)
		want   string
	}{
		{"overlapping addresses", func(top *Topology) { top.Nodes[4].Index = 1 }, "nodes[4] (region 320722, index 1): overlay address fd47:7269:6463::3207:22:1 overlaps nodes[3]'s"},
		{"key twice", func(top *Topology) { top.Nodes[2].PublicKey = top.Nodes[1].PublicKey }, "is also nodes[1]'s"},
		{"bad key", func(top *Topology) { top.Nodes[0].PublicKey = "nope" }, `nodes[0] (region 32, index 1): tunnel: public key "nope"`},
		{"bad region", func(top *Topology) { top.Nodes[0].Region = "3200" }, "nodes[0] (region 3200, index 1)"},
		{"bad endpoint", func(top *Topology) { top.Nodes[1].Endpoint = "x" }, `nodes[1] (region 3207, index 1): endpoint "x"`},
		{"bad port", func(top *Topology) { top.Nodes[1].Port = 70000 }, "port 70000"},
		{"empty", func(top *Topology) { top.Nodes = nil }, "nodes is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := testTopology(t)
			tc.change(top)
			err := top.Validate()
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v\nwant an ErrInvalidConfig containing %q", err, tc.want)
			}
		})
	}
}
