//go:build unix

package node

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// TestMigrateSearch_AtStartAndAfterRestore: a store whose search index is
// of an older layout (no layout key, entries under the old prefix) is
// indexed again by migrateSearch, as the node runs it at start, and so is
// a state restored from a snapshot of such a store (applier.Restored, which
// the FSM runs after a restore): the old entries are gone, the searches
// answer as before, the layout is recorded.
func TestMigrateSearch_AtStartAndAfterRestore(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApplier("320722", "", nil)
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	tx, commit := replication.NewBatchTxn(st)
	for j := range 200 {
		at := t0.Add(time.Duration(j) * time.Millisecond)
		cmd := crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", at), Region: "320722", Actor: crm.SystemActor, Time: at,
			Body: load.Customer("320722", "MG", j)}
		entry, err := encodeCommand(&cmd)
		if err != nil {
			t.Fatal(err)
		}
		if out := a.ApplyEntry(tx, uint64(j+1), entry); bytes.Contains(out, []byte(`"error"`)) {
			t.Fatalf("create %d: %s", j, out)
		}
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	r := replication.StateReaderOf(st)
	queries := []string{"恒通纺织", "牛山街道", "连", "区", "MG000001", "网格03", "vip"}
	search := func() map[string][]string {
		out := map[string][]string{}
		for _, q := range queries {
			page, e := crm.SearchCustomers(r, crm.SearchQuery{Text: q, Region: "32", Subtree: true, Limit: 500})
			if e != nil {
				t.Fatalf("search %q: %v", q, e)
			}
			for _, raw := range page.Items {
				var m crm.Meta
				_ = json.Unmarshal(raw, &m)
				out[q] = append(out[q], m.ID)
			}
		}
		return out
	}
	count := func(p string) int {
		n := 0
		_ = r.Iterate([]byte(p), []byte(keyspace.End(p)), func(_, _ []byte) bool { n++; return true })
		return n
	}
	want := search()
	for q, ids := range want {
		if len(ids) == 0 {
			t.Fatalf("%q finds nothing", q)
		}
	}
	entries := count(keyspace.SearchPrefix) + count(keyspace.SearchAccountPrefix)
	oldPrefix := keyspace.IndexField("customers", "_q")

	// An older layout: the entries elsewhere, no layout key.
	older := func() {
		tx, commit := replication.NewBatchTxn(st)
		for _, p := range []string{keyspace.SearchPrefix, keyspace.SearchAccountPrefix} {
			var keys [][]byte
			_ = r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { keys = append(keys, bytes.Clone(k)); return true })
			for _, k := range keys {
				_ = tx.Delete(k)
				_ = tx.Set(append([]byte(oldPrefix), k[len(p):]...), nil) // stands for the old layout's entries
			}
		}
		_ = tx.Delete([]byte(keyspace.SearchLayoutKey))
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		if got := search(); slices.Equal(got["连"], want["连"]) {
			t.Fatal("the older layout answers as the current one: the test cannot tell them apart")
		}
	}
	check := func(when string) {
		t.Helper()
		got := search()
		for _, q := range queries {
			if !slices.Equal(got[q], want[q]) {
				t.Errorf("%s: %q finds %d customers; %d before", when, q, len(got[q]), len(want[q]))
			}
		}
		if n := count(oldPrefix); n != 0 {
			t.Errorf("%s: %d entries of the old layout left", when, n)
		}
		if n := count(keyspace.SearchPrefix) + count(keyspace.SearchAccountPrefix); n != entries {
			t.Errorf("%s: %d search entries; %d before", when, n, entries)
		}
		if v, _ := r.Get([]byte(keyspace.SearchLayoutKey)); string(v) != "2" {
			t.Errorf("%s: layout %q; want 2", when, v)
		}
	}

	migratesAtStartAndAfterRestore(t, st, a, older, migrateSearch, check)
}

// migratesAtStartAndAfterRestore turns st into a store of an older layout
// (older), runs migrate as the node does at start and checks; then turns
// it older again, takes a snapshot of it, brings the replica current,
// restores the older snapshot, runs the applier's Restored (as the FSM
// does after a restore) and checks again.
func migratesAtStartAndAfterRestore(t *testing.T, st *store.Store, a *applier, older func(), migrate func(*store.Store, logger) error, check func(when string)) {
	t.Helper()
	older()
	if err := migrate(st, nil); err != nil { // as at start
		t.Fatal(err)
	}
	check("at start")

	older()
	var snap bytes.Buffer
	s := st.DB().NewSnapshot()
	if _, err := replication.WriteState(&snap, s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := migrate(st, nil); err != nil { // this replica is current again…
		t.Fatal(err)
	}
	if err := replication.RestoreState(st, &snap); err != nil { // …and restores the older one's state
		t.Fatal(err)
	}
	if err := a.Restored(st); err != nil {
		t.Fatal(err)
	}
	check("after the restore")
}
