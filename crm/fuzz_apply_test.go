package crm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	_ "gridcrm/process" // the work orders FuzzApply writes
)

// FuzzApply: a Command as a raft entry carries it, on a state that holds
// the process package's work orders (fuzz_test.go has FuzzMergePatch). `go
// test` runs the seeds; `make fuzz` runs each target for FUZZTIME.

const fuzzRegion = "3207" // a city: its county 320722 is under partial management

var fuzzT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// fuzzIDs are the ids of the records in the fuzz state.
var fuzzIDs = struct{ cus, cus2, bil, stf, usr, wko, child, new1, new2, new3 string }{
	cus:   crm.NewID("cus", fuzzT0),
	cus2:  crm.NewID("cus", fuzzT0.Add(time.Millisecond)),
	bil:   crm.NewID("bil", fuzzT0),
	stf:   crm.NewID("stf", fuzzT0),
	usr:   crm.NewID("usr", fuzzT0),
	wko:   crm.NewID("wko", fuzzT0),
	child: crm.NewID("cus", fuzzT0.Add(2*time.Millisecond)),
	new1:  crm.NewID("cus", fuzzT0.Add(time.Hour)),
	new2:  crm.NewID("cus", fuzzT0.Add(time.Hour+time.Millisecond)),
	new3:  crm.NewID("bil", fuzzT0.Add(time.Hour)),
}

func fuzzCustomer(acct, region string) string {
	return `{"account_no":"` + acct + `","name":"徐州钢铁 ` + acct + `","category":"industrial","voltage_kv":10,"capacity_kva":800,"region":"` + region + `","grid":"G1"}`
}

// fuzzSetup is the state every fuzzed Command is applied to: records of
// several collections owned by the city, a county's customer replicated up
// and the county's partial management (work orders granted).
var fuzzSetup = []crm.Command{
	{Op: crm.OpCreate, Collection: "customers", ID: fuzzIDs.cus, Body: json.RawMessage(fuzzCustomer("XZ-1", fuzzRegion))},
	{Op: crm.OpCreate, Collection: "customers", ID: fuzzIDs.cus2, Body: json.RawMessage(fuzzCustomer("XZ-2", fuzzRegion))},
	{Op: crm.OpCreate, Collection: "bills", ID: fuzzIDs.bil, Body: json.RawMessage(`{"customer_id":"` + fuzzIDs.cus + `","period":"2026-01","kwh":1200,"billed":980.5}`)},
	{Op: crm.OpCreate, Collection: "staff", ID: fuzzIDs.stf, Body: json.RawMessage(`{"staff_no":"S-1","name":"王芳","role":"account_manager","region":"` + fuzzRegion + `"}`)},
	{Op: crm.OpCreate, Collection: "users", ID: fuzzIDs.usr, Body: json.RawMessage(`{"username":"ann","display_name":"Ann","role":"agent","region":"` + fuzzRegion + `","password_hash":"$argon2id$v=19$fake"}`)},
	{Op: crm.OpCreate, Collection: "work_orders", ID: fuzzIDs.wko, Body: json.RawMessage(`{"kind":"complaint","channel":"95598_hotline","subject":"停电","customer_id":"` + fuzzIDs.cus + `","received_at":"2026-03-02T09:00:00Z"}`)},
	{Op: crm.OpManage, Body: json.RawMessage(`{"region":"320722","mode":"partial","collections":["work_orders"]}`)},
}

// fuzzState builds the state: a MemTxn the fuzzed Commands are applied to
// copies of.
func fuzzState(tb testing.TB) *crm.MemTxn {
	tb.Helper()
	tx := crm.NewMemTxn()
	for i := range fuzzSetup {
		cmd := fuzzSetup[i]
		cmd.Region, cmd.Actor, cmd.Time = fuzzRegion, "admin", fuzzT0
		if res := crm.Apply(tx, &cmd); res.Err != nil {
			tb.Fatalf("fuzz state: %s %s: %v", cmd.Op, cmd.Collection, res.Err)
		}
	}
	child := strings.Replace(fuzzCustomer("GY-1", "320722"), `{`, `{"id":"`+fuzzIDs.child+`","owner":"320722","version":1,"created_at":"2026-03-02T09:30:00Z","updated_at":"2026-03-02T09:30:00Z","created_by":"bo","updated_by":"bo","status":"active",`, 1)
	if _, err := crm.ValidRecord("r/customers/"+fuzzIDs.child, []byte(child)); err != nil {
		tb.Fatalf("fuzz state: the county's customer: %v", err)
	}
	if err := crm.ApplyReplica(tx, "r/customers/"+fuzzIDs.child, []byte(child)); err != nil {
		tb.Fatal(err)
	}
	return tx
}

