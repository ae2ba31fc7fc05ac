package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"gridcrm/crm"
)

// TestAPI_ImportRowsAreCompacted: an import's rows are held and proposed
// without the whitespace a client put between their tokens (strings keep
// theirs), in both encodings. Before, 10,000 rows padded to 31 MiB were
// carried padded into the raft entry and every copy of it: six such imports
// took a node to 660 MB (bench/import_rss.sh).
func TestAPI_ImportRowsAreCompacted(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	pad := strings.Repeat(" \t\n", 300)
	row := func(no string) string {
		return "{" + pad + `"account_no":` + pad + `"` + no + `", "name" : "东海  县", "category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"` + region + `"` + pad + "}"
	}
	for _, tc := range []struct{ ctype, body string }{
		{"application/json", "[" + row("PAD-1") + "," + pad + row("PAD-2") + "]"},
		{"application/x-ndjson", strings.ReplaceAll(row("PAD-3"), "\n", " ") + "\n" + strings.ReplaceAll(row("PAD-4"), "\n", " ") + "\n"},
	} {
		before := len(f.b.commands())
		if st, out := admin.send("POST", "/api/v1/customers/import", tc.ctype, tc.body); st != 201 {
			t.Fatalf("%s: %d %s", tc.ctype, st, out)
		}
		var imp *crm.Command
		for _, c := range f.b.commands()[before:] {
			if c.Op == crm.OpImport {
				imp = &c
			}
		}
		if imp == nil || len(imp.Rows) != 2 {
			t.Fatalf("%s: no import of 2 rows proposed", tc.ctype)
		}
		for i, r := range imp.Rows {
			var c bytes.Buffer
			_ = json.Compact(&c, r)
			if !bytes.Equal(r, c.Bytes()) || len(r) > 200 || !bytes.Contains(r, []byte(`"东海  县"`)) {
				t.Errorf("%s: row %d proposed as %q (%d bytes); want it compact, its strings as sent", tc.ctype, i, r, len(r))
			}
		}
	}
}
