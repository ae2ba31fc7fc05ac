package crm_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"gridcrm/crm"
)

const (
	county = "320722" // 东海县
	city   = "3207"   // 连云港市
	other  = "320723" // 灌云县
)

func TestApply_CreateCustomer(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("cus", t0)
	body := customerBody("A-1", county).with(
		"tags", []string{"vip", " vip", "gov key project"},
		// Meta sent by the client is ignored.
		"owner", "11", "version", 7, "created_by", "mallory", "id", "cus_x")
	res := mustApply(t, tx, newCmd(t, crm.OpCreate, "customers", id, county, 0, body))

	c := decode[crm.Customer](t, res.Record)
	wantMeta := crm.Meta{ID: id, Owner: county, Version: 1, CreatedAt: t0, UpdatedAt: t0, CreatedBy: actor, UpdatedBy: actor}
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
	var g idGen
	for coll, body := range map[string]obj{
		"customers": customerBody("A-1", county).with("region", nil),
		"staff":     staffBody("S-1", county).with("region", " "),
		"users":     userBody("bo", county).with("region", nil),
	} {
		res := mustApply(t, tx, newCmd(t, crm.OpCreate, coll, g.next(crm.Kinds[coll].IDPrefix), county, 0, body))
		if r := decode[struct{ Region string }](t, res.Record).Region; r != county {
			t.Errorf("%s: region = %q; want the command's %q", coll, r, county)
		}
	}
}

// fixture is a store holding one customer with one bill in county and one
// customer in other.
type fixture struct {
	tx                  *crm.MemTxn
	g                   idGen
	cus, bill, otherCus string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{tx: crm.NewMemTxn()}
	f.cus = f.create(t, "customers", county, customerBody("A-1", county))
	f.bill = f.create(t, "bills", county, billBody(f.cus, "2026-01"))
	f.otherCus = f.create(t, "customers", other, customerBody("B-1", other))
	return f
}

func (f *fixture) create(t testing.TB, coll, region string, body obj) string {
	t.Helper()
	id := f.g.next(crm.Kinds[coll].IDPrefix)
	mustApply(t, f.tx, newCmd(t, crm.OpCreate, coll, id, region, 0, body))
	return id
}

