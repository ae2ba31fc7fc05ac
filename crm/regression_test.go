package crm_test

// Tests for bugs found in review. Each checks the correct behaviour and skips
// with "BUG: ..." while the bug is there, so the suite stays green and the
// test starts guarding the fix as soon as it lands.

import (
	"slices"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// apply.go:127-134: a create whose id exists and whose stored created_at and
// created_by equal the Command's is taken for a replay, without comparing the
// body. Inside one import every row has the Command's time and actor, so a
// repeated id makes the later row "succeed" without being written.
func TestRegression_ImportRepeatedIDSucceeds(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	cmd := importCmd(t, &g, 3, nil)
	cmd.IDs[2] = cmd.IDs[0]
	res := crm.Apply(tx, cmd)
	if res.Err == nil {
		t.Fatalf("regression: import with ids[2] == ids[0] succeeded, answered ids %v, stored %d of 3 customers (row 2, A-0002, silently dropped)",
			res.IDs, countKeys(t, tx, "r/customers/"))
	}
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "rows")
	if len(res.Err.Rows) != 1 || res.Err.Rows[0].Row != 2 || res.Err.Rows[0].Field != "id" {
		t.Errorf("rows = %+v; want row 2 field id", res.Err.Rows)
	}
}

// Same cause: a different create that happens to carry an existing id, time
// and actor answers success with the other record.
func TestRegression_CreateReplayIgnoresBody(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("cus", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, county, 0, crmtest.CustomerBody("A-1", county)))
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, county, 0, crmtest.CustomerBody("B-2", county)))
	if res.Err == nil {
		t.Fatalf("regression: a create with another body was taken for a replay and answered %s", res.Record)
	}
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "id")
}

// people.go:36: Staff.Normalize lower-cases role but does not trim it, unlike
// every other enum field (customer category/status, user role, interaction
// kind).
func TestRegression_StaffRoleNotTrimmed(t *testing.T) {
	s := &crm.Staff{StaffNo: "S-1", Name: "Li", Role: " Gold_Manager ", Region: county}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatalf("regression: role %q rejected after Normalize: %v", " Gold_Manager ", err)
	}
	if s.Role != "gold_manager" {
		t.Errorf("role = %q", s.Role)
	}
}

// apply.go:211 / customer.go:47: only customers have Children, and the in-use
// check is hard-wired to customer_id. Deleting a staff member that
// interactions name in staff_id succeeds; the interactions then dangle, and
// every later update of them fails with "reference" on staff_id.
func TestRegression_DeleteStaffLeavesDanglingInteractions(t *testing.T) {
	f := newFixture(t)
	stf := f.create(t, "staff", county, crmtest.StaffBody("S-1", county))
	in := f.create(t, "interactions", county, crmtest.Obj{"customer_id": f.cus, "staff_id": stf, "kind": "visit", "at": crmtest.T0, "summary": "survey"})
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpDelete, "staff", stf, county, 0, nil))
	if res.Err == nil {
		upd := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpUpdate, "interactions", in, county, 1, crmtest.Obj{"outcome": "done"}))
		t.Fatalf("regression: staff %s deleted while interaction %s names it; updating the interaction now fails: %v", stf, in, upd.Err)
	}
	crmtest.WantErr(t, res.Err, crm.CodeInUse, "id")
}

// apply.go:435: the field of a type error in an embedded Meta field is the Go
// path "Meta.version", not the JSON field "version".
func TestRegression_TypeErrorInMetaFieldNamesGoPath(t *testing.T) {
	for _, f := range []string{"version", "id", "owner"} {
		res := crm.Apply(crm.NewMemTxn(), crmtest.NewCmd(t, crm.OpCreate, "customers", crm.NewID("cus", crmtest.T0), county, 0,
			crmtest.CustomerBody("A-1", county).With(f, []int{1})))
		if res.Err != nil && res.Err.Field == "Meta."+f {
			t.Fatalf("regression: wrong type for %q reports field %q", f, res.Err.Field)
		}
		crmtest.WantErr(t, res.Err, crm.CodeInvalid, f)
	}
}

// apply.go:452: errors from time fields (interaction "at", and the meta
// times) name no field: {"at":"yesterday"} and {"at":5} give Field "".
func TestRegression_TimeFieldErrorNamesNoField(t *testing.T) {
	f := newFixture(t)
	for _, at := range []any{"yesterday", 5, "2026-03-02"} {
		body := crmtest.Obj{"customer_id": f.cus, "kind": "call", "at": at, "summary": "s"}
		res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "interactions", f.g.Next("int"), county, 0, body))
		if res.Err != nil && res.Err.Code == crm.CodeInvalid && res.Err.Field == "" {
			t.Fatalf("regression: \"at\": %#v gives field %q (%v); want \"at\"", at, res.Err.Field, res.Err)
		}
		crmtest.WantErr(t, res.Err, crm.CodeInvalid, "at")
	}
}

// read.go:76-80: an indexed filter with an empty value is served from the
// index, but records whose optional field is empty are not indexed (grid,
// team, staff_id), so it finds nothing; the same filter checked as a residual
// matches them. Adding a second filter then widens the result.
func TestRegression_EmptyIndexedFilterFindsNothing(t *testing.T) {
	f := newFixture(t)
	noGrid := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county).With("grid", nil))
	alone := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"grid": ""}})
	withRegion := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"grid": "", "region": county}})
	if !slices.Equal(withRegion, []string{noGrid}) {
		t.Fatalf("grid=\"\" region=%s lists %v; want [%s]", county, withRegion, noGrid)
	}
	if len(alone) == 0 {
		t.Fatal("regression: grid=\"\" alone lists nothing, but grid=\"\" with region lists the customer without a grid")
	}
	if !slices.Equal(alone, []string{noGrid}) {
		t.Errorf("grid=\"\" lists %v; want [%s]", alone, noGrid)
	}
}

// keys.go:41 / read.go:153: index values have NUL replaced by a space, and a
// single indexed filter is not re-checked on the record, so grid "a\x00b"
// is listed under grid "a b".
func TestValidate_RejectsNUL(t *testing.T) {
	// NUL separates index keys; values holding it are refused so that
	// "a\x00b" can never collide with "a b" in an index.
	tx := crm.NewMemTxn()
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", crm.NewID("cus", crmtest.T0), county, 0, crmtest.CustomerBody("A-1", county).With("grid", "a\x00b")))
	if res.Err == nil || res.Err.Field != "grid" || tx.Len() != 0 {
		t.Fatalf("grid with NUL: got %+v, %d keys; want an invalid grid and nothing written", res.Err, tx.Len())
	}
}
