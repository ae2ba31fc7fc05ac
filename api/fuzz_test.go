package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/ops"
)

// Fuzz targets for what the API decodes from a user: an NDJSON import and
// a bearer token. `go test` runs the seeds; `make fuzz` runs each target
// for FUZZTIME.

const fuzzRegion = "3207"

func fuzzRow(acct string) string {
	return `{"account_no":"` + acct + `","name":"徐州钢铁","category":"industrial","voltage_kv":10,"capacity_kva":800,"region":"3207"}`
}

var ndjsonSeeds = []string{
	fuzzRow("A-1") + "\n" + fuzzRow("A-2") + "\n",
	"\n\n" + fuzzRow("A-1") + "\r\n   \r\n\t" + fuzzRow("A-2"),
	fuzzRow("XZ-1") + "\n", // taken in the state: refused by Apply, all or nothing
	fuzzRow("A-1") + "\n" + fuzzRow("A-1") + "\n",
	// rows refused by the API, each naming its line and field
	fuzzRow("A-1") + "\n\n" + `{"account_no":"A-2","name":"","category":"industrial","voltage_kv":10}` + "\n",
	`{"account_no":"A-3","name":1}` + "\n" + `{"account_no":"A-4","colour":"red"}`,
	`{"account_no":"A-5","id":"cus_01KAQ00000000000000000C1TY","name":"n"}`,
	`{"account_no":"A-6",` + "\n" + `"name":"n"}`,
	`[` + fuzzRow("A-7") + `]`,
	`null`, `"x"`, `{} {}`, "\xff\xfe",
	fuzzRow("A-8") + " trailing",
	strings.Repeat(" ", 5000) + "\n" + fuzzRow("A-9"),
	`{"account_no":"` + strings.Repeat("x", 4100) + `"}`,
	"", "\n \n",
}

// fuzzImportState is a region holding customer XZ-1.
func fuzzImportState(tb testing.TB) *crm.MemTxn {
	tx := crm.NewMemTxn()
	res := crm.Apply(tx, &crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", time.Unix(1767225600, 0)),
		Body: json.RawMessage(fuzzRow("XZ-1")), Region: fuzzRegion, Actor: "admin", Time: time.Unix(1767225600, 0)})
	if res.Err != nil {
		tb.Fatal(res.Err)
	}
	return tx
}

func dumpTxn(tb testing.TB, r crm.Reader) map[string]string {
	out := map[string]string{}
	if err := r.Iterate(nil, nil, func(k, v []byte) bool { out[string(k)] = string(v); return true }); err != nil {
		tb.Fatal(err)
	}
	return out
}

// FuzzImportNDJSON: any bytes as an NDJSON import of customers. The rows
// are exactly the body's non-blank lines; each row the API refuses is
// named by its index, its line and its field, as checking that line alone
// says; an import the API passes is applied whole or not at all.
func FuzzImportNDJSON(f *testing.F) {
	for _, s := range ndjsonSeeds {
		f.Add([]byte(s))
	}
	kind := crm.Kinds["customers"]
	base := fuzzImportState(f)
	before := dumpTxn(f, base)
	const maxRow = 4096
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, lines, e := decodeImport(body, "application/x-ndjson", maxRow)
		text := strings.Split(string(body), "\n")
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("an error without a code or message: %+v", e)
			}
			for _, re := range e.Rows {
				if re.Line < 1 || re.Line > len(text) || len(text[re.Line-1]) < maxRow-1 {
					t.Fatalf("%v: line %d is not a line too long", e, re.Line)
				}
			}
			if len(e.Rows) == 0 && len(strings.TrimSpace(string(body))) > 0 && e.Field == "rows" && e.Code == crm.CodeInvalid {
				t.Fatalf("%q: refused as holding no rows", body)
			}
			return
		}
		if len(rows) != len(lines) {
			t.Fatalf("%d rows, %d lines", len(rows), len(lines))
		}
		var want []string
		var wantLines []int
		for i, l := range text {
			if s := strings.TrimSpace(strings.TrimSuffix(l, "\r")); s != "" {
				want, wantLines = append(want, s), append(wantLines, i+1)
			}
		}
		if len(want) != len(rows) {
			t.Fatalf("%q: %d rows; its non-blank lines are %d", body, len(rows), len(want))
		}
		for i := range rows {
			if string(rows[i]) != want[i] || lines[i] != wantLines[i] {
				t.Fatalf("row %d is %q at line %d; want %q at line %d", i, rows[i], lines[i], want[i], wantLines[i])
			}
		}
		if ce := checkImport(kind, rows, lines, fuzzRegion); ce != nil {
			if ce.Field != "rows" || len(ce.Rows) == 0 {
				t.Fatalf("refused without naming the rows: %+v", ce)
			}
			for _, re := range ce.Rows {
				_, alone := kind.CheckNew(rows[re.Row], fuzzRegion)
				if re.Line != lines[re.Row] || alone == nil || alone.Code != re.Code || alone.Field != re.Field {
					t.Fatalf("row %d refused at line %d, field %q (%s); its line %d alone: %v", re.Row, re.Line, re.Field, re.Code, lines[re.Row], alone)
				}
			}
			return
		}
		tx := crm.NewMemTxn()
		for k, v := range before {
			tx.Set([]byte(k), []byte(v))
		}
		ids := make([]string, len(rows))
		for i := range ids {
			ids[i] = crm.NewID("cus", time.Unix(1767225600, int64(i+1)*int64(time.Millisecond)))
		}
		res := crm.Apply(tx, &crm.Command{Op: crm.OpImport, Collection: "customers", Rows: rows, IDs: ids, Region: fuzzRegion, Actor: "admin", Time: time.Unix(1767225601, 0)})
		after := dumpTxn(t, tx)
		if res.Err != nil {
			if len(after) != len(before) {
				t.Fatalf("import refused (%v), yet %d keys were written", res.Err, len(after)-len(before))
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("import refused (%v), yet %s changed", res.Err, k)
				}
			}
			return
		}
		for _, id := range ids {
			raw, ok := after["r/customers/"+id]
			if !ok {
				t.Fatalf("imported, yet %s is missing", id)
			}
			if _, err := crm.ValidRecord("r/customers/"+id, []byte(raw)); err != nil {
				t.Fatalf("imported %s: %v", raw, err)
			}
		}
	})
}