func TestApply_CreateErrors(t *testing.T) {
	f := newFixture(t)
	newCus := crm.NewID("cus", t0.Add(time.Hour))
	cases := []struct {
		name        string
		coll, id    string
		region      string
		body        any
		code, field string
		owner       string
	}{
		{"id malformed", "customers", "cus_1", county, customerBody("N-1", county), crm.CodeInvalid, "id", ""},
		{"id of another kind", "customers", crm.NewID("bil", t0), county, customerBody("N-1", county), crm.CodeInvalid, "id", ""},
		{"id taken", "customers", f.cus, county, customerBody("N-1", county), crm.CodeDuplicate, "id", ""},
		{"unknown field", "customers", newCus, county, customerBody("N-1", county).with("colour", "red"), crm.CodeInvalid, "colour", ""},
		{"wrong type", "customers", newCus, county, customerBody("N-1", county).with("voltage_kv", "ten"), crm.CodeInvalid, "voltage_kv", ""},
		{"wrong type array", "customers", newCus, county, customerBody("N-1", county).with("tags", "vip"), crm.CodeInvalid, "tags", ""},
		{"validation", "customers", newCus, county, customerBody("N-1", county).with("voltage_kv", 11), crm.CodeInvalid, "voltage_kv", ""},
		{"malformed JSON", "customers", newCus, county, `{"account_no": `, crm.CodeInvalid, "", ""},
		{"syntax error", "customers", newCus, county, `{"account_no" 1}`, crm.CodeInvalid, "", ""},
		{"trailing data", "customers", newCus, county, `{"account_no":"N-1"} {}`, crm.CodeInvalid, "", ""},
		{"empty body", "customers", newCus, county, nil, crm.CodeInvalid, "", ""},
		{"array body", "customers", newCus, county, `[1,2]`, crm.CodeInvalid, "", ""},
		{"duplicate account_no", "customers", newCus, county, customerBody("A-1", county).with("name", "Other"), crm.CodeDuplicate, "account_no", ""},
		{"customer region not ours", "customers", newCus, county, customerBody("N-1", city), crm.CodeWrongOwner, "region", city},
		{"staff region not ours", "staff", crm.NewID("stf", t0), county, staffBody("S-1", other), crm.CodeWrongOwner, "region", other},
		{"bill for missing customer", "bills", crm.NewID("bil", t0), county, billBody(newCus, "2026-02"), crm.CodeReference, "customer_id", ""},
		{"bill for customer of another region", "bills", crm.NewID("bil", t0), county, billBody(f.otherCus, "2026-02"), crm.CodeWrongOwner, "customer_id", other},
		{"second bill for the period", "bills", crm.NewID("bil", t0), county, billBody(f.cus, "2026-01"), crm.CodeDuplicate, "period", ""},
		{"contact for missing customer", "contacts", crm.NewID("con", t0), county, obj{"customer_id": newCus, "name": "X", "phone": "12345"}, crm.CodeReference, "customer_id", ""},
		{"interaction with missing staff", "interactions", crm.NewID("int", t0), county,
			obj{"customer_id": f.cus, "staff_id": crm.NewID("stf", t0), "kind": "call", "at": t0, "summary": "s"}, crm.CodeReference, "staff_id", ""},
		{"unknown collection", "meters", newCus, county, customerBody("N-1", county), crm.CodeNotFound, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.tx)
			cmd := newCmd(t, crm.OpCreate, tc.coll, tc.id, tc.region, 0, tc.body)
			// Another proposer, later: not a replay of the fixture's creates.
			cmd.Actor, cmd.Time = "bob", t0.Add(time.Minute)
			res := crm.Apply(f.tx, cmd)
			wantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
			if res.Record != nil {
				t.Errorf("record %s returned with an error", res.Record)
			}
			if d := diffSnapshots(before, snapshot(t, f.tx)); d != "" {
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
	cmd := newCmd(t, crm.OpCreate, "customers", crm.NewID("cus", t0), county, 0, customerBody("A-1", county))
	first := mustApply(t, tx, cmd)
	before := snapshot(t, tx)
	again := mustApply(t, tx, cmd)
	if string(again.Record) != string(first.Record) {
		t.Errorf("replay answered %s\nwant %s", again.Record, first.Record)
	}
	if d := diffSnapshots(before, snapshot(t, tx)); d != "" {
		t.Errorf("replay wrote:\n%s", d)
	}
	// The same id from another proposer or time is a duplicate.
	other := *cmd
	other.Time = t0.Add(time.Second)
	wantErr(t, crm.Apply(tx, &other).Err, crm.CodeDuplicate, "id")
}

func TestApply_UnknownOp(t *testing.T) {
	res := crm.Apply(crm.NewMemTxn(), newCmd(t, "upsert", "customers", "", county, 0, nil))
	wantErr(t, res.Err, crm.CodeInvalid, "op")
}

func TestApply_SameAccountNoOtherRegion(t *testing.T) {
	f := newFixture(t)
	// A-1 is taken in county; the same 户号 in another county is another customer.
	id := f.create(t, "customers", other, customerBody("A-1", other))
	if c := decode[crm.Customer](t, mustGet(t, f.tx, "customers", id)); c.Owner != other || c.AccountNo != "A-1" {
		t.Errorf("got %+v", c)
	}
	// And it is unique there too now.
	res := crm.Apply(f.tx, newCmd(t, crm.OpCreate, "customers", f.g.next("cus"), other, 0, customerBody("A-1", other)))
	wantErr(t, res.Err, crm.CodeDuplicate, "account_no")
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
	cmd := newCmd(t, crm.OpUpdate, "customers", f.cus, county, 1,
		obj{"name": " Renamed ", "grid": nil, "status": "Suspended", "tags": []string{"vip", "vip"}})
	cmd.Actor, cmd.Time = "bob", t0.Add(time.Hour)
	res := mustApply(t, f.tx, cmd)

	c := decode[crm.Customer](t, res.Record)
	wantMeta := crm.Meta{ID: f.cus, Owner: county, Version: 2, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), CreatedBy: actor, UpdatedBy: "bob"}
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
	if ids := listAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"grid": "G1"}}); slices.Contains(ids, f.cus) {
		t.Errorf("grid=G1 lists %v after grid was removed", ids)
	}
	if ids := listAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"status": "active"}}); slices.Contains(ids, f.cus) {
		t.Errorf("status=active still lists %s", f.cus)
	}
	if ids := listAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"status": "suspended"}}); !slices.Equal(ids, []string{f.cus}) {
		t.Errorf("status=suspended lists %v", ids)
	}

	// A second update needs version 2.
	res = crm.Apply(f.tx, newCmd(t, crm.OpUpdate, "customers", f.cus, county, 1, obj{"name": "Again"}))
	wantErr(t, res.Err, crm.CodeConflict, "version")
	if !errors.Is(res.Err, crm.ErrConflict) {
		t.Error("errors.Is(conflict, ErrConflict) = false")
	}
	res = mustApply(t, f.tx, newCmd(t, crm.OpUpdate, "customers", f.cus, county, 2, obj{"name": "Again"}))
	if v := decode[crm.Meta](t, res.Record).Version; v != 3 {
		t.Errorf("version = %d; want 3", v)
	}
}

