package crm_test

import (
	"encoding/json"
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// mgmtFixture is one replica's state holding a customer of county 320722.
type mgmtFixture struct {
	t  *testing.T
	tx *crm.MemTxn
	id string
}

func newMgmtFixture(t *testing.T) *mgmtFixture {
	f := &mgmtFixture{t: t, tx: crm.NewMemTxn(), id: crm.NewID("cus", crmtest.T0)}
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", f.id, "320722", 0,
		crmtest.Obj{"account_no": "M-1", "name": "客户", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"}))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return f
}

func (f *mgmtFixture) manage(region string, req any) crm.Result {
	return crm.Apply(f.tx, crmtest.NewCmd(f.t, crm.OpManage, "", "", region, 0, req))
}

func (f *mgmtFixture) patch(region string) crm.Result {
	var m crm.Meta
	raw, _ := f.tx.Get([]byte("r/customers/" + f.id))
	json.Unmarshal(raw, &m)
	return crm.Apply(f.tx, crmtest.NewCmd(f.t, crm.OpUpdate, "customers", f.id, region, m.Version, crmtest.Obj{"name": "改名 by " + region}))
}

func (f *mgmtFixture) ack() {
	raw, _ := f.tx.Get([]byte(crm.MgmtKey("320722")))
	if err := crm.AckManagement(f.tx, "320722", raw); err != nil {
		f.t.Fatal(err)
	}
}

func wantMgmtErr(t *testing.T, what string, res crm.Result, code, owner, text string) {
	t.Helper()
	if res.Err == nil {
		t.Fatalf("%s: accepted", what)
	}
	if res.Err.Code != code || res.Err.Owner != owner || !strings.Contains(res.Err.Message, text) {
		t.Fatalf("%s: %+v\nwant code %s owner %q and a message with %q", what, res.Err, code, owner, text)
	}
}

// TestManagement_FullTakeoverAndRelease walks the handshake on one state:
// until the child acknowledges nobody but the child writes; after, only the
// parent; after release, the child again.
func TestManagement_FullTakeoverAndRelease(t *testing.T) {
	f := newMgmtFixture(t)
	wantMgmtErr(t, "parent writes an autonomous child's record", f.patch("3207"), crm.CodeWrongOwner, "320722", "is owned by region 320722")
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	m, _ := crm.ManagementOf(f.tx, "320722")
	if m.Epoch != 1 || m.Mode != "full" || m.Owner != "3207" {
		t.Fatalf("setting %+v", m)
	}
	// Before the child acknowledges, the parent does not write yet and the
	// child (which has applied the setting here) does not write any more.
	wantMgmtErr(t, "parent before the ack", f.patch("3207"), crm.CodeWrongOwner, "320722", "has not yet acknowledged full management by 3207 (epoch 1)")
	wantMgmtErr(t, "child during the handover", f.patch("320722"), crm.CodeWrongOwner, "3207", "being taken into full management by region 3207")
	f.ack()
	if res := f.patch("3207"); res.Err != nil {
		t.Fatalf("parent after the ack: %v", res.Err)
	}
	wantMgmtErr(t, "child under full management", f.patch("320722"), crm.CodeWrongOwner, "3207", "under full management by region 3207 (epoch 1) and read-only here: write at 3207")
	// The parent creates a customer of the child: owned by the child.
	id := crm.NewID("cus", crmtest.T0)
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, "3207", 0,
		crmtest.Obj{"account_no": "M-2", "name": "新户", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"}))
	if res.Err != nil || crm.RecordOwner(res.Record) != "320722" {
		t.Fatalf("parent creates for the managed child: %s %v", res.Record, res.Err)
	}
	// Release: epoch 2; the parent stops at once, the child writes after it applies it.
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "autonomous"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantMgmtErr(t, "parent after release", f.patch("3207"), crm.CodeWrongOwner, "320722", "is owned by region 320722")
	if res := f.patch("320722"); res.Err != nil {
		t.Fatalf("child after release: %v", res.Err)
	}
	if m, _ := crm.ManagementOf(f.tx, "320722"); m.Epoch != 2 {
		t.Fatalf("epoch after release %d", m.Epoch)
	}
}

func TestManagement_ForcedIsImmediate(t *testing.T) {
	f := newMgmtFixture(t)
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full", "force": true}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := f.patch("3207"); res.Err != nil {
		t.Fatalf("parent right after a forced takeover: %v", res.Err)
	}
}

// TestManagement_Fenced: the parent keeps a child's uplinked changes aside
// from a forced takeover until the child acknowledges its epoch; never
// under a takeover that waited for the acknowledgement, nor elsewhere.
func TestManagement_Fenced(t *testing.T) {
	fenced := func(f *mgmtFixture, here string) (uint64, bool) {
		t.Helper()
		epoch, ok, err := crm.Fenced(f.tx, here, "320722")
		if err != nil {
			t.Fatal(err)
		}
		return epoch, ok
	}
	f := newMgmtFixture(t)
	if _, ok := fenced(f, "3207"); ok {
		t.Fatal("fenced without a setting")
	}
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full", "force": true}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if epoch, ok := fenced(f, "3207"); !ok || epoch != 1 {
		t.Fatalf("after a forced takeover: fenced %v at epoch %d; want true at 1", ok, epoch)
	}
	if _, ok := fenced(f, "32"); ok {
		t.Fatal("fenced at a region that is not the writer")
	}
	f.ack()
	if _, ok := fenced(f, "3207"); ok {
		t.Fatal("still fenced after the acknowledgement")
	}
	g := newMgmtFixture(t)
	if res := g.manage("3207", crmtest.Obj{"region": "320722", "mode": "full"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if _, ok := fenced(g, "3207"); ok {
		t.Fatal("fenced under a takeover that waits for the acknowledgement")
	}
}

func TestManagement_PartialGrants(t *testing.T) {
	f := newMgmtFixture(t)
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "partial", "collections": []string{"interactions"}}); res.Err != nil {
		t.Fatal(res.Err)
	}
	wantMgmtErr(t, "parent writes an ungranted collection", f.patch("3207"), crm.CodeWrongOwner, "320722", "customers of region 320722 are not granted to 3207's partial management (granted: interactions): write at 320722")
	if res := f.patch("320722"); res.Err != nil {
		t.Fatalf("the child keeps writing under partial management: %v", res.Err)
	}
}

func TestManagement_BadSettings(t *testing.T) {
	f := newMgmtFixture(t)
	for _, tc := range []struct {
		name, region string
		req          any
		code, field  string
		text         string
	}{
		{"not a child", "32", crmtest.Obj{"region": "320722", "mode": "full"}, crm.CodeWrongOwner, "region", "child regions only; 320722's parent is 3207"},
		{"a sibling", "3208", crmtest.Obj{"region": "320722", "mode": "full"}, crm.CodeWrongOwner, "region", "320722's parent is 3207"},
		{"bad code", "3207", crmtest.Obj{"region": "3207xx", "mode": "full"}, crm.CodeInvalid, "region", "not a GB/T 2260"},
		{"bad mode", "3207", crmtest.Obj{"region": "320722", "mode": "central"}, crm.CodeInvalid, "mode", "central"},
		{"partial without collections", "3207", crmtest.Obj{"region": "320722", "mode": "partial"}, crm.CodeInvalid, "collections", "at least one"},
		{"unknown collection", "3207", crmtest.Obj{"region": "320722", "mode": "partial", "collections": []string{"users"}}, crm.CodeInvalid, "collections[0]", `"users" cannot be granted`},
		{"collection twice", "3207", crmtest.Obj{"region": "320722", "mode": "partial", "collections": []string{"bills", "bills"}}, crm.CodeInvalid, "collections[1]", "twice"},
		{"full with collections", "3207", crmtest.Obj{"region": "320722", "mode": "full", "collections": []string{"bills"}}, crm.CodeInvalid, "collections", "only partial"},
		{"forced partial", "3207", crmtest.Obj{"region": "320722", "mode": "partial", "collections": []string{"bills"}, "force": true}, crm.CodeInvalid, "force", "only a full takeover"},
		{"unknown field", "3207", crmtest.Obj{"region": "320722", "mode": "full", "epoch": 9}, crm.CodeInvalid, "epoch", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.manage(tc.region, tc.req)
			if res.Err == nil || res.Err.Code != tc.code || res.Err.Field != tc.field || !strings.Contains(res.Err.Message, tc.text) {
				t.Fatalf("%+v\nwant %s on %s with %q", res.Err, tc.code, tc.field, tc.text)
			}
			if m, _ := crm.ManagementOf(f.tx, "320722"); m != nil {
				t.Fatalf("a refused setting was stored: %+v", m)
			}
		})
	}
}

