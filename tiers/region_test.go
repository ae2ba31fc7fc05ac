package tiers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseRegion(t *testing.T) {
	good := []struct {
		in   string
		want RegionCode
		tier Tier
	}{
		{"32", "32", Province},
		{"3207", "3207", City},
		{"320722", "320722", County},
		{"  320722\n", "320722", County},
		{"\t3208 ", "3208", City},
		{"11", "11", Province},
		{"3210", "3210", City},
		{"320701", "320701", County}, // 市辖区: odd but well-formed
	}
	for _, tc := range good {
		got, err := ParseRegion(tc.in)
		if err != nil || got != tc.want || got.Tier() != tc.tier {
			t.Errorf("ParseRegion(%q) = %q (%s), %v; want %q (%s)", tc.in, got, got.Tier(), err, tc.want, tc.tier)
		}
	}

	bad := []struct {
		in   string
		want []string // substrings of the message
	}{
		{"", []string{"region is empty", "2, 4 or 6 digits"}},
		{"   ", []string{"region is empty"}},
		{"3a07", []string{`"3a07"`, "digits only"}},
		{"-32", []string{`"-32"`, "digits only"}},
		{"32 07", []string{`"32 07"`, "digits only"}},
		{"３２", []string{"digits only"}}, // full-width digits
		{"3", []string{`"3"`, "has 1 digits", "want 2 (province"}},
		{"32072", []string{`"32072"`, "has 5 digits"}},
		{"3207220", []string{`"3207220"`, "has 7 digits"}},
		{"00", []string{`"00"`, "no province 00"}},
		{"0032", []string{`"0032"`, "no province 00"}},
		{"07", []string{`"07"`, "starts with 0"}},
		{"0207", []string{`"0207"`, "starts with 0"}},
		{"3200", []string{`"3200"`, "not a real city code", "for province 32 write 32"}},
		{"320700", []string{`"320700"`, "not a real county code", "city 3207", "write 3207"}},
		{"320000", []string{`"320000"`, "not a real county code", "province 32", "write 32"}},
		{"320022", []string{`"320022"`, "not a real county code", "city digits are 00"}},
	}
	for _, tc := range bad {
		got, err := ParseRegion(tc.in)
		if err == nil {
			t.Errorf("ParseRegion(%q) = %q, nil; want an error", tc.in, got)
			continue
		}
		if got != "" {
			t.Errorf("ParseRegion(%q) returned %q with its error; want \"\"", tc.in, got)
		}
		if !errors.Is(err, ErrInvalidRegion) {
			t.Errorf("ParseRegion(%q): %v is not ErrInvalidRegion", tc.in, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "tiers: ") {
			t.Errorf("ParseRegion(%q): message %q lacks the tiers: prefix", tc.in, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("ParseRegion(%q): message %q does not mention %q", tc.in, msg, w)
			}
		}
	}
}

func TestRegionCode_TierAndValid(t *testing.T) {
	for _, tc := range []struct {
		c    RegionCode
		want Tier
	}{
		{"32", Province}, {"3207", City}, {"320722", County},
		{"", ""}, {"3", ""}, {"3200", ""}, {"320700", ""}, {" 32", ""}, {"00", ""}, {"32072a", ""},
	} {
		if got := tc.c.Tier(); got != tc.want {
			t.Errorf("RegionCode(%q).Tier() = %q; want %q", tc.c, got, tc.want)
		}
		if got := tc.c.Valid(); got != (tc.want != "") {
			t.Errorf("RegionCode(%q).Valid() = %v", tc.c, got)
		}
	}
	for _, tr := range []Tier{Province, City, County} {
		if !tr.Valid() {
			t.Errorf("%s.Valid() = false", tr)
		}
	}
	for _, tr := range []Tier{"", "town", "Province"} {
		if tr.Valid() {
			t.Errorf("Tier(%q).Valid() = true", tr)
		}
	}
}

func TestRegionCode_ParentAndAncestors(t *testing.T) {
	for _, tc := range []struct {
		c         RegionCode
		parent    RegionCode
		ancestors []RegionCode
	}{
		{"320722", "3207", []RegionCode{"3207", "32"}},
		{"3207", "32", []RegionCode{"32"}},
		{"32", "", nil},
		{"", "", nil},
		{"320700", "", nil}, // invalid: no parent, no ancestors
		{"3200", "", nil},
		{"32072", "", nil},
	} {
		if got := tc.c.Parent(); got != tc.parent {
			t.Errorf("RegionCode(%q).Parent() = %q; want %q", tc.c, got, tc.parent)
		}
		if got := tc.c.Ancestors(); !slices.Equal(got, tc.ancestors) {
			t.Errorf("RegionCode(%q).Ancestors() = %q; want %q", tc.c, got, tc.ancestors)
		}
	}
	if got := RegionCode("320722").String(); got != "320722" {
		t.Errorf("String() = %q", got)
	}
}

func TestRegionCode_Contains(t *testing.T) {
	for _, tc := range []struct {
		c, o RegionCode
		want bool
	}{
		{"32", "32", true},
		{"32", "3207", true},
		{"32", "320722", true},
		{"3207", "320722", true},
		{"3207", "3207", true},
		{"320722", "320722", true},
		{"3207", "320803", false}, // a sibling city's county
		{"3207", "3208", false},
		{"3207", "32", false}, // a child does not contain its parent
		{"320722", "3207", false},
		{"320722", "320723", false},
		{"32", "3307", false},
		{"3", "32", false}, // invalid codes contain nothing
		{"", "32", false},
		{"3200", "320022", false},
		{"320700", "320700", false},
		{"32", "320700", false}, // nor are invalid codes contained
		{"32", "32a", false},
		{"32", "", false},
	} {
		if got := tc.c.Contains(tc.o); got != tc.want {
			t.Errorf("RegionCode(%q).Contains(%q) = %v; want %v", tc.c, tc.o, got, tc.want)
		}
	}
}

func TestName(t *testing.T) {
	for c, want := range map[RegionCode]string{
		"32": "江苏省", "3201": "南京市", "3207": "连云港市", "3208": "淮安市", "3213": "宿迁市",
		"320722": "东海县", "320812": "清江浦区", "320831": "金湖县",
		"33": "", "3214": "", "320799": "", "": "", "3200": "",
	} {
		if got := Name(c); got != want {
			t.Errorf("Name(%q) = %q; want %q", c, got, want)
		}
	}
}

// TestNameTable: every code in the built-in table is valid and its parent
// is in the table too, so the table can never build a broken tree.
func TestNameTable(t *testing.T) {
	for c, n := range names {
		if !c.Valid() {
			t.Errorf("table code %q is invalid", c)
		}
		if n == "" {
			t.Errorf("table code %s has no name", c)
		}
		if p := c.Parent(); p != "" && names[p] == "" {
			t.Errorf("table code %s: parent %s is not in the table", c, p)
		}
	}
}