func TestApply_UpdateAccountNoFreesOldValue(t *testing.T) {
	f := newFixture(t)
	mustApply(t, f.tx, newCmd(t, crm.OpUpdate, "customers", f.cus, county, 1, obj{"account_no": "A-2"}))
	// A-1 is free again; A-2 is taken.
	f.create(t, "customers", county, customerBody("A-1", county))
	res := crm.Apply(f.tx, newCmd(t, crm.OpCreate, "customers", f.g.next("cus"), county, 0, customerBody("A-2", county)))
	wantErr(t, res.Err, crm.CodeDuplicate, "account_no")
	// An update that keeps its own account_no is not a duplicate of itself.
	mustApply(t, f.tx, newCmd(t, crm.OpUpdate, "customers", f.cus, county, 2, obj{"account_no": "A-2", "name": "Same"}))
}

func TestApply_UpdateErrors(t *testing.T) {
	f := newFixture(t)
	second := f.create(t, "customers", county, customerBody("A-2", county))
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
		{"missing version", crm.OpUpdate, "customers", f.cus, county, 0, obj{"name": "x"}, crm.CodeInvalid, "version", ""},
		{"stale version", crm.OpUpdate, "customers", f.cus, county, 2, obj{"name": "x"}, crm.CodeConflict, "version", ""},
		{"stale version replace", crm.OpReplace, "customers", f.cus, county, 5, customerBody("A-1", county), crm.CodeConflict, "version", ""},
		{"missing version replace", crm.OpReplace, "customers", f.cus, county, 0, customerBody("A-1", county), crm.CodeInvalid, "version", ""},
		{"not found", crm.OpUpdate, "customers", crm.NewID("cus", t0.Add(time.Hour)), county, 1, obj{"name": "x"}, crm.CodeNotFound, "id", ""},
		{"owned by another region", crm.OpUpdate, "customers", f.cus, other, 1, obj{"name": "x"}, crm.CodeWrongOwner, "id", county},
		{"bill owned by another region", crm.OpUpdate, "bills", f.bill, city, 1, obj{"kwh": 1}, crm.CodeWrongOwner, "id", county},
		{"patch changes region", crm.OpUpdate, "customers", f.cus, county, 1, obj{"region": other}, crm.CodeInvalid, "region", ""},
		{"replace changes region", crm.OpReplace, "customers", f.cus, county, 1, customerBody("A-1", other), crm.CodeInvalid, "region", ""},
		{"null on a required field", crm.OpUpdate, "customers", f.cus, county, 1, obj{"name": nil}, crm.CodeInvalid, "name", ""},
		{"unknown field", crm.OpUpdate, "customers", f.cus, county, 1, obj{"colour": "red"}, crm.CodeInvalid, "colour", ""},
		{"wrong type", crm.OpUpdate, "customers", f.cus, county, 1, obj{"voltage_kv": "ten"}, crm.CodeInvalid, "voltage_kv", ""},
		{"invalid value", crm.OpUpdate, "customers", f.cus, county, 1, obj{"category": "nuclear"}, crm.CodeInvalid, "category", ""},
		{"account_no taken", crm.OpUpdate, "customers", second, county, 1, obj{"account_no": "A-1"}, crm.CodeDuplicate, "account_no", ""},
		{"patch is an array", crm.OpUpdate, "customers", f.cus, county, 1, `[1]`, crm.CodeInvalid, "", ""},
		{"patch is null", crm.OpUpdate, "customers", f.cus, county, 1, `null`, crm.CodeInvalid, "", ""},
		{"patch is malformed", crm.OpUpdate, "customers", f.cus, county, 1, `{"name":`, crm.CodeInvalid, "", ""},
		{"replace with unknown field", crm.OpReplace, "customers", f.cus, county, 1, customerBody("A-1", county).with("x", 1), crm.CodeInvalid, "x", ""},
		{"replace drops a required field", crm.OpReplace, "customers", f.cus, county, 1, customerBody("A-1", county).with("name", nil), crm.CodeInvalid, "name", ""},
		{"bill moved to a missing customer", crm.OpUpdate, "bills", f.bill, county, 1, obj{"customer_id": crm.NewID("cus", t0.Add(time.Hour))}, crm.CodeReference, "customer_id", ""},
		{"bill moved to another region's customer", crm.OpUpdate, "bills", f.bill, county, 1, obj{"customer_id": f.otherCus}, crm.CodeWrongOwner, "customer_id", other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.tx)
			res := crm.Apply(f.tx, newCmd(t, tc.op, tc.coll, tc.id, tc.region, tc.ver, tc.body))
			wantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
			if d := diffSnapshots(before, snapshot(t, f.tx)); d != "" {
				t.Errorf("failed %s changed the store:\n%s", tc.op, d)
			}
		})
	}
}

