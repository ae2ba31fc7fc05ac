package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gridcrm/crm"
)

// importRows builds n customer rows with account numbers prefix-0000...;
// edit, when not nil, may change row i.
func importRows(prefix string, n int, edit func(i int, row obj) obj) []obj {
	rows := make([]obj, n)
	for i := range rows {
		rows[i] = customerBody(fmt.Sprintf("%s-%04d", prefix, i))
		if edit != nil {
			rows[i] = edit(i, rows[i])
		}
	}
	return rows
}

// asArray and asNDJSON are the two import encodings.
func asArray(rows []obj) string {
	b, err := json.Marshal(rows)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func asNDJSON(rows []obj) string {
	var sb strings.Builder
	for _, r := range rows {
		sb.WriteString(r.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// encoding is one way to send an import.
type encoding struct {
	name, ctype string
	encode      func([]obj) string
}

var encodings = []encoding{
	{"json", "application/json", asArray},
	{"ndjson", "application/x-ndjson", asNDJSON},
}

// TestAPI_Import checks bulk import in both encodings: all rows or none,
// row-level errors that name the row and field, and the row and media-type
// limits.
func TestAPI_Import(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	const path = "/api/v1/customers/import"

	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			cl := admin.on(t)
			prefix := strings.ToUpper(enc.name)

			t.Run("500 good rows", func(t *testing.T) {
				cl := cl.on(t)
				n0 := cl.count("customers")
				st, out := cl.send("POST", path, enc.ctype, enc.encode(importRows(prefix, 500, nil)))
				if st != 201 {
					t.Fatalf("status %d, want 201: %s", st, out)
				}
				var ans struct {
					Imported int      `json:"imported"`
					IDs      []string `json:"ids"`
				}
				if err := json.Unmarshal(out, &ans); err != nil {
					t.Fatalf("answer %s: %v", out, err)
				}
				seen := map[string]bool{}
				for _, id := range ans.IDs {
					if !crm.Kinds["customers"].ValidID(id) || seen[id] {
						t.Errorf("id %q is not a fresh customer id", id)
					}
					seen[id] = true
				}
				if ans.Imported != 500 || len(ans.IDs) != 500 {
					t.Fatalf("imported %d with %d ids, want 500", ans.Imported, len(ans.IDs))
				}
				if n := cl.count("customers"); n != n0+500 {
					t.Errorf("%d customers after the import, want %d", n, n0+500)
				}
				// ids answer in row order.
				got := cl.must(200, "GET", "/api/v1/customers/"+ans.IDs[321], nil)
				if want := prefix + "-0321"; got["account_no"] != want {
					t.Errorf("ids[321] is account %v, want %s", got["account_no"], want)
				}
			})

			rejected := []struct {
				name              string
				body              string
				ctype             string
				status            int
				code, field       string
				row               int // the first rejected row; -1 when the error is not per row
				rowCode, rowField string
			}{
				{"row 321 invalid", enc.encode(importRows("BAD", 500, func(i int, r obj) obj {
					if i == 321 {
						return r.with("category", "nuclear")
					}
					return r
				})), enc.ctype, 400, crm.CodeInvalid, "rows", 321, crm.CodeInvalid, "category"},
				{"row 321 mistyped", enc.encode(importRows("BAD", 500, func(i int, r obj) obj {
					if i == 321 {
						return r.with("voltage_kv", "ten")
					}
					return r
				})), enc.ctype, 400, crm.CodeInvalid, "rows", 321, crm.CodeInvalid, "voltage_kv"},
				{"row 321 unknown field", enc.encode(importRows("BAD", 500, func(i int, r obj) obj {
					if i == 321 {
						return r.with("colour", "red")
					}
					return r
				})), enc.ctype, 400, crm.CodeInvalid, "rows", 321, crm.CodeInvalid, "colour"},
				{"row 321 takes an existing account_no", enc.encode(importRows("BAD", 500, func(i int, r obj) obj {
					if i == 321 {
						return r.with("account_no", prefix+"-0005")
					}
					return r
				})), enc.ctype, 400, crm.CodeInvalid, "rows", 321, crm.CodeDuplicate, "account_no"},
				{"account_no repeated within the import", enc.encode(importRows("DUP", 500, func(i int, r obj) obj {
					if i == 400 {
						return r.with("account_no", "DUP-0100")
					}
					return r
				})), enc.ctype, 400, crm.CodeInvalid, "rows", 400, crm.CodeDuplicate, "account_no"},
				{"10,001 rows", enc.encode(importRows("MANY", crm.MaxImportRows+1, nil)), enc.ctype,
					413, crm.CodeTooLarge, "rows", -1, "", ""},
				{"no rows", enc.encode(nil), enc.ctype, 400, crm.CodeInvalid, "rows", -1, "", ""},
				{"unsupported content type", asArray(importRows("CSV", 3, nil)), "text/csv",
					415, "unsupported_media_type", "Content-Type", -1, "", ""},
			}
			for _, tc := range rejected {
				t.Run(tc.name, func(t *testing.T) {
					cl := cl.on(t)
					before := cl.count("customers")
					st, out := cl.send("POST", path, tc.ctype, tc.body)
					e := wantError(t, st, out, tc.status, tc.code, tc.field)
					if tc.row >= 0 {
						if len(e.Rows) == 0 {
							t.Fatalf("error.rows is empty: %s", out)
						}
						r := e.Rows[0]
						if r.Row != tc.row || r.Code != tc.rowCode || r.Field != tc.rowField || r.Message == "" {
							t.Errorf("error.rows[0] = %+v, want row %d code %s field %s with a message", r, tc.row, tc.rowCode, tc.rowField)
						}
						// a row the API refuses names its NDJSON line (one row a line here)
						if wantLine := map[bool]int{true: tc.row + 1}[enc.name == "ndjson" && tc.rowCode == crm.CodeInvalid]; r.Line != wantLine {
							t.Errorf("error.rows[0].line = %d, want %d", r.Line, wantLine)
						}
					}
					if n := cl.count("customers"); n != before {
						t.Errorf("a rejected import wrote: %d customers before, %d after", before, n)
					}
				})
			}
		})
	}

	t.Run("json object instead of array", func(t *testing.T) {
		cl := admin.on(t)
		before := cl.count("customers")
		st, out := cl.send("POST", path, "application/json", customerBody("OBJ-1").String())
		e := wantError(t, st, out, 400, crm.CodeInvalid, "")
		if n := cl.count("customers"); n != before {
			t.Errorf("a rejected import wrote: %d customers before, %d after", before, n)
		}
		if strings.Contains(e.Message, "must be a JSON object") || !strings.Contains(e.Message, "JSON array") {
			t.Errorf("a JSON object sent to import answers a confusing message: %s", e.Message)
		}
	})
}
