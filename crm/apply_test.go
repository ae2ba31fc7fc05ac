package crm_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

const (
	county = "320722" // 东海县
	city   = "3207"   // 连云港市
	other  = "320723" // 灌云县
)

func TestApply_CreateCustomer(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("cus", crmtest.T0)
	body := crmtest.CustomerBody("A-1", county).With(
		"tags", []string{"vip", " vip", "gov key project"},
		// Meta sent by the client is ignored.
		"owner", "11", "version", 7, "created_by", "mallory", "id", "cus_x")
	res := crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, county, 0, body))

	c := crmtest.Decode[crm.Customer](t, res.Record)
	wantMeta := crm.Meta{ID: id, Owner: county, Version: 1, CreatedAt: crmtest.T0, UpdatedAt: crmtest.T0, CreatedBy: crmtest.Actor, UpdatedBy: crmtest.Actor}
	if c.Meta != wantMeta {
		t.Errorf("meta = %+v\nwant %+v", c.Meta, wantMeta)
	}
	if c.Status != crm.StatusActive || !slices.Equal(c.Tags, []string{"vip", "gov key project"}) {
		t.Errorf("not normalized: status %q tags %q", c.Status, c.Tags)
	}
	got, err := crm.Get(tx, "customers", id)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(res.Record) {
		t.Errorf("stored %s\nanswered %s", got, res.Record)
	}
}

func TestApply_CreateDefaultsRegion(t *testing.T) {
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	for coll, body := range map[string]crmtest.Obj{
		"customers": crmtest.CustomerBody("A-1", county).With("region", nil),
		"staff":     crmtest.StaffBody("S-1", county).With("region", " "),
		"users":     crmtest.UserBody("bo", county).With("region", nil),
	} {
		res := crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, coll, g.Next(crm.Kinds[coll].IDPrefix), county, 0, body))
		if r := crmtest.Decode[struct{ Region string }](t, res.Record).Region; r != county {
			t.Errorf("%s: region = %q; want the command's %q", coll, r, county)
		}
	}
}

// fixture is a store holding one customer with one bill in county and one
// customer in other.
type fixture struct {
	tx                  *crm.MemTxn
	g                   crmtest.IDGen
	cus, bill, otherCus string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{tx: crm.NewMemTxn()}
	f.cus = f.create(t, "customers", county, crmtest.CustomerBody("A-1", county))
	f.bill = f.create(t, "bills", county, crmtest.BillBody(f.cus, "2026-01"))
	f.otherCus = f.create(t, "customers", other, crmtest.CustomerBody("B-1", other))
	return f
}

func (f *fixture) create(t testing.TB, coll, region string, body crmtest.Obj) string {
	t.Helper()
	id := f.g.Next(crm.Kinds[coll].IDPrefix)
	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpCreate, coll, id, region, 0, body))
	return id
}

