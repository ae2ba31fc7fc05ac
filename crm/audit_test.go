package crm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/store/keyspace"
)

// audited is cmd carrying a request's context, as the API proposes it.
func audited(cmd *crm.Command, route string) *crm.Command {
	cmd.Audit = &crm.AuditContext{Route: route, Source: "10.0.0.9", Node: "n1", Role: "admin", UserRegion: cmd.Region}
	return cmd
}

// entries reads region's chain in order.
func entries(t *testing.T, r crm.Reader, region string) []crm.AuditEntry {
	t.Helper()
	var out []crm.AuditEntry
	p := keyspace.AuditOf(region)
	if err := r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, v []byte) bool {
		var e crm.AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out = append(out, e)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustVerify(t *testing.T, r crm.Reader, region string) []crm.AuditReport {
	t.Helper()
	reps, err := crm.VerifyAudit(r, region)
	if err != nil {
		t.Fatal(err)
	}
	return reps
}

func wantChainOK(t *testing.T, r crm.Reader, region string, n uint64) {
	t.Helper()
	reps := mustVerify(t, r, region)
	if len(reps) != 1 || !reps[0].OK || reps[0].Entries != n || reps[0].Head != n {
		t.Fatalf("verify %s: %+v; want one chain of %d entries, ok", region, reps, n)
	}
}

// auditFixture writes a create, an update, a refused update and a delete
// of a customer of 320722, each with its request's context.
func auditFixture(t *testing.T) (*crm.MemTxn, string) {
	return auditFixtureOf(t, crm.NewID("cus", crmtest.T0))
}

func auditFixtureOf(t *testing.T, id string) (*crm.MemTxn, string) {
	tx := crm.NewMemTxn()
	steps := []struct {
		cmd  *crm.Command
		code string
	}{
		{audited(crmtest.NewCmd(t, crm.OpCreate, "customers", id, "320722", 0, crmtest.CustomerBody("AU-1", "320722")), "POST /api/v1/customers"), ""},
		{audited(crmtest.NewCmd(t, crm.OpUpdate, "customers", id, "320722", 1, crmtest.Obj{"name": "改名"}), "PATCH /api/v1/customers/:id"), ""},
		{audited(crmtest.NewCmd(t, crm.OpUpdate, "customers", id, "320722", 1, crmtest.Obj{"name": "旧版本"}), "PATCH /api/v1/customers/:id"), crm.CodeConflict},
		{audited(crmtest.NewCmd(t, crm.OpDelete, "customers", id, "320722", 0, nil), "DELETE /api/v1/customers/:id"), ""},
	}
	for i, s := range steps {
		s.cmd.Time = crmtest.T0.Add(time.Duration(i) * time.Second)
		res := crm.Apply(tx, s.cmd)
		if (res.Err == nil) != (s.code == "") || (res.Err != nil && res.Err.Code != s.code) {
			t.Fatalf("step %d: %v; want %q", i, res.Err, s.code)
		}
		if res.Audit != uint64(i+1) {
			t.Fatalf("step %d: audit seq %d; want %d", i, res.Audit, i+1)
		}
	}
	return tx, id
}

// TestAudit_EntriesOfWrites: each write, applied or refused on apply,
// leaves one entry of its chain with who, what, versions and a digest.
func TestAudit_EntriesOfWrites(t *testing.T) {
	tx, id := auditFixture(t)
	es := entries(t, tx, "320722")
	if len(es) != 4 {
		t.Fatalf("%d entries; want 4", len(es))
	}
	want := []struct {
		op, outcome, digestOf string
		before, after         uint64
	}{
		{"create", "ok", "record", 0, 1},
		{"update", "ok", "record", 1, 2},
		{"update", crm.CodeConflict, "body", 2, 0},
		{"delete", "ok", "deleted", 2, 0},
	}
	prev := ""
	for i, e := range es {
		w := want[i]
		if e.Seq != uint64(i+1) || e.Prev != prev || e.ID != crm.AuditID("320722", e.Seq) || e.Owner != "320722" {
			t.Errorf("entry %d: place %s seq %d prev %q", i, e.ID, e.Seq, e.Prev)
		}
		if e.Op != w.op || e.Outcome != w.outcome || e.DigestOf != w.digestOf || e.VersionBefore != w.before || e.VersionAfter != w.after {
			t.Errorf("entry %d: %+v; want %+v", i, e, w)
		}
		if e.User != crmtest.Actor || e.Role != "admin" || e.Source != "10.0.0.9" || e.Node != "n1" || e.Collection != "customers" || e.Record != id || !strings.Contains(e.Route, "/api/v1/customers") {
			t.Errorf("entry %d: who/what %+v", i, e)
		}
		if e.RecordOwner != "" {
			t.Errorf("entry %d: record_owner %q for the region's own record", i, e.RecordOwner)
		}
		if !e.At.Equal(crmtest.T0.Add(time.Duration(i) * time.Second)) {
			t.Errorf("entry %d: at %s", i, e.At)
		}
		prev = e.Hash
	}
	wantChainOK(t, tx, "320722", 4)
}

// TestAudit_DigestIsTheRecord: an applied write's digest is the SHA-256 of
// the record as it was stored.
func TestAudit_DigestIsTheRecord(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("cus", crmtest.T0)
	res := crm.Apply(tx, audited(crmtest.NewCmd(t, crm.OpCreate, "customers", id, "320722", 0, crmtest.CustomerBody("AU-2", "320722")), "POST /api/v1/customers"))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	stored, _ := tx.Get([]byte(keyspace.Record("customers", id)))
	sum := sha256.Sum256(stored)
	if e := entries(t, tx, "320722")[0]; e.Digest != hex.EncodeToString(sum[:]) {
		t.Fatalf("digest %s; want sha256 of the stored record", e.Digest)
	}
}

// TestAudit_NodeWritesAreNotAudited: a Command without a request's context
// (heartbeats, token keys, bootstrap) writes no entry.
func TestAudit_NodeWritesAreNotAudited(t *testing.T) {
	tx := crm.NewMemTxn()
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", crm.NewID("cus", crmtest.T0), "320722", 0, crmtest.CustomerBody("AU-3", "320722")))
	if res.Err != nil || res.Audit != 0 || len(entries(t, tx, "320722")) != 0 {
		t.Fatalf("res %+v, %d entries", res, len(entries(t, tx, "320722")))
	}
}

// TestAudit_Events: OpAudit appends each event in order; a bad batch is
// refused whole.
func TestAudit_Events(t *testing.T) {
	tx, _ := auditFixture(t)
	cmd := crmtest.NewCmd(t, crm.OpAudit, "", "", "320722", 0, crm.AuditBatch{Events: []crm.AuditEvent{
		{AuditContext: crm.AuditContext{Route: "POST /api/v1/auth/login", Source: "198.51.100.7"}, At: crmtest.T0.Add(time.Minute), User: "mallory", Outcome: "bad_password"},
		{AuditContext: crm.AuditContext{Route: "POST /api/v1/customers", Role: "analyst"}, At: crmtest.T0.Add(2 * time.Minute), User: "ann", Collection: "customers", Outcome: "forbidden"},
	}})
	cmd.Actor = crm.SystemActor
	res := crm.Apply(tx, cmd)
	if res.Err != nil || res.Audit != 6 {
		t.Fatalf("%+v", res)
	}
	es := entries(t, tx, "320722")
	if e := es[4]; e.User != "mallory" || e.Outcome != "bad_password" || e.Op != "" || e.Source != "198.51.100.7" {
		t.Fatalf("login entry %+v", e)
	}
	wantChainOK(t, tx, "320722", 6)
	for _, bad := range []any{crm.AuditBatch{}, crm.AuditBatch{Events: []crm.AuditEvent{{User: "x"}}}, crmtest.Obj{"events": []any{}, "extra": 1}} {
		cmd := crmtest.NewCmd(t, crm.OpAudit, "", "", "320722", 0, bad)
		if res := crm.Apply(tx, cmd); res.Err == nil || res.Err.Code != crm.CodeInvalid {
			t.Errorf("%v: %+v", bad, res)
		}
	}
	wantChainOK(t, tx, "320722", 6)
}

// TestAudit_Deterministic: two replicas applying the same commands hold
// the same bytes.
func TestAudit_Deterministic(t *testing.T) {
	a, id := auditFixture(t)
	b, _ := auditFixtureOf(t, id)
	dump := func(tx *crm.MemTxn) string {
		var sb strings.Builder
		tx.Iterate(nil, nil, func(k, v []byte) bool { fmt.Fprintf(&sb, "%q=%q\n", k, v); return true })
		return sb.String()
	}
	if dump(a) != dump(b) {
		t.Fatal("replicas differ")
	}
}

// TestAudit_VerifyDetectsTampering alters and removes entries in the store
// and checks that each is found.
func TestAudit_VerifyDetectsTampering(t *testing.T) {
	key := func(seq uint64) []byte { return []byte(keyspace.Audit(crm.AuditID("320722", seq))) }
	cases := []struct {
		name   string
		tamper func(t *testing.T, tx *crm.MemTxn)
		want   string
	}{
		{"an entry's field altered", func(t *testing.T, tx *crm.MemTxn) {
			raw, _ := tx.Get(key(2))
			tx.Set(key(2), bytes.Replace(raw, []byte(`"user":"alice"`), []byte(`"user":"bob__"`), 1))
		}, "altered"},
		{"an entry altered and resealed", func(t *testing.T, tx *crm.MemTxn) {
			raw, _ := tx.Get(key(2))
			var e crm.AuditEntry
			json.Unmarshal(raw, &e)
			e.User = "bob"
			tx.Set(key(2), reseal(t, e))
		}, "prev does not match"},
		{"a field added", func(t *testing.T, tx *crm.MemTxn) {
			raw, _ := tx.Get(key(3))
			tx.Set(key(3), append([]byte(`{"note":"x",`), raw[1:]...))
		}, "altered"},
		{"an entry removed", func(t *testing.T, tx *crm.MemTxn) { tx.Delete(key(2)) }, "entries 2 to 2 are missing"},
		{"the first entry removed", func(t *testing.T, tx *crm.MemTxn) { tx.Delete(key(1)) }, "entries 1 to 1 are missing"},
		{"the last entry removed", func(t *testing.T, tx *crm.MemTxn) { tx.Delete(key(4)) }, "entries 4 to 4 are missing (removed at the end"},
		{"every entry removed", func(t *testing.T, tx *crm.MemTxn) {
			for s := uint64(1); s <= 4; s++ {
				tx.Delete(key(s))
			}
		}, "the whole chain was removed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, _ := auditFixture(t)
			tc.tamper(t, tx)
			reps := mustVerify(t, tx, "")
			if len(reps) != 1 || reps[0].OK {
				t.Fatalf("%+v; want one broken chain", reps)
			}
			found := false
			for _, p := range reps[0].Problems {
				found = found || strings.Contains(p.What, tc.want)
			}
			if !found {
				t.Fatalf("problems %+v; want one saying %q", reps[0].Problems, tc.want)
			}
		})
	}
}

