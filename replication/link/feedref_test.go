package link

import (
	"bytes"
	"encoding/json"
	"testing"

	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// TestFeed_AuditEntriesByReference: the feed entry of an audit entry (an
// append-only key) holds no copy of the value, and ReadFeed, which serves
// the uplink and the status, answers it with the value read at its key; a
// record's feed entry still holds its copy.
func TestFeed_AuditEntriesByReference(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entry := []byte(`{"id":"320722/0000000000000001","owner":"320722","seq":1,"prev":"","at":"2026-03-02T09:30:00Z","user":"alice","outcome":"ok","hash":"ab"}`)
	record := []byte(`{"id":"cus_1","owner":"320722","name":"东海"}`)
	auditKey, recKey := keyspace.Audit("320722/0000000000000001"), keyspace.Record("customers", "cus_1")
	tx, commit := replication.NewBatchTxn(st)
	ft := NewFeedTxn(tx, fakeDomain{}, "320722", 5, 5)
	if err := ft.Set([]byte(auditKey), entry); err != nil {
		t.Fatal(err)
	}
	if err := ft.Set([]byte(recKey), record); err != nil {
		t.Fatal(err)
	}
	if err := ft.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	r := replication.StateReaderOf(st)
	raw, err := r.Get(replication.FeedKey(1))
	if err != nil || raw == nil {
		t.Fatalf("feed entry 1: %q %v", raw, err)
	}
	if bytes.Contains(raw, []byte(`"user":"alice"`)) || !bytes.Contains(raw, []byte(`"r":true`)) {
		t.Errorf("the audit entry's feed entry holds a copy or no reference: %s", raw)
	}
	if raw, _ := r.Get(replication.FeedKey(2)); !bytes.Contains(raw, record) {
		t.Errorf("the record's feed entry holds no copy: %s", raw)
	}
	cs, _, err := replication.ReadFeed(r, 0, 10, 1<<20, func(c *Change) bool { return upFor(c, "320722") })
	if err != nil || len(cs) != 2 {
		t.Fatalf("ReadFeed: %d changes, %v", len(cs), err)
	}
	if c := cs[0]; c.Key != auditKey || !bytes.Equal(c.Value, entry) || c.Ref || c.Owner != "320722" {
		t.Errorf("the audit entry as read: %+v", c)
	}
	if c := cs[1]; c.Key != recKey || !bytes.Equal(c.Value, record) {
		t.Errorf("the record as read: %+v", c)
	}
	wire, _ := json.Marshal(cs[0])
	if bytes.Contains(wire, []byte(`"r":`)) {
		t.Errorf("a reference leaves ReadFeed: %s", wire)
	}
}
