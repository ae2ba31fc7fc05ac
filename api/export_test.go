package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/ops"
	"gridcrm/store/keyspace"
)

// xlsx fetches an export as cl and reads its first sheet back (raw cell
// values); on another status it answers the status and body.
func xlsx(t testing.TB, cl client, query string) (int, [][]string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", cl.base+"/api/v1/export.xlsx?"+query, nil)
	if cl.auth != "" {
		req.Header.Set("Authorization", cl.auth)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, body
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("export's Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".xlsx") {
		t.Errorf("export's Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("read the workbook back: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0], excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return 200, rows, body
}

// listAll answers every item GET path?query lists, page after page.
func listAll(t testing.TB, cl client, path, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for {
		q, _ := url.ParseQuery(query)
		q.Set("limit", "1000")
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		st, body := cl.do("GET", path+"?"+q.Encode(), nil)
		if st != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), st, body)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

// TestExport_Customers: the export of the customer list holds, under the
// Chinese headers, exactly the rows the list answers for the same filters
// (all of them, over two pages of 1000, in the list's order), with
// labels and numbers as cells; refusals name the parameter; the route's
// own checks (an unknown filter, no token) are the export's; past the
// row cap it answers 413.
func TestExport_Customers(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	var batch []obj
	for i := range 1205 {
		c := customerBody(fmt.Sprintf("EX-%05d", i)).with("name", fmt.Sprintf("客户%d", i))
		if i%3 == 0 {
			c = c.with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100+i)
		}
		batch = append(batch, c)
	}
	if st, out := admin.do("POST", "/api/v1/customers/import", batch); st != 201 {
		t.Fatalf("import: %d %s", st, out)
	}

	wantHead := []string{"户号", "名称", "类别", "电压（千伏）", "合同容量（千伏安）", "行业", "区域", "网格", "线路", "台区", "电话", "地址", "标签", "状态", "编号", "所属区域", "创建时间", "更新时间"}
	for _, tc := range []struct{ name, query string }{
		{"one category, the region's subtree", "region=" + region + "&scope=subtree&category=commercial"},
		{"every customer, two pages", "region=" + region + "&scope=subtree"},
		{"no scope", "status=active"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, rows, body := xlsx(t, admin, "path=/api/v1/customers&"+tc.query)
			if st != 200 {
				t.Fatalf("export: %d %s", st, body)
			}
			want := listAll(t, admin, "/api/v1/customers", tc.query)
			if len(want) == 0 {
				t.Fatal("the list is empty: nothing to compare")
			}
			if !slices.Equal(rows[0], wantHead) {
				t.Fatalf("headers %q, want %q", rows[0], wantHead)
			}
			if len(rows)-1 != len(want) {
				t.Fatalf("%d rows exported, the list holds %d", len(rows)-1, len(want))
			}
			for i, c := range want {
				r := rows[i+1]
				cat := map[string]string{"residential": "居民", "commercial": "商业"}[c["category"].(string)]
				if r[0] != c["account_no"] || r[1] != c["name"] || r[2] != cat || r[14] != c["id"] || r[13] != "正常" || r[12] != "t1" {
					t.Fatalf("row %d: %q; the list's: %v", i+1, r, c)
				}
				if r[4] != fmt.Sprint(c["capacity_kva"]) {
					t.Fatalf("row %d capacity %q, the list's %v", i+1, r[4], c["capacity_kva"])
				}
			}
		})
	}

	st, out := admin.do("GET", "/api/v1/export.xlsx", nil)
	wantError(t, st, out, 400, "invalid", "path")
	for _, p := range []string{"/api/v1/auth/me", "/api/v1/export.xlsx", "/api/v1/customers/x", "https://evil.example/api/v1/customers"} {
		st, out = admin.do("GET", "/api/v1/export.xlsx?path="+url.QueryEscape(p), nil)
		wantError(t, st, out, 400, "invalid", "path")
	}
	st, out = admin.do("GET", "/api/v1/export.xlsx?path=/api/v1/customers&limit=5", nil)
	wantError(t, st, out, 400, "invalid", "limit")
	st, out = admin.do("GET", "/api/v1/export.xlsx?path=/api/v1/customers&after=x", nil)
	wantError(t, st, out, 400, "invalid", "after")
	st, out = admin.do("GET", "/api/v1/export.xlsx?path=/api/v1/customers&colour=red", nil)
	wantError(t, st, out, 400, "invalid", "colour")
	st, out = admin.asToken("").do("GET", "/api/v1/export.xlsx?path=/api/v1/customers", nil)
	wantError(t, st, out, 401, "unauthenticated", "")

	// A table that is one answer's array (the links of GET /sync/status;
	// none on the fake): the header row alone.
	if st, rows, body := xlsx(t, admin, "path=/api/v1/sync/status"); st != 200 || len(rows) != 1 || rows[0][0] != "对端" || rows[0][2] != "方向" {
		t.Errorf("links export: %d %q %s", st, rows, body)
	}

	// Past the cap: 413, naming it.
	cfg := api.Config{Region: region, Tier: "county", NodeID: "cap", MaxExportRows: 1000}
	ts := httptest.NewServer(api.New(cfg, f.b, ops.NewRegistry()).Handler())
	defer ts.Close()
	capped := admin
	capped.base = ts.URL
	st, _, body := xlsx(t, capped, "path=/api/v1/customers&region="+region+"&scope=subtree")
	wantError(t, st, body, 413, "too_large", "path")
	if !strings.Contains(string(body), "1000 rows") {
		t.Errorf("413 does not say the cap: %s", body)
	}
	if st, rows, body := xlsx(t, capped, "path=/api/v1/customers&category=commercial"); st != 200 || len(rows) != 403 {
		t.Fatalf("under the cap: %d, %d rows %s", st, len(rows), body)
	}
}

