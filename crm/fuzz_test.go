package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the decoders of crm: a Command as a raft entry carries
// it (FuzzApply) and the merge patch of an update (FuzzMergePatch). `go
// test` runs the seeds; `make fuzz` runs each target for FUZZTIME.

const fuzzRegion = "3207" // a city: its county 320722 is under partial management

var fuzzT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// fuzzIDs are the ids of the records in the fuzz state.
var fuzzIDs = struct{ cus, cus2, bil, stf, usr, wko, child, new1, new2, new3 string }{
	cus:   NewID("cus", fuzzT0),
	cus2:  NewID("cus", fuzzT0.Add(time.Millisecond)),
	bil:   NewID("bil", fuzzT0),
	stf:   NewID("stf", fuzzT0),
	usr:   NewID("usr", fuzzT0),
	wko:   NewID("wko", fuzzT0),
	child: NewID("cus", fuzzT0.Add(2*time.Millisecond)),
	new1:  NewID("cus", fuzzT0.Add(time.Hour)),
	new2:  NewID("cus", fuzzT0.Add(time.Hour+time.Millisecond)),
	new3:  NewID("bil", fuzzT0.Add(time.Hour)),
}

func fuzzCustomer(acct, region string) string {
	return `{"account_no":"` + acct + `","name":"徐州钢铁 ` + acct + `","category":"industrial","voltage_kv":10,"capacity_kva":800,"region":"` + region + `","grid":"G1"}`
}

// fuzzSetup is the state every fuzzed Command is applied to: records of
// several collections owned by the city, a county's customer replicated up
// and the county's partial management (work orders granted).
var fuzzSetup = []Command{
	{Op: OpCreate, Collection: "customers", ID: fuzzIDs.cus, Body: json.RawMessage(fuzzCustomer("XZ-1", fuzzRegion))},
	{Op: OpCreate, Collection: "customers", ID: fuzzIDs.cus2, Body: json.RawMessage(fuzzCustomer("XZ-2", fuzzRegion))},
	{Op: OpCreate, Collection: "bills", ID: fuzzIDs.bil, Body: json.RawMessage(`{"customer_id":"` + fuzzIDs.cus + `","period":"2026-01","kwh":1200,"billed":980.5}`)},
	{Op: OpCreate, Collection: "staff", ID: fuzzIDs.stf, Body: json.RawMessage(`{"staff_no":"S-1","name":"王芳","role":"account_manager","region":"` + fuzzRegion + `"}`)},
	{Op: OpCreate, Collection: "users", ID: fuzzIDs.usr, Body: json.RawMessage(`{"username":"ann","display_name":"Ann","role":"agent","region":"` + fuzzRegion + `","password_hash":"$argon2id$v=19$fake"}`)},
	{Op: OpCreate, Collection: "work_orders", ID: fuzzIDs.wko, Body: json.RawMessage(`{"kind":"complaint","channel":"95598_hotline","subject":"停电","customer_id":"` + fuzzIDs.cus + `","received_at":"2026-03-02T09:00:00Z"}`)},
	{Op: OpManage, Body: json.RawMessage(`{"region":"320722","mode":"partial","collections":["work_orders"]}`)},
}

// fuzzState builds the state: a MemTxn the fuzzed Commands are applied to
// copies of.
func fuzzState(tb testing.TB) *MemTxn {
	tb.Helper()
	tx := NewMemTxn()
	for i := range fuzzSetup {
		cmd := fuzzSetup[i]
		cmd.Region, cmd.Actor, cmd.Time = fuzzRegion, "admin", fuzzT0
		if res := Apply(tx, &cmd); res.Err != nil {
			tb.Fatalf("fuzz state: %s %s: %v", cmd.Op, cmd.Collection, res.Err)
		}
	}
	child := strings.Replace(fuzzCustomer("GY-1", "320722"), `{`, `{"id":"`+fuzzIDs.child+`","owner":"320722","version":1,"created_at":"2026-03-02T09:30:00Z","updated_at":"2026-03-02T09:30:00Z","created_by":"bo","updated_by":"bo","status":"active",`, 1)
	if _, err := ValidRecord("r/customers/"+fuzzIDs.child, []byte(child)); err != nil {
		tb.Fatalf("fuzz state: the county's customer: %v", err)
	}
	if err := ApplyReplica(tx, "r/customers/"+fuzzIDs.child, []byte(child)); err != nil {
		tb.Fatal(err)
	}
	return tx
}