func TestApply_CreateErrors(t *testing.T) {
	f := newFixture(t)
	newCus := crm.NewID("cus", crmtest.T0.Add(time.Hour))
	cases := []struct {
		name        string
		coll, id    string
		region      string
		body        any
		code, field string
		owner       string
	}{
		{"id malformed", "customers", "cus_1", county, crmtest.CustomerBody("N-1", county), crm.CodeInvalid, "id", ""},
		{"id of another kind", "customers", crm.NewID("bil", crmtest.T0), county, crmtest.CustomerBody("N-1", county), crm.CodeInvalid, "id", ""},
		{"id taken", "customers", f.cus, county, crmtest.CustomerBody("N-1", county), crm.CodeDuplicate, "id", ""},
		{"unknown field", "customers", newCus, county, crmtest.CustomerBody("N-1", county).With("colour", "red"), crm.CodeInvalid, "colour", ""},
		{"wrong type", "customers", newCus, county, crmtest.CustomerBody("N-1", county).With("voltage_kv", "ten"), crm.CodeInvalid, "voltage_kv", ""},
		{"wrong type array", "customers", newCus, county, crmtest.CustomerBody("N-1", county).With("tags", "vip"), crm.CodeInvalid, "tags", ""},
		{"validation", "customers", newCus, county, crmtest.CustomerBody("N-1", county).With("voltage_kv", 11), crm.CodeInvalid, "voltage_kv", ""},
		{"malformed JSON", "customers", newCus, county, `{"account_no": `, crm.CodeInvalid, "", ""},
		{"syntax error", "customers", newCus, county, `{"account_no" 1}`, crm.CodeInvalid, "", ""},
		{"trailing data", "customers", newCus, county, `{"account_no":"N-1"} {}`, crm.CodeInvalid, "", ""},
		{"empty body", "customers", newCus, county, nil, crm.CodeInvalid, "", ""},
		{"array body", "customers", newCus, county, `[1,2]`, crm.CodeInvalid, "", ""},
		{"duplicate account_no", "customers", newCus, county, crmtest.CustomerBody("A-1", county).With("name", "Other"), crm.CodeDuplicate, "account_no", ""},
		{"customer region not ours", "customers", newCus, county, crmtest.CustomerBody("N-1", city), crm.CodeWrongOwner, "region", city},
		{"staff region not ours", "staff", crm.NewID("stf", crmtest.T0), county, crmtest.StaffBody("S-1", other), crm.CodeWrongOwner, "region", other},
		{"bill for missing customer", "bills", crm.NewID("bil", crmtest.T0), county, crmtest.BillBody(newCus, "2026-02"), crm.CodeReference, "customer_id", ""},
		{"bill for customer of another region", "bills", crm.NewID("bil", crmtest.T0), county, crmtest.BillBody(f.otherCus, "2026-02"), crm.CodeWrongOwner, "customer_id", other},
		{"second bill for the period", "bills", crm.NewID("bil", crmtest.T0), county, crmtest.BillBody(f.cus, "2026-01"), crm.CodeDuplicate, "period", ""},
		{"contact for missing customer", "contacts", crm.NewID("con", crmtest.T0), county, crmtest.Obj{"customer_id": newCus, "name": "X", "phone": "12345"}, crm.CodeReference, "customer_id", ""},
		{"interaction with missing staff", "interactions", crm.NewID("int", crmtest.T0), county,
			crmtest.Obj{"customer_id": f.cus, "staff_id": crm.NewID("stf", crmtest.T0), "kind": "call", "at": crmtest.T0, "summary": "s"}, crm.CodeReference, "staff_id", ""},
		{"unknown collection", "meters", newCus, county, crmtest.CustomerBody("N-1", county), crm.CodeNotFound, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, f.tx)
			cmd := crmtest.NewCmd(t, crm.OpCreate, tc.coll, tc.id, tc.region, 0, tc.body)
			// Another proposer, later: not a replay of the fixture's creates.
			cmd.Actor, cmd.Time = "bob", crmtest.T0.Add(time.Minute)
			res := crm.Apply(f.tx, cmd)
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
			if res.Record != nil {
				t.Errorf("record %s returned with an error", res.Record)
			}
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, f.tx)); d != "" {
				t.Errorf("failed create changed the store:\n%s", d)
			}
		})
	}
}

// TestApply_CreateReplay: the same create Command applied twice (a proposer
// retrying after an ambiguous failure) answers the stored record and writes
// nothing more.
func TestApply_CreateReplay(t *testing.T) {
	tx := crm.NewMemTxn()
	cmd := crmtest.NewCmd(t, crm.OpCreate, "customers", crm.NewID("cus", crmtest.T0), county, 0, crmtest.CustomerBody("A-1", county))
	first := crmtest.MustApply(t, tx, cmd)
	before := crmtest.Snapshot(t, tx)
	again := crmtest.MustApply(t, tx, cmd)
	if string(again.Record) != string(first.Record) {
		t.Errorf("replay answered %s\nwant %s", again.Record, first.Record)
	}
	if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, tx)); d != "" {
		t.Errorf("replay wrote:\n%s", d)
	}
	// The same id from another proposer or time is a duplicate.
	other := *cmd
	other.Time = crmtest.T0.Add(time.Second)
	crmtest.WantErr(t, crm.Apply(tx, &other).Err, crm.CodeDuplicate, "id")
}