// TestConflicts_KeptAndResolved: a child's old-epoch write is kept as a
// conflict; release waits for it; each resolution writes the chosen version
// as the next one.
func TestConflicts_KeptAndResolved(t *testing.T) {
	f := newMgmtFixture(t)
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full", "force": true}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := f.patch("3207"); res.Err != nil { // the parent's version: 2
		t.Fatal(res.Err)
	}
	key := "r/customers/" + f.id
	childVersion := []byte(`{"id":"` + f.id + `","owner":"320722","version":2,"created_at":"2026-03-02T09:30:00Z","updated_at":"2026-03-02T10:00:00Z","created_by":"alice","updated_by":"bob","account_no":"M-1","name":"县里改的","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"320722","status":"active"}`)
	if err := crm.RecordConflict(f.tx, "3207", "320722", 1, 77, key, childVersion, crmtest.T0.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if n, _ := crm.OpenConflicts(f.tx, "320722"); n != 1 {
		t.Fatalf("open conflicts %d", n)
	}
	wantMgmtErr(t, "release with an open conflict", f.manage("3207", crmtest.Obj{"region": "320722", "mode": "autonomous"}), crm.CodeConflict, "", "1 open conflicts")
	resolve := func(region string, req any) crm.Result {
		return crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpResolve, "", "", region, 0, req))
	}
	id := crm.ConflictID("320722", 77)
	wantMgmtErr(t, "bad choice", resolve("3207", crmtest.Obj{"id": id, "keep": "both"}), crm.CodeInvalid, "", "not one of child, parent, merged")
	wantMgmtErr(t, "merged without body", resolve("3207", crmtest.Obj{"id": id, "keep": "merged"}), crm.CodeInvalid, "", "needs the record's fields")
	bulletin := crm.ConflictID("320722", 78)
	if err := crm.RecordConflict(f.tx, "3207", "320722", 1, 78, "r/bulletins/"+crm.NewID("bul", crmtest.T0), []byte(`{"id":"x","owner":"320722"}`), crmtest.T0.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	wantMgmtErr(t, "a hand-merged bulletin", resolve("3207", crmtest.Obj{"id": bulletin, "keep": "merged", "body": crmtest.Obj{"html": "<script>"}}), crm.CodeInvalid, "", "cannot be merged by hand")
	if res := resolve("3207", crmtest.Obj{"id": bulletin, "keep": "parent"}); res.Err != nil {
		t.Fatalf("keep the parent's (no) bulletin: %v", res.Err)
	}
	wantMgmtErr(t, "not the writer", resolve("320722", crmtest.Obj{"id": id, "keep": "child"}), crm.CodeWrongOwner, "3207", "read-only here")
	wantMgmtErr(t, "unknown id", resolve("3207", crmtest.Obj{"id": "320722/1", "keep": "child"}), crm.CodeNotFound, "", "no conflict")
	res := resolve("3207", crmtest.Obj{"id": id, "keep": "child"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var got crm.Customer
	json.Unmarshal(res.Record, &got)
	if got.Name != "县里改的" || got.Version != 3 || got.Owner != "320722" || got.UpdatedBy != crmtest.Actor+"@3207" { // written by the parent
		t.Fatalf("resolved record %s", res.Record)
	}
	wantMgmtErr(t, "resolved twice", resolve("3207", crmtest.Obj{"id": id, "keep": "parent"}), crm.CodeConflict, "", "already resolved")
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "autonomous"}); res.Err != nil {
		t.Fatalf("release after resolving: %v", res.Err)
	}
	cs, _ := crm.Conflicts(f.tx, "32", false)
	if len(cs) != 2 || cs[0].Status != "resolved" || cs[0].Resolution != "child" || cs[1].Resolution != "parent" {
		t.Fatalf("conflicts %d: %s %s", len(cs), cs[0].Status, cs[0].Resolution)
	}
}