func TestApply_UpdateKeepsPasswordHash(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", t0)
	mustApply(t, tx, newCmd(t, crm.OpCreate, "users", id, county, 0, userBody("bo", county)))
	mustApply(t, tx, newCmd(t, crm.OpUpdate, "users", id, county, 1, obj{"display_name": "Bo"}))
	u, err := crm.UserByName(tx, "bo")
	if err != nil || u == nil {
		t.Fatalf("UserByName = %v, %v", u, err)
	}
	if u.PasswordHash == "" || u.DisplayName != "Bo" || u.Version != 2 {
		t.Errorf("got %+v", u)
	}
	res := crm.Apply(tx, newCmd(t, crm.OpUpdate, "users", id, county, 2, obj{"password_hash": nil}))
	wantErr(t, res.Err, crm.CodeInvalid, "password")
}

func TestApply_Replace(t *testing.T) {
	f := newFixture(t)
	body := customerBody("A-1", county).with("grid", nil, "name", "Replaced", "category", "commercial")
	cmd := newCmd(t, crm.OpReplace, "customers", f.cus, county, 1, body)
	cmd.Actor = "bob"
	res := mustApply(t, f.tx, cmd)
	c := decode[crm.Customer](t, res.Record)
	if c.Version != 2 || c.UpdatedBy != "bob" || c.CreatedBy != actor || c.Owner != county || c.ID != f.cus {
		t.Errorf("meta = %+v", c.Meta)
	}
	if c.Name != "Replaced" || c.Grid != "" || c.Category != "commercial" {
		t.Errorf("not replaced: %+v", c)
	}
	if ids := listAll(t, f.tx, "customers", crm.Query{Filters: map[string]string{"category": "industrial"}}); slices.Contains(ids, f.cus) {
		t.Error("old category index entry kept")
	}
}

func TestApply_Delete(t *testing.T) {
	tx := crm.NewMemTxn()
	empty := snapshot(t, tx)
	id := crm.NewID("cus", t0)
	mustApply(t, tx, newCmd(t, crm.OpCreate, "customers", id, county, 0, customerBody("A-1", county).with("tags", []string{"vip"})))
	mustApply(t, tx, newCmd(t, crm.OpUpdate, "customers", id, county, 1, obj{"grid": "G9"}))

	res := crm.Apply(tx, newCmd(t, crm.OpDelete, "customers", id, other, 0, nil))
	wantErr(t, res.Err, crm.CodeWrongOwner, "id")
	if res.Err.Owner != county {
		t.Errorf("owner = %q; want %q", res.Err.Owner, county)
	}
	res = crm.Apply(tx, newCmd(t, crm.OpDelete, "customers", id, county, 1, nil))
	wantErr(t, res.Err, crm.CodeConflict, "version")

	res = mustApply(t, tx, newCmd(t, crm.OpDelete, "customers", id, county, 2, nil))
	if res.Record != nil {
		t.Errorf("delete answered a record: %s", res.Record)
	}
	if d := diffSnapshots(empty, snapshot(t, tx)); d != "" {
		t.Errorf("delete left keys behind:\n%s", d)
	}
	_, err := crm.Get(tx, "customers", id)
	wantErr(t, err, crm.CodeNotFound, "id")
	if !errors.Is(err, crm.ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = false")
	}
	res = crm.Apply(tx, newCmd(t, crm.OpDelete, "customers", id, county, 0, nil))
	wantErr(t, res.Err, crm.CodeNotFound, "id")
	// The account number is free again.
	mustApply(t, tx, newCmd(t, crm.OpCreate, "customers", crm.NewID("cus", t0), county, 0, customerBody("A-1", county)))
}

