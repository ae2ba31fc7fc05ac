package crm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// Benchmarks of the write path: what the raft FSM runs per write on every
// replica (Apply) and what the API runs per incoming record (CheckNew).

const benchRegion = "320723"

var benchT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// clientBody is the JSON a client sends for a record: the record's fields
// without the server-set metadata.
func clientBody(tb testing.TB, rec any) json.RawMessage {
	tb.Helper()
	raw, err := json.Marshal(rec)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	for _, f := range append(crm.MetaFields, "version") {
		delete(m, f)
	}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// benchState is a MemTxn holding a generated region of customers (and, when
// months > 0, their bills), the ids of those customers, and 100 further
// generated customers (and bills) that are not stored, for the benchmarks
// to write.
type benchState struct {
	tx       *crm.MemTxn
	cusIDs   []string
	newCus   []json.RawMessage
	newBills []json.RawMessage // bills of stored customers for a month not stored
}

func newBenchState(tb testing.TB, customers int) *benchState {
	tb.Helper()
	d := sample.Generate(sample.Options{Region: benchRegion, Customers: customers + 100, Months: 2, Seed: 1})
	s := &benchState{tx: crm.NewMemTxn()}
	var seq int
	nextID := func(prefix string) string {
		seq++
		return crm.NewID(prefix, benchT0.Add(-time.Duration(seq)*time.Millisecond))
	}
	for lo := 0; lo < customers; lo += 1000 {
		hi := min(lo+1000, customers)
		cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0}
		for i := lo; i < hi; i++ {
			cmd.Rows = append(cmd.Rows, clientBody(tb, &d.Customers[i]))
			cmd.IDs = append(cmd.IDs, nextID("cus"))
		}
		if res := crm.Apply(s.tx, cmd); res.Err != nil {
			tb.Fatalf("prefill: %v %+v", res.Err, res.Err.Rows)
		}
		s.cusIDs = append(s.cusIDs, cmd.IDs...)
	}
	for lo := 0; lo < customers; lo += 1000 {
		hi := min(lo+1000, customers)
		cmd := &crm.Command{Op: crm.OpImport, Collection: "bills", Region: benchRegion, Actor: "demo", Time: benchT0}
		for i := lo; i < hi; i++ {
			b := d.Bills[i][0]
			b.CustomerID = s.cusIDs[i]
			cmd.Rows = append(cmd.Rows, clientBody(tb, &b))
			cmd.IDs = append(cmd.IDs, nextID("bil"))
		}
		if res := crm.Apply(s.tx, cmd); res.Err != nil {
			tb.Fatalf("prefill bills: %v %+v", res.Err, res.Err.Rows)
		}
	}
	for i := customers; i < customers+100; i++ {
		s.newCus = append(s.newCus, clientBody(tb, &d.Customers[i]))
	}
	for i := range 100 {
		b := d.Bills[i][1]
		b.CustomerID = s.cusIDs[i]
		s.newBills = append(s.newBills, clientBody(tb, &b))
	}
	return s
}

// sinkTxn reads from a prefilled MemTxn and appends writes to a buffer, as
// a Pebble batch does, instead of storing them, so that the same Command
// can be applied b.N times to the same state.
type sinkTxn struct {
	*crm.MemTxn
	buf    []byte
	writes int
	keys   []string // the first keys written, for a failure's message
}

func (s *sinkTxn) Set(k, v []byte) error {
	s.buf = append(append(s.buf, k...), v...)
	s.writes++
	if len(s.keys) < 64 {
		s.keys = append(s.keys, string(k))
	}
	return nil
}

func (s *sinkTxn) Delete(k []byte) error {
	s.buf = append(s.buf, k...)
	s.writes++
	return nil
}

func (s *sinkTxn) reset() { s.buf, s.writes, s.keys = s.buf[:0], 0, s.keys[:0] }