func TestApply_UnknownOp(t *testing.T) {
	res := crm.Apply(crm.NewMemTxn(), crmtest.NewCmd(t, "upsert", "customers", "", county, 0, nil))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "op")
}

func TestApply_SameAccountNoOtherRegion(t *testing.T) {
	f := newFixture(t)
	// A-1 is taken in county; the same 户号 in another county is another customer.
	id := f.create(t, "customers", other, crmtest.CustomerBody("A-1", other))
	if c := crmtest.Decode[crm.Customer](t, mustGet(t, f.tx, "customers", id)); c.Owner != other || c.AccountNo != "A-1" {
		t.Errorf("got %+v", c)
	}
	// And it is unique there too now.
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", f.g.Next("cus"), other, 0, crmtest.CustomerBody("A-1", other)))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "account_no")
}

func mustGet(t testing.TB, r crm.Reader, coll, id string) json.RawMessage {
	t.Helper()
	raw, err := crm.Get(r, coll, id)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", coll, id, err)
	}
	return raw
}

func TestApply_UpdateMergePatch(t *testing.T) {
	f := newFixture(t)
	cmd := crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 1,
		crmtest.Obj{"name": " Renamed ", "grid": nil, "status": "Suspended", "tags": []string{"vip", "vip"}})
	cmd.Actor, cmd.Time = "bob", crmtest.T0.Add(time.Hour)
	res := crmtest.MustApply(t, f.tx, cmd)

	c := crmtest.Decode[crm.Customer](t, res.Record)
	wantMeta := crm.Meta{ID: f.cus, Owner: county, Version: 2, CreatedAt: crmtest.T0, UpdatedAt: crmtest.T0.Add(time.Hour), CreatedBy: crmtest.Actor, UpdatedBy: "bob"}
	if c.Meta != wantMeta {
		t.Errorf("meta = %+v\nwant %+v", c.Meta, wantMeta)
	}
	if c.Name != "Renamed" || c.Grid != "" || c.Status != crm.StatusSuspended || !slices.Equal(c.Tags, []string{"vip"}) {
		t.Errorf("patch not applied: %+v", c)
	}
	if c.AccountNo != "A-1" || c.VoltageKV != 10 || c.CapacityKVA != 800 || c.Region != county {
		t.Errorf("fields not in the patch changed: %+v", c)
	}
	if got := mustGet(t, f.tx, "customers", f.cus); string(got) != string(res.Record) {
		t.Errorf("stored %s\nanswered %s", got, res.Record)
	}
	// The indexes follow: no longer in grid G1 or status active; now suspended.
	if ids := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"grid": "G1"}}); slices.Contains(ids, f.cus) {
		t.Errorf("grid=G1 lists %v after grid was removed", ids)
	}
	if ids := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"status": "active"}}); slices.Contains(ids, f.cus) {
		t.Errorf("status=active still lists %s", f.cus)
	}
	if ids := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"status": "suspended"}}); !slices.Equal(ids, []string{f.cus}) {
		t.Errorf("status=suspended lists %v", ids)
	}

	// A second update needs version 2.
	res = crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"name": "Again"}))
	crmtest.WantErr(t, res.Err, crm.CodeConflict, "version")
	if !errors.Is(res.Err, crm.ErrConflict) {
		t.Error("errors.Is(conflict, ErrConflict) = false")
	}
	res = crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 2, crmtest.Obj{"name": "Again"}))
	if v := crmtest.Decode[crm.Meta](t, res.Record).Version; v != 3 {
		t.Errorf("version = %d; want 3", v)
	}
}

