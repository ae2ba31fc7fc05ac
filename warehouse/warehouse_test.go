package warehouse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	arecords "gridcrm/analytics/records" // its kinds (credit_grades)
	_ "gridcrm/bigcustomer"              // its kinds' schemas (pool_entries)
	"gridcrm/crm"
	"gridcrm/process"
)

var metaNames = []string{"id", "owner", "version", "created_at", "updated_at", "created_by", "updated_by"}

// TestSchema_EveryCollection: every collection crm registers has a schema
// whose columns start with the metadata, are snake_case ASCII, leave out
// the private fields and carry the types the fields hold.
func TestSchema_EveryCollection(t *testing.T) {
	if len(Collections()) != len(crm.Collections()) {
		t.Fatalf("schemas for %v, crm has %v", Collections(), crm.Collections())
	}
	for _, coll := range Collections() {
		s, err := For(coll)
		if err != nil {
			t.Fatal(err)
		}
		names := s.Names()
		if !slices.Equal(names[:len(metaNames)], metaNames) {
			t.Errorf("%s: columns start %q", coll, names)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if !columnName.MatchString(n) || seen[n] {
				t.Errorf("%s: column %q (duplicate: %v)", coll, n, seen[n])
			}
			seen[n] = true
			if !crm.Kinds[coll].HasField(n) {
				t.Errorf("%s: column %q is no field of the records", coll, n)
			}
		}
		for _, p := range crm.Kinds[coll].Private {
			if seen[p] {
				t.Errorf("%s: private field %q is a column", coll, p)
			}
		}
	}
	if _, err := For("readings"); err == nil || !strings.Contains(err.Error(), "bills") {
		t.Errorf("an unknown collection: %v", err)
	}
	types := map[string]map[string]Type{
		"bills":        {"version": Int64, "created_at": Timestamp, "kwh": Double, "pay_date": Date, "period": String, "owner": String},
		"work_orders":  {"received_at": Timestamp, "done_at": Timestamp, "send_backs": Int64, "history": JSON},
		"customers":    {"tags": JSON, "capacity_kva": Double},
		"outages":      {"notice_compliant": Bool, "notices": JSON},
		"directives":   {"body": JSON, "effective_from": Date},
		"pool_entries": {"assessment": JSON},
	}
	for coll, want := range types {
		s, _ := For(coll)
		for _, c := range s.Columns {
			if w, ok := want[c.Name]; ok && w != c.Type {
				t.Errorf("%s.%s is %s, want %s", coll, c.Name, c.Type, w)
			}
			delete(want, c.Name)
		}
		if len(want) > 0 {
			t.Errorf("%s: no columns %v", coll, want)
		}
	}
	if s, _ := For("users"); slices.Contains(s.Names(), "password_hash") {
		t.Error("users export their password hashes")
	}
}

