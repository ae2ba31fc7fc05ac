package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// auditPage is GET /api/v1/audit's answer.
type auditPage struct {
	Items []crm.AuditEntry
	Next  *string
}

func auditOf(t testing.TB, cl *testcluster.Client, query string) auditPage {
	t.Helper()
	st, out := cl.Do("GET", "/api/v1/audit?"+query, nil)
	if st != 200 {
		t.Fatalf("GET /api/v1/audit?%s: %d %s", query, st, out)
	}
	var p auditPage
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitAudit polls until query selects n entries and answers them.
func waitAudit(t testing.TB, cl *testcluster.Client, query string, n int) []crm.AuditEntry {
	t.Helper()
	var p auditPage
	testcluster.WaitFor(t, 20*time.Second, fmt.Sprintf("%d audit entries of %s", n, query), func() bool {
		p = auditOf(t, cl, query)
		return len(p.Items) >= n
	})
	if len(p.Items) != n {
		t.Fatalf("%s: %d entries; want %d: %+v", query, len(p.Items), n, p.Items)
	}
	return p.Items
}

type verifyAnswer struct {
	OK     bool
	Chains []crm.AuditReport
}

func verifyOf(t testing.TB, cl *testcluster.Client) verifyAnswer {
	t.Helper()
	st, out := cl.Do("GET", "/api/v1/audit/verify", nil)
	if st != 200 {
		t.Fatalf("verify: %d %s", st, out)
	}
	var v verifyAnswer
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAudit_EveryWrite: writes applied, refused on apply, refused before
// proposing, and logins (good and bad) each leave an entry; the trail is
// read by filters, paged and exported, for admins only; the chain
// verifies, and an entry altered or removed in a node's Pebble store is
// found by the verify route and the metric.
func TestAudit_EveryWrite(t *testing.T) {
	c := newCluster(t, 1)
	admin := c.Client(0)
	must := func(want int, method, path string, body any) []byte {
		t.Helper()
		st, out := admin.Do(method, path, body)
		if st != want {
			t.Fatalf("%s %s: %d %s; want %d", method, path, st, out, want)
		}
		return out
	}
	var cus struct {
		ID      string
		Version uint64
	}
	json.Unmarshal(must(201, "POST", "/api/v1/customers", map[string]any{"account_no": "AUD-1", "name": "审计客户", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630}), &cus)
	must(200, "PATCH", "/api/v1/customers/"+cus.ID, map[string]any{"version": 1, "name": "改名"})
	must(409, "PATCH", "/api/v1/customers/"+cus.ID, map[string]any{"version": 1, "name": "旧版本"})   // refused on apply
	must(400, "PATCH", "/api/v1/customers/"+cus.ID, map[string]any{"version": 2, "colour": "red"}) // refused before proposing
	must(204, "DELETE", "/api/v1/customers/"+cus.ID+"?version=2", nil)
	must(201, "POST", "/api/v1/users", map[string]any{"username": "ann", "role": "analyst", "password": "Grid-Audit-2026!"})
	st, _ := (&testcluster.Client{Base: admin.Base, HTTP: admin.HTTP}).Do("POST", "/api/v1/auth/login", map[string]string{"username": "mallory", "password": "guess-guess"})
	if st != 401 {
		t.Fatalf("bad login: %d", st)
	}
	ann := testcluster.Login(t, admin.Base, "ann", "Grid-Audit-2026!")
	if st, _ := ann.Do("POST", "/api/v1/customers", map[string]any{"account_no": "AUD-2", "name": "x", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630}); st != 403 {
		t.Fatalf("an analyst's create: %d", st)
	}
	if st, _ := ann.Do("GET", "/api/v1/audit", nil); st != 403 {
		t.Fatalf("an analyst reads the audit trail: %d; want 403", st)
	}

	// The four commands in chain order; the refusal before proposing is an
	// event, proposed on its own (it may land after the delete).
	all := waitAudit(t, admin, "collection=customers&record="+cus.ID, 5)
	var es []crm.AuditEntry
	var refused *crm.AuditEntry
	for i := range all {
		if all[i].Op == "" {
			refused = &all[i]
		} else {
			es = append(es, all[i])
		}
	}
	want := []struct {
		route, op, outcome, digestOf string
		before, after                uint64
	}{
		{"POST /api/v1/customers", "create", "ok", "record", 0, 1},
		{"PATCH /api/v1/customers/:id", "update", "ok", "record", 1, 2},
		{"PATCH /api/v1/customers/:id", "update", "conflict", "body", 2, 0},
		{"DELETE /api/v1/customers/:id", "delete", "ok", "deleted", 2, 0},
	}
	if len(es) != len(want) || refused == nil {
		t.Fatalf("entries %+v; want 4 commands and one event", all)
	}
	for i, e := range es {
		w := want[i]
		if e.Route != w.route || e.Op != w.op || e.Outcome != w.outcome || e.DigestOf != w.digestOf || e.VersionBefore != w.before || e.VersionAfter != w.after ||
			e.User != "admin" || e.Role != "admin" || e.Source != "127.0.0.1" || e.Node != c.Node(0).Config().NodeID || e.Owner != region {
			t.Errorf("entry %d: %+v; want %+v", i, e, w)
		}
		if i > 0 && e.Seq <= es[i-1].Seq {
			t.Errorf("entry %d: seq %d after %d", i, e.Seq, es[i-1].Seq)
		}
	}
	if es[3].Digest != es[1].Digest {
		t.Errorf("the delete's digest (of the record deleted) differs from the update's (of the record written)")
	}
	if r := refused; r.Route != "PATCH /api/v1/customers/:id" || r.Outcome != "invalid" || r.User != "admin" || r.Collection != "customers" || r.DigestOf != "" {
		t.Errorf("the refused patch: %+v", r)
	}
	if e := waitAudit(t, admin, "user=mallory", 1)[0]; e.Outcome != "unknown_user" || e.Route != "POST /api/v1/auth/login" {
		t.Errorf("the failed login: %+v", e)
	}
	if e := waitAudit(t, admin, "user=ann&outcome=ok", 1)[0]; e.Route != "POST /api/v1/auth/login" {
		t.Errorf("ann's login: %+v", e)
	}
	if e := waitAudit(t, admin, "user=ann&outcome=forbidden", 1)[0]; e.Role != "analyst" || e.Collection != "customers" {
		t.Errorf("ann's refused create: %+v", e)
	}
	waitAudit(t, admin, "collection=users", 1)

	// Paging: every entry once.
	var seqs []uint64
	q := "limit=3"
	for range 100 {
		p := auditOf(t, admin, q)
		for _, e := range p.Items {
			seqs = append(seqs, e.Seq)
		}
		if p.Next == nil {
			break
		}
		q = "limit=3&cursor=" + url.QueryEscape(*p.Next)
	}
	slices.Sort(seqs) // by time, then chain: an event proposed late may come before a later command
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("paged seqs %v; want each of 1..n once", seqs)
		}
	}
	if st, out := admin.Do("GET", "/api/v1/audit?region=320723", nil); st != 403 || !bytes.Contains(out, []byte(`"field":"region"`)) {
		t.Errorf("a region outside the node: %d %s", st, out)
	}
	if st, out := admin.Do("GET", "/api/v1/audit?from=yesterday", nil); st != 400 || !bytes.Contains(out, []byte(`"field":"from"`)) {
		t.Errorf("a bad time: %d %s", st, out)
	}

	// Export: NDJSON lines are the stored entries (each verifies); CSV has a header and a row each.
	st, out := admin.Do("GET", "/api/v1/audit/export?collection=customers&record="+cus.ID, nil)
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if st != 200 || len(lines) != 5 {
		t.Fatalf("export: %d, %d lines", st, len(lines))
	}
	for _, l := range lines {
		var e crm.AuditEntry
		json.Unmarshal(l, &e)
		if _, err := crm.ValidRecord(keyspace.Audit(e.ID), l); err != nil {
			t.Errorf("exported line does not verify: %v", err)
		}
	}
	st, out = admin.Do("GET", "/api/v1/audit/export?format=csv&user=mallory", nil)
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if st != 200 || err != nil || len(rows) != 2 || rows[0][0] != "id" || rows[1][5] != "mallory" {
		t.Fatalf("csv export: %d %v %q", st, err, rows)
	}

	// An Excel export, a bulk read, leaves an entry as the backup does.
	if st, out := admin.Do("GET", "/api/v1/export.xlsx?path=/api/v1/customers", nil); st != 200 {
		t.Fatalf("export.xlsx: %d %s", st, out)
	}
	testcluster.WaitFor(t, 20*time.Second, "the export's audit entry", func() bool {
		for _, e := range auditOf(t, admin, "user=admin&limit=1000").Items {
			if e.Route == "GET /api/v1/export.xlsx" && e.Outcome == "ok" {
				return true
			}
		}
		return false
	})

	// The chain verifies; then it is tampered with in the store.
	if v := verifyOf(t, admin); !v.OK || len(v.Chains) != 1 || v.Chains[0].Entries < 10 {
		t.Fatalf("verify: %+v", v)
	}
	metric := func() string {
		t.Helper()
		_, out := admin.Do("GET", "/metrics", nil)
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "gridcrm_audit_chain_ok{") && strings.Contains(l, `region="`+region+`"`) {
				return l[strings.LastIndexByte(l, ' ')+1:]
			}
		}
		return "absent"
	}
	if m := metric(); m != "1" {
		t.Fatalf("gridcrm_audit_chain_ok = %s; want 1", m)
	}
	tamper := func(key string, value []byte) {
		tx, commit := replication.NewBatchTxn(c.Node(0).Store())
		if value == nil {
			tx.Delete([]byte(key))
		} else {
			tx.Set([]byte(key), value)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	key2 := keyspace.Audit(crm.AuditID(region, 2))
	orig, _ := c.Node(0).Reader().Get([]byte(key2))
	tamper(key2, bytes.Replace(orig, []byte(`"user":"admin"`), []byte(`"user":"eve"`), 1))
	v := verifyOf(t, admin)
	if v.OK || len(v.Chains[0].Problems) == 0 || v.Chains[0].Problems[0].Seq != 2 || !strings.Contains(v.Chains[0].Problems[0].What, "altered") {
		t.Fatalf("after altering entry 2: %+v", v)
	}
	if m := metric(); m != "0" {
		t.Fatalf("gridcrm_audit_chain_ok = %s after an alteration; want 0", m)
	}
	tamper(key2, orig)
	if v := verifyOf(t, admin); !v.OK {
		t.Fatalf("restored: %+v", v)
	}
	tamper(keyspace.Audit(crm.AuditID(region, 3)), nil)
	v = verifyOf(t, admin)
	if v.OK || !strings.Contains(v.Chains[0].Problems[0].What, "entries 3 to 3 are missing") {
		t.Fatalf("after deleting entry 3: %+v", v)
	}
	if m := metric(); m != "0" {
		t.Fatalf("gridcrm_audit_chain_ok = %s after a deletion; want 0", m)
	}
}

// TestAudit_NoDeleteRoute: no API call deletes, writes or replaces an
// audit entry.
func TestAudit_NoDeleteRoute(t *testing.T) {
	c := newCluster(t, 1)
	admin := c.Client(0)
	id := url.PathEscape(crm.AuditID(region, 1))
	for _, m := range []string{"DELETE", "PUT", "PATCH", "POST"} {
		for _, p := range []string{"/api/v1/audit", "/api/v1/audit/" + id, "/api/v1/_audit/" + id} {
			if st, _ := admin.Do(m, p, map[string]any{}); st != 404 && st != 405 {
				t.Errorf("%s %s: %d; want 404 or 405", m, p, st)
			}
		}
	}
}

// TestAudit_RollsUpAndFullManagement: a county's entries reach the city
// and the province, which query and verify them; a write the city makes
// for the county under full management is the city's entry and names the
// county as the record's owner.
func TestAudit_RollsUpAndFullManagement(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}}})
	county, city, prov := h.Region("320722").Client(0), h.Region("3207").Client(0), h.Region("32").Client(0)
	st, out := county.Do("POST", "/api/v1/customers", map[string]any{"account_no": "AUD-T", "name": "县客户", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630})
	if st != 201 {
		t.Fatalf("%d %s", st, out)
	}
	var cus struct{ ID string }
	json.Unmarshal(out, &cus)
	waitAudit(t, prov, "region=320722&collection=customers&record="+cus.ID, 1)
	if st, out := city.Do("PUT", "/api/v1/regions/320722/management", map[string]any{"mode": "full", "force": true}); st != 200 {
		t.Fatalf("full management: %d %s", st, out)
	}
	var patched bool
	testcluster.WaitFor(t, 20*time.Second, "the city writes the county's customer", func() bool {
		_, raw := city.Do("GET", "/api/v1/customers/"+cus.ID+"?consistency=stale", nil)
		var m struct{ Version uint64 }
		json.Unmarshal(raw, &m)
		st, _ := city.Do("PATCH", "/api/v1/customers/"+cus.ID, map[string]any{"version": m.Version, "name": "市改"})
		patched = st == 200
		return patched
	})
	es := waitAudit(t, prov, "region=320722&collection=customers&record="+cus.ID+"&outcome=ok", 2)
	if e := es[1]; e.Owner != "3207" || e.RecordOwner != "320722" || e.UserRegion != "3207" {
		t.Fatalf("the managed write: %+v; want the city's entry naming the county's record", e)
	}
	if e := es[0]; e.Owner != "320722" || e.RecordOwner != "" {
		t.Fatalf("the county's own write: %+v", e)
	}
	testcluster.WaitFor(t, 20*time.Second, "every chain verified at the province", func() bool {
		v := verifyOf(t, prov)
		regions := map[string]bool{}
		for _, c := range v.Chains {
			regions[c.Region] = c.OK
		}
		return v.OK && regions["320722"] && regions["3207"] && regions["32"]
	})
}