func TestApply_UpdateAccountNoFreesOldValue(t *testing.T) {
	f := newFixture(t)
	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"account_no": "A-2"}))
	// A-1 is free again; A-2 is taken.
	f.create(t, "customers", county, crmtest.CustomerBody("A-1", county))
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", f.g.Next("cus"), county, 0, crmtest.CustomerBody("A-2", county)))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "account_no")
	// An update that keeps its own account_no is not a duplicate of itself.
	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 2, crmtest.Obj{"account_no": "A-2", "name": "Same"}))
}

func TestApply_UpdateErrors(t *testing.T) {
	f := newFixture(t)
	second := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county))
	cases := []struct {
		name        string
		op          crm.Op
		coll, id    string
		region      string
		ver         uint64
		body        any
		code, field string
		owner       string
	}{
		{"missing version", crm.OpUpdate, "customers", f.cus, county, 0, crmtest.Obj{"name": "x"}, crm.CodeInvalid, "version", ""},
		{"stale version", crm.OpUpdate, "customers", f.cus, county, 2, crmtest.Obj{"name": "x"}, crm.CodeConflict, "version", ""},
		{"stale version replace", crm.OpReplace, "customers", f.cus, county, 5, crmtest.CustomerBody("A-1", county), crm.CodeConflict, "version", ""},
		{"missing version replace", crm.OpReplace, "customers", f.cus, county, 0, crmtest.CustomerBody("A-1", county), crm.CodeInvalid, "version", ""},
		{"not found", crm.OpUpdate, "customers", crm.NewID("cus", crmtest.T0.Add(time.Hour)), county, 1, crmtest.Obj{"name": "x"}, crm.CodeNotFound, "id", ""},
		{"owned by another region", crm.OpUpdate, "customers", f.cus, other, 1, crmtest.Obj{"name": "x"}, crm.CodeWrongOwner, "id", county},
		{"bill owned by another region", crm.OpUpdate, "bills", f.bill, city, 1, crmtest.Obj{"kwh": 1}, crm.CodeWrongOwner, "id", county},
		{"patch changes region", crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"region": other}, crm.CodeInvalid, "region", ""},
		{"replace changes region", crm.OpReplace, "customers", f.cus, county, 1, crmtest.CustomerBody("A-1", other), crm.CodeInvalid, "region", ""},
		{"null on a required field", crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"name": nil}, crm.CodeInvalid, "name", ""},
		{"unknown field", crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"colour": "red"}, crm.CodeInvalid, "colour", ""},
		{"wrong type", crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"voltage_kv": "ten"}, crm.CodeInvalid, "voltage_kv", ""},
		{"invalid value", crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"category": "nuclear"}, crm.CodeInvalid, "category", ""},
		{"account_no taken", crm.OpUpdate, "customers", second, county, 1, crmtest.Obj{"account_no": "A-1"}, crm.CodeDuplicate, "account_no", ""},
		{"patch is an array", crm.OpUpdate, "customers", f.cus, county, 1, `[1]`, crm.CodeInvalid, "", ""},
		{"patch is null", crm.OpUpdate, "customers", f.cus, county, 1, `null`, crm.CodeInvalid, "", ""},
		{"patch is malformed", crm.OpUpdate, "customers", f.cus, county, 1, `{"name":`, crm.CodeInvalid, "", ""},
		{"replace with unknown field", crm.OpReplace, "customers", f.cus, county, 1, crmtest.CustomerBody("A-1", county).With("x", 1), crm.CodeInvalid, "x", ""},
		{"replace drops a required field", crm.OpReplace, "customers", f.cus, county, 1, crmtest.CustomerBody("A-1", county).With("name", nil), crm.CodeInvalid, "name", ""},
		{"bill moved to a missing customer", crm.OpUpdate, "bills", f.bill, county, 1, crmtest.Obj{"customer_id": crm.NewID("cus", crmtest.T0.Add(time.Hour))}, crm.CodeReference, "customer_id", ""},
		{"bill moved to another region's customer", crm.OpUpdate, "bills", f.bill, county, 1, crmtest.Obj{"customer_id": f.otherCus}, crm.CodeWrongOwner, "customer_id", other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, f.tx)
			res := crm.Apply(f.tx, crmtest.NewCmd(t, tc.op, tc.coll, tc.id, tc.region, tc.ver, tc.body))
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, f.tx)); d != "" {
				t.Errorf("failed %s changed the store:\n%s", tc.op, d)
			}
		})
	}
}