// records are stored records of a few collections, as crm stores them,
// with the fields that make the types differ: nested values, pointers,
// absent optional fields, dates, Chinese text, commas and quotes.
func records(t testing.TB) map[string][][]byte {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	meta := func(prefix string, i int, owner string) crm.Meta {
		return crm.Meta{ID: crm.NewID(prefix, t0.Add(time.Duration(i)*time.Millisecond)), Owner: owner, Version: uint64(i + 1),
			CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * time.Hour), CreatedBy: "admin", UpdatedBy: "张三"}
	}
	done := t0.Add(48 * time.Hour)
	yes := true
	risk := 0.25
	out := map[string][][]byte{}
	add := func(coll string, r crm.Record) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[coll] = append(out[coll], b)
	}
	for i := range 3 {
		add("bills", &crm.Bill{Meta: meta("bil", i, "320722"), CustomerID: crm.NewID("cus", t0), Period: fmt.Sprintf("2026-0%d", i+1),
			KWh: 120.5 + float64(i), Billed: 63.25, Paid: float64(i) * 10, Arrears: 63.25 - float64(i)*10, PayDate: crm.Date([]string{"", "2026-02-10", "2026-03-31"}[i])})
		add("customers", &crm.Customer{Meta: meta("cus", i, "320722"), AccountNo: fmt.Sprintf("32-%d", i), Name: `东海县"供电",客户` + "\n第二行",
			Category: "commercial", VoltageKV: 10, CapacityKVA: 315, Region: "320722", Tags: [][]string{nil, {"t1"}, {"重点", "a,b"}}[i], Status: "active"})
		wo := &process.WorkOrder{Meta: meta("wo", i, "320722"), Channel: "95598_hotline", Kind: "complaint", Urgency: "ordinary", Region: "320722",
			Subject: "抄表争议", ReceivedAt: t0, State: "received", SendBacks: i}
		if i > 0 {
			wo.DoneAt, wo.State = &done, "done"
			wo.History = []process.Transition{{From: "received", To: "done", At: done, By: "李四", Note: "已处理"}}
		}
		add("work_orders", wo)
		o := &process.Outage{Meta: meta("out", i, "3207"), Region: "3207", Type: "fault", Feeder: "10kV 城东线", Start: t0, Status: "done"}
		if i == 1 {
			o.End, o.NoticeCompliant = done, &yes
		}
		add("outages", o)
		cg := &arecords.CreditGrade{Meta: meta("cg", i, "320722"), CustomerID: crm.NewID("cus", t0), Period: "2026-03", Score: 80 + i, Grade: "A", Rules: "v1"}
		if i == 2 {
			cg.ChurnRisk = &risk
		}
		add("credit_grades", cg)
	}
	return out
}

// wantValue is what column col should hold for a record whose JSON (as the
// API answers it, decoded with UseNumber) is rec.
func wantValue(col Column, rec map[string]any) any {
	v, ok := rec[col.Name]
	if !ok || v == nil {
		switch {
		case col.Nullable:
			return nil
		case col.Type == String:
			return ""
		case col.Type == Double:
			return 0.0
		case col.Type == Int64:
			return int64(0)
		case col.Type == Bool:
			return false
		}
		return nil
	}
	switch col.Type {
	case Int64:
		n, _ := v.(json.Number).Int64()
		return n
	case Double:
		f, _ := v.(json.Number).Float64()
		return f
	case Timestamp:
		ts, err := time.Parse(time.RFC3339Nano, v.(string))
		if err != nil || ts.IsZero() {
			return nil
		}
		return ts.UTC().Truncate(time.Microsecond)
	case Date:
		if v == "" {
			return nil
		}
	case JSON:
		if l, ok := v.([]any); ok && len(l) == 0 {
			return nil
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return v
}

// sameValue compares a value read back with the wanted one (JSON as
// JSON, not as text).
func sameValue(col Column, got, want any) bool {
	if col.Type == JSON && got != nil && want != nil {
		var a, b any
		return json.Unmarshal([]byte(got.(string)), &a) == nil && json.Unmarshal([]byte(want.(string)), &b) == nil && reflect.DeepEqual(a, b)
	}
	if g, ok := got.(time.Time); ok {
		w, ok := want.(time.Time)
		return ok && g.Equal(w)
	}
	if g, ok := got.(float64); ok {
		w, ok := want.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w))
	}
	return got == want
}

// compareRows checks every field of rows read back against the records.
func compareRows(t *testing.T, s *Schema, raws [][]byte, got []map[string]any) {
	t.Helper()
	if len(got) != len(raws) {
		t.Fatalf("%s: %d rows read back, %d written", s.Collection, len(got), len(raws))
	}
	for i, raw := range raws {
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if len(got[i]) != len(s.Columns) {
			t.Errorf("%s row %d: %d columns, want %d", s.Collection, i, len(got[i]), len(s.Columns))
		}
		for _, col := range s.Columns {
			if w := wantValue(col, rec); !sameValue(col, got[i][col.Name], w) {
				t.Errorf("%s row %d %s (%s): read back %#v, want %#v", s.Collection, i, col.Name, col.Type, got[i][col.Name], w)
			}
		}
	}
}