// reseal recomputes e's hash as an attacker who knows the format would.
func reseal(t *testing.T, e crm.AuditEntry) []byte {
	e.Hash = ""
	canon, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	return append(canon[:len(canon)-1], []byte(`,"hash":"`+hex.EncodeToString(sum[:])+`"}`)...)
}

// TestAudit_Replica: an entry is valid over a link only as sealed; the
// parent's copy is indexed, heads its chain and is never deleted.
func TestAudit_Replica(t *testing.T) {
	child, _ := auditFixture(t)
	parent := crm.NewMemTxn()
	for _, e := range entries(t, child, "320722") {
		k := keyspace.Audit(e.ID)
		raw, _ := child.Get([]byte(k))
		owner, err := crm.ValidRecord(k, raw)
		if err != nil || owner != "320722" {
			t.Fatalf("ValidRecord(%s) = %q, %v", k, owner, err)
		}
		if err := crm.ApplyReplica(parent, k, raw); err != nil {
			t.Fatal(err)
		}
	}
	wantChainOK(t, parent, "32", 4)
	k := keyspace.Audit(crm.AuditID("320722", 4))
	if err := crm.ApplyReplica(parent, k, nil); err != nil {
		t.Fatal(err)
	}
	wantChainOK(t, parent, "3207", 4)
	raw, _ := child.Get([]byte(k))
	bad := bytes.Replace(raw, []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1)
	if _, err := crm.ValidRecord(k, bad); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("altered entry over a link: %v", err)
	}
	if _, err := crm.ValidRecord(keyspace.Audit(crm.AuditID("320723", 4)), raw); err == nil {
		t.Fatal("an entry under another region's key was accepted")
	}
	page, e := crm.QueryAudit(parent, crm.AuditQuery{Region: "320722"})
	if e != nil || len(page.Items) != 4 {
		t.Fatalf("query at the parent: %d items, %v", len(page.Items), e)
	}
}

