package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/ops"
	"gridcrm/store/keyspace"
	"gridcrm/warehouse"
)

// warehouseGET fetches GET /api/v1/export/<coll>?query as cl, answering
// the status, the body and the X-Export-Rows trailer.
func warehouseGET(t testing.TB, cl client, coll, query string) (int, []byte, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", cl.base+"/api/v1/export/"+coll+"?"+query, nil)
	if cl.auth != "" {
		req.Header.Set("Authorization", cl.auth)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Trailer.Get("X-Export-Rows")
}

// readExport reads an export's body back: Parquet with parquet-go's
// reader, CSV with encoding/csv (typed by the collection's schema).
func readExport(t testing.TB, coll, format string, body []byte) []map[string]any {
	t.Helper()
	s, err := warehouse.For(coll)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	keep := func(m map[string]any) error { rows = append(rows, m); return nil }
	if format == "csv" {
		err = warehouse.ReadCSV(bytes.NewReader(body), s, keep)
	} else {
		var names []string
		names, err = warehouse.ReadParquet(bytes.NewReader(body), int64(len(body)), keep)
		if err == nil && !slices.Equal(names, s.Names()) {
			t.Fatalf("parquet columns %q, want %q", names, s.Names())
		}
	}
	if err != nil {
		t.Fatalf("read the %s export of %s back: %v", format, coll, err)
	}
	return rows
}

// wantCell is what column col holds for a record the list answered (JSON
// decoded into any): its value by type, null for what is absent or empty.
func wantCell(col warehouse.Column, rec map[string]any) any {
	v, ok := rec[col.Name]
	if !ok || v == nil {
		switch {
		case col.Nullable:
			return nil
		case col.Type == warehouse.String:
			return ""
		case col.Type == warehouse.Double:
			return 0.0
		case col.Type == warehouse.Int64:
			return int64(0)
		case col.Type == warehouse.Bool:
			return false
		}
		return nil
	}
	switch col.Type {
	case warehouse.Int64:
		return int64(v.(float64))
	case warehouse.Timestamp:
		ts, err := time.Parse(time.RFC3339Nano, v.(string))
		if err != nil || ts.IsZero() {
			return nil
		}
		return ts.UTC().Truncate(time.Microsecond)
	case warehouse.Date:
		if v == "" {
			return nil
		}
	case warehouse.JSON:
		if l, ok := v.([]any); ok && len(l) == 0 {
			return nil
		}
		return v // compared as JSON
	}
	return v
}

// compareExport checks every field of every row read back against the
// records the list answers, in the list's order.
func compareExport(t *testing.T, coll string, got, want []map[string]any) {
	t.Helper()
	s, _ := warehouse.For(coll)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows exported, the list holds %d", coll, len(got), len(want))
	}
	bad := 0
	for i, rec := range want {
		for _, col := range s.Columns {
			w, g := wantCell(col, rec), got[i][col.Name]
			same := reflect.DeepEqual(g, w)
			switch {
			case col.Type == warehouse.JSON && g != nil:
				var a any
				same = json.Unmarshal([]byte(g.(string)), &a) == nil && reflect.DeepEqual(a, w)
			case col.Type == warehouse.Timestamp && g != nil && w != nil:
				same = g.(time.Time).Equal(w.(time.Time))
			}
			if !same {
				if bad++; bad < 10 {
					t.Errorf("%s row %d (%v) %s: exported %#v, the list's %#v", coll, i, rec["id"], col.Name, g, w)
				}
			}
		}
	}
}