func TestApply_UpdateKeepsPasswordHash(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", id, county, 0, crmtest.UserBody("bo", county)))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, 1, crmtest.Obj{"display_name": "Bo"}))
	u, err := crm.UserByName(tx, "bo")
	if err != nil || u == nil {
		t.Fatalf("UserByName = %v, %v", u, err)
	}
	if u.PasswordHash == "" || u.DisplayName != "Bo" || u.Version != 2 {
		t.Errorf("got %+v", u)
	}
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, 2, crmtest.Obj{"password_hash": nil}))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "password")
}

func TestApply_Replace(t *testing.T) {
	f := newFixture(t)
	body := crmtest.CustomerBody("A-1", county).With("grid", nil, "name", "Replaced", "category", "commercial")
	cmd := crmtest.NewCmd(t, crm.OpReplace, "customers", f.cus, county, 1, body)
	cmd.Actor = "bob"
	res := crmtest.MustApply(t, f.tx, cmd)
	c := crmtest.Decode[crm.Customer](t, res.Record)
	if c.Version != 2 || c.UpdatedBy != "bob" || c.CreatedBy != crmtest.Actor || c.Owner != county || c.ID != f.cus {
		t.Errorf("meta = %+v", c.Meta)
	}
	if c.Name != "Replaced" || c.Grid != "" || c.Category != "commercial" {
		t.Errorf("not replaced: %+v", c)
	}
	if ids := crmtest.ListAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"category": "industrial"}}); slices.Contains(ids, f.cus) {
		t.Error("old category index entry kept")
	}
}

func TestApply_Delete(t *testing.T) {
	tx := crm.NewMemTxn()
	empty := crmtest.Snapshot(t, tx)
	id := crm.NewID("cus", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, county, 0, crmtest.CustomerBody("A-1", county).With("tags", []string{"vip"})))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", id, county, 1, crmtest.Obj{"grid": "G9"}))

	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "customers", id, other, 0, nil))
	crmtest.WantErr(t, res.Err, crm.CodeWrongOwner, "id")
	if res.Err.Owner != county {
		t.Errorf("owner = %q; want %q", res.Err.Owner, county)
	}
	res = crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "customers", id, county, 1, nil))
	crmtest.WantErr(t, res.Err, crm.CodeConflict, "version")

	res = crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpDelete, "customers", id, county, 2, nil))
	if res.Record != nil {
		t.Errorf("delete answered a record: %s", res.Record)
	}
	if d := crmtest.DiffSnapshots(empty, crmtest.Snapshot(t, tx)); d != "" {
		t.Errorf("delete left keys behind:\n%s", d)
	}
	_, err := crm.Get(tx, "customers", id)
	crmtest.WantErr(t, err, crm.CodeNotFound, "id")
	if !errors.Is(err, crm.ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = false")
	}
	res = crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "customers", id, county, 0, nil))
	crmtest.WantErr(t, res.Err, crm.CodeNotFound, "id")
	// The account number is free again.
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "customers", crm.NewID("cus", crmtest.T0), county, 0, crmtest.CustomerBody("A-1", county)))
}