func benchApply(b *testing.B, s *benchState, cmd *crm.Command, wantWrites int) {
	b.Helper()
	tx := &sinkTxn{MemTxn: s.tx}
	res := crm.Apply(tx, cmd)
	if res.Err != nil {
		b.Fatalf("Apply: %v %+v", res.Err, res.Err.Rows)
	}
	if tx.writes != wantWrites {
		b.Fatalf("Apply wrote %d keys; want %d: %q", tx.writes, wantWrites, tx.keys)
	}
	var bytes int
	for _, r := range cmd.Rows {
		bytes += len(r)
	}
	bytes += len(cmd.Body)
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tx.reset()
		if res := crm.Apply(tx, cmd); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

var benchStates = map[int]*benchState{}

func benchStateOf(b *testing.B, customers int) *benchState {
	b.Helper()
	if s, ok := benchStates[customers]; ok {
		return s
	}
	s := newBenchState(b, customers)
	benchStates[customers] = s
	return s
}

// keysWritten is what creating rows of kind k writes: each row's record,
// uniques and indexes.
func keysWritten(tb testing.TB, k *crm.Kind, rows []json.RawMessage) int {
	n := 0
	cards := map[string]bool{} // customer cards written (card.go): one per customer, whatever its bills
	for _, r := range rows {
		rec, err := k.CheckNew(r, benchRegion)
		if err != nil {
			tb.Fatal(err)
		}
		n += 1 + len(rec.Uniques()) + len(rec.Indexes())
		switch x := rec.(type) {
		case *crm.Customer:
			n += 2 // who holds the 户号 (x/customers/_acct), and its duplicate entry cleared (accounts.go)
			n++    // its card
		case *crm.Bill:
			if !cards[x.CustomerID] {
				cards[x.CustomerID] = true
				n++ // its customer's card
			}
		}
	}
	return n
}

// BenchmarkApplyImport imports 100 generated customers (about 300 bytes of
// JSON each) into a region of 10k.
func BenchmarkApplyImport(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		Rows: s.newCus}
	for range s.newCus {
		cmd.IDs = append(cmd.IDs, crm.NewID("cus", cmd.Time))
	}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["customers"], s.newCus))
}

// BenchmarkApplyImportBills imports 100 bills of stored customers: each
// row's reference is checked.
func BenchmarkApplyImportBills(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpImport, Collection: "bills", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		Rows: s.newBills}
	for range s.newBills {
		cmd.IDs = append(cmd.IDs, crm.NewID("bil", cmd.Time))
	}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["bills"], s.newBills))
}

// BenchmarkApplyCreate creates one customer in a region of 10k.
func BenchmarkApplyCreate(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpCreate, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		ID: crm.NewID("cus", benchT0.Add(time.Hour)), Body: s.newCus[0]}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["customers"], s.newCus[:1]))
}

// BenchmarkCheckNew checks one customer body as the API does before
// proposing it.
func BenchmarkCheckNew(b *testing.B) {
	d := sample.Generate(sample.Options{Region: benchRegion, Customers: 1, Seed: 1})
	body := clientBody(b, &d.Customers[0])
	k := crm.Kinds["customers"]
	if _, err := k.CheckNew(body, benchRegion); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := k.CheckNew(body, benchRegion); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchBodies checks that the benchmarks' bodies are the size they
// claim.
func TestBenchBodies(t *testing.T) {
	s := newBenchState(t, 100)
	n := 0
	for _, r := range s.newCus {
		n += len(r)
	}
	t.Logf("customer body: %d bytes on average; e.g. %s", n/len(s.newCus), s.newCus[0])
	if avg := n / len(s.newCus); avg < 150 || avg > 600 {
		t.Errorf("customer bodies are %d bytes on average; the benchmarks want about 300", avg)
	}
}

// The write path decodes and encodes records with its own codec, checks
// field patterns by hand and buffers writes in its own overlay. The tests
// below hold those to what they replace: encoding/json, package regexp and
// the documented key layout.

// refDecodeStrict is what DecodeStrict did with encoding/json alone: nil
// exactly when it accepted data.
func refDecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the object")
	}
	return nil
}

// codecKinds are the collections whose records the codec handles, in a
// stable order.
func codecKinds() []string {
	return []string{"customers", "bills", "staff", "contacts", "interactions", "users"}
}