func TestApply_DeleteCustomerInUse(t *testing.T) {
	f := newFixture(t)
	res := crm.Apply(f.tx, newCmd(t, crm.OpDelete, "customers", f.cus, county, 0, nil))
	wantErr(t, res.Err, crm.CodeInUse, "id")

	// Contacts and interactions hold a customer too.
	for coll, body := range map[string]obj{
		"contacts":     {"customer_id": f.otherCus, "name": "Zhao", "email": "z@example.cn"},
		"interactions": {"customer_id": f.otherCus, "kind": "call", "at": t0, "summary": "asked about tariffs"},
	} {
		id := f.create(t, coll, other, body)
		res := crm.Apply(f.tx, newCmd(t, crm.OpDelete, "customers", f.otherCus, other, 0, nil))
		wantErr(t, res.Err, crm.CodeInUse, "id")
		mustApply(t, f.tx, newCmd(t, crm.OpDelete, coll, id, other, 1, nil))
	}
	mustApply(t, f.tx, newCmd(t, crm.OpDelete, "customers", f.otherCus, other, 0, nil))

	mustApply(t, f.tx, newCmd(t, crm.OpDelete, "bills", f.bill, county, 1, nil))
	mustApply(t, f.tx, newCmd(t, crm.OpDelete, "customers", f.cus, county, 1, nil))
	if n := f.tx.Len(); n != 0 {
		t.Errorf("%d keys left after deleting everything: %v", n, snapshot(t, f.tx))
	}
}

func TestApply_Bill(t *testing.T) {
	f := newFixture(t)
	// Same period for another customer, another period for the same one: fine.
	second := f.create(t, "customers", county, customerBody("A-2", county))
	f.create(t, "bills", county, billBody(second, "2026-01"))
	id := f.create(t, "bills", county, billBody(f.cus, "2026-02").with("paid", 500.004, "pay_date", "2026-03-05", "arrears", 1))
	b := decode[crm.Bill](t, mustGet(t, f.tx, "bills", id))
	if b.Paid != 500 || b.Arrears != 480.5 {
		t.Errorf("paid %v arrears %v; want 500 and 480.5", b.Paid, b.Arrears)
	}
	// Moving the bill onto a period already billed is a duplicate.
	res := crm.Apply(f.tx, newCmd(t, crm.OpUpdate, "bills", id, county, 1, obj{"period": "2026-01"}))
	wantErr(t, res.Err, crm.CodeDuplicate, "period")
}

// TestApply_FailureLeavesNothing runs failing Commands of every kind that get
// as far as possible before failing, and checks that the store is unchanged.
func TestApply_FailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	second := f.create(t, "customers", county, customerBody("A-2", county))
	bad := customerBody("Z-9", county).with("voltage_kv", 11)
	rows := []json.RawMessage{rawJSON(t, customerBody("N-1", county)), rawJSON(t, customerBody("N-2", county)), rawJSON(t, bad)}
	ids := []string{f.g.next("cus"), f.g.next("cus"), f.g.next("cus")}
	cmds := []*crm.Command{
		newCmd(t, crm.OpCreate, "customers", f.g.next("cus"), county, 0, customerBody("A-2", county)),
		newCmd(t, crm.OpCreate, "bills", f.g.next("bil"), county, 0, billBody(f.otherCus, "2026-05")),
		newCmd(t, crm.OpUpdate, "customers", second, county, 1, obj{"account_no": "A-1", "grid": "G2"}),
		newCmd(t, crm.OpUpdate, "customers", second, county, 1, obj{"region": other}),
		newCmd(t, crm.OpReplace, "customers", second, county, 1, customerBody("A-1", county)),
		newCmd(t, crm.OpDelete, "customers", f.cus, county, 1, nil),
		{Op: crm.OpImport, Collection: "customers", Region: county, Rows: rows, IDs: ids, Time: t0},
	}
	for i, cmd := range cmds {
		before := snapshot(t, f.tx)
		res := crm.Apply(f.tx, cmd)
		if res.Err == nil {
			t.Fatalf("command %d (%s) succeeded", i, cmd.Op)
		}
		if d := diffSnapshots(before, snapshot(t, f.tx)); d != "" {
			t.Errorf("command %d (%s) failed with %v but changed the store:\n%s", i, cmd.Op, res.Err, d)
		}
	}
}