func TestApply_DeleteCustomerInUse(t *testing.T) {
	f := newFixture(t)
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", f.cus, county, 0, nil))
	crmtest.WantErr(t, res.Err, crm.CodeInUse, "id")

	// Contacts and interactions hold a customer too.
	for coll, body := range map[string]crmtest.Obj{
		"contacts":     {"customer_id": f.otherCus, "name": "Zhao", "email": "z@example.cn"},
		"interactions": {"customer_id": f.otherCus, "kind": "call", "at": crmtest.T0, "summary": "asked about tariffs"},
	} {
		id := f.create(t, coll, other, body)
		res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", f.otherCus, other, 0, nil))
		crmtest.WantErr(t, res.Err, crm.CodeInUse, "id")
		crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpDelete, coll, id, other, 1, nil))
	}
	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", f.otherCus, other, 0, nil))

	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpDelete, "bills", f.bill, county, 1, nil))
	crmtest.MustApply(t, f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", f.cus, county, 1, nil))
	if n := f.tx.Len(); n != 0 {
		t.Errorf("%d keys left after deleting everything: %v", n, crmtest.Snapshot(t, f.tx))
	}
}

func TestApply_Bill(t *testing.T) {
	f := newFixture(t)
	// Same period for another customer, another period for the same one: fine.
	second := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county))
	f.create(t, "bills", county, crmtest.BillBody(second, "2026-01"))
	id := f.create(t, "bills", county, crmtest.BillBody(f.cus, "2026-02").With("paid", 500.004, "pay_date", "2026-03-05", "arrears", 1))
	b := crmtest.Decode[crm.Bill](t, mustGet(t, f.tx, "bills", id))
	if b.Paid != 500 || b.Arrears != 480.5 {
		t.Errorf("paid %v arrears %v; want 500 and 480.5", b.Paid, b.Arrears)
	}
	// Moving the bill onto a period already billed is a duplicate.
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpUpdate, "bills", id, county, 1, crmtest.Obj{"period": "2026-01"}))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "period")
}

// TestApply_FailureLeavesNothing runs failing Commands of every kind that get
// as far as possible before failing, and checks that the store is unchanged.
func TestApply_FailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	second := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county))
	bad := crmtest.CustomerBody("Z-9", county).With("voltage_kv", 11)
	rows := []json.RawMessage{crmtest.RawJSON(t, crmtest.CustomerBody("N-1", county)), crmtest.RawJSON(t, crmtest.CustomerBody("N-2", county)), crmtest.RawJSON(t, bad)}
	ids := []string{f.g.Next("cus"), f.g.Next("cus"), f.g.Next("cus")}
	cmds := []*crm.Command{
		crmtest.NewCmd(t, crm.OpCreate, "customers", f.g.Next("cus"), county, 0, crmtest.CustomerBody("A-2", county)),
		crmtest.NewCmd(t, crm.OpCreate, "bills", f.g.Next("bil"), county, 0, crmtest.BillBody(f.otherCus, "2026-05")),
		crmtest.NewCmd(t, crm.OpUpdate, "customers", second, county, 1, crmtest.Obj{"account_no": "A-1", "grid": "G2"}),
		crmtest.NewCmd(t, crm.OpUpdate, "customers", second, county, 1, crmtest.Obj{"region": other}),
		crmtest.NewCmd(t, crm.OpReplace, "customers", second, county, 1, crmtest.CustomerBody("A-1", county)),
		crmtest.NewCmd(t, crm.OpDelete, "customers", f.cus, county, 1, nil),
		{Op: crm.OpImport, Collection: "customers", Region: county, Rows: rows, IDs: ids, Time: crmtest.T0},
	}
	for i, cmd := range cmds {
		before := crmtest.Snapshot(t, f.tx)
		res := crm.Apply(f.tx, cmd)
		if res.Err == nil {
			t.Fatalf("command %d (%s) succeeded", i, cmd.Op)
		}
		if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, f.tx)); d != "" {
			t.Errorf("command %d (%s) failed with %v but changed the store:\n%s", i, cmd.Op, res.Err, d)
		}
	}
}

