package jsoncodec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/crm/sample"
	"gridcrm/internal/jsoncodec"
)

const benchRegion = "320723"

var benchT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// The codec's tests hold it to what it replaces, encoding/json, over the
// records of package crm: directly (Decode, Marshal against encoding/json)
// and as crm's write path runs it (DecodeStrict, Apply storing and reading
// records, with the documented key layout).

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
	add := func(coll string, v any) { out[coll] = append(out[coll], string(crmtest.ClientBody(tb, v))) }
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

// checkDecode holds the codec's strict Decode and DecodeStrict on data to
// encoding/json.
func checkDecode(t *testing.T, coll string, data []byte) {
	k := crm.Kinds[coll]
	want, got, direct := k.New(), k.New(), k.New()
	wantErr := refDecodeStrict(data, want)
	if jsoncodec.Decode(data, direct, false) {
		if wantErr != nil {
			t.Fatalf("%s %q: the codec decodes what encoding/json refuses: %v", coll, data, wantErr)
		}
		if !reflect.DeepEqual(want, direct) {
			t.Fatalf("%s %q: the codec decodes %+v; encoding/json %+v", coll, data, direct, want)
		}
	} else if !reflect.DeepEqual(direct, k.New()) {
		t.Fatalf("%s %q: the codec declined but left %+v", coll, data, direct)
	}
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
			if !jsoncodec.Handles(rec) {
				t.Fatalf("%s: the codec does not handle %T", coll, rec)
			}
			if got, err := jsoncodec.Marshal(rec); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s %s: jsoncodec.Marshal writes\n%s (%v)\nencoding/json writes\n%s", coll, body, got, err, want)
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

	// The codec's lenient Decode is json.Unmarshal where it answers.
	for _, v := range []struct{ want, got any }{{&crm.Meta{}, &crm.Meta{}}, {&crm.Customer{}, &crm.Customer{}}} {
		err := json.Unmarshal(raw, v.want)
		if jsoncodec.Decode(raw, v.got, true) && (err != nil || !reflect.DeepEqual(v.got, v.want)) {
			t.Fatalf("lenient decode of %q into %T: %+v; json.Unmarshal %+v, %v", raw, v.got, v.got, v.want, err)
		}
	}

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
		got := slices.DeleteFunc(slices.Clone(rt.log), func(l string) bool {
			return strings.HasPrefix(l, `delete "x/_q`) // the search index's entries: crm's TestSearch_* check them
		})
		if !slices.Equal(got, want) {
			t.Fatalf("delete of %q wrote\n%q\nwant\n%q", raw, got, want)
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

// A type the codec cannot handle is left to encoding/json, whole.
func TestRegister_LeavesOddTypesToEncodingJSON(t *testing.T) {
	type withMap struct {
		M map[string]int `json:"m"`
	}
	type withOption struct {
		S string `json:"s,string"`
	}
	type withNumber struct {
		T json.Number `json:"t"`
	}
	for _, v := range []any{&withMap{}, &withOption{}, &withNumber{}, &crm.Meta{ID: "x"}} {
		jsoncodec.Register(v)
	}
	for _, v := range []any{&withMap{}, &withOption{}, &withNumber{}, withMap{}, (*crm.Meta)(nil)} {
		if jsoncodec.Handles(v) {
			t.Errorf("the codec claims %T", v)
		}
		if jsoncodec.Decode([]byte(`{}`), v, true) {
			t.Errorf("the codec decoded into %T", v)
		}
	}
	if !jsoncodec.Handles(&crm.Meta{}) {
		t.Fatal("the codec does not handle crm.Meta")
	}
	m := &crm.Meta{ID: "a", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, want := json.Marshal(m)
	if _, err := jsoncodec.Marshal(m); err == nil || err.Error() != want.Error() {
		t.Fatalf("Marshal of a year-10000 time: %v; want %v", err, want)
	}
	if b, ok := jsoncodec.Append([]byte("x"), m); ok || string(b) != "x" {
		t.Fatalf("Append of a year-10000 time: %q, %v; want x, false", b, ok)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		c := &crm.Customer{VoltageKV: f}
		if _, ok := jsoncodec.Append(nil, c); ok {
			t.Errorf("Append of voltage %v answered", f)
		}
	}
}

// The codec against encoding/json on the write path's records: a customer
// decoded strictly, and a stored customer encoded.
func BenchmarkDecode(b *testing.B) {
	body := []byte(codecBodies(b)["customers"][0])
	b.Run("codec", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			if !jsoncodec.Decode(body, &crm.Customer{}, false) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			if err := refDecodeStrict(body, &crm.Customer{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	c := &crm.Customer{}
	if err := json.Unmarshal([]byte(storedSamples(b)[0]), c); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.Run("codec", func(b *testing.B) {
		for range b.N {
			if _, ok := jsoncodec.Append(buf[:0], c); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