// TestWarehouse_Export: a collection's export, as Parquet and as CSV,
// reads back (parquet-go; encoding/csv) with every field of every record
// the list answers for the same region and scope, in its order, over
// several pages; the columns are the schema's, typed; a complete export
// ends with the X-Export-Rows trailer; a user's password hash is no
// column; from/to keep what was updated in the period; the export is
// audited; bad parameters answer 400 naming the parameter, a role that
// may not read the collection 403; a county user cannot export its city or
// a sibling county, and the city's export of its subtree holds the
// county's records rolled up to it; memory stays bounded (boundedMemory).
func TestWarehouse_Export(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	as := addUsers(t, admin, map[string]string{"analyst": "analyst", "auditor": "auditor"})
	var batch []obj
	for i := range 1105 {
		c := customerBody(fmt.Sprintf("WH-%05d", i)).with("name", fmt.Sprintf(`客户 "%d", 东海`, i))
		if i%3 == 0 {
			c = c.with("category", "commercial", "voltage_kv", 10, "capacity_kva", 315.5+float64(i), "tags", []string{"重点", "a,b"})
		}
		if i%5 == 0 {
			c = c.without("tags")
		}
		batch = append(batch, c)
	}
	if st, out := admin.do("POST", "/api/v1/customers/import", batch); st != 201 {
		t.Fatalf("import: %d %s", st, out)
	}
	cid := listAll(t, admin, "/api/v1/customers", "")[0]["id"].(string)
	for i := range 3 {
		kwh := 120.5 * float64(i+1)
		b := billBody(cid, fmt.Sprintf("2026-0%d", i+1)).with("kwh", kwh, "kwh_peak", kwh/2, "kwh_flat", kwh/4, "kwh_valley", kwh/4)
		if i == 1 {
			b = b.with("paid", 63.5, "pay_date", "2026-03-10")
		}
		admin.create("bills", b)
	}
	wo := admin.create("work_orders", workOrderBody(cid))
	admin.create("work_orders", workOrderBody(cid).with("urgency", "urgent"))
	staff := admin.create("staff", staffBody("WH-1"))
	if st, out := admin.do("POST", "/api/v1/work_orders/"+wo+"/transition", obj{"version": 1, "to": "dispatched", "assignee_id": staff}); st != 200 {
		t.Fatalf("dispatch: %d %s", st, out) // a history and its times: nested JSON and timestamps
	}
	admin.create("outages", outageBody())

	for _, coll := range []string{"customers", "bills", "work_orders", "outages", "users"} {
		want := listAll(t, admin, "/api/v1/"+coll, "region="+region+"&scope=subtree")
		for _, format := range warehouse.Formats {
			t.Run(coll+"/"+format, func(t *testing.T) {
				st, body, rows := warehouseGET(t, admin, coll, "region="+region+"&scope=subtree&format="+format)
				if st != 200 {
					t.Fatalf("export: %d %s", st, body)
				}
				if rows != strconv.Itoa(len(want)) {
					t.Errorf("X-Export-Rows %q, the list holds %d", rows, len(want))
				}
				compareExport(t, coll, readExport(t, coll, format, body), want)
			})
		}
	}
	if s, _ := warehouse.For("users"); slices.Contains(s.Names(), "password_hash") {
		t.Error("the users' export has a password_hash column")
	}

	// from/to: the records updated in the period, by updated_at.
	all := listAll(t, admin, "/api/v1/customers", "region="+region)
	mid, _ := time.Parse(time.RFC3339Nano, all[len(all)-1]["updated_at"].(string))
	st, body, _ := warehouseGET(t, admin, "customers", "format=csv&region="+region+"&from="+mid.Format(time.RFC3339Nano))
	if got := readExport(t, "customers", "csv", body); st != 200 || len(got) == 0 || len(got) > len(all) {
		t.Errorf("from the last customer's update: %d, %d rows", st, len(got))
	}
	st, body, rows := warehouseGET(t, admin, "customers", "format=csv&region="+region+"&to=2020-01-01")
	if got := readExport(t, "customers", "csv", body); st != 200 || len(got) != 0 || rows != "0" {
		t.Errorf("to 2020: %d, %d rows, trailer %q", st, len(got), rows)
	}

	// The export is audited, naming the collection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var p struct{ Items []crm.AuditEntry }
		st, out := admin.do("GET", "/api/v1/audit?collection=bills", nil)
		_ = json.Unmarshal(out, &p)
		if st == 200 && slices.ContainsFunc(p.Items, func(e crm.AuditEntry) bool {
			return e.Route == "GET /api/v1/export/:collection" && e.Outcome == "ok" && e.User == "admin"
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit entry of the bills' export: %d %s", st, out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Bad parameters, each named.
	for _, tc := range []struct{ coll, query, field string }{
		{"readings", "", "collection"},
		{"customers", "format=xlsx", "format"},
		{"customers", "scope=all", "scope"},
		{"customers", "region=32x", "region"},
		{"customers", "from=yesterday", "from"},
		{"customers", "to=2026-13-01", "to"},
		{"customers", "from=2026-02-01&to=2026-01-01", "to"},
		{"customers", "colour=red", "colour"},
		{"customers", "format=csv&format=parquet", "format"},
		{"customers", "consistency=eventual", "consistency"},
	} {
		st, out := admin.do("GET", "/api/v1/export/"+tc.coll+"?"+tc.query, nil)
		wantError(t, st, out, 400, "invalid", tc.field)
	}
	st, out := as["analyst"].do("GET", "/api/v1/export/users", nil)
	wantError(t, st, out, 403, "forbidden", "collection")
	st, out = as["auditor"].do("GET", "/api/v1/export/customers", nil)
	wantError(t, st, out, 403, "forbidden", "")
	st, out = admin.asToken("").do("GET", "/api/v1/export/customers", nil)
	wantError(t, st, out, 401, "unauthenticated", "")
	if st, body, _ := warehouseGET(t, as["analyst"], "customers", "format=csv"); st != 200 || len(readExport(t, "customers", "csv", body)) != len(all) {
		t.Errorf("an analyst's export of the region: %d", st)
	}

	// Region scope: a county user's export of the city or a sibling
	// county is refused (403 naming region); at the city, the admin's
	// export of the subtree holds the city's customers and the county's
	// rolled up, of the county only the county's.
	city := newFake(t, "3207")
	cadmin := city.admin(t)
	for i := range 3 {
		cadmin.create("customers", customerBody(fmt.Sprintf("CITY-%d", i)).with("region", "3207"))
	}
	key := keyspace.Record("customers", cid)
	raw, err := f.b.Reader().Get([]byte(key))
	if err != nil || raw == nil {
		t.Fatalf("read %s at the county: %v", key, err)
	}
	city.b.mu.Lock()
	err = crm.ApplyReplica(city.b.tx, key, raw)
	city.b.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"region=3207&scope=subtree", "region=" + otherRegion, "region=32&scope=subtree"} {
		st, out := as["analyst"].do("GET", "/api/v1/export/customers?"+q, nil)
		wantError(t, st, out, 403, "forbidden", "region")
	}
	owners := func(cl client, query string) []string {
		t.Helper()
		st, body, _ := warehouseGET(t, cl, "customers", query)
		if st != 200 {
			t.Fatalf("export %s: %d %s", query, st, body)
		}
		var out []string
		for _, r := range readExport(t, "customers", "parquet", body) {
			out = append(out, r["owner"].(string)+"/"+r["account_no"].(string))
		}
		slices.Sort(out)
		return out
	}
	var rec map[string]any
	_ = json.Unmarshal(raw, &rec)
	county := region + "/" + fmt.Sprint(rec["account_no"])
	defer t.Run("bounded memory", func(t *testing.T) { boundedMemory(t, f, admin) })
	if got := owners(cadmin, "region=3207&scope=subtree"); !slices.Equal(got, []string{"3207/CITY-0", "3207/CITY-1", "3207/CITY-2", county}) {
		t.Errorf("the city admin's export of the subtree: %q", got)
	}
	if got := owners(cadmin, "region=3207"); len(got) != 3 {
		t.Errorf("the city admin's export of the city alone: %q", got)
	}
	if got := owners(cadmin, "region=320722&scope=subtree"); !slices.Equal(got, []string{county}) {
		t.Errorf("the city admin's export of the county: %q", got)
	}
}

// boundedMemory: exporting many records holds a few pages of them, not
// the export: the heap the process holds while a client reads a
// 20,000-row CSV export of interactions (about 14 MB) grows by less than
// the export (4 to 7 MB measured, with the fake's own state churning;
// about twice the export, 17 MB for 8.6 MB, when the handler is made to
// hold it). (Part of TestWarehouse_Export: a fake region and its
// admin's login cost seconds under the race detector.)
func boundedMemory(t *testing.T, f *fakeRegion, admin client) {
	const n = 20_000
	t0 := time.Now().UTC()
	summary := strings.Repeat("客户反映电压偏低，已派员检查。", 12)
	f.b.mu.Lock()
	for i := range n {
		r := &crm.Interaction{Meta: crm.Meta{ID: crm.NewID("int", t0), Owner: region, Version: 1, CreatedAt: t0, UpdatedAt: t0, CreatedBy: "admin", UpdatedBy: "admin"},
			CustomerID: crm.NewID("cus", t0), Kind: "visit", At: t0.Add(time.Duration(i) * time.Second), Summary: summary, Outcome: strconv.Itoa(i)}
		raw, _ := json.Marshal(r)
		if err := crm.ApplyReplica(f.b.tx, keyspace.Record("interactions", r.ID), raw); err != nil {
			f.b.mu.Unlock()
			t.Fatal(err)
		}
	}
	f.b.mu.Unlock()
	// A first read sorts the fake's keys (kept with its state).
	admin.must(200, "GET", "/api/v1/interactions?limit=1&region="+region, nil)
	// The export runs over the fake's state read in place, as a node's
	// Pebble iterator reads it (the fake's reader copies each range).
	// Its body timeout is shorter than the export takes: the export, with
	// no body to read, still ends complete.
	cfg := f.cfg
	cfg.BodyTimeout = 100 * time.Millisecond
	ts := httptest.NewServer(api.New(cfg, inPlace{f.b}, ops.NewRegistry()).Handler())
	defer ts.Close()

	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/export/interactions?format=csv&region="+region, nil)
	req.Header.Set("Authorization", admin.auth)
	var base, m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var total, peak int64
	buf := make([]byte, 32<<10)
	next := int64(0)
	for {
		k, err := resp.Body.Read(buf)
		total += int64(k)
		if total >= next { // every 256 KiB
			runtime.GC() // twice: what the handler allocated during the first is garbage by the second
			runtime.GC()
			runtime.ReadMemStats(&m)
			peak = max(peak, int64(m.HeapAlloc)-int64(base.HeapAlloc))
			next = total + 256<<10
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if resp.StatusCode != 200 || resp.Trailer.Get("X-Export-Rows") != strconv.Itoa(n) {
		t.Fatalf("export: %d, trailer %q", resp.StatusCode, resp.Trailer.Get("X-Export-Rows"))
	}
	t.Logf("%d rows, %d bytes of CSV; the heap grew at most %d bytes", n, total, peak)
	if total < 12<<20 {
		t.Fatalf("the export is %d bytes: too small to tell", total)
	}
	if peak > total {
		t.Errorf("the heap grew by %d bytes during an export of %d bytes: the handler holds more than a page", peak, total)
	}
}

// inPlace is the fake backend with a reader that walks its state in place
// under the read lock, without copying a range first (the fake's own
// reader copies it so that a write may wait; no write runs during the
// export that reads through it).
type inPlace struct{ *fakeBackend }

func (b inPlace) Reader() crm.Reader { return inPlaceReader{b.fakeBackend} }

type inPlaceReader struct{ b *fakeBackend }

func (r inPlaceReader) Get(key []byte) ([]byte, error) { return r.b.tx.Get(key) }

func (r inPlaceReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	r.b.mu.RLock()
	defer r.b.mu.RUnlock()
	return r.b.tx.Iterate(lower, upper, fn)
}