// TestApply_Deterministic applies one script of Commands, some failing, to two
// fresh stores and compares them key for key.
func TestApply_Deterministic(t *testing.T) {
	var g crmtest.IDGen
	var script []*crm.Command
	add := func(c *crm.Command) { script = append(script, c) }
	var cus []string
	for i := range 20 {
		id := g.Next("cus")
		cus = append(cus, id)
		add(crmtest.NewCmd(t, crm.OpCreate, "customers", id, county, 0,
			crmtest.CustomerBody("D-"+string(rune('A'+i)), county).With("tags", []string{"b", "a", "b"})))
	}
	for i, c := range cus[:10] {
		add(crmtest.NewCmd(t, crm.OpCreate, "bills", g.Next("bil"), county, 0, crmtest.BillBody(c, "2026-0"+string(rune('1'+i%9)))))
		add(crmtest.NewCmd(t, crm.OpUpdate, "customers", c, county, 1, crmtest.Obj{"grid": nil, "status": "suspended", "name": "n" + c}))
	}
	add(crmtest.NewCmd(t, crm.OpDelete, "customers", cus[15], county, 1, nil))
	add(crmtest.NewCmd(t, crm.OpDelete, "customers", cus[0], county, 0, nil)) // in use: fails
	add(crmtest.NewCmd(t, crm.OpCreate, "customers", g.Next("cus"), county, 0, crmtest.CustomerBody("D-B", county)))
	add(crmtest.NewCmd(t, crm.OpCreate, "staff", g.Next("stf"), county, 0, crmtest.StaffBody("S-1", county)))
	add(crmtest.NewCmd(t, crm.OpCreate, "users", g.Next("usr"), county, 0, crmtest.UserBody("dee", county)))
	add(&crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: crmtest.RawJSON(t, `"abc"`)})
	imp := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: county, Actor: crmtest.Actor, Time: crmtest.T0}
	for i := range 50 {
		imp.Rows = append(imp.Rows, crmtest.RawJSON(t, crmtest.CustomerBody("I-"+string(rune('a'+i%26))+string(rune('a'+i/26)), county)))
		imp.IDs = append(imp.IDs, g.Next("cus"))
	}
	add(imp)

	run := func() (map[string]string, []crm.Result) {
		tx := crm.NewMemTxn()
		var results []crm.Result
		for _, c := range script {
			// Every replica decodes the Command from the log.
			var dec crm.Command
			if err := json.Unmarshal(crmtest.RawJSON(t, c), &dec); err != nil {
				t.Fatal(err)
			}
			results = append(results, crm.Apply(tx, &dec))
		}
		return crmtest.Snapshot(t, tx), results
	}
	a, ra := run()
	b, rb := run()
	if d := crmtest.DiffSnapshots(a, b); d != "" {
		t.Fatalf("replicas differ:\n%s", d)
	}
	if ja, jb := string(crmtest.RawJSON(t, ra)), string(crmtest.RawJSON(t, rb)); ja != jb {
		t.Errorf("results differ:\n%s\n%s", ja, jb)
	}
	fails := 0
	for _, r := range ra {
		if r.Err != nil {
			fails++
		}
	}
	if fails != 2 { // the delete in use, and D-B taken
		t.Errorf("%d commands failed; want 2", fails)
	}
}

func TestApply_InitSys(t *testing.T) {
	tx := crm.NewMemTxn()
	res := crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: json.RawMessage(`"first"`)})
	if string(res.Record) != `"first"` {
		t.Errorf("first init answered %s", res.Record)
	}
	res = crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: json.RawMessage(`"second"`)})
	if string(res.Record) != `"first"` {
		t.Errorf("second init answered %s; want the held value", res.Record)
	}
	v, err := crm.System(tx, "cluster_id")
	if err != nil || string(v) != `"first"` {
		t.Errorf("System = %s, %v", v, err)
	}
	if v, _ := crm.System(tx, "other"); v != nil {
		t.Errorf("unset System = %s; want nil", v)
	}
}