// codecBodies are good client bodies of each kind.
func codecBodies(tb testing.TB) map[string][]string {
	tb.Helper()
	d := sample.Generate(sample.Options{Region: benchRegion, Customers: 40, Months: 2, Seed: 3})
	out := map[string][]string{}
	add := func(coll string, v any) { out[coll] = append(out[coll], string(clientBody(tb, v))) }
	for i := range d.Customers {
		add("customers", &d.Customers[i])
		for j := range d.Bills[i] {
			d.Bills[i][j].CustomerID = crm.NewID("cus", benchT0)
			add("bills", &d.Bills[i][j])
		}
		for j := range d.Contacts[i] {
			d.Contacts[i][j].CustomerID = crm.NewID("cus", benchT0)
			add("contacts", &d.Contacts[i][j])
		}
	}
	for i := range d.Staff {
		add("staff", &d.Staff[i])
	}
	out["customers"] = append(out["customers"],
		`{"account_no":"A-1","name":"Xuzhou \"Steel\" <&> \u4e1c\u6d77 \ud83d\ude00","category":" Industrial ","voltage_kv":1E1,"capacity_kva":8.5e2,"region":"320723","tags":["vip"," vip",""],"status":"CLOSED"}`,
		" {\n\t\"account_no\" : \"A-2\" , \"name\":\"x\",\"category\":\"public\",\"voltage_kv\":0.4,\"capacity_kva\":0,\"tags\":[ ]}\r\n")
	out["interactions"] = append(out["interactions"],
		`{"customer_id":"`+crm.NewID("cus", benchT0)+`","staff_id":"`+crm.NewID("stf", benchT0)+`","kind":"visit","at":"2026-03-02T09:30:00.5+08:00","summary":"survey","outcome":"ok"}`,
		`{"customer_id":"`+crm.NewID("cus", benchT0)+`","kind":"CALL","at":"2026-03-02T01:30:00Z","summary":"s"}`)
	out["users"] = append(out["users"],
		`{"username":"carol","display_name":"Carol","role":"agent","region":"320723","password_hash":"$argon2id$v=19$x","disabled":true}`,
		`{"username":"dan","role":"analyst","password_hash":"h","disabled":false}`)
	out["staff"] = append(out["staff"], `{"staff_no":"S-1","name":"Li","role":"supervisor","region":"320723","active":false}`)
	return out
}

// codecMutations varies body: every key set to odd values, misspelt,
// repeated, removed; and odd framing.
func codecMutations(body string) []string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	render := func(kv [][2]string) string {
		var b strings.Builder
		b.WriteByte('{')
		for i, p := range kv {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p[0] + ":" + p[1])
		}
		b.WriteByte('}')
		return b.String()
	}
	var base [][2]string
	for _, k := range keys {
		base = append(base, [2]string{`"` + k + `"`, string(m[k])})
	}
	values := []string{`""`, `" x "`, `"a\u0000b"`, `"\u00e9"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\/\b\f\n\r\t\\\""`, `"<&>"`,
		"\"\u2028\"", "\"\xff\xfe\"", "\"\x01\"", "\"\x7f\"", `"\'"`, `"\u12"`, `"\x41"`, `"2026-03-02T09:30:00Z"`, `"2026-03-02T09:30:00+24:00"`, `"2026-03-02"`, `"0000-01-01T00:00:00Z"`,
		`0`, `-0`, `-0.0`, `1`, `1.5`, `1e2`, `1E+2`, `1e-7`, `1e400`, `-1e400`, `1e-400`, `01`, `1.`, `.5`, `-`, `+1`, `18446744073709551615`, `18446744073709551616`, `-1`, `1.0`,
		`true`, `false`, `null`, `nul`, `tru`, `[]`, `["a"]`, `["a","b"]`, `["a",1]`, `[null]`, `["a",]`, `[`, `{}`, `{"a":1}`, `"unterminated`}
	var out []string
	for i := range base {
		for _, v := range values {
			kv := slices.Clone(base)
			kv[i][1] = v
			out = append(out, render(kv))
		}
		k := base[i][0]
		for _, nk := range []string{strings.ToUpper(k), `"` + strings.ToUpper(k[1:2]) + k[2:], `"\u00` + fmt.Sprintf("%02x", k[1]) + k[2:], k[:len(k)-1] + ` "`} {
			kv := slices.Clone(base)
			kv[i][0] = nk
			out = append(out, render(kv))
		}
		out = append(out, render(append(slices.Clone(base), base[i])),
			render(append(slices.Clone(base), [2]string{k, `"other"`})),
			render(slices.Delete(slices.Clone(base), i, i+1)))
	}
	for _, extra := range [][2]string{{`"colour"`, `1`}, {`"id"`, `"cus_x"`}, {`"owner"`, `"32"`}, {`"version"`, `2`}, {`"created_at"`, `"2026-03-02T09:30:00Z"`}, {`"Meta"`, `{}`}} {
		out = append(out, render(append(slices.Clone(base), extra)))
	}
	r := render(base)
	out = append(out, r, " "+r+" ", r+"x", r+"{}", r+",", "\ufeff"+r, r[:len(r)-1], r[:len(r)-1]+",}", `{}`, ``, `[]`, `null`, `"x"`, `1`,
		strings.ReplaceAll(r, ",", " ,\n"), strings.ReplaceAll(r, ":", "\t:\r"))
	return out
}

