package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// TestAnalyticsRun_SameRecords: the month's run (runMonth: one pass, each
// customer's bills read once, two workers) writes the same grades,
// warnings and trends as the reference, the grade run and then the
// warning run as they were before it (api/analytics_ref_test.go), over
// the same generated county (crm/sample, 120 customers with 24 months of
// bills, through Pebble; some with a violation or a theft on record),
// loaded once and copied (a Pebble checkpoint) for each run: the records,
// without their ids, times and versions, are equal. The run is checked
// both ways it is started: the schedule's month, and the two runs by hand.
func TestAnalyticsRun_SameRecords(t *testing.T) {
	const county, n = "320723", 120
	dir := t.TempDir()
	st, err := store.Open(store.Config{Dir: filepath.Join(dir, "loaded"), CacheSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	loadCounty(t, st, county, n, 24)
	accounts := map[string]string{}
	var ids []string
	r := replication.StateReaderOf(st)
	r.Iterate([]byte(keyspace.Collection("customers")), []byte(keyspace.Collection("customers")+"\xff"), func(k, v []byte) bool {
		var c crm.Customer
		if err := json.Unmarshal(v, &c); err != nil {
			t.Fatal(err)
		}
		accounts[c.ID] = c.AccountNo
		ids = append(ids, c.ID)
		return true
	})
	if len(ids) != n {
		t.Fatalf("%d customers loaded, want %d", len(ids), n)
	}
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(accounts[a], accounts[b]) })
	be := &storeBackend{region: county, st: st}
	for i := 0; i < n; i += 13 {
		body := violationBody(ids[i])
		if i%26 == 0 {
			body = body.with("kind", "theft", "subtype", "bypass", "found_on", "2025-06-15")
		}
		now := time.Now().UTC()
		if res, err := be.Propose(context.Background(), &crm.Command{Op: crm.OpCreate, Collection: "violations", ID: crm.NewID("vio", now),
			Body: mustMarshal(t, body), Region: county, Actor: crm.SystemActor, Time: now}); err != nil || res.Err != nil {
			t.Fatalf("violation: %v %v", err, res.Err)
		}
	}
	for _, way := range []string{"reference", "schedule", "by_hand"} {
		if err := st.DB().Checkpoint(filepath.Join(dir, way), pebble.WithFlushedWAL()); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	// loaded opens the copy of the loaded county a run writes to.
	loaded := func(t *testing.T, way string) (*api.Server, client, replication.StateReader, func()) {
		st, err := store.Open(store.Config{Dir: filepath.Join(dir, way), CacheSize: 8 << 20})
		if err != nil {
			t.Fatal(err)
		}
		srv, be, admin := benchServer(t, st, county, way == "by_hand")
		return srv, admin, replication.StateReaderOf(st), func() { be.close(); st.Close() }
	}
	srv, _, r, done := loaded(t, "reference")
	defer done()
	if err := srv.ReferenceMonthlyRun(context.Background(), "2025-12"); err != nil {
		t.Fatal(err)
	}
	want := runRecords(t, r, accounts)
	counts := map[string]int{}
	for _, l := range want {
		counts[l[:strings.IndexByte(l, ' ')]]++
	}
	if counts["credit_grades"] != n || counts["consumption_warnings"] == 0 || counts["customer_trends"] == 0 {
		t.Fatalf("the reference wrote %v", counts)
	}
	if !slices.ContainsFunc(want, func(l string) bool { return strings.Contains(l, "veto:theft_24m") }) {
		t.Fatal("no grade of the reference reads the thefts on record")
	}
	t.Logf("the reference wrote %d records: %v", len(want), counts)
	for _, way := range []string{"schedule", "by_hand"} {
		t.Run(way, func(t *testing.T) {
			srv, admin, r, done := loaded(t, way)
			defer done()
			switch way {
			case "schedule":
				out, err := srv.ScheduleOnce(context.Background(), api.DefaultScheduleConfig(), time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC))
				if err != nil || out.Grades == nil || out.Warnings == nil {
					t.Fatalf("run: %+v %v", out, err)
				}
			case "by_hand":
				admin.on(t).must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-12"})
				admin.on(t).must(200, "POST", "/api/v1/warnings/run", obj{"period": "2025-12"})
			}
			got := runRecords(t, r, accounts)
			diffs := 0
			for i := 0; i < max(len(got), len(want)) && diffs < 5; i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("record %d:\n got %s\nwant %s", i, g, w)
					diffs++
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d records, want %d", len(got), len(want))
			}
		})
	}
}

// runRecords answers the run's records (credit grades, consumption
// warnings, customer trends), one line each: the collection, then the
// record's JSON without id, times, version and writer, customer_id
// replaced by the customer's account number; sorted.
func runRecords(t testing.TB, r replication.StateReader, accounts map[string]string) []string {
	t.Helper()
	var out []string
	for _, coll := range []string{"credit_grades", "consumption_warnings", "customer_trends"} {
		p := keyspace.Collection(coll)
		if err := r.Iterate([]byte(p), []byte(p+"\xff"), func(_, v []byte) bool {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"id", "version", "created_at", "updated_at", "created_by", "updated_by"} {
				delete(m, k)
			}
			id, _ := m["customer_id"].(string)
			acc, ok := accounts[id]
			if !ok {
				t.Fatalf("%s: customer %q unknown", coll, id)
			}
			m["customer_id"] = acc
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s", coll, raw))
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

func mustMarshal(t testing.TB, v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