// fuzzCommands are the seed Commands: valid ones of every operation, and
// known-bad ones (wrong owner, bad ids, versions, bodies, rows).
func fuzzCommands() []string {
	id := fuzzIDs
	c := func(op Op, coll, rid string, ver uint64, body string) string {
		cmd := Command{Op: op, Collection: coll, ID: rid, Version: ver, Region: fuzzRegion, Actor: "ann", Time: fuzzT0.Add(time.Minute)}
		if body != "" {
			cmd.Body = json.RawMessage(body)
		}
		b, err := json.Marshal(cmd)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	imp := func(ids []string, rows ...string) string {
		cmd := Command{Op: OpImport, Collection: "customers", IDs: ids, Region: fuzzRegion, Actor: "ann", Time: fuzzT0}
		for _, r := range rows {
			cmd.Rows = append(cmd.Rows, json.RawMessage(r))
		}
		b, _ := json.Marshal(cmd)
		return string(b)
	}
	return []string{
		// valid
		c(OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-9", fuzzRegion)),
		c(OpCreate, "bills", id.new3, 0, `{"customer_id":"`+id.cus+`","period":"2026-02","kwh":1,"billed":1}`),
		c(OpUpdate, "customers", id.cus, 1, `{"name":"新名字","phone":"025-1234567"}`),
		c(OpUpdate, "customers", id.cus, 1, `{"grid":null}`),
		c(OpUpdate, "customers", id.cus, 1, `{}`),
		c(OpReplace, "customers", id.cus, 1, fuzzCustomer("XZ-1", fuzzRegion)),
		c(OpDelete, "bills", id.bil, 1, ""),
		c(OpDelete, "customers", id.cus2, 0, ""),
		c(OpAction, "work_orders", id.wko, 1, `{"to":"dispatched","assignee_id":"`+id.stf+`"}`),
		c(OpInitSys, "", "token_key", 0, `"00112233445566778899aabbccddeeff"`),
		c(OpManage, "", "", 0, `{"region":"320722","mode":"full"}`),
		c(OpManage, "", "", 0, `{"region":"320722","mode":"autonomous"}`),
		c(OpForward, "", "cmd_"+id.new2[4:], 0, `{"region":"320722","op":"create","coll":"work_orders","record_id":"`+NewID("wko", fuzzT0.Add(time.Hour))+`","body":{"kind":"complaint","channel":"95598_hotline","subject":"停电","customer_id":"`+id.child+`","received_at":"2026-03-02T09:00:00Z"}}`),
		c(OpSession, "", "", 0, `{"action":"fail","user_id":"`+id.usr+`"}`),
		imp([]string{id.new1, id.new2}, fuzzCustomer("IM-1", fuzzRegion), fuzzCustomer("IM-2", fuzzRegion)),
		// known-bad
		c(OpCreate, "customers", id.new1, 0, fuzzCustomer("GY-9", "320722")),
		c(OpForward, "", "cmd_"+id.new2[4:], 0, `{"region":"320722","op":"update","coll":"customers","record_id":"`+id.child+`","ver":1,"body":{"name":"改"}}`),
		c(OpAction, "work_orders", id.wko, 1, `{"to":"accepted"}`),
		c(OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-1", fuzzRegion)), // account_no taken
		c(OpCreate, "customers", "cus_x", 0, fuzzCustomer("XZ-8", fuzzRegion)),
		c(OpCreate, "customers", id.cus, 0, fuzzCustomer("XZ-8", fuzzRegion)),
		c(OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-8", "32")),
		c(OpCreate, "customers", id.new1, 0, `{"account_no":"X","id":"`+id.new1+`"}`),
		c(OpCreate, "bills", id.new3, 0, `{"customer_id":"`+id.child+`","period":"2026-02","kwh":1,"billed":1}`),
		c(OpCreate, "nope", id.new1, 0, `{}`),
		c(OpUpdate, "customers", id.cus, 0, `{"name":"x"}`),
		c(OpUpdate, "customers", id.cus, 7, `{"name":"x"}`),
		c(OpUpdate, "customers", id.cus, 1, `[1]`),
		c(OpUpdate, "customers", id.cus, 1, `null`),
		c(OpUpdate, "customers", id.cus, 1, `{"name":null}`),
		c(OpUpdate, "customers", id.cus, 1, `{"owner":"32","version":9,"region":"3201"}`),
		c(OpUpdate, "customers", id.child, 1, `{"name":"x"}`),
		c(OpUpdate, "users", id.usr, 1, `{"role":"root"}`),
		c(OpReplace, "customers", id.cus, 1, `{"name":"x"}`),
		c(OpDelete, "customers", id.cus, 0, ""), // still referenced
		c(OpDelete, "customers", id.child, 0, ""),
		c(OpAction, "work_orders", id.wko, 1, `{"to":"closed"}`),
		c(OpAction, "customers", id.cus, 1, `{}`),
		c(OpManage, "", "", 0, `{"region":"3201","mode":"full"}`),
		c(OpManage, "", "", 0, `{"region":"320722","mode":"partial","collections":["users"]}`),
		c(OpResolve, "", "", 0, `{"id":"320722/00000000000000000001","keep":"parent"}`),
		c(OpForward, "", "cmd_x", 0, `{"region":"3207","op":"delete","coll":"customers","record_id":"`+id.cus+`"}`),
		c(OpSession, "", "", 0, `{"action":"start","user_id":"`+id.usr+`"}`),
		c("drop", "customers", id.cus, 1, ""),
		imp([]string{id.new1, id.new1}, fuzzCustomer("IM-1", fuzzRegion), fuzzCustomer("IM-2", fuzzRegion)),
		imp([]string{id.new1, id.new2}, fuzzCustomer("IM-1", fuzzRegion), fuzzCustomer("IM-1", fuzzRegion)),
		imp([]string{id.new1, id.new2}, fuzzCustomer("IM-1", fuzzRegion), `{"account_no":"IM-2","name":1}`),
		imp([]string{id.new1}, fuzzCustomer("IM-1", fuzzRegion), fuzzCustomer("IM-2", fuzzRegion)),
		imp(nil),
		`{"op":"create","coll":"customers","id":"` + id.new1 + `","body":` + fuzzCustomer("XZ-7", "") + `,"region":"","actor":""}`,
		`{"op":"update","coll":"customers","id":"` + id.cus + `","ver":1,"body":{"name":"x"},"region":"32","actor":"a"}`,
		`{}`, `null`, `{"op":"create"}`,
	}
}

// cloneTxn copies tx (its values are never written in place).
func cloneTxn(tx *MemTxn) *MemTxn { return &MemTxn{m: maps.Clone(tx.m)} }

func stateDiff(a, b *MemTxn) string {
	var d []string
	for k, v := range a.m {
		if w, ok := b.m[k]; !ok {
			d = append(d, fmt.Sprintf("- %q", k))
		} else if !bytes.Equal(v, w) {
			d = append(d, fmt.Sprintf("~ %q: %q -> %q", k, v, w))
		}
	}
	for k := range b.m {
		if _, ok := a.m[k]; !ok {
			d = append(d, fmt.Sprintf("+ %q", k))
		}
	}
	slices.Sort(d)
	return strings.Join(d, "\n")
}

// checkApply applies the Command in raw (the JSON a raft entry carries)
// to two copies of base and checks:
//   - the same answer and the same writes both times (determinism);
//   - a refused Command answers an error with a code and a message, and
//     writes nothing;
//   - an accepted one writes only records that pass ValidRecord (as a
//     link would check them), owned by the Command's region or a region
//     below it, and answers the record as stored.
func checkApply(t *testing.T, base *MemTxn, raw []byte) {
	var cmd Command
	if json.Unmarshal(raw, &cmd) != nil {
		return
	}
	tx1, tx2 := cloneTxn(base), cloneTxn(base)
	cmd2 := cmd
	res1, res2 := Apply(tx1, &cmd), Apply(tx2, &cmd2)
	a1, err := json.Marshal(res1)
	if err != nil {
		t.Fatalf("the answer does not marshal: %v", err)
	}
	a2, _ := json.Marshal(res2)
	if !bytes.Equal(a1, a2) {
		t.Fatalf("one command, two answers:\n%s\n%s", a1, a2)
	}
	if d := stateDiff(tx1, tx2); d != "" {
		t.Fatalf("one command, two outcomes:\n%s", d)
	}
	if res1.Err != nil {
		if res1.Err.Code == "" || res1.Err.Message == "" {
			t.Fatalf("an error without a code or a message: %+v", res1.Err)
		}
		if d := stateDiff(base, tx1); d != "" {
			t.Fatalf("refused (%v) yet wrote:\n%s", res1.Err, d)
		}
		return
	}
	for k, v := range tx1.m {
		if w, ok := base.m[k]; ok && bytes.Equal(v, w) || !strings.HasPrefix(k, "r/") {
			continue
		}
		owner, err := ValidRecord(k, v)
		if err != nil {
			t.Fatalf("%s %s: wrote %s = %s, which a link refuses: %v", cmd.Op, cmd.Collection, k, v, err)
		}
		if !InRegion(owner, cmd.Region) {
			t.Fatalf("%s %s in region %q: wrote %s owned by %q", cmd.Op, cmd.Collection, cmd.Region, k, owner)
		}
	}
	switch cmd.Op {
	case OpCreate, OpUpdate, OpReplace, OpAction:
		if got := tx1.m["r/"+cmd.Collection+"/"+cmd.ID]; !bytes.Equal(got, res1.Record) {
			t.Fatalf("%s answered %s; stored %s", cmd.Op, res1.Record, got)
		}
	case OpDelete:
		if got, ok := tx1.m["r/"+cmd.Collection+"/"+cmd.ID]; ok {
			t.Fatalf("deleted, yet stored %s", got)
		}
	case OpImport:
		if !slices.Equal(res1.IDs, cmd.IDs) {
			t.Fatalf("imported %q, answered %q", cmd.IDs, res1.IDs)
		}
		for _, id := range cmd.IDs {
			if _, ok := tx1.m["r/"+cmd.Collection+"/"+id]; !ok {
				t.Fatalf("imported %s, yet it is not stored", id)
			}
		}
	}
}

// TestApply_FuzzSeeds: the seeds hold the properties, and the valid ones
// are accepted (so the fuzzer starts from Commands that get deep).
func TestApply_FuzzSeeds(t *testing.T) {
	base := fuzzState(t)
	accepted := 0
	for _, s := range fuzzCommands() {
		checkApply(t, base, []byte(s))
		var cmd Command
		if json.Unmarshal([]byte(s), &cmd) == nil && Apply(cloneTxn(base), &cmd).Err == nil {
			accepted++
		}
	}
	if accepted < 15 {
		t.Fatalf("only %d seeds accepted", accepted)
	}
}

// FuzzApply: any Command, as JSON, on the fuzz state.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzCommands() {
		f.Add([]byte(s))
	}
	base := fuzzState(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkApply(t, base, raw)
	})
}

// checkMergePatch checks mergePatch(stored, patch) against RFC 7386 at one
// level: a stored object and a patch object always merge, into a JSON
// object holding the stored fields the patch does not name, the patch's
// non-null fields and none of the metadata; anything else is refused with
// an error; and applying the patch again changes nothing.
func checkMergePatch(t *testing.T, stored, patch []byte) {
	out, e := mergePatch(stored, patch)
	var cur, p map[string]json.RawMessage
	objects := json.Unmarshal(stored, &cur) == nil && cur != nil && json.Unmarshal(patch, &p) == nil && p != nil
	if !objects {
		if e == nil {
			t.Fatalf("merged %q into %q, not both objects: %s", patch, stored, out)
		}
		if e.Code == "" || e.Message == "" {
			t.Fatalf("an error without a code or a message: %+v", e)
		}
		return
	}
	if e != nil {
		t.Fatalf("merging %q into %q: %v", patch, stored, e)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil || got == nil {
		t.Fatalf("merged %q into %q: %q is not a JSON object (%v)", patch, stored, out, err)
	}
	want := map[string]json.RawMessage{}
	for k, v := range cur {
		want[k] = v
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(want, k)
		} else {
			want[k] = v
		}
	}
	for _, k := range append(slices.Clone(MetaFields), "version") {
		delete(want, k)
	}
	if len(got) != len(want) {
		t.Fatalf("merged %q into %q: %s; want the fields %q", patch, stored, out, slices.Sorted(maps.Keys(want)))
	}
	for k, v := range want {
		if !jsonEqual(got[k], v) {
			t.Fatalf("merged %q into %q: field %q is %s, want %s", patch, stored, k, got[k], v)
		}
	}
	again, e := mergePatch(out, patch)
	if e != nil || !bytes.Equal(again, out) {
		t.Fatalf("the patch %q again: %s, %v; want %s", patch, again, e, out)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// FuzzMergePatch: any stored bytes, any patch.
func FuzzMergePatch(f *testing.F) {
	stored := `{"id":"cus_1","owner":"3207","version":3,"created_at":"2026-01-01T00:00:00Z","name":"a","tags":["x"],"grid":"G1","n":{"a":1}}`
	for _, s := range [][2]string{
		{stored, `{"name":"b"}`},
		{stored, `{"grid":null}`},
		{stored, `{"n":{"a":null,"b":2}}`},
		{stored, `{"tags":[]}`},
		{stored, `{}`},
		{stored, `{"new":1,"name":null,"x":"\u00e9"}`},
		{stored, `{"owner":"32","version":9,"id":"cus_2"}`},
		{stored, `{"name":"a","name":null}`},
		{stored, `{"name":  null }`},
		{`{}`, `{"a":1}`},
		// refused
		{stored, `null`},
		{stored, `[{"name":"b"}]`},
		{stored, `"x"`},
		{stored, `{"name":}`},
		{stored, `{"name":"b"} x`},
		{stored, ``},
		{`[]`, `{"a":1}`},
		{`{"a":`, `{"a":1}`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, stored, patch []byte) {
		checkMergePatch(t, stored, patch)
	})
}