// checkDecode holds DecodeStrict on data to encoding/json.
func checkDecode(t *testing.T, coll string, data []byte) {
	k := crm.Kinds[coll]
	want, got := k.New(), k.New()
	wantErr := refDecodeStrict(data, want)
	gotErr := crm.DecodeStrict(data, got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s %q: encoding/json says %v, DecodeStrict %v", coll, data, wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) || !reflect.DeepEqual(want, got) {
		t.Fatalf("%s %q decodes as\n%s\nnot as encoding/json does:\n%s", coll, data, gj, wj)
	}
}

func TestDecodeStrict_MatchesEncodingJSON(t *testing.T) {
	n := 0
	for coll, bodies := range codecBodies(t) {
		for i, body := range bodies {
			checkDecode(t, coll, []byte(body))
			n++
			if i >= 2 && i < len(bodies)-2 {
				continue // mutate a few generated bodies and every handmade one
			}
			for _, m := range codecMutations(body) {
				checkDecode(t, coll, []byte(m))
				n++
			}
		}
	}
	t.Logf("%d bodies", n)
}

// DecodeStrict into a record that is not empty decodes as encoding/json
// does: on top of what is there.
func TestDecodeStrict_IntoFilledRecord(t *testing.T) {
	for _, body := range []string{`{"name":"n"}`, `{"tags":["b"]}`, `{"name":1}`, `{"voltage_kv":10,"x":1}`} {
		want := &crm.Customer{Name: "old", Tags: []string{"a"}, CapacityKVA: 3}
		got := &crm.Customer{Name: "old", Tags: []string{"a"}, CapacityKVA: 3}
		wantErr := refDecodeStrict([]byte(body), want)
		gotErr := crm.DecodeStrict([]byte(body), got)
		if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(want, got) {
			t.Errorf("%s: got %+v, %v; want %+v, %v", body, got, gotErr, want, wantErr)
		}
	}
}