// TestAudit_AnonymousRequestsBoundedPerSource: requests no user was
// authenticated for (here 100 writes without a token from one address in
// the same minute) leave at most 60 entries a source and minute; the rest
// are counted and logged. Each entry is
// permanent at every tier above, so a client without credentials grew
// every tier's trail at its request rate.
func TestAudit_AnonymousRequestsBoundedPerSource(t *testing.T) {
	c := newCluster(t, 1)
	admin := c.Client(0)
	base := c.Node(0).APIURL()
	before := time.Now()
	for range 100 {
		resp, err := http.Post(base+"/api/v1/customers", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("a write without a token: %d", resp.StatusCode)
		}
	}
	if time.Now().Unix()/60 != before.Unix()/60 {
		t.Skip("the minute turned during the requests: the bound counts per minute")
	}
	// The minute's budget of 60 also covers the failed login the cluster's
	// set-up made from the same address, unless that was the minute before:
	// 59 or 60 of the 100 are recorded.
	testcluster.WaitFor(t, 20*time.Second, "59 audit entries of refused anonymous writes", func() bool {
		return len(auditOf(t, admin, "outcome=unauthenticated&limit=1000").Items) >= 59
	})
	time.Sleep(500 * time.Millisecond) // anything past the bound would have been flushed with the rest
	got := len(auditOf(t, admin, "outcome=unauthenticated&limit=1000").Items)
	if got > 60 || got < 59 {
		t.Fatalf("%d entries of refused anonymous writes; want at most 60 (the bound a source and minute)", got)
	}
	_, out := admin.Do("GET", "/metrics", nil)
	want := fmt.Sprintf(`gridcrm_audit_events_suppressed_total\{[^}]*\} %d\n`, 100-got)
	if !regexp.MustCompile(want).Match(out) {
		t.Fatalf("gridcrm_audit_events_suppressed_total: want %d in\n%s", 100-got, grepLines(string(out), "suppressed"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
