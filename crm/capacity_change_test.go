package crm_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func capacityChangeBody(cus string) crmtest.Obj {
	return crmtest.Obj{"customer_id": cus, "kind": "reduction", "from_kva": 800, "to_kva": 500, "start_on": "2025-10-01", "note": "减容 一台 315 kVA 变压器停运"}
}

// TestCapacityChanges_CreateAndRefusals: a capacity change (减容 or 暂停)
// is written where its customer is owned, indexed by customer, holds the
// customer against deletion, and answers whether it is in force; bad
// input is refused naming the field. The customer's contract_end is a
// day or refused naming the field.
func TestCapacityChanges_CreateAndRefusals(t *testing.T) {
	f := newFixture(t)
	id := f.create(t, "capacity_changes", county, capacityChangeBody(f.cus))
	newCus := crm.NewID("cus", crmtest.T0.Add(time.Hour))
	cases := []struct {
		name        string
		coll        string
		body        crmtest.Obj
		code, field string
		owner       string
	}{
		{"bad kind", "capacity_changes", capacityChangeBody(f.cus).With("kind", "increase"), crm.CodeInvalid, "kind", ""},
		{"no kind", "capacity_changes", capacityChangeBody(f.cus).With("kind", nil), crm.CodeInvalid, "kind", ""},
		{"no customer", "capacity_changes", capacityChangeBody(""), crm.CodeInvalid, "customer_id", ""},
		{"missing customer", "capacity_changes", capacityChangeBody(newCus), crm.CodeReference, "customer_id", ""},
		{"another region's customer", "capacity_changes", capacityChangeBody(f.otherCus), crm.CodeWrongOwner, "customer_id", other},
		{"no from_kva", "capacity_changes", capacityChangeBody(f.cus).With("from_kva", nil), crm.CodeInvalid, "from_kva", ""},
		{"negative to_kva", "capacity_changes", capacityChangeBody(f.cus).With("to_kva", -5), crm.CodeInvalid, "to_kva", ""},
		{"a rise", "capacity_changes", capacityChangeBody(f.cus).With("to_kva", 1000), crm.CodeInvalid, "to_kva", ""},
		{"reduction to nothing", "capacity_changes", capacityChangeBody(f.cus).With("to_kva", 0), crm.CodeInvalid, "to_kva", ""},
		{"start_on not a day", "capacity_changes", capacityChangeBody(f.cus).With("start_on", "2025-02-30"), crm.CodeInvalid, "start_on", ""},
		{"start_on missing", "capacity_changes", capacityChangeBody(f.cus).With("start_on", nil), crm.CodeInvalid, "start_on", ""},
		{"suspension without end_on", "capacity_changes", capacityChangeBody(f.cus).With("kind", "suspension", "to_kva", 0), crm.CodeInvalid, "end_on", ""},
		{"end_on before start_on", "capacity_changes", capacityChangeBody(f.cus).With("end_on", "2025-09-30"), crm.CodeInvalid, "end_on", ""},
		{"contract_end not a day", "customers", crmtest.CustomerBody("C-9", county).With("contract_end", "2026-13-01"), crm.CodeInvalid, "contract_end", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := crmtest.NewCmd(t, crm.OpCreate, tc.coll, crm.NewID(crm.Kinds[tc.coll].IDPrefix, crmtest.T0), county, 0, tc.body)
			cmd.Actor, cmd.Time = "bob", crmtest.T0.Add(time.Minute)
			res := crm.Apply(f.tx, cmd)
			crmtest.WantErr(t, res.Err, tc.code, tc.field)
			if res.Err.Owner != tc.owner {
				t.Errorf("owner = %q; want %q", res.Err.Owner, tc.owner)
			}
		})
	}
	f.create(t, "capacity_changes", county, capacityChangeBody(f.cus).With("kind", "suspension", "to_kva", 0, "start_on", "2025-03-01", "end_on", "2025-06-01"))
	cs, e := crm.CustomerCapacityChanges(f.tx, f.cus)
	if e != nil {
		t.Fatal(e)
	}
	if len(cs) != 2 || cs[0].Kind != crm.CapacitySuspension || cs[1].ID != id || cs[1].Owner != county || cs[1].ToKVA != 500 {
		b, _ := json.Marshal(cs)
		t.Fatalf("the customer's capacity changes, by start: %s", b)
	}
	sus, red := cs[0], cs[1]
	for _, tc := range []struct {
		c        crm.CapacityChange
		from, to crm.Date
		want     bool
	}{
		{sus, "2025-05-01", "2025-05-31", true},
		{sus, "2025-06-01", "2025-06-30", false}, // restored on the 1st
		{sus, "2025-01-01", "2025-02-28", false},
		{red, "2025-12-01", "2025-12-31", true}, // no end: in force from its start on
		{red, "2025-09-01", "2025-09-30", false},
	} {
		if got := tc.c.InForce(tc.from, tc.to); got != tc.want {
			t.Errorf("%s %s..%s in force %s..%s: %v", tc.c.Kind, tc.c.StartOn, tc.c.EndOn, tc.from, tc.to, got)
		}
	}
	if cs, _ := crm.CustomerCapacityChanges(f.tx, f.otherCus); len(cs) != 0 {
		t.Errorf("the other customer's capacity changes: %+v", cs)
	}
	lone := f.create(t, "customers", county, crmtest.CustomerBody("A-2", county).With("contract_end", "2026-06-30"))
	raw, _ := crm.Get(f.tx, "customers", lone)
	if !strings.Contains(string(raw), `"contract_end":"2026-06-30"`) {
		t.Errorf("customer with contract_end: %s", raw)
	}
	f.create(t, "capacity_changes", county, capacityChangeBody(lone))
	res := crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpDelete, "customers", lone, county, 1, nil))
	if res.Err == nil || !strings.Contains(res.Err.Message, "capacity_changes") {
		t.Errorf("delete of a customer with a capacity change on record: %v", res.Err)
	}
}
