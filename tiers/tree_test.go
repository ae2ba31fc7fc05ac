package tiers

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

func codes(rs []Region) []RegionCode {
	var out []RegionCode
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func TestNewTree_FillsAndSorts(t *testing.T) {
	in := []Region{
		{Code: "320722"},
		{Code: "3207", Tier: City, Parent: "32"},
		{Code: "32", Name: "Jiangsu"}, // an explicit name is kept
		{Code: "320723", Parent: "3207", Tier: County, Name: "灌云"},
		{Code: "320799"}, // well-formed, not in the table: no name
	}
	keep := slices.Clone(in)
	tr, err := NewTree(in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, keep) {
		t.Errorf("NewTree modified its argument: %v", in)
	}
	for _, want := range []Region{
		{Code: "32", Name: "Jiangsu", Tier: Province},
		{Code: "3207", Name: "连云港市", Tier: City, Parent: "32"},
		{Code: "320722", Name: "东海县", Tier: County, Parent: "3207"},
		{Code: "320723", Name: "灌云", Tier: County, Parent: "3207"},
		{Code: "320799", Name: "", Tier: County, Parent: "3207"},
	} {
		if got, ok := tr.Get(want.Code); !ok || got != want {
			t.Errorf("Get(%s) = %+v, %v; want %+v", want.Code, got, ok, want)
		}
	}
	if _, ok := tr.Get("3208"); ok {
		t.Error("Get(3208) found a region that is not in the tree")
	}
	if got := tr.Len(); got != 5 {
		t.Errorf("Len() = %d; want 5", got)
	}
	if got := codes(tr.Roots()); !slices.Equal(got, []RegionCode{"32"}) {
		t.Errorf("Roots() = %v", got)
	}
	if got := codes(tr.Children("3207")); !slices.Equal(got, []RegionCode{"320722", "320723", "320799"}) {
		t.Errorf("Children(3207) = %v", got)
	}
	if got := codes(tr.Children("32")); !slices.Equal(got, []RegionCode{"3207"}) {
		t.Errorf("Children(32) = %v", got)
	}
	for _, c := range []RegionCode{"320722", "3208", "", "bogus"} {
		if got := tr.Children(c); got != nil {
			t.Errorf("Children(%q) = %v; want nil", c, got)
		}
	}
	if got := codes(tr.Subtree("32")); !slices.Equal(got, []RegionCode{"32", "3207", "320722", "320723", "320799"}) {
		t.Errorf("Subtree(32) = %v", got)
	}
	if got := codes(tr.Subtree("320722")); !slices.Equal(got, []RegionCode{"320722"}) {
		t.Errorf("Subtree(320722) = %v", got)
	}
	if got := tr.Subtree("3208"); got != nil {
		t.Errorf("Subtree(3208) = %v; want nil", got)
	}
}

func TestNewTree_Roots(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []Region
		roots []RegionCode
	}{
		{"empty", nil, nil},
		{"several provinces", []Region{{Code: "33"}, {Code: "32"}, {Code: "3207"}}, []RegionCode{"32", "33"}},
		{"one city subtree", []Region{{Code: "320722"}, {Code: "3207"}, {Code: "320723"}}, []RegionCode{"3207"}},
		{"a lone county", []Region{{Code: "320722"}}, []RegionCode{"320722"}},
	} {
		tr, err := NewTree(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := codes(tr.Roots()); !slices.Equal(got, tc.roots) {
			t.Errorf("%s: Roots() = %v; want %v", tc.name, got, tc.roots)
		}
	}
	// A root that is not a province still knows its code's parent.
	tr, _ := NewTree([]Region{{Code: "3207"}, {Code: "320722"}})
	if r, _ := tr.Get("3207"); r.Parent != "32" {
		t.Errorf("root 3207 has Parent %q; want 32", r.Parent)
	}
}

func TestNewTree_Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Region
		kind error
		msg  string // the whole message
	}{
		{"empty code", []Region{{Code: "32"}, {Code: ""}}, ErrInvalidRegion,
			"tiers: regions[1].code is empty; want a GB/T 2260 code of 2, 4 or 6 digits (e.g. 32, 3207, 320722)"},
		{"city 00", []Region{{Code: "3200"}}, ErrInvalidRegion,
			`tiers: regions[0].code "3200" is not a real city code: its city digits are 00; for province 32 write 32`},
		{"six-digit city", []Region{{Code: "32"}, {Code: "320700"}}, ErrInvalidRegion,
			`tiers: regions[1].code "320700" is not a real county code: it is city 3207 written with six digits; write 3207`},
		{"untrimmed code", []Region{{Code: " 32"}}, ErrInvalidRegion,
			`tiers: regions[0].code " 32" is not a region code: it must be digits only (e.g. 320722)`},
		{"duplicate", []Region{{Code: "32"}, {Code: "3207"}, {Code: "3207", Name: "again"}}, ErrDuplicateRegion,
			"tiers: region 3207 is listed twice (regions[1] and regions[2]); list each region once"},
		{"tier mismatch", []Region{{Code: "3207", Tier: County}}, ErrInvalidTier,
			"tiers: region 3207 is a city, not a county"},
		{"unknown tier", []Region{{Code: "320722", Tier: "town"}}, ErrInvalidTier,
			`tiers: region 320722: tier "town" is not one of province, city, county (it is a county; or leave tier empty)`},
		{"parent not prefix", []Region{{Code: "320722", Parent: "3208"}}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not 3208"},
		{"parent wrong tier", []Region{{Code: "320722", Parent: "32"}}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not province 32"},
		{"parent of city a county", []Region{{Code: "3207", Parent: "320722"}}, ErrWrongParent,
			"tiers: city 3207's parent must be province 32, not county 320722"},
		{"parent invalid", []Region{{Code: "3207", Parent: "3200"}}, ErrWrongParent,
			`tiers: city 3207's parent must be province 32; parent "3200" is not a real city code: its city digits are 00; for province 32 write 32`},
		{"province with parent", []Region{{Code: "32", Parent: "3"}}, ErrWrongParent,
			"tiers: province 32 has no parent; remove parent"},
		{"self parent", []Region{{Code: "32"}, {Code: "3207", Parent: "3207"}}, ErrWrongParent,
			"tiers: city 3207 names itself as its parent; its parent is province 32 (or leave parent empty)"},
		{"province self parent", []Region{{Code: "32", Parent: "32"}}, ErrWrongParent,
			"tiers: province 32 names itself as its parent; a province has no parent, remove parent"},
		{"missing parent", []Region{{Code: "32"}, {Code: "3207"}, {Code: "320803"}}, ErrMissingParent,
			"tiers: county 320803's parent city 3208 is not in the tree; add it (a tree with several roots may only have provinces as roots)"},
		{"two city roots", []Region{{Code: "3207"}, {Code: "3208"}}, ErrMissingParent,
			"tiers: city 3207's parent province 32 is not in the tree; add it (a tree with several roots may only have provinces as roots)"},
		{"province and foreign city", []Region{{Code: "32"}, {Code: "3301"}}, ErrMissingParent,
			"tiers: city 3301's parent province 33 is not in the tree; add it (a tree with several roots may only have provinces as roots)"},
	} {
		tr, err := NewTree(tc.in)
		if err == nil {
			t.Errorf("%s: NewTree succeeded; want %q", tc.name, tc.msg)
			continue
		}
		if tr != nil {
			t.Errorf("%s: NewTree returned a tree with its error", tc.name)
		}
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.kind)
		}
		if err.Error() != tc.msg {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, err, tc.msg)
		}
	}
}