// TestAudit_FullManagement: a write the parent makes for a child it
// manages is in the parent's chain and names the child as the record's
// owner.
func TestAudit_FullManagement(t *testing.T) {
	f := newMgmtFixture(t)
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full", "force": true}); res.Err != nil {
		t.Fatal(res.Err)
	}
	var m crm.Meta
	raw, _ := f.tx.Get([]byte(keyspace.Record("customers", f.id)))
	json.Unmarshal(raw, &m)
	res := crm.Apply(f.tx, audited(crmtest.NewCmd(t, crm.OpUpdate, "customers", f.id, "3207", m.Version, crmtest.Obj{"name": "市里改"}), "PATCH /api/v1/customers/:id"))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	es := entries(t, f.tx, "3207")
	if len(es) != 1 || es[0].Owner != "3207" || es[0].RecordOwner != "320722" {
		t.Fatalf("entries %+v; want one of 3207 naming record owner 320722", es)
	}
	if p, _ := crm.QueryAudit(f.tx, crm.AuditQuery{Region: "320722"}); len(p.Items) != 1 {
		t.Fatalf("the child's subtree query finds %d entries; want the manager's one", len(p.Items))
	}
}

// TestAudit_Query: filters, time range and paging by cursor.
func TestAudit_Query(t *testing.T) {
	tx, id := auditFixture(t)
	cmd := crmtest.NewCmd(t, crm.OpAudit, "", "", "320722", 0, crm.AuditBatch{Events: []crm.AuditEvent{
		{At: crmtest.T0.Add(time.Hour), User: "mallory", Outcome: "bad_password"},
	}})
	if res := crm.Apply(tx, cmd); res.Err != nil {
		t.Fatal(res.Err)
	}
	count := func(q crm.AuditQuery) int {
		t.Helper()
		p, e := crm.QueryAudit(tx, q)
		if e != nil {
			t.Fatal(e)
		}
		return len(p.Items)
	}
	cases := []struct {
		name string
		q    crm.AuditQuery
		want int
	}{
		{"all", crm.AuditQuery{}, 5},
		{"region", crm.AuditQuery{Region: "3207"}, 5},
		{"another region", crm.AuditQuery{Region: "320723"}, 0},
		{"user", crm.AuditQuery{User: crmtest.Actor}, 4},
		{"user mallory", crm.AuditQuery{User: "mallory"}, 1},
		{"record", crm.AuditQuery{Collection: "customers", Record: id}, 4},
		{"collection", crm.AuditQuery{Collection: "customers"}, 4},
		{"outcome", crm.AuditQuery{Outcome: crm.CodeConflict}, 1},
		{"from", crm.AuditQuery{From: crmtest.T0.Add(2 * time.Second)}, 3},
		{"to", crm.AuditQuery{To: crmtest.T0.Add(2 * time.Second)}, 2},
		{"user and range", crm.AuditQuery{User: crmtest.Actor, From: crmtest.T0.Add(time.Second), To: crmtest.T0.Add(3 * time.Second)}, 2},
	}
	for _, tc := range cases {
		if got := count(tc.q); got != tc.want {
			t.Errorf("%s: %d entries; want %d", tc.name, got, tc.want)
		}
	}
	var seqs []uint64
	q := crm.AuditQuery{Limit: 2}
	for range 10 {
		p, e := crm.QueryAudit(tx, q)
		if e != nil {
			t.Fatal(e)
		}
		for _, raw := range p.Items {
			var e crm.AuditEntry
			json.Unmarshal(raw, &e)
			seqs = append(seqs, e.Seq)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Fatalf("paged %v; want every entry once, oldest first", seqs)
	}
	if _, e := crm.QueryAudit(tx, crm.AuditQuery{Cursor: "!!"}); e == nil || e.Field != "cursor" {
		t.Fatalf("bad cursor: %v", e)
	}
}

// BenchmarkApplyCreateAudited is BenchmarkApplyCreate with the request's
// context, as the API proposes it: the create and its audit entry (the
// entry, two index keys and the chain's head).
func BenchmarkApplyCreateAudited(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpCreate, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		ID: crm.NewID("cus", benchT0.Add(time.Hour)), Body: s.newCus[0],
		Audit: &crm.AuditContext{Route: "POST /api/v1/customers", Source: "10.1.2.3", Node: "n1", Role: "manager", UserRegion: benchRegion}}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["customers"], s.newCus[:1])+4) // the entry, its time and record index keys, the head
}