// TestApply_Deterministic applies one script of Commands, some failing, to two
// fresh stores and compares them key for key.
func TestApply_Deterministic(t *testing.T) {
	var g idGen
	var script []*crm.Command
	add := func(c *crm.Command) { script = append(script, c) }
	var cus []string
	for i := range 20 {
		id := g.next("cus")
		cus = append(cus, id)
		add(newCmd(t, crm.OpCreate, "customers", id, county, 0,
			customerBody("D-"+string(rune('A'+i)), county).with("tags", []string{"b", "a", "b"})))
	}
	for i, c := range cus[:10] {
		add(newCmd(t, crm.OpCreate, "bills", g.next("bil"), county, 0, billBody(c, "2026-0"+string(rune('1'+i%9)))))
		add(newCmd(t, crm.OpUpdate, "customers", c, county, 1, obj{"grid": nil, "status": "suspended", "name": "n" + c}))
	}
	add(newCmd(t, crm.OpDelete, "customers", cus[15], county, 1, nil))
	add(newCmd(t, crm.OpDelete, "customers", cus[0], county, 0, nil)) // in use: fails
	add(newCmd(t, crm.OpCreate, "customers", g.next("cus"), county, 0, customerBody("D-B", county)))
	add(newCmd(t, crm.OpCreate, "staff", g.next("stf"), county, 0, staffBody("S-1", county)))
	add(newCmd(t, crm.OpCreate, "users", g.next("usr"), county, 0, userBody("dee", county)))
	add(&crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: rawJSON(t, `"abc"`)})
	imp := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: county, Actor: actor, Time: t0}
	for i := range 50 {
		imp.Rows = append(imp.Rows, rawJSON(t, customerBody("I-"+string(rune('a'+i%26))+string(rune('a'+i/26)), county)))
		imp.IDs = append(imp.IDs, g.next("cus"))
	}
	add(imp)

	run := func() (map[string]string, []crm.Result) {
		tx := crm.NewMemTxn()
		var results []crm.Result
		for _, c := range script {
			// Every replica decodes the Command from the log.
			var dec crm.Command
			if err := json.Unmarshal(rawJSON(t, c), &dec); err != nil {
				t.Fatal(err)
			}
			results = append(results, crm.Apply(tx, &dec))
		}
		return snapshot(t, tx), results
	}
	a, ra := run()
	b, rb := run()
	if d := diffSnapshots(a, b); d != "" {
		t.Fatalf("replicas differ:\n%s", d)
	}
	if ja, jb := string(rawJSON(t, ra)), string(rawJSON(t, rb)); ja != jb {
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
	res := mustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: json.RawMessage(`"first"`)})
	if string(res.Record) != `"first"` {
		t.Errorf("first init answered %s", res.Record)
	}
	res = mustApply(t, tx, &crm.Command{Op: crm.OpInitSys, ID: "cluster_id", Body: json.RawMessage(`"second"`)})
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
	if !isCrmError(err, crm.CodeDuplicate) || isCrmError(err, crm.CodeConflict) {
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
	stf := f.create(t, "staff", county, staffBody("S-1", county).with("team", "big customers", "role", "Gold_Manager"))
	f.create(t, "staff", county, staffBody("S-2", county))
	res := crm.Apply(f.tx, newCmd(t, crm.OpCreate, "staff", f.g.next("stf"), county, 0, staffBody("S-1", county)))
	wantErr(t, res.Err, crm.CodeDuplicate, "staff_no")
	f.create(t, "staff", other, staffBody("S-1", other)) // staff_no is unique per region

	con := f.create(t, "contacts", county, obj{"customer_id": f.cus, "name": "Zhao", "phone": "13800138000", "primary": true})
	in := f.create(t, "interactions", county, obj{"customer_id": f.cus, "staff_id": stf, "kind": "Visit",
		"at": "2026-03-02T17:30:00+08:00", "summary": "site survey"})
	i := decode[crm.Interaction](t, mustGet(t, f.tx, "interactions", in))
	if i.Kind != "visit" || !i.At.Equal(t0) || i.At.Location().String() != "UTC" {
		t.Errorf("interaction stored as %+v", i)
	}
	// Another region's staff cannot be named.
	otherStf := listAll(t, f.tx, "staff", crm.Query{Filters: map[string]string{"region": other}})
	res = crm.Apply(f.tx, newCmd(t, crm.OpCreate, "interactions", f.g.next("int"), county, 0,
		obj{"customer_id": f.cus, "staff_id": otherStf[0], "kind": "call", "at": t0, "summary": "s"}))
	wantErr(t, res.Err, crm.CodeWrongOwner, "staff_id")
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
		got := listAll(t, f.tx, tc.coll, crm.Query{Filters: tc.filters})
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