// TestTree_ReturnsCopies: callers cannot change the tree through what it
// returns.
func TestTree_ReturnsCopies(t *testing.T) {
	tr := Jiangsu()
	for _, rs := range [][]Region{tr.Children("32"), tr.Subtree("3207"), tr.Roots()} {
		for i := range rs {
			rs[i].Name = "changed"
		}
	}
	for _, c := range []RegionCode{"32", "3201", "3207", "320722"} {
		if r, _ := tr.Get(c); r.Name == "changed" {
			t.Errorf("changing a returned slice changed region %s in the tree", c)
		}
	}
}

// TestTree_ConcurrentReads runs under -race.
func TestTree_ConcurrentReads(t *testing.T) {
	tr := Jiangsu()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, r := range tr.Subtree("32") {
				tr.Get(r.Code)
				tr.Children(r.Code)
				tr.Subtree(r.Code)
			}
			tr.Roots()
			Jiangsu()
		})
	}
	wg.Wait()
}

func TestRegion_JSON(t *testing.T) {
	tr := Jiangsu()
	for c, want := range map[RegionCode]string{
		"32":     `{"code":"32","name":"江苏省","tier":"province"}`,
		"320722": `{"code":"320722","name":"东海县","tier":"county","parent":"3207"}`,
	} {
		r, _ := tr.Get(c)
		b, err := json.Marshal(r)
		if err != nil || string(b) != want {
			t.Errorf("json(%s) = %s, %v; want %s", c, b, err, want)
		}
	}
}