// TestImport_NamesLines: an NDJSON row refused is named by its line.
func TestImport_NamesLines(t *testing.T) {
	body := "\n" + fuzzRow("A-1") + "\n\n" + `{"account_no":"A-2","name":1}` + "\n"
	rows, lines, e := decodeImport([]byte(body), "application/x-ndjson", 1<<20)
	if e != nil {
		t.Fatal(e)
	}
	e = checkImport(crm.Kinds["customers"], rows, lines, fuzzRegion)
	if e == nil || len(e.Rows) != 1 || e.Rows[0].Row != 1 || e.Rows[0].Line != 4 || e.Rows[0].Field != "name" ||
		!strings.Contains(e.Message, "row 1 (line 4), name:") {
		t.Fatalf("got %+v", e)
	}
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(e)
	if !strings.Contains(b.String(), `"row":1,"line":4,`) {
		t.Fatalf("answered %s", b.String())
	}
}

// tokenBackend is the little of a Backend that checking a token reads: the
// region's state, with its token key.
type tokenBackend struct {
	Backend
	tx *crm.MemTxn
}

func (b tokenBackend) Reader() crm.Reader                    { return b.tx }
func (b tokenBackend) ReadBarrier(ctx context.Context) error { return nil }

// fuzzTokenServer is a server of region 3207 whose key signed fuzzToken, a
// token that lives a century (so the seeds and crashers stay meaningful).
func fuzzTokenServer(tb testing.TB) (*Server, string) {
	tx := crm.NewMemTxn()
	if res := crm.Apply(tx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: json.RawMessage(`"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`),
		Region: fuzzRegion, Actor: "system"}); res.Err != nil {
		tb.Fatal(res.Err)
	}
	s := New(Config{Region: fuzzRegion, NodeID: "n1", MaxTokenLifetime: 101 * 365 * 24 * time.Hour}, tokenBackend{tx: tx}, ops.NewRegistry())
	iat := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := s.sign(claims{UserID: "usr_01KAQ0000000000000000000A1", Username: "ann", Region: fuzzRegion, Session: "ses_1",
		Issued: iat.Unix(), Expires: iat.AddDate(100, 0, 0).Unix()})
	if err != nil {
		tb.Fatal(err)
	}
	return s, tok
}

// tokenSeeds are the issued token and tokens made from it.
func tokenSeeds(tok string) []string {
	p, sig, _ := strings.Cut(tok, ".")
	last := func(s string, c byte) string { return s[:len(s)-1] + string(c) }
	other := base64.RawURLEncoding.EncodeToString([]byte(`{"uid":"usr_01KAQ0000000000000000000A1","sub":"admin","rgn":"3207","sid":"ses_1","iat":1767225600,"exp":4922899200}`))
	return []string{
		tok,
		last(tok, tok[len(tok)-1]^1), last(tok, tok[len(tok)-1]+1), // the signature's spare bits
		p + "." + sig + "=", p + "." + sig[:20] + "\n" + sig[20:], p + "=." + sig, p + "." + sig + ".x",
		tok[:len(tok)-1], p + ".", "." + sig, p, "", ".", "..",
		other + "." + sig, strings.ToUpper(tok),
		strings.NewReplacer("-", "+", "_", "/").Replace(tok),
		"e30." + sig,
	}
}

// FuzzVerifyToken: any bearer token. Only the exact token the server
// issued verifies; every other string, however close, is refused with
// an invalid-token error.
func FuzzVerifyToken(f *testing.F) {
	s, tok := fuzzTokenServer(f)
	for _, t := range tokenSeeds(tok) {
		f.Add(t)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, e := s.verify(context.Background(), in)
		if in == tok {
			if e != nil || c.Username != "ann" {
				t.Fatalf("the issued token: %v", e)
			}
			return
		}
		if e == nil {
			t.Fatalf("%q verifies (%+v); only %q was issued", in, c, tok)
		}
		if e.Code != codeInvalidToken && e.Code != codeTokenExpired {
			t.Fatalf("%q: refused with %s: %v", in, e.Code, e)
		}
	})
}