func FuzzDecodeStrict(f *testing.F) {
	bodies := codecBodies(f)
	for i, coll := range codecKinds() {
		for _, b := range bodies[coll][:min(3, len(bodies[coll]))] {
			f.Add(uint8(i), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		kinds := codecKinds()
		checkDecode(t, kinds[int(kind)%len(kinds)], data)
	})
}

// The stored record is what json.Marshal makes of the record: a create
// answers (and stores) exactly the JSON of CheckNew's record with the
// metadata Apply sets.
func TestApply_StoresWhatEncodingJSONWrites(t *testing.T) {
	times := []time.Time{benchT0, benchT0.Add(123456789 * time.Nanosecond).In(time.FixedZone("CST", 8*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 1, time.FixedZone("", -(23*3600+59*60)))}
	n := 0
	for coll, bodies := range codecBodies(t) {
		k := crm.Kinds[coll]
		for i, body := range bodies {
			rec, e := k.CheckNew([]byte(body), benchRegion)
			if e != nil {
				continue // a reference the state does not hold; other tests cover errors
			}
			tm := times[i%len(times)]
			id := crm.NewID(k.IDPrefix, benchT0)
			*rec.RecordMeta() = crm.Meta{ID: id, Owner: benchRegion, Version: 1, CreatedAt: tm, UpdatedAt: tm, CreatedBy: "ann", UpdatedBy: "ann"}
			want, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			tx := crm.NewMemTxn()
			for _, ref := range rec.Refs() { // make the references resolve
				owner, _ := json.Marshal(crm.Meta{ID: ref.ID, Owner: benchRegion})
				refKind := crm.Kinds[ref.Collection]
				tx.Set([]byte("r/"+refKind.Name+"/"+ref.ID), owner)
			}
			res := crm.Apply(tx, &crm.Command{Op: crm.OpCreate, Collection: coll, ID: id, Body: []byte(body), Region: benchRegion, Actor: "ann", Time: tm})
			if res.Err != nil {
				t.Fatalf("%s %s: %v", coll, body, res.Err)
			}
			if !bytes.Equal(res.Record, want) {
				t.Fatalf("%s %s: stored\n%s\nencoding/json writes\n%s", coll, body, res.Record, want)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d records checked", n)
	}
	// A time json.Marshal cannot write fails the create as it always did.
	tm := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, want := json.Marshal(crm.Meta{CreatedAt: tm})
	res := crm.Apply(crm.NewMemTxn(), &crm.Command{Op: crm.OpCreate, Collection: "users", ID: crm.NewID("usr", benchT0),
		Body: []byte(`{"username":"bo","role":"agent","password_hash":"h"}`), Region: benchRegion, Actor: "ann", Time: tm})
	if res.Err == nil || res.Err.Code != "internal" || res.Err.Message != want.Error() {
		t.Fatalf("create at %v = %+v; want internal error %q", tm, res.Err, want)
	}
}

// recordingTxn is a MemTxn that logs the writes it is given.
type recordingTxn struct {
	*crm.MemTxn
	log []string
}

func (r *recordingTxn) Set(k, v []byte) error {
	r.log = append(r.log, fmt.Sprintf("set %q %q", k, v))
	return r.MemTxn.Set(k, v)
}

func (r *recordingTxn) Delete(k []byte) error {
	r.log = append(r.log, fmt.Sprintf("delete %q", k))
	return r.MemTxn.Delete(k)
}

// checkStored holds Apply's reading of a stored record (raw) to
// json.Unmarshal: a bill that references it, and its delete.
func checkStored(t *testing.T, raw []byte) {
	cus := crm.NewID("cus", benchT0)
	key := []byte("r/customers/" + cus)

	// A new bill checks the owner of the customer it references.
	tx := crm.NewMemTxn()
	tx.Set(key, raw)
	res := crm.Apply(tx, &crm.Command{Op: crm.OpCreate, Collection: "bills", ID: crm.NewID("bil", benchT0), Region: benchRegion, Actor: "ann", Time: benchT0,
		Body: []byte(`{"customer_id":"` + cus + `","period":"2026-01","kwh":1,"billed":1}`)})
	var m crm.Meta
	switch err := json.Unmarshal(raw, &m); {
	case err != nil:
		if res.Err == nil || res.Err.Code != "internal" || res.Err.Message != err.Error() {
			t.Fatalf("bill of %q: %+v; want internal error %q", raw, res.Err, err)
		}
	case m.Owner != benchRegion:
		if res.Err == nil || res.Err.Code != crm.CodeWrongOwner || res.Err.Owner != m.Owner {
			t.Fatalf("bill of %q: %+v; want wrong_owner %q", raw, res.Err, m.Owner)
		}
	default:
		if res.Err != nil {
			t.Fatalf("bill of %q: %v", raw, res.Err)
		}
	}

	// A delete reads the stored customer for its owner, indexes and uniques.
	rt := &recordingTxn{MemTxn: crm.NewMemTxn()}
	rt.MemTxn.Set(key, raw)
	res = crm.Apply(rt, &crm.Command{Op: crm.OpDelete, Collection: "customers", ID: cus, Region: benchRegion})
	var c crm.Customer
	switch err := json.Unmarshal(raw, &c); {
	case err != nil:
		if res.Err == nil || res.Err.Code != "internal" || res.Err.Message != err.Error() {
			t.Fatalf("delete of %q: %+v; want internal error %q", raw, res.Err, err)
		}
	case c.Owner != benchRegion:
		if res.Err == nil || res.Err.Code != crm.CodeWrongOwner || res.Err.Owner != c.Owner {
			t.Fatalf("delete of %q: %+v; want wrong_owner %q", raw, res.Err, c.Owner)
		}
	default:
		if res.Err != nil {
			t.Fatalf("delete of %q: %v", raw, res.Err)
		}
		// keys.go's layout
		nul := func(s string) string { return strings.ReplaceAll(s, "\x00", " ") }
		keys := []string{string(key)}
		for _, ix := range c.Indexes() {
			keys = append(keys, "x/customers/"+ix.Field+"/"+nul(ix.Value)+"\x00"+cus)
		}
		for _, u := range c.Uniques() {
			keys = append(keys, "u/customers/"+u.Name+"/"+u.Scope+"\x00"+u.Value)
		}
		slices.Sort(keys) // in key order, as Apply flushes (a search index value holds \x01)
		var want []string
		for _, k := range slices.Compact(keys) {
			want = append(want, fmt.Sprintf("delete %q", k))
		}
		if !slices.Equal(rt.log, want) {
			t.Fatalf("delete of %q wrote\n%q\nwant\n%q", raw, rt.log, want)
		}
	}
}

// storedSamples are stored records as Apply writes them, and variations a
// store written by another version could hold.
func storedSamples(t testing.TB) []string {
	tx := crm.NewMemTxn()
	var out []string
	for _, body := range codecBodies(t)["customers"][:5] {
		res := crm.Apply(tx, &crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", benchT0), Body: []byte(body), Region: benchRegion, Actor: "ann", Time: benchT0})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		out = append(out, string(res.Record))
	}
	r := out[0]
	out = append(out,
		strings.Replace(r, `{`, `{"later_field":{"a":[1,2.5e3,{"b":null,"c":true}],"d":"\u00e9\n"},`, 1),
		strings.Replace(r, `"owner"`, `"OWNER"`, 1),
		strings.Replace(r, `"owner"`, `"Owner"`, 1),
		strings.Replace(r, `"owner":"`+benchRegion+`"`, `"owner":"32"`, 1),
		strings.Replace(r, `"owner":"`+benchRegion+`"`, `"owner":null`, 1),
		strings.Replace(r, `"owner":"`+benchRegion+`"`, `"owner":"`+benchRegion+`","owner":"32"`, 1),
		strings.Replace(r, `"version":1`, `"version":"1"`, 1),
		strings.Replace(r, `"version":1`, `"version":1.5`, 1),
		strings.Replace(r, `"created_at":"`, `"created_at":"x`, 1),
		strings.Replace(r, `"name":"`, `"name":"\u00e9\ud800`, 1),
		strings.Replace(r, `"tags"`, `"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"tags"`, 1),
		strings.Replace(r, `"status"`, `"x":tru,"status"`, 1),
		strings.Replace(r, `"status"`, `"x":"\'","status"`, 1),
		strings.Replace(r, `"status"`, `"x":[1,],"status"`, 1),
		r+" ", r+"x", `{}`, `[]`, `null`, ``)
	return out
}

func TestApply_ReadsStoredRecordsAsEncodingJSON(t *testing.T) {
	for _, raw := range storedSamples(t) {
		checkStored(t, []byte(raw))
	}
}

func FuzzStoredRecord(f *testing.F) {
	for _, raw := range storedSamples(f) {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if raw == nil {
			raw = []byte{}
		}
		checkStored(t, raw)
	})
}

// The field patterns Validate checks by hand, as regular expressions.
var (
	accountNoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`)
	regionPattern    = regexp.MustCompile(`^[1-9][0-9](?:(?:0[1-9]|[1-9][0-9])(?:0[1-9]|[1-9][0-9])?)?$`)
	periodPattern    = regexp.MustCompile(`^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$`)
	phonePattern     = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)
	usernamePattern  = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,31}$`)
)

// patternStrings are strings over the alphabet around the patterns, of
// every length up to max, at random.
func patternStrings(seed uint64, n, max int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	pieces := []string{"0", "1", "2", "9", "0", "1", "2", "a", "z", "A", "Z", "-", "+", " ", "_", ".", "é", "\xff", "\x00", "\n", "１", "19", "20", "-0", "-1"}
	out := []string{""}
	for range n {
		var b strings.Builder
		for l := rng.IntN(max + 1); b.Len() < l; {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		out = append(out, b.String())
	}
	return out
}

func TestPatterns_MatchRegexps(t *testing.T) {
	check := func(name string, re *regexp.Regexp, s string, got *crm.Error, field string) {
		t.Helper()
		if bad := got != nil && got.Field == field; bad == re.MatchString(s) {
			t.Fatalf("%s %q: Validate says %v; the pattern %s", name, s, got, map[bool]string{true: "matches", false: "does not match"}[re.MatchString(s)])
		}
	}
	strs := patternStrings(1, 50_000, 40)
	rng := rand.New(rand.NewPCG(3, 3))
	for w := 1; w <= 7; w++ { // strings of digits: all up to 4, some longer
		for i := range min(int(math.Pow10(w)), 20_000) {
			if w > 4 {
				i = rng.IntN(int(math.Pow10(w)))
			}
			strs = append(strs, fmt.Sprintf("%0*d", w, i))
		}
	}
	for _, s := range strs {
		if crm.ValidRegion(s) != regionPattern.MatchString(s) {
			t.Fatalf("ValidRegion(%q) = %v", s, crm.ValidRegion(s))
		}
	}
	for _, s := range strs[:50_000] {
		if s == "" {
			continue
		}
		c := &crm.Customer{AccountNo: s, Name: "n", Category: crm.CategoryPublic, VoltageKV: 10, Region: benchRegion, Status: crm.StatusActive}
		check("account_no", accountNoPattern, s, c.Validate(), "account_no")
		c = &crm.Customer{AccountNo: "A-1", Name: "n", Category: crm.CategoryPublic, VoltageKV: 10, Region: benchRegion, Phone: s, Status: crm.StatusActive}
		check("phone", phonePattern, s, c.Validate(), "phone")
		st := &crm.Staff{StaffNo: s, Name: "n", Role: "supervisor", Region: benchRegion}
		check("staff_no", accountNoPattern, s, st.Validate(), "staff_no")
		st = &crm.Staff{StaffNo: "S-1", Name: "n", Role: "supervisor", Region: benchRegion, Phone: s}
		check("staff phone", phonePattern, s, st.Validate(), "phone")
		b := &crm.Bill{CustomerID: crm.NewID("cus", benchT0), Period: s}
		check("period", periodPattern, s, b.Validate(), "period")
		u := &crm.User{Username: s, Role: crm.RoleAgent, Region: benchRegion, PasswordHash: "h"}
		check("username", usernamePattern, s, u.Validate(), "username")
	}
	for y := 1800; y < 2200; y++ {
		for m := 0; m < 14; m++ {
			s := fmt.Sprintf("%d-%02d", y, m)
			b := &crm.Bill{CustomerID: crm.NewID("cus", benchT0), Period: s}
			check("period", periodPattern, s, b.Validate(), "period")
		}
	}
}

// ValidID accepts exactly the ids of the old rune-by-rune check.
func TestValidID_AsBefore(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	old := func(k *crm.Kind, id string) bool {
		if !strings.HasPrefix(id, k.IDPrefix+"_") || len(id) != len(k.IDPrefix)+27 {
			return false
		}
		for _, c := range id[len(k.IDPrefix)+1:] {
			if !strings.ContainsRune(alphabet, c) {
				return false
			}
		}
		return true
	}
	rng := rand.New(rand.NewPCG(2, 2))
	k := crm.Kinds["customers"]
	for range 100_000 {
		b := []byte(crm.NewID("cus", benchT0))
		for range rng.IntN(3) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		if rng.IntN(4) == 0 {
			b = append(b[:4+rng.IntN(20)], "é"...)
			for len(b) < 30 {
				b = append(b, 'A')
			}
		}
		if got, want := k.ValidID(string(b)), old(k, string(b)); got != want {
			t.Fatalf("ValidID(%q) = %v; want %v", b, got, want)
		}
	}
}
