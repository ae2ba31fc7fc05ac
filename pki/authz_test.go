package pki

import (
	"errors"
	"strings"
	"testing"

	"gridcrm/tiers"
)

func id(region, node string) Identity { return Identity{Region: tiers.RegionCode(region), Node: node} }

func TestSameRegion(t *testing.T) {
	for _, c := range []struct {
		a, b Identity
		want bool
	}{
		{id("320722", "dh1"), id("320722", "dh2"), true},
		{id("320722", "dh1"), id("320722", "dh1"), true},
		{id("3207", "hy1"), id("3207", "hy2"), true},
		{id("32", "gy1"), id("32", "gy2"), true},
		{id("320722", "dh1"), id("320723", "gn1"), false}, // sibling county
		{id("320722", "dh1"), id("3207", "hy1"), false},   // parent
		{id("3207", "hy1"), id("320722", "dh1"), false},   // child
		{id("32", "gy1"), id("320722", "dh1"), false},     // grandchild
		{id("320722", "dh1"), id("330722", "x1"), false},  // another province
		{Identity{}, Identity{}, false},                   // zero values authorise nothing
		{id("320722", ""), id("320722", ""), false},       // no node
		{id("3200", "a1"), id("3200", "a2"), false},       // invalid region
	} {
		if got := SameRegion(c.a, c.b); got != c.want {
			t.Errorf("SameRegion(%v, %v) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestIsChildRegion(t *testing.T) {
	for _, c := range []struct {
		parent, child Identity
		want          bool
	}{
		{id("3207", "hy1"), id("320722", "dh1"), true},
		{id("32", "gy1"), id("3207", "hy1"), true},
		{id("32", "gy1"), id("320722", "dh1"), false},   // grandchild: not a direct child
		{id("3208", "x1"), id("320722", "dh1"), false},  // another city's county
		{id("320722", "dh1"), id("3207", "hy1"), false}, // reversed
		{id("3207", "hy1"), id("3207", "hy2"), false},   // same region
		{id("33", "zj1"), id("3307", "x1"), true},
		{id("32", "gy1"), id("3307", "x1"), false},
		{Identity{}, id("320722", "dh1"), false},
		{id("3207", "hy1"), Identity{}, false},
	} {
		if got := IsChildRegion(c.parent, c.child); got != c.want {
			t.Errorf("IsChildRegion(%v, %v) = %v; want %v", c.parent, c.child, got, c.want)
		}
	}
}

// TestAuthorize is the table the transport relies on: which peer may call
// which service on which node, in both directions.
func TestAuthorize(t *testing.T) {
	county, county2 := id("320722", "dh1"), id("320722", "dh2")
	sibling, city, city2 := id("320723", "gn1"), id("3207", "hy1"), id("3207", "hy2")
	province, otherCity := id("32", "gy1"), id("3208", "ha1")
	same := []Service{ServiceRaft, ServicePropose, ServiceReadIndex, ServiceMembership, ServiceSnapshot}
	link := []Service{ServiceUplink, ServiceDownlink}
	type tc struct {
		svc        Service
		self, peer Identity
		ok         bool
	}
	var cases []tc
	for _, s := range same {
		cases = append(cases,
			tc{s, county, county2, true},
			tc{s, city, city2, true},
			tc{s, county, sibling, false},
			tc{s, county, city, false}, // a parent may not join or vote in a child's raft
			tc{s, city, county, false}, // nor a child in the parent's
			tc{s, province, city, false},
			tc{s, county, Identity{}, false},
		)
	}
	for _, s := range link {
		cases = append(cases,
			tc{s, city, county, true},      // county ships up to / pulls from its city
			tc{s, province, city, true},    // city to province
			tc{s, province, county, false}, // a county skips no tier
			tc{s, county, city, false},     // a parent does not call a child's uplink
			tc{s, otherCity, county, false},
			tc{s, city, city2, false},
			tc{s, county, county2, false},
		)
	}
	cases = append(cases, tc{"backup", county, county2, false}, tc{ServiceRaft, Identity{}, county, false})
	for _, c := range cases {
		err := Authorize(c.svc, c.self, c.peer)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("Authorize(%s, self %v, peer %v) = %v; want ok=%v", c.svc, c.self, c.peer, err, c.ok)
		}
		if err != nil && c.peer.Valid() && c.self.Valid() && !strings.Contains(err.Error(), c.peer.Short()) {
			t.Errorf("Authorize error %q does not name the peer %s", err, c.peer.Short())
		}
	}
}

func TestAuthorizeDial(t *testing.T) {
	county, county2 := id("320722", "dh1"), id("320722", "dh2")
	city, province := id("3207", "hy1"), id("32", "gy1")
	for _, c := range []struct {
		svc        Service
		self, peer Identity
		ok         bool
	}{
		{ServiceRaft, county, county2, true},
		{ServiceRaft, county, city, false},
		{ServicePropose, county, county2, true},
		{ServiceUplink, county, city, true}, // the county dials its parent
		{ServiceDownlink, county, city, true},
		{ServiceUplink, county, province, false}, // not its parent
		{ServiceUplink, county, county2, false},
		{ServiceUplink, city, county, false}, // a parent never dials a child's uplink
		{ServiceUplink, province, city, false},
		{ServiceDownlink, city, province, true},
		{"", county, county2, false},
	} {
		err := AuthorizeDial(c.svc, c.self, c.peer)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("AuthorizeDial(%s, self %v, peer %v) = %v; want ok=%v", c.svc, c.self, c.peer, err, c.ok)
		}
	}
}
