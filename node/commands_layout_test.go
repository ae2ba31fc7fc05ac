//go:build unix

package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// TestMigrateCommands_AtStartAndAfterRestore: a city's store with commands
// forwarded to its county, turned into one written before the
// pending-command index (its entries and layout key gone), gets the index
// back from migrateCommands as the node runs it at start, and so does a
// state restored from a snapshot of such a store (applier.Restored): the
// same entries, the same pending counts.
func TestMigrateCommands_AtStartAndAfterRestore(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApplier("3207", "32", nil)
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		body, _ := json.Marshal(map[string]any{"region": []string{"320722", "320723"}[i%2], "op": "create", "coll": "work_orders",
			"record_id": crm.NewID("wko", at), "body": map[string]any{"kind": "complaint", "channel": "95598_hotline", "subject": "停电"}})
		cmd := crm.Command{Op: crm.OpForward, ID: "cmd_" + crm.NewID("wko", at)[4:], Region: "3207", Actor: crm.SystemActor, Time: at, Body: body}
		entry, err := encodeCommand(&cmd)
		if err != nil {
			t.Fatal(err)
		}
		tx, commit := replication.NewBatchTxn(st)
		if out := a.ApplyEntry(tx, uint64(i+1), entry); bytes.Contains(out, []byte(`"error"`)) {
			t.Fatalf("forward %d: %s", i, out)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	r := replication.StateReaderOf(st)
	entries := func() map[string]bool {
		out := map[string]bool{}
		_ = r.Iterate([]byte(keyspace.PendingCommandPrefix), []byte(keyspace.End(keyspace.PendingCommandPrefix)), func(k, _ []byte) bool {
			out[string(k)] = true
			return true
		})
		return out
	}
	counts := func() string {
		var b strings.Builder
		for _, region := range []string{"3207", "320722", "320723"} {
			n, err := crm.PendingCommands(r, region)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s:%d ", region, n)
		}
		return b.String()
	}
	want, wantEntries := counts(), entries()
	if want != "3207:5 320722:3 320723:2 " || len(wantEntries) != 5 {
		t.Fatalf("forwarded five: %s, %d entries", want, len(wantEntries))
	}
	older := func() {
		tx, commit := replication.NewBatchTxn(st)
		for k := range entries() {
			_ = tx.Delete([]byte(k))
		}
		_ = tx.Delete([]byte(keyspace.CommandsLayoutKey))
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		if counts() == want {
			t.Fatal("the store without the index counts as the one with it: the test cannot tell them apart")
		}
	}
	check := func(when string) {
		t.Helper()
		if got := counts(); got != want {
			t.Errorf("%s: pending %s; want %s", when, got, want)
		}
		if got := entries(); !reflect.DeepEqual(got, wantEntries) {
			t.Errorf("%s: %d index entries; %d before", when, len(got), len(wantEntries))
		}
		if v, _ := r.Get([]byte(keyspace.CommandsLayoutKey)); string(v) != fmt.Sprint(crm.CommandsLayout) {
			t.Errorf("%s: layout %q; want %d", when, v, crm.CommandsLayout)
		}
	}
	migratesAtStartAndAfterRestore(t, st, a, older, migrateCommands, check)
}