// TestExport_RegionScope: an export holds what its caller may list and
// no other: a county user's export of the city or a sibling county is
// refused as the list refuses it (403 naming region); at the city, the
// admin's export of the subtree holds the city's own customers and the
// county's rolled up, and of the county only the county's; the bills'
// amounts are numbers under 元 and 千瓦时 headers.
func TestExport_RegionScope(t *testing.T) {
	f := newFake(t, "3207")
	admin := f.admin(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, admin.create("customers", customerBody(fmt.Sprintf("CITY-%d", i)).with("region", "3207")))
	}
	admin.create("bills", billBody(ids[0], "2026-01"))
	// A county with a user and a customer; the customer rolled up to the
	// city as the link does.
	cf := newFake(t, "320722")
	cadmin := cf.admin(t)
	cadmin.create("users", obj{"username": "donghai", "role": "agent", "region": "320722", "password": userPassword})
	cid := cadmin.create("customers", customerBody("COUNTY-1"))
	key := keyspace.Record("customers", cid)
	raw, err := cf.b.Reader().Get([]byte(key))
	if err != nil || raw == nil {
		t.Fatalf("read %s at the county: %v", key, err)
	}
	f.b.mu.Lock()
	err = crm.ApplyReplica(f.b.tx, key, raw)
	f.b.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	county := login(t, cf.url, "donghai", userPassword)

	for _, q := range []string{"region=3207&scope=subtree", "region=320723", "region=32&scope=subtree"} {
		st, _, body := xlsx(t, county, "path=/api/v1/customers&"+q)
		wantError(t, st, body, 403, "forbidden", "region")
	}
	if st, rows, body := xlsx(t, county, "path=/api/v1/customers&region=320722"); st != 200 || len(rows) != 2 || rows[1][0] != "COUNTY-1" {
		t.Fatalf("a county user's export of its county: %d, %q %s", st, rows, body)
	}
	st, rows, body := xlsx(t, admin, "path=/api/v1/customers&region=3207&scope=subtree")
	if st != 200 || len(rows) != 5 {
		t.Fatalf("the city admin's export of the subtree: %d, %d rows %s", st, len(rows), body)
	}
	if st, rows, body := xlsx(t, admin, "path=/api/v1/customers&region=320722&scope=subtree"); st != 200 || len(rows) != 2 || rows[1][0] != "COUNTY-1" {
		t.Fatalf("the city admin's export of the county: %d, %q %s", st, rows, body)
	}

	st, rows, body = xlsx(t, admin, "path=/api/v1/bills&customer_id="+ids[0])
	if st != 200 || len(rows) != 2 {
		t.Fatalf("bills export: %d %v %s", st, rows, body)
	}
	col := func(h string) string {
		i := slices.Index(rows[0], h)
		if i < 0 {
			t.Fatalf("no column %s in %q", h, rows[0])
		}
		return rows[1][i]
	}
	if col("账期") != "2026-01" || col("电量（千瓦时）") != "120" || col("应收电费（元）") != "63.5" || col("欠费（元）") != "63.5" {
		t.Errorf("bill row %q under %q", rows[1], rows[0])
	}
}