func TestJiangsu(t *testing.T) {
	tr := Jiangsu()
	if tr != Jiangsu() {
		t.Error("Jiangsu() built a second tree")
	}
	roots := tr.Roots()
	if len(roots) != 1 || roots[0] != (Region{Code: "32", Name: "江苏省", Tier: Province}) {
		t.Fatalf("Roots() = %+v; want only 32 江苏省", roots)
	}
	cities := tr.Children("32")
	wantCities := []string{"南京市", "无锡市", "徐州市", "常州市", "苏州市", "南通市", "连云港市", "淮安市", "盐城市", "扬州市", "镇江市", "泰州市", "宿迁市"}
	if len(cities) != 13 {
		t.Fatalf("32 has %d cities; want 13: %v", len(cities), codes(cities))
	}
	for i, c := range cities {
		if c.Tier != City || c.Parent != "32" || c.Name != wantCities[i] || c.Code != RegionCode("32"+twoDigits(i+1)) {
			t.Errorf("city %d = %+v; want 32%s %s", i, c, twoDigits(i+1), wantCities[i])
		}
	}
	if r, ok := tr.Get("320722"); !ok || r.Name != "东海县" || r.Tier != County || r.Parent != "3207" {
		t.Errorf("Get(320722) = %+v, %v; want 东海县 in 3207", r, ok)
	}
	for parent, want := range map[RegionCode]string{
		"3207": "320703 连云区, 320706 海州区, 320707 赣榆区, 320722 东海县, 320723 灌云县, 320724 灌南县",
		"3208": "320803 淮安区, 320804 淮阴区, 320812 清江浦区, 320813 洪泽区, 320826 涟水县, 320830 盱眙县, 320831 金湖县",
	} {
		var got []string
		for _, r := range tr.Children(parent) {
			got = append(got, string(r.Code)+" "+r.Name)
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("Children(%s) = %s; want %s", parent, strings.Join(got, ", "), want)
		}
	}
	sub := tr.Subtree("3207")
	if len(sub) != 7 || sub[0].Code != "3207" {
		t.Errorf("Subtree(3207) = %v; want 3207 and its 6 counties", codes(sub))
	}
	if !slices.IsSortedFunc(sub, func(a, b Region) int { return strings.Compare(string(a.Code), string(b.Code)) }) {
		t.Errorf("Subtree(3207) is not sorted: %v", codes(sub))
	}
	all := tr.Subtree("32")
	if len(all) != tr.Len() {
		t.Errorf("Subtree(32) has %d regions; the tree has %d", len(all), tr.Len())
	}
	for _, r := range all {
		if r.Name == "" {
			t.Errorf("region %s has no name", r.Code)
		}
		if r.Code != "32" && !RegionCode("32").Contains(r.Code) {
			t.Errorf("region %s is not under 32", r.Code)
		}
	}
}

func twoDigits(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }
