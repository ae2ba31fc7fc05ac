package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/replication/link"
	"gridcrm/store"
)

// The fuzz targets apply arbitrary raft entries to city 3207 (parent 32),
// so that both uplinks (from its counties) and downlinks (from the
// province) reach it, on a small state: a customer of the city's own, a
// partial management setting of county 320722, and a first uplink batch
// from 320722. Every entry is applied twice, each time on a fresh batch
// over that state, never committed. Whatever the bytes:
//   - the applier does not panic (only the store failing may stop a node);
//   - it is deterministic: the same answer and the same writes both times;
//   - an entry it refuses (an answer with an error) writes nothing.
//
// `make fuzz` runs each target for FUZZTIME; `go test` runs the seeds.

const (
	fuzzCityCustomer = "cus_01KAQ00000000000000000C1TY"
	fuzzAt           = 1767225600000 // 2026-01-01T00:00:00Z, Unix ms
)

func fuzzState(tb testing.TB) (*store.Store, *applier) {
	tb.Helper()
	cfg := store.DefaultConfig()
	cfg.FS = vfs.NewMem()
	st, err := store.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	a := newApplier("3207", "32", nil)
	tx, commit := replication.NewBatchTxn(st)
	at := time.UnixMilli(fuzzAt).UTC()
	for _, cmd := range []crm.Command{
		{Op: crm.OpCreate, Collection: "customers", ID: fuzzCityCustomer, Region: "3207", Actor: "system", Time: at,
			Body: json.RawMessage(`{"account_no":"CITY-1","name":"连云港客户","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"3207"}`)},
		{Op: crm.OpManage, Region: "3207", Actor: "system", Time: at,
			Body: json.RawMessage(`{"region":"320722","mode":"partial","collections":["work_orders"]}`)},
	} {
		entry, _ := encodeCommand(&cmd)
		if out := a.ApplyEntry(tx, 1, entry); bytes.Contains(out, []byte(`"error"`)) {
			tb.Fatalf("fuzz state: %s: %s", cmd.Op, out)
		}
	}
	if out := a.ApplyEntry(tx, 2, link.Entry(entryUplink, time.UnixMilli(fuzzAt), []byte(fuzzUplinkOK))); bytes.Contains(out, []byte(`"error"`)) {
		tb.Fatalf("fuzz state: uplink: %s", out)
	}
	if err := commit(); err != nil {
		tb.Fatal(err)
	}
	return st, a
}

// fuzzCustomer is a customer of county 320722, as its feed carries it.
var fuzzCustomer = `{"id":"cus_01KAQ00000000000000000CNTY","owner":"320722","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"admin","updated_by":"admin","account_no":"C-1","name":"灌云县客户","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"320722","status":"active"}`

var fuzzUplinkOK = `{"link":"320722","from":0,"to":3,"head":3,"changes":[{"s":3,"o":"320722","os":3,"k":"r/customers/cus_01KAQ00000000000000000CNTY","w":"320722","v":` + fuzzCustomer + `,"t":1767225600000}]}`

// fuzzBatches are the seed batches: the poison pill, the forged batches
// of the security review, and valid ones in both directions.
var fuzzBatches = []struct {
	up            bool
	batch, answer string
}{
	// The poison pill: this region's management setting as a JSON string.
	{false, `{"link":"32","from":0,"to":1,"head":1,"changes":[{"s":1,"o":"32","os":7,"k":"r/_mgmt/3207","w":"32","v":"x","t":1767225600000}]}`, `{"acked":1,"rejected":1}`},
	{false, `{"link":"32","from":0,"to":1,"changes":[{"s":1,"o":"32","os":7,"k":"r/_mgmt/3207","w":"32","v":null,"t":1}]}`, `{"acked":1,"rejected":1}`},
	{false, `{"link":"32","from":0,"to":1,"changes":[{"s":1,"o":"32","os":7,"k":"r/_cmd/cmd_x","w":"32","v":{"region":"3207"},"t":1}]}`, `{"acked":1,"rejected":1}`},
	{false, `{"link":"32","from":0,"to":2,"changes":[{"s":1,"o":"32","os":1,"k":"r/_mgmt/3207","w":"32","v":{"owner":"32","region":"3207","mode":"full","epoch":1,"set_by":"admin","set_at":"2026-01-01T00:00:00Z"},"t":1},{"s":2,"o":"32","os":2,"k":"r/customers/` + fuzzCityCustomer + `","w":"3207","v":{"id":"` + fuzzCityCustomer + `","owner":"3207","version":2,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a@32","account_no":"CITY-1","name":"省公司改","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"3207","status":"active"},"t":1}]}`, `{"acked":2}`},
	{false, `{"link":"32","from":0,"to":1,"changes":[{"s":1,"o":"32","os":1,"k":"r/directives/dir_01KAQ0000000000000000000PX","w":"32","v":{"id":"dir_01KAQ0000000000000000000PX","owner":"32","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","kind":"notice","scope":"32","title":"迎峰度夏"},"t":1}]}`, `{"acked":1}`},
	{false, `{"link":"32","resync":{"id":"r1","part":0,"last":true,"seq":9,"items":[{"o":"32","k":"r/_mgmt/3207","v":"x"}]}}`, `{"acked":9,"rejected":1}`},
	// A batch that carries nothing but moves the cursor.
	{true, `{"link":"320722","from":3,"to":100003,"changes":[]}`, `{"acked":3,"error":{"code":"invalid","message":"an uplink batch ends at the last change it carries","field":"to"}}`},
	// The city's own customer, sent as a change from a county.
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/customers/` + fuzzCityCustomer + `","w":"320722","v":{"id":"` + fuzzCityCustomer + `","owner":"3207","version":9,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","account_no":"CITY-1","name":"篡改","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"3207","status":"active"},"t":1}]}`, `{"acked":4,"rejected":1}`},
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/customers/` + fuzzCityCustomer + `","w":"3207","v":{"id":"` + fuzzCityCustomer + `","owner":"3207","version":9,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","account_no":"CITY-1","name":"篡改","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"3207","status":"active"},"t":1}]}`, `{"acked":4,"rejected":1}`},
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/customers/` + fuzzCityCustomer + `","w":"320722","v":{"id":"` + fuzzCityCustomer + `","owner":"320722","version":9,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","account_no":"CITY-1","name":"篡改","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"320722","status":"active"},"t":1}]}`, `{"acked":4,"rejected":1}`},
	// A directive claiming the province's ownership.
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/directives/dir_01KAQ00000000000000000FAKE","w":"32","v":{"id":"dir_01KAQ00000000000000000FAKE","owner":"32","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","kind":"notice","scope":"32","title":"伪造"},"t":1}]}`, `{"acked":4,"rejected":1}`},
	// A collection this version does not know, a null record, a canary of another region.
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/_future/x","w":"320722","v":{"owner":"320722"},"t":1}]}`, `{"acked":4,"rejected":1}`},
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/customers/cus_01KAQ00000000000000000CNTY","v":null,"t":1}]}`, `{"acked":4,"rejected":1}`},
	{true, `{"link":"320722","from":3,"to":4,"changes":[{"s":4,"o":"320722","os":4,"k":"r/_canary/3207","v":{"region":"3207","at":1},"t":1}]}`, `{"acked":4,"rejected":1}`},
	// Valid: a county's canary and a delete of its customer; a resync.
	{true, `{"link":"320722","from":3,"to":5,"head":5,"changes":[{"s":4,"o":"320722","os":4,"k":"r/_canary/320722","v":{"region":"320722","at":1767225601000},"t":1767225601000},{"s":5,"o":"320722","os":5,"k":"r/customers/cus_01KAQ00000000000000000CNTY","w":"320722","t":1767225602000}]}`, `{"acked":5}`},
	{true, `{"link":"320722","resync":{"id":"r2","part":0,"last":true,"seq":7,"items":[{"o":"320722","k":"r/_canary/320722","v":{"region":"320722","at":1}}]}}`, `{"acked":7}`},
	{true, `{"link":"320799","from":0,"to":1,"changes":[{"s":1,"o":"3207","os":1,"k":"r/_mack/3207","v":{"owner":"3207","region":"3207","epoch":1,"mode":"full","at":"2026-01-01T00:00:00Z"},"t":1}]}`, `{"acked":1,"rejected":1}`},
}

func dumpState(tb testing.TB, r replication.StateReader) map[string]string {
	out := map[string]string{}
	if err := r.Iterate(nil, nil, func(k, v []byte) bool { out[string(k)] = string(v); return true }); err != nil {
		tb.Fatal(err)
	}
	return out
}

func sameState(a, b map[string]string) string {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return fmt.Sprintf("key %q: %q vs %q", k, v, w)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return fmt.Sprintf("key %q only in the second", k)
		}
	}
	return ""
}

// applyChecked applies entry twice on fresh batches over st and checks the
// properties above; it answers the answer.
func applyChecked(t *testing.T, st *store.Store, a *applier, entry []byte) []byte {
	t.Helper()
	base := dumpState(t, replication.StateReaderOf(st))
	tx1, _ := replication.NewBatchTxn(st)
	out := a.ApplyEntry(tx1, 3, entry)
	tx2, _ := replication.NewBatchTxn(st)
	again := a.ApplyEntry(tx2, 3, entry)
	if !bytes.Equal(out, again) {
		t.Fatalf("two answers to one entry: %s vs %s", out, again)
	}
	s1, s2 := dumpState(t, tx1.StateReader), dumpState(t, tx2.StateReader)
	if d := sameState(s1, s2); d != "" {
		t.Fatalf("one entry, two outcomes: %s", d)
	}
	var ans struct {
		Err *crm.Error `json:"error"`
	}
	if json.Unmarshal(out, &ans) == nil && ans.Err != nil {
		if d := sameState(base, s1); d != "" {
			t.Fatalf("refused (%s) yet wrote: %s", out, d)
		}
	}
	return out
}

// TestLinkRules: the seed batches, applied one by one on the fuzz state,
// answer as the link rules say; a rejected change leaves no record, index,
// aggregate or feed entry behind (only the link's own bookkeeping moves).
func TestLinkRules(t *testing.T) {
	st, a := fuzzState(t)
	base := dumpState(t, replication.StateReaderOf(st))
	for i, s := range fuzzBatches {
		kind := entryDownlink
		if s.up {
			kind = entryUplink
		}
		tx, _ := replication.NewBatchTxn(st)
		if out := a.ApplyEntry(tx, 3, link.Entry(kind, time.UnixMilli(fuzzAt), []byte(s.batch))); string(out) != s.answer {
			t.Errorf("seed %d answered %s, want %s", i, out, s.answer)
		}
		var ans link.Answer
		json.Unmarshal([]byte(s.answer), &ans)
		if ans.Err == nil && ans.Rejected == 0 {
			continue
		}
		for k, v := range dumpState(t, tx.StateReader) {
			if w, ok := base[k]; (!ok || w != v) && !strings.HasPrefix(k, "m/") {
				t.Errorf("seed %d: rejected, yet %q was written", i, k)
			}
		}
	}
}

// TestApplyEntry_CommandOfAnotherRegion: a committed command naming a
// region other than this one (the parent's, a child's, a sibling's) is
// refused the same way on every replica and writes nothing; this region's
// own command is applied.
func TestApplyEntry_CommandOfAnotherRegion(t *testing.T) {
	st, a := fuzzState(t)
	for _, region := range []string{"32", "320722", "3208", ""} {
		cmd := crm.Command{Op: crm.OpInitSys, ID: "probe", Body: json.RawMessage(`"x"`), Region: region, Actor: crm.SystemActor, Time: time.UnixMilli(fuzzAt)}
		raw, _ := json.Marshal(&cmd)
		out := applyChecked(t, st, a, append([]byte{entryCommand}, raw...))
		if !strings.Contains(string(out), `"code":"wrong_owner"`) || !strings.Contains(string(out), `"field":"region"`) {
			t.Errorf("command of region %q applied in 3207: %s", region, out)
		}
	}
	cmd := crm.Command{Op: crm.OpInitSys, ID: "probe", Body: json.RawMessage(`"x"`), Region: "3207", Actor: crm.SystemActor, Time: time.UnixMilli(fuzzAt)}
	raw, _ := json.Marshal(&cmd)
	if out := applyChecked(t, st, a, append([]byte{entryCommand}, raw...)); strings.Contains(string(out), `"error"`) {
		t.Errorf("the region's own command refused: %s", out)
	}
}

// FuzzApplyEntry: any raft entry, of any type.
func FuzzApplyEntry(f *testing.F) {
	for _, s := range fuzzBatches {
		kind := entryDownlink
		if s.up {
			kind = entryUplink
		}
		f.Add(link.Entry(kind, time.UnixMilli(fuzzAt), []byte(s.batch)))
	}
	cmd, _ := encodeCommand(&crm.Command{Op: crm.OpCreate, Collection: "customers", Region: "3207", Actor: "system", Time: time.UnixMilli(fuzzAt),
		ID: "cus_01KAQ00000000000000000NEW1", Body: json.RawMessage(`{"account_no":"N-1","name":"新客户","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"3207"}`)})
	f.Add(cmd)
	f.Add(append([]byte{entryCommand}, `{"op":"update","coll":"customers","id":"`+fuzzCityCustomer+`","ver":1,"body":{"name":"x"},"region":"3207","actor":"ghost"}`...))
	f.Add(append([]byte{entryCanary}, `{"region":"3207","at":1767225600000,"leader":"n1","term":2}`...))
	f.Add(append([]byte{entryPrune}, `{"upto":2}`...))
	f.Add([]byte{entryUplink, 0, 0})
	f.Add([]byte{})
	f.Add([]byte{99})
	st, a := fuzzState(f)
	f.Fuzz(func(t *testing.T, entry []byte) {
		applyChecked(t, st, a, entry)
	})
}

// FuzzLinkBatch: any bytes as the JSON of an uplink or downlink batch.
func FuzzLinkBatch(f *testing.F) {
	for _, s := range fuzzBatches {
		f.Add(s.up, []byte(s.batch))
	}
	st, a := fuzzState(f)
	f.Fuzz(func(t *testing.T, up bool, batch []byte) {
		kind := entryDownlink
		if up {
			kind = entryUplink
		}
		applyChecked(t, st, a, link.Entry(kind, time.UnixMilli(fuzzAt), batch))
	})
}