// fuzzCommands are the seed Commands: valid ones of every operation, and
// known-bad ones (wrong owner, bad ids, versions, bodies, rows).
func fuzzCommands() []string {
	id := fuzzIDs
	c := func(op crm.Op, coll, rid string, ver uint64, body string) string {
		cmd := crm.Command{Op: op, Collection: coll, ID: rid, Version: ver, Region: fuzzRegion, Actor: "ann", Time: fuzzT0.Add(time.Minute)}
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
		cmd := crm.Command{Op: crm.OpImport, Collection: "customers", IDs: ids, Region: fuzzRegion, Actor: "ann", Time: fuzzT0}
		for _, r := range rows {
			cmd.Rows = append(cmd.Rows, json.RawMessage(r))
		}
		b, _ := json.Marshal(cmd)
		return string(b)
	}
	return []string{
		// valid
		c(crm.OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-9", fuzzRegion)),
		c(crm.OpCreate, "bills", id.new3, 0, `{"customer_id":"`+id.cus+`","period":"2026-02","kwh":1,"billed":1}`),
		c(crm.OpUpdate, "customers", id.cus, 1, `{"name":"新名字","phone":"025-1234567"}`),
		c(crm.OpUpdate, "customers", id.cus, 1, `{"grid":null}`),
		c(crm.OpUpdate, "customers", id.cus, 1, `{}`),
		c(crm.OpReplace, "customers", id.cus, 1, fuzzCustomer("XZ-1", fuzzRegion)),
		c(crm.OpDelete, "bills", id.bil, 1, ""),
		c(crm.OpDelete, "customers", id.cus2, 0, ""),
		c(crm.OpAction, "work_orders", id.wko, 1, `{"to":"dispatched","assignee_id":"`+id.stf+`"}`),
		c(crm.OpInitSys, "", "token_key", 0, `"00112233445566778899aabbccddeeff"`),
		c(crm.OpManage, "", "", 0, `{"region":"320722","mode":"full"}`),
		c(crm.OpManage, "", "", 0, `{"region":"320722","mode":"autonomous"}`),
		c(crm.OpForward, "", "cmd_"+id.new2[4:], 0, `{"region":"320722","op":"create","coll":"work_orders","record_id":"`+crm.NewID("wko", fuzzT0.Add(time.Hour))+`","body":{"kind":"complaint","channel":"95598_hotline","subject":"停电","customer_id":"`+id.child+`","received_at":"2026-03-02T09:00:00Z"}}`),
		c(crm.OpSession, "", "", 0, `{"action":"fail","user_id":"`+id.usr+`"}`),
		imp([]string{id.new1, id.new2}, fuzzCustomer("IM-1", fuzzRegion), fuzzCustomer("IM-2", fuzzRegion)),
		// known-bad
		c(crm.OpCreate, "customers", id.new1, 0, fuzzCustomer("GY-9", "320722")),
		c(crm.OpForward, "", "cmd_"+id.new2[4:], 0, `{"region":"320722","op":"update","coll":"customers","record_id":"`+id.child+`","ver":1,"body":{"name":"改"}}`),
		c(crm.OpAction, "work_orders", id.wko, 1, `{"to":"accepted"}`),
		c(crm.OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-1", fuzzRegion)), // account_no taken
		c(crm.OpCreate, "customers", "cus_x", 0, fuzzCustomer("XZ-8", fuzzRegion)),
		c(crm.OpCreate, "customers", id.cus, 0, fuzzCustomer("XZ-8", fuzzRegion)),
		c(crm.OpCreate, "customers", id.new1, 0, fuzzCustomer("XZ-8", "32")),
		c(crm.OpCreate, "customers", id.new1, 0, `{"account_no":"X","id":"`+id.new1+`"}`),
		c(crm.OpCreate, "bills", id.new3, 0, `{"customer_id":"`+id.child+`","period":"2026-02","kwh":1,"billed":1}`),
		c(crm.OpCreate, "nope", id.new1, 0, `{}`),
		c(crm.OpUpdate, "customers", id.cus, 0, `{"name":"x"}`),
		c(crm.OpUpdate, "customers", id.cus, 7, `{"name":"x"}`),
		c(crm.OpUpdate, "customers", id.cus, 1, `[1]`),
		c(crm.OpUpdate, "customers", id.cus, 1, `null`),
		c(crm.OpUpdate, "customers", id.cus, 1, `{"name":null}`),
		c(crm.OpUpdate, "customers", id.cus, 1, `{"owner":"32","version":9,"region":"3201"}`),
		c(crm.OpUpdate, "customers", id.child, 1, `{"name":"x"}`),
		c(crm.OpUpdate, "users", id.usr, 1, `{"role":"root"}`),
		c(crm.OpReplace, "customers", id.cus, 1, `{"name":"x"}`),
		c(crm.OpDelete, "customers", id.cus, 0, ""), // still referenced
		c(crm.OpDelete, "customers", id.child, 0, ""),
		c(crm.OpAction, "work_orders", id.wko, 1, `{"to":"closed"}`),
		c(crm.OpAction, "customers", id.cus, 1, `{}`),
		c(crm.OpManage, "", "", 0, `{"region":"3201","mode":"full"}`),
		c(crm.OpManage, "", "", 0, `{"region":"320722","mode":"partial","collections":["users"]}`),
		c(crm.OpResolve, "", "", 0, `{"id":"320722/00000000000000000001","keep":"parent"}`),
		c(crm.OpForward, "", "cmd_x", 0, `{"region":"3207","op":"delete","coll":"customers","record_id":"`+id.cus+`"}`),
		c(crm.OpSession, "", "", 0, `{"action":"start","user_id":"`+id.usr+`"}`),
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
func cloneTxn(tx *crm.MemTxn) *crm.MemTxn { return crm.CloneMemTxn(tx) }

func stateDiff(a, b *crm.MemTxn) string {
	var d []string
	for k, v := range crm.MemTxnMap(a) {
		if w, ok := crm.MemTxnMap(b)[k]; !ok {
			d = append(d, fmt.Sprintf("- %q", k))
		} else if !bytes.Equal(v, w) {
			d = append(d, fmt.Sprintf("~ %q: %q -> %q", k, v, w))
		}
	}
	for k := range crm.MemTxnMap(b) {
		if _, ok := crm.MemTxnMap(a)[k]; !ok {
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
func checkApply(t *testing.T, base *crm.MemTxn, raw []byte) {
	var cmd crm.Command
	if json.Unmarshal(raw, &cmd) != nil {
		return
	}
	tx1, tx2 := cloneTxn(base), cloneTxn(base)
	cmd2 := cmd
	res1, res2 := crm.Apply(tx1, &cmd), crm.Apply(tx2, &cmd2)
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
	for k, v := range crm.MemTxnMap(tx1) {
		if w, ok := crm.MemTxnMap(base)[k]; ok && bytes.Equal(v, w) || !strings.HasPrefix(k, "r/") {
			continue
		}
		owner, err := crm.ValidRecord(k, v)
		if err != nil {
			t.Fatalf("%s %s: wrote %s = %s, which a link refuses: %v", cmd.Op, cmd.Collection, k, v, err)
		}
		if !crm.InRegion(owner, cmd.Region) {
			t.Fatalf("%s %s in region %q: wrote %s owned by %q", cmd.Op, cmd.Collection, cmd.Region, k, owner)
		}
	}
	switch cmd.Op {
	case crm.OpCreate, crm.OpUpdate, crm.OpReplace, crm.OpAction:
		if got := crm.MemTxnMap(tx1)["r/"+cmd.Collection+"/"+cmd.ID]; !bytes.Equal(got, res1.Record) {
			t.Fatalf("%s answered %s; stored %s", cmd.Op, res1.Record, got)
		}
	case crm.OpDelete:
		if got, ok := crm.MemTxnMap(tx1)["r/"+cmd.Collection+"/"+cmd.ID]; ok {
			t.Fatalf("deleted, yet stored %s", got)
		}
	case crm.OpImport:
		if !slices.Equal(res1.IDs, cmd.IDs) {
			t.Fatalf("imported %q, answered %q", cmd.IDs, res1.IDs)
		}
		for _, id := range cmd.IDs {
			if _, ok := crm.MemTxnMap(tx1)["r/"+cmd.Collection+"/"+id]; !ok {
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
		var cmd crm.Command
		if json.Unmarshal([]byte(s), &cmd) == nil && crm.Apply(cloneTxn(base), &cmd).Err == nil {
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
