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
	"gridcrm/internal/load"
	"gridcrm/process"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// TestMigrateProcess_AtStartAndAfterRestore: a store written by the node's
// applier, then turned into one of the layout before the KPIs' tallies and
// the due index (those keys gone, the old open and month indexes there, no
// layout key), gets them back from migrateProcess, as the node runs it at
// start, and so does a state restored from a snapshot of such a store
// (applier.Restored): the same keys, the same KPIs and supervision lists.
func TestMigrateProcess_AtStartAndAfterRestore(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApplier("320722", "", nil)
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	idx := uint64(0)
	apply := func(at time.Time, op crm.Op, coll, id string, ver uint64, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		cmd := crm.Command{Op: op, Collection: coll, ID: id, Version: ver, Region: "320722", Actor: crm.SystemActor, Time: at, Body: raw}
		entry, err := encodeCommand(&cmd)
		if err != nil {
			t.Fatal(err)
		}
		tx, commit := replication.NewBatchTxn(st)
		idx++
		if out := a.ApplyEntry(tx, idx, entry); bytes.Contains(out, []byte(`"error"`)) {
			t.Fatalf("%s %s: %s", op, coll, out)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	cus := crm.NewID("cus", t0)
	var c map[string]any
	_ = json.Unmarshal(load.Customer("320722", "PL", 1), &c)
	apply(t0, crm.OpCreate, "customers", cus, 0, c)
	mgr := crm.NewID("stf", t0)
	apply(t0, crm.OpCreate, "staff", mgr, 0, map[string]any{"staff_no": "M-1", "name": "经理", "region": "320722", "role": "account_manager"})
	for i := range 12 {
		at := t0.Add(time.Duration(i) * 50 * time.Hour)
		id := crm.NewID("prj", at)
		apply(at, crm.OpCreate, "projects", id, 0, map[string]any{"kind": "new_connection", "customer_id": cus, "voltage_kv": 0.4,
			"capacity_kva": 50, "accepted_at": at, "manager_id": mgr})
		if i%3 == 0 {
			apply(at.Add(24*time.Hour), crm.OpAction, "projects", id, 1, map[string]any{"action": "complete", "stage": "supply_plan"})
			apply(at.Add(24*time.Hour*time.Duration(2+i)), crm.OpAction, "projects", id, 2, map[string]any{"action": "complete", "stage": "energisation"})
		}
		wo := crm.NewID("wko", at)
		apply(at, crm.OpCreate, "work_orders", wo, 0, map[string]any{"channel": "web", "kind": "complaint", "subject": "s", "customer_id": cus})
		if i%2 == 0 {
			apply(at.Add(time.Hour), crm.OpAction, "work_orders", wo, 1, map[string]any{"to": "dispatched", "assignee_id": mgr})
		}
		start := at.AddDate(0, 0, 3)
		apply(at, crm.OpCreate, "outages", crm.NewID("otg", at), 0, map[string]any{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)})
	}
	r := replication.StateReaderOf(st)
	derived := func(k []byte) bool {
		s := string(k)
		return strings.HasPrefix(s, keyspace.TallyPrefix) || strings.Contains(s, "/"+process.DueIndex+"/") || strings.Contains(s, "/"+process.NonCompliantIndex+"/")
	}
	keys := func() map[string]string {
		out := map[string]string{}
		_ = r.Iterate(nil, []byte{0xff}, func(k, v []byte) bool {
			if derived(k) || strings.Contains(string(k), "/_open/") || strings.Contains(string(k), "/_month/") {
				out[string(k)] = fmt.Sprintf("%x", v)
			}
			return true
		})
		return out
	}
	now := t0.AddDate(0, 1, 0)
	answers := func() string {
		p, err1 := process.ProjectKPIsOf(r, "32", true, process.Period{From: "2026-03-01"}, now)
		w, err2 := process.WorkOrderKPIsOf(r, "32", true, process.Period{From: "2026-03-01"}, now)
		o, err3 := process.OutageKPIsOf(r, "32", true, process.Period{From: "2026-03-01"})
		l, err4 := process.Supervise(r, "32", true, now)
		if err := errorsJoin(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal([]any{p, w, o, l})
		return string(b)
	}
	want, wantKeys := answers(), keys()
	if !strings.Contains(want, `"energised":4`) || !strings.Contains(want, `"overdue_now"`) || len(wantKeys) < 50 {
		t.Fatalf("a store without enough to migrate (%d keys): %s", len(wantKeys), want)
	}
	older := func() {
		tx, commit := replication.NewBatchTxn(st)
		for k := range keys() {
			_ = tx.Delete([]byte(k))
		}
		_ = tx.Set([]byte(keyspace.Index("projects", "_open", "320722", "prj_x")), nil) // stands for the old layout's entries
		_ = tx.Set([]byte(keyspace.Index("work_orders", "_month", "2026-03/320722", "wko_x")), nil)
		_ = tx.Delete([]byte(keyspace.ProcessLayoutKey))
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		if answers() == want {
			t.Fatal("the older layout answers as the current one: the test cannot tell them apart")
		}
	}
	check := func(when string) {
		t.Helper()
		if got := answers(); got != want {
			t.Errorf("%s: the KPIs and lists\n%s\nwant\n%s", when, got, want)
		}
		if got := keys(); !reflect.DeepEqual(got, wantKeys) {
			t.Errorf("%s: %d tallies and index entries; %d before", when, len(got), len(wantKeys))
		}
		if v, _ := r.Get([]byte(keyspace.ProcessLayoutKey)); string(v) != fmt.Sprint(process.Layout) {
			t.Errorf("%s: layout %q; want %d", when, v, process.Layout)
		}
	}

	migratesAtStartAndAfterRestore(t, st, a, older, migrateProcess, check)
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