// TestWriter_RoundTrip: the records written as Parquet and as CSV read
// back (parquet-go's reader; encoding/csv) field for field, in order;
// the Parquet file's columns are in the schema's order, compressed with
// zstd; From/To keep the records updated in [From, To).
func TestWriter_RoundTrip(t *testing.T) {
	for coll, raws := range records(t) {
		s, err := For(coll)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range Formats {
			t.Run(coll+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				w, err := NewWriter(&buf, s, format, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, raw := range raws {
					if ok, err := w.Write(raw); !ok || err != nil {
						t.Fatalf("write: %v %v", ok, err)
					}
				}
				if err := w.Close(); err != nil || w.Rows() != int64(len(raws)) {
					t.Fatalf("close: %v, %d rows", err, w.Rows())
				}
				var got []map[string]any
				keep := func(m map[string]any) error { got = append(got, m); return nil }
				if format == "csv" {
					if !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
						t.Error("CSV lines do not end in CRLF (RFC 4180)")
					}
					err = ReadCSV(bytes.NewReader(buf.Bytes()), s, keep)
				} else {
					var names []string
					names, err = ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), keep)
					if !slices.Equal(names, s.Names()) {
						t.Errorf("parquet columns %q, want %q", names, s.Names())
					}
					pf, _ := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
					for _, cc := range pf.Metadata().RowGroups[0].Columns {
						if cc.MetaData.Codec.String() != "ZSTD" {
							t.Errorf("column %v compressed with %s", cc.MetaData.PathInSchema, cc.MetaData.Codec)
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				compareRows(t, s, raws, got)
			})
		}
	}

	// From/To on updated_at (the records' are t0, +1 h, +2 h).
	s, _ := For("bills")
	raws := records(t)["bills"]
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, s, "csv", Options{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)})
	var kept []bool
	for _, raw := range raws {
		ok, err := w.Write(raw)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, ok)
	}
	if !slices.Equal(kept, []bool{false, true, false}) || w.Close() != nil || w.Rows() != 1 {
		t.Errorf("from/to kept %v, %d rows", kept, w.Rows())
	}
	if _, err := NewWriter(&buf, s, "xlsx", Options{}); err == nil || !strings.Contains(err.Error(), "parquet, csv") {
		t.Errorf("format xlsx: %v", err)
	}
}

// TestWriter_BoundedRowGroups: a Parquet export of many rows is written
// out row group by row group (at most RowGroupRows rows each) as the rows
// come, not at Close: what the writer holds is bounded by a row group.
func TestWriter_BoundedRowGroups(t *testing.T) {
	s, _ := For("bills")
	const groups, group = 5, 1_000
	var raws [][]byte // distinct rows (random ids and amounts): a group does not compress into the output's buffer
	for i := range groups * group {
		b, _ := json.Marshal(&crm.Bill{Meta: crm.Meta{ID: crm.NewID("bil", time.Now()), Owner: "320722", Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()},
			CustomerID: crm.NewID("cus", time.Now()), Period: "2026-01", KWh: float64(i) * 1.37, Billed: rand.Float64() * 1000})
		raws = append(raws, b)
	}
	out := &countingWriter{}
	buf := &bytes.Buffer{}
	w, err := NewWriter(io.MultiWriter(out, buf), s, "parquet", Options{RowGroupRows: group})
	if err != nil {
		t.Fatal(err)
	}
	var outAt []int64 // bytes out after each full group
	for i := range groups * group {
		if _, err := w.Write(raws[i]); err != nil {
			t.Fatal(err)
		}
		if i%group == group-1 {
			outAt = append(outAt, out.n)
		}
	}
	for i := 1; i < len(outAt); i++ {
		if outAt[i] <= outAt[i-1] {
			t.Fatalf("bytes written out after each group of %d rows: %v: rows are held, not written out", group, outAt)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.RowGroups()) != groups {
		t.Errorf("%d row groups for %d rows of %d", len(pf.RowGroups()), groups*group, group)
	}
	for _, rg := range pf.RowGroups() {
		if rg.NumRows() != group {
			t.Errorf("a row group of %d rows", rg.NumRows())
		}
	}
	n, names, err := ParquetRows(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || n != groups*group || !slices.Equal(names, s.Names()) {
		t.Errorf("the footer says %d rows, columns %q: %v", n, names, err)
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
