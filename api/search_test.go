package api_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
)

// TestSearch_Customers: GET /api/v1/customers/search finds customers by part
// of the name, a 户号 prefix and phone digits (folded for width and case),
// pages with its cursor, keeps a user to their region's subtree (403 naming
// region) and answers 400 naming the field of every bad parameter.
func TestSearch_Customers(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	a := admin.create("customers", customerBody("SR-1001").with("name", "淮安市恒通机械有限公司", "phone", "0517-86543210", "tags", []string{"VIP"}))
	b := admin.create("customers", customerBody("SR-1002").with("name", "恒通超市", "address", "长江东路 88 号"))
	admin.create("customers", customerBody("XX-2001").with("name", "张伟"))

	find := func(q string, extra ...string) ([]string, map[string]any) {
		t.Helper()
		v := url.Values{"q": {q}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		m := admin.must(200, "GET", "/api/v1/customers/search?"+v.Encode(), nil)
		var ids []string
		for _, it := range m["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		slices.Sort(ids)
		return ids, m
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"恒通", sorted(a, b)},
		{"机械", []string{a}},
		{"sr-10", sorted(a, b)}, // 户号 prefix, case folded
		{"ＳＲ１００２", []string{b}},
		{"86543210", []string{a}},
		{"ＶＩＰ", []string{a}},
		{"长江东路88号", []string{b}},
		{"没有的名字", nil},
	} {
		if got, _ := find(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("q=%s: %v; want %v", tc.q, got, tc.want)
		}
	}
	// Paging: one at a time, by cursor.
	got, m := find("恒通", "limit", "1")
	next, _ := m["next"].(string)
	if len(got) != 1 || next == "" {
		t.Fatalf("limit 1: %v, next %q", got, next)
	}
	got2, m2 := find("恒通", "limit", "1", "cursor", next)
	if len(got2) != 1 || got2[0] == got[0] || m2["next"] != "" {
		t.Errorf("second page: %v next %v; want the other one and no more", got2, m2["next"])
	}
	// Scope: its own region (region scope) and subtree; a sibling is refused.
	if got, _ := find("恒通", "region", region, "scope", "region"); len(got) != 2 {
		t.Errorf("scope=region: %v", got)
	}
	st, out := admin.do("GET", "/api/v1/customers/search?q=恒通&region=320723", nil)
	wantError(t, st, out, 403, "forbidden", "region")
	for _, tc := range []struct{ query, field string }{
		{"", "q"},
		{"q=", "q"},
		{"q=ab", "q"},
		{"q=123", "q"},
		{"q=恒通&limit=0", "limit"},
		{"q=恒通&limit=x", "limit"},
		{"q=恒通&scope=everything", "scope"},
		{"q=恒通&region=3x", "region"},
		{"q=恒通&category=shop", "category"},
		{"q=恒通&status=gone", "status"},
		{"q=恒通&cursor=nonsense", "cursor"},
		{"q=恒通&q=张", "q"},
		{"q=恒通&colour=red", "colour"},
	} {
		st, out := admin.do("GET", "/api/v1/customers/search?"+tc.query, nil)
		wantError(t, st, out, 400, "invalid", tc.field)
	}
	// An agent and an analyst may search (read roles); nothing is written.
	users := addUsers(t, admin, map[string]string{"searchanalyst": "analyst"})
	st, out = users["searchanalyst"].do("GET", "/api/v1/customers/search?q=%E6%81%92%E9%80%9A", nil)
	var page struct{ Items []json.RawMessage }
	if st != 200 || json.Unmarshal(out, &page) != nil || len(page.Items) != 2 {
		t.Errorf("analyst search: %d %s", st, out)
	}
}
