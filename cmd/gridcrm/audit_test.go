package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// auditStore writes a chain of three audited writes into a Pebble store
// in dir/pebble, as a node's applier would, and closes it.
func auditStore(t *testing.T, dir string) {
	t.Helper()
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dir, "pebble")
	st, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	id := crm.NewID("cus", t0)
	for i, cmd := range []*crm.Command{
		{Op: crm.OpCreate, Collection: "customers", ID: id, Body: []byte(`{"account_no":"CLI-1","name":"客户","category":"industrial","voltage_kv":10,"capacity_kva":630}`)},
		{Op: crm.OpUpdate, Collection: "customers", ID: id, Version: 1, Body: []byte(`{"name":"改名"}`)},
		{Op: crm.OpDelete, Collection: "customers", ID: id},
	} {
		cmd.Region, cmd.Actor, cmd.Time = "320722", "admin", t0.Add(time.Duration(i)*time.Second)
		cmd.Audit = &crm.AuditContext{Route: "test", Node: "n1"}
		tx, commit := replication.NewBatchTxn(st)
		if res := crm.Apply(tx, cmd); res.Err != nil || res.Audit != uint64(i+1) {
			t.Fatalf("%s: %+v", cmd.Op, res)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// tamperStore changes the store in dir/pebble directly.
func tamperStore(t *testing.T, dir string, fn func(tx *replication.Txn)) {
	t.Helper()
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dir, "pebble")
	st, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, commit := replication.NewBatchTxn(st)
	fn(tx)
	if err := commit(); err != nil {
		t.Fatal(err)
	}
}

func runAuditVerify(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := auditCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"verify"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

// TestAuditVerify_DataDir: the chain in a stopped node's store verifies;
// an entry altered or deleted in the Pebble store breaks it, named by seq.
func TestAuditVerify_DataDir(t *testing.T) {
	dir := t.TempDir()
	auditStore(t, dir)
	out, err := runAuditVerify(t, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "320722   ok     3 entries, head 3") {
		t.Fatalf("intact: %v\n%s", err, out)
	}
	key := []byte(keyspace.Audit(crm.AuditID("320722", 2)))
	var orig []byte
	tamperStore(t, dir, func(tx *replication.Txn) {
		orig, _ = tx.Get(key)
		tx.Set(key, bytes.Replace(orig, []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1))
	})
	out, err = runAuditVerify(t, "--data-dir", dir)
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "seq 2: altered") {
		t.Fatalf("altered: %v\n%s", err, out)
	}
	tamperStore(t, dir, func(tx *replication.Txn) { tx.Set(key, orig) })
	if _, err := runAuditVerify(t, "--data-dir", dir); err != nil {
		t.Fatalf("restored: %v", err)
	}
	tamperStore(t, dir, func(tx *replication.Txn) { tx.Delete(key) })
	out, err = runAuditVerify(t, "--data-dir", dir)
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "seq 2: entries 2 to 2 are missing") {
		t.Fatalf("deleted: %v\n%s", err, out)
	}
	tamperStore(t, dir, func(tx *replication.Txn) { tx.Delete([]byte(keyspace.Audit(crm.AuditID("320722", 3)))) })
	out, _ = runAuditVerify(t, "--data-dir", dir, "--region", "3207")
	if !strings.Contains(out, "removed at the end") {
		t.Fatalf("the last deleted too:\n%s", out)
	}
	if _, err := runAuditVerify(t, "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no node's store") {
		t.Fatalf("an empty directory: %v", err)
	}
}