// TestAudit_VerifySinceReadsOnlyNewEntries: checked from the marks of the
// check before, a chain is read from its last checked entry on (the
// metrics' check every 10 minutes: a province's chains hold every write
// of its subtree, and reading them whole each time never ended). The
// reports are VerifyAudit's; an entry altered after the mark is found; the
// marked entry altered, or the chain cut after it, sends the chain back to
// a whole read that says so; an entry before the mark altered since is
// for the whole check (VerifyAudit) to find.
func TestAudit_VerifySinceReadsOnlyNewEntries(t *testing.T) {
	key := func(seq uint64) []byte { return []byte(keyspace.Audit(crm.AuditID("320722", seq))) }
	tx, _ := auditFixture(t)
	reps, marks, err := crm.VerifyAuditSince(tx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reps, mustVerify(t, tx, "")) || marks["320722"].Seq != 4 || marks["320722"].Entries != 4 {
		t.Fatalf("first check %+v, marks %+v; want VerifyAudit's reports and a mark at 4", reps, marks)
	}
	more := func(n int) {
		for i := range n {
			id := crm.NewID("cus", crmtest.T0.Add(time.Duration(i+10)*time.Minute))
			cmd := audited(crmtest.NewCmd(t, crm.OpCreate, "customers", id, "320722", 0, crmtest.CustomerBody(fmt.Sprintf("AU-M%d-%d", n, i), "320722")), "POST /api/v1/customers")
			if res := crm.Apply(tx, cmd); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	more(3)
	reps, marks2, err := crm.VerifyAuditSince(tx, marks)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reps, mustVerify(t, tx, "")) || marks2["320722"].Seq != 7 || reps[0].Entries != 7 {
		t.Fatalf("after 3 more: %+v, marks %+v; want VerifyAudit's reports, 7 entries, a mark at 7", reps, marks2)
	}

	broken := func(marks map[string]crm.AuditMark, want string) {
		t.Helper()
		reps, next, err := crm.VerifyAuditSince(tx, marks)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range reps[0].Problems {
			found = found || strings.Contains(p.What, want)
		}
		if reps[0].OK || !found {
			t.Fatalf("%+v; want a broken chain saying %q", reps, want)
		}
		if _, ok := next["320722"]; ok {
			t.Fatal("a broken chain kept a mark")
		}
	}

	// Before the mark: not read (the whole check finds it).
	raw2, _ := tx.Get(key(2))
	tx.Set(key(2), bytes.Replace(raw2, []byte(`"user":"alice"`), []byte(`"user":"bob__"`), 1))
	if reps, _, _ := crm.VerifyAuditSince(tx, marks2); !reps[0].OK {
		t.Fatalf("an entry before the mark was read: %+v", reps)
	}
	if whole := mustVerify(t, tx, ""); whole[0].OK {
		t.Fatal("the whole check missed the entry altered before the mark")
	}
	tx.Set(key(2), raw2)

	// After the mark: found.
	more(1)
	raw8, _ := tx.Get(key(8))
	tx.Set(key(8), bytes.Replace(raw8, []byte(`"role":"admin"`), []byte(`"role":"guest"`), 1))
	broken(marks2, "altered")
	tx.Set(key(8), raw8)

	// The marked entry altered: read whole, and found.
	raw7, _ := tx.Get(key(7))
	tx.Set(key(7), bytes.Replace(raw7, []byte(`"role":"admin"`), []byte(`"role":"guest"`), 1))
	broken(marks2, "altered")
	tx.Set(key(7), raw7)

	// The chain cut after the mark.
	tx.Delete(key(8))
	broken(marks2, "entries 8 to 8 are missing")
}
