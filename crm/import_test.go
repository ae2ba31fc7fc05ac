package crm_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// importCmd builds an import of n customers A-0000… in county; bad, when not
// nil, replaces row i's body.
func importCmd(t testing.TB, g *crmtest.IDGen, n int, bad map[int]crmtest.Obj) *crm.Command {
	t.Helper()
	cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: county, Actor: crmtest.Actor, Time: crmtest.T0}
	for i := range n {
		body := crmtest.CustomerBody(fmt.Sprintf("A-%04d", i), county)
		if b, ok := bad[i]; ok {
			body = b
		}
		cmd.Rows = append(cmd.Rows, crmtest.RawJSON(t, body))
		cmd.IDs = append(cmd.IDs, g.Next("cus"))
	}
	return cmd
}

func countKeys(t testing.TB, r crm.Reader, prefix string) int {
	t.Helper()
	n := 0
	end := []byte(prefix)
	end[len(end)-1]++
	if err := r.Iterate([]byte(prefix), end, func(_, _ []byte) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApply_ImportGood(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	cmd := importCmd(t, &g, 1000, nil)
	res := crmtest.MustApply(t, tx, cmd)
	if len(res.IDs) != 1000 || res.IDs[0] != cmd.IDs[0] || res.IDs[999] != cmd.IDs[999] {
		t.Errorf("answered %d ids", len(res.IDs))
	}
	if n := countKeys(t, tx, "r/customers/"); n != 1000 {
		t.Errorf("%d customers stored; want 1000", n)
	}
	ids := crmtest.ListAll(t, tx, "customers", crm.Query{Filters: map[string]string{"region": county}, Limit: 1000})
	if len(ids) != 1000 {
		t.Errorf("region index lists %d; want 1000", len(ids))
	}
	c := crmtest.Decode[crm.Customer](t, mustGet(t, tx, "customers", cmd.IDs[500]))
	if c.AccountNo != "A-0500" || c.Version != 1 || c.Owner != county || c.CreatedBy != crmtest.Actor {
		t.Errorf("row 500 stored as %+v", c)
	}
	// The imported account numbers are taken.
	res = crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", g.Next("cus"), county, 0, crmtest.CustomerBody("A-0999", county)))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "account_no")
}

func TestApply_ImportAllOrNothing(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	cmd := importCmd(t, &g, 1000, map[int]crmtest.Obj{637: crmtest.CustomerBody("A-0637", county).With("category", "nuclear")})
	res := crm.Apply(tx, cmd)
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "rows")
	want := []crm.RowError{{Row: 637, Code: crm.CodeInvalid, Field: "category"}}
	if len(res.Err.Rows) != 1 || res.Err.Rows[0].Row != want[0].Row || res.Err.Rows[0].Code != want[0].Code ||
		res.Err.Rows[0].Field != want[0].Field || res.Err.Rows[0].Message == "" {
		t.Errorf("rows = %+v; want %+v", res.Err.Rows, want)
	}
	if tx.Len() != 0 {
		t.Errorf("failed import wrote %d keys", tx.Len())
	}
	if res.IDs != nil {
		t.Errorf("failed import answered ids")
	}
}

func TestApply_ImportRowErrors(t *testing.T) {
	f := newFixture(t) // A-1 is taken in county
	cases := []struct {
		name string
		bad  map[int]crmtest.Obj
		want []crm.RowError
	}{
		{"duplicate inside the import", map[int]crmtest.Obj{7: crmtest.CustomerBody("A-0003", county)},
			[]crm.RowError{{Row: 7, Code: crm.CodeDuplicate, Field: "account_no"}}},
		{"duplicate of a stored customer", map[int]crmtest.Obj{2: crmtest.CustomerBody("A-1", county)},
			[]crm.RowError{{Row: 2, Code: crm.CodeDuplicate, Field: "account_no"}}},
		{"unknown field and wrong type", map[int]crmtest.Obj{1: crmtest.CustomerBody("A-0001", county).With("colour", 1), 4: crmtest.CustomerBody("A-0004", county).With("voltage_kv", "ten")},
			[]crm.RowError{{Row: 1, Code: crm.CodeInvalid, Field: "colour"}, {Row: 4, Code: crm.CodeInvalid, Field: "voltage_kv"}}},
		{"row of another region", map[int]crmtest.Obj{0: crmtest.CustomerBody("A-0000", other)},
			[]crm.RowError{{Row: 0, Code: crm.CodeWrongOwner, Field: "region"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, f.tx)
			res := crm.Apply(f.tx, importCmd(t, &f.g, 10, tc.bad))
			crmtest.WantErr(t, res.Err, crm.CodeInvalid, "rows")
			if len(res.Err.Rows) != len(tc.want) {
				t.Fatalf("rows = %+v; want %+v", res.Err.Rows, tc.want)
			}
			for i, w := range tc.want {
				if g := res.Err.Rows[i]; g.Row != w.Row || g.Code != w.Code || g.Field != w.Field {
					t.Errorf("row error %d = %+v; want %+v", i, g, w)
				}
			}
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, f.tx)); d != "" {
				t.Errorf("failed import changed the store:\n%s", d)
			}
		})
	}
}

func TestApply_ImportLimits(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	rows := make([]json.RawMessage, crm.MaxImportRows+1)
	ids := make([]string, len(rows))
	for i := range rows {
		rows[i] = json.RawMessage(`{}`)
		ids[i] = g.Next("cus")
	}
	big := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: county, Rows: rows, IDs: ids, Time: crmtest.T0}
	crmtest.WantErr(t, crm.Apply(tx, big).Err, crm.CodeTooLarge, "rows")

	none := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: county, Time: crmtest.T0}
	crmtest.WantErr(t, crm.Apply(tx, none).Err, crm.CodeInvalid, "rows")

	short := importCmd(t, &g, 3, nil)
	short.IDs = short.IDs[:2]
	crmtest.WantErr(t, crm.Apply(tx, short).Err, crm.CodeInvalid, "ids")

	// More than 100 bad rows: the error lists at most 100.
	bad := map[int]crmtest.Obj{}
	for i := range 150 {
		bad[i] = crmtest.Obj{}
	}
	res := crm.Apply(tx, importCmd(t, &g, 200, bad))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "rows")
	if n := len(res.Err.Rows); n == 0 || n > 100 {
		t.Errorf("%d row errors listed; want 1..100", n)
	}
	if tx.Len() != 0 {
		t.Errorf("failed imports wrote %d keys", tx.Len())
	}
}