func TestError_Is(t *testing.T) {
	err := error(&crm.Error{Code: crm.CodeDuplicate, Field: "account_no", Message: "taken"})
	if !crmtest.IsCrmError(err, crm.CodeDuplicate) || crmtest.IsCrmError(err, crm.CodeConflict) {
		t.Error("errors.Is does not match on the code")
	}
	if got := err.Error(); got != "crm: account_no: taken" {
		t.Errorf("Error() = %q", got)
	}
	if e := crm.AsError(errors.New("disk on fire")); e.Code != "internal" {
		t.Errorf("AsError(foreign) = %+v", e)
	}
	if crm.AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
}

func TestApply_StaffContactsInteractions(t *testing.T) {
	f := newFixture(t)
	stf := f.create(t, "staff", county, crmtest.StaffBody("S-1", county).With("team", "big customers", "role", "Gold_Manager"))
	f.create(t, "staff", county, crmtest.StaffBody("S-2", county))
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "staff", f.g.Next("stf"), county, 0, crmtest.StaffBody("S-1", county)))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "staff_no")
	f.create(t, "staff", other, crmtest.StaffBody("S-1", other)) // staff_no is unique per region

	con := f.create(t, "contacts", county, crmtest.Obj{"customer_id": f.cus, "name": "Zhao", "phone": "13800138000", "primary": true})
	in := f.create(t, "interactions", county, crmtest.Obj{"customer_id": f.cus, "staff_id": stf, "kind": "Visit",
		"at": "2026-03-02T17:30:00+08:00", "summary": "site survey"})
	i := crmtest.Decode[crm.Interaction](t, mustGet(t, f.tx, "interactions", in))
	if i.Kind != "visit" || !i.At.Equal(crmtest.T0) || i.At.Location().String() != "UTC" {
		t.Errorf("interaction stored as %+v", i)
	}
	// Another region's staff cannot be named.
	otherStf := crmtest.ListAll(t, f.tx, "staff", crm.Query{Filters: map[string]string{"region": other}})
	res = crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "interactions", f.g.Next("int"), county, 0,
		crmtest.Obj{"customer_id": f.cus, "staff_id": otherStf[0], "kind": "call", "at": crmtest.T0, "summary": "s"}))
	crmtest.WantErr(t, res.Err, crm.CodeWrongOwner, "staff_id")
	if res.Err.Owner != other {
		t.Errorf("owner = %q", res.Err.Owner)
	}

	for _, tc := range []struct {
		coll    string
		filters map[string]string
		want    []string
	}{
		{"staff", map[string]string{"team": "big customers"}, []string{stf}},
		{"staff", map[string]string{"role": "gold_manager"}, []string{stf}},
		{"staff", map[string]string{"region": county, "active": "true"}, nil}, // filled below
		{"contacts", map[string]string{"customer_id": f.cus}, []string{con}},
		{"contacts", map[string]string{"customer_id": f.cus, "primary": "true"}, []string{con}},
		{"interactions", map[string]string{"staff_id": stf}, []string{in}},
		{"interactions", map[string]string{"kind": "visit", "customer_id": f.cus}, []string{in}},
		{"interactions", map[string]string{"kind": "call"}, nil},
	} {
		got := crmtest.ListAll(t, f.tx, tc.coll, crm.Query{Filters: tc.filters})
		if tc.coll == "staff" && tc.filters["active"] != "" {
			if len(got) != 2 {
				t.Errorf("active staff of %s: %v; want 2 (active defaults to true)", county, got)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: %v; want %v", tc.coll, tc.filters, got, tc.want)
		}
	}
}
