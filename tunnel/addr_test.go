package tunnel

import (
	"net/netip"
	"strings"
	"testing"

	"gridcrm/tiers"
)

func TestOverlayAddr_Examples(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		region tiers.RegionCode
		index  int
		want   string
	}{
		{"fd47:7269:6463::/48", "320722", 2, "fd47:7269:6463::3207:22:2"},
		{"fd47:7269:6463::/48", "3207", 1, "fd47:7269:6463::3207:0:1"},
		{"fd47:7269:6463::/48", "32", 3, "fd47:7269:6463::3200:0:3"},
		{"fd47:7269:6463::/48", "320722", 1234, "fd47:7269:6463::3207:22:1234"},
		{"fd00:1:2:3::/64", "110101", 5, "fd00:1:2:3:0:1101:1:5"},
		{"fd00::/80", "82", 9999, "fd00::8200:0:9999"},
	} {
		got, err := OverlayAddr(netip.MustParsePrefix(tc.prefix), tc.region, tc.index)
		if err != nil {
			t.Errorf("%s %s %d: %v", tc.prefix, tc.region, tc.index, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("%s %s %d = %s, want %s", tc.prefix, tc.region, tc.index, got, tc.want)
		}
		if !netip.MustParsePrefix(tc.prefix).Contains(got) {
			t.Errorf("%s not in %s", got, tc.prefix)
		}
	}
}

func TestOverlayAddr_Refuses(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		region tiers.RegionCode
		index  int
		want   string
	}{
		{"10.0.0.0/8", "32", 1, "not an IPv6 prefix"},
		{"fd00::/96", "32", 1, "longer than /80"},
		{"fd00::/48", "3200", 1, "not a real city code"},
		{"fd00::/48", "3", 1, "digits"},
		{"fd00::/48", " 32", 1, "spaces"},
		{"fd00::/48", "32", 0, "node index 0 out of range"},
		{"fd00::/48", "32", 10000, "out of range"},
	} {
		_, err := OverlayAddr(netip.MustParsePrefix(tc.prefix), tc.region, tc.index)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q %d: error %v, want %q", tc.prefix, tc.region, tc.index, err, tc.want)
		}
	}
}

// Every region of the built-in Jiangsu tree with node indexes 1..5 gets its
// own address.
func TestOverlayAddr_NoCollisionsInJiangsu(t *testing.T) {
	tree := tiers.Jiangsu()
	seen := map[netip.Addr]string{}
	n := 0
	for _, root := range tree.Roots() {
		for _, r := range tree.Subtree(root.Code) {
			for i := 1; i <= 5; i++ {
				a, err := OverlayAddr(DefaultPrefix, r.Code, i)
				if err != nil {
					t.Fatal(err)
				}
				who := string(r.Code) + "/" + string(rune('0'+i))
				if prev, ok := seen[a]; ok {
					t.Fatalf("%s and %s both get %s", prev, who, a)
				}
				seen[a] = who
				n++
			}
		}
	}
	if want := tree.Len() * 5; n != want || n < 100 {
		t.Fatalf("checked %d addresses, want %d (tree has %d regions)", n, want, tree.Len())
	}
}

// The scheme is one to one over every valid code of every tier (not only
// Jiangsu's): compare all 2- and 4-digit codes and a province's 6-digit codes.
func TestOverlayAddr_NoCollisionsAnyCodes(t *testing.T) {
	seen := map[netip.Addr]string{}
	add := func(code string) {
		c := tiers.RegionCode(code)
		if !c.Valid() {
			return
		}
		a, err := OverlayAddr(DefaultPrefix, c, 1)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[a]; ok {
			t.Fatalf("%s and %s both get %s", prev, code, a)
		}
		seen[a] = code
	}
	digits := func(n, w int) string {
		s := ""
		for ; w > 0; w-- {
			s = string(rune('0'+n%10)) + s
			n /= 10
		}
		return s
	}
	for p := 10; p < 100; p++ {
		add(digits(p, 2))
		for c := 0; c < 100; c++ {
			add(digits(p, 2) + digits(c, 2))
		}
	}
	for cc := 0; cc < 10000; cc++ {
		add("32" + digits(cc, 4))
	}
	if len(seen) < 9000 {
		t.Fatalf("only %d codes checked", len(seen))
	}
}

func tiersCode(s string) tiers.RegionCode { return tiers.RegionCode(s) }

// TestOverlayRegion_RoundTrip: OverlayRegion inverts OverlayAddr for each
// tier, and refuses addresses outside the prefix or of no node.
func TestOverlayRegion_RoundTrip(t *testing.T) {
	for _, c := range []struct {
		region tiers.RegionCode
		idx    int
	}{{"32", 1}, {"32", 9999}, {"3207", 3}, {"320722", 2}, {"320700", 1}, {"110101", 12}} {
		if !c.region.Valid() {
			continue
		}
		a, err := OverlayAddr(DefaultPrefix, c.region, c.idx)
		if err != nil {
			t.Fatal(err)
		}
		r, i, err := OverlayRegion(DefaultPrefix, a)
		if err != nil || r != c.region || i != c.idx {
			t.Errorf("%s: OverlayRegion(%s) = %s, %d, %v", c.region, a, r, i, err)
		}
	}
	for _, s := range []string{"fd47:7269:6463::3207:22:0", "fd47:7269:6463::3207:2a:1", "fd47:7269:6463::3207:2200:1", "fd00::3207:22:1", "fd47:7269:6463::ff:0:1"} {
		if r, i, err := OverlayRegion(DefaultPrefix, netip.MustParseAddr(s)); err == nil {
			t.Errorf("%s: OverlayRegion accepted as %s node %d", s, r, i)
		}
	}
}
