package crm_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func violationBody(cus string) crmtest.Obj {
	return crmtest.Obj{"customer_id": cus, "kind": "violation", "subtype": "capacity_increase", "found_on": "2025-11-20",
		"kwh_recovered": 1200, "back_charge": 840.5, "penalty": 2400, "note": "私增容量 80 kVA"}
}

// TestViolations_CreateAndRefusals: a violation record is written where
// its customer is owned, indexed by customer, and holds the customer
// against deletion; bad input is refused naming the field.
func TestViolations_CreateAndRefusals(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, "violations", county, violationBody(f.cus))
	newCus := crm.NewID("cus", crmtest.T0.Add(time.Hour))
	cases := []struct {
		name        string
		region      string
		body        crmtest.Obj
		code, field string
		owner       string
	}{
		{"bad kind", county, violationBody(f.cus).With("kind", "fraud"), crm.CodeInvalid, "kind", ""},
		{"subtype of the other kind", county, violationBody(f.cus).With("kind", "theft"), crm.CodeInvalid, "subtype", ""},
		{"no subtype", county, violationBody(f.cus).With("subtype", ""), crm.CodeInvalid, "subtype", ""},
		{"no customer", county, violationBody(""), crm.CodeInvalid, "customer_id", ""},
		{"missing customer", county, violationBody(newCus), crm.CodeReference, "customer_id", ""},
		{"another region's customer", county, violationBody(f.otherCus), crm.CodeWrongOwner, "customer_id", other},
		{"found_on not a day", county, violationBody(f.cus).With("found_on", "2025-02-30"), crm.CodeInvalid, "found_on", ""},
		{"found_on missing", county, violationBody(f.cus).With("found_on", ""), crm.CodeInvalid, "found_on", ""},
		{"negative penalty", county, violationBody(f.cus).With("penalty", -1), crm.CodeInvalid, "penalty", ""},
		{"bad status", county, violationBody(f.cus).With("status", "closed"), crm.CodeInvalid, "status", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := crmtest.NewCmd(t, crm.OpCreate, "violations", crm.NewID("vio", crmtest.T0), tc.region, 0, tc.body)
			cmd.Actor, cmd.Time = "bob", crmtest.T0.Add(time.Minute)
			res := crm.Apply(f.tx, cmd)
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
		})
	}
	f.create(t, "violations", county, violationBody(f.cus).With("kind", "theft", "subtype", "bypass", "found_on", "2025-03-02", "status", "settled"))
	vs, e := crm.CustomerViolations(f.tx, f.cus)
	if e != nil {
		t.Fatal(e)
	}
	if len(vs) != 2 || vs[0].Kind != crm.ViolationTheft || vs[1].ID != id || vs[1].Status != crm.ViolationOpen || vs[1].Owner != county || vs[1].Penalty != 2400 {
		b, _ := json.Marshal(vs)
		t.Fatalf("the customer's violations, by day found: %s", b)
	}
	if vs, _ := crm.CustomerViolations(f.tx, f.otherCus); len(vs) != 0 {
		t.Errorf("the other customer's violations: %+v", vs)
	}
	// A customer with no bill, only a violation, stays while it is on record.
	lone := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county))
	f.create(t, "violations", county, violationBody(lone))
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", lone, county, 1, nil))
	if res.Err == nil || !strings.Contains(res.Err.Message, "violations") {
		t.Errorf("delete of a customer with a violation on record: %v", res.Err)
	}
}
