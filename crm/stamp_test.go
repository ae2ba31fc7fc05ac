package crm_test

import (
	"encoding/json"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestStamp_FullManagementNamesTheWriter: a write the parent makes under
// full management (a create and an update of the child's records) is
// stamped actor@parent, as a forwarded write is, so it is told apart from
// the child's own admin; the child's own writes keep the bare username.
func TestStamp_FullManagementNamesTheWriter(t *testing.T) {
	f := newMgmtFixture(t)
	var own crm.Meta
	raw, _ := f.tx.Get([]byte("r/customers/" + f.id))
	json.Unmarshal(raw, &own)
	if own.CreatedBy != crmtest.Actor || own.UpdatedBy != crmtest.Actor {
		t.Fatalf("the child's own create: created_by %q updated_by %q; want %q", own.CreatedBy, own.UpdatedBy, crmtest.Actor)
	}
	if res := f.manage("3207", crmtest.Obj{"region": "320722", "mode": "full"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	f.ack()
	res := f.patch("3207")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var m crm.Meta
	json.Unmarshal(res.Record, &m)
	if m.UpdatedBy != crmtest.Actor+"@3207" || m.CreatedBy != crmtest.Actor || m.Owner != "320722" {
		t.Errorf("updated by the parent: owner %s created_by %q updated_by %q; want updated_by %s@3207", m.Owner, m.CreatedBy, m.UpdatedBy, crmtest.Actor)
	}
	id := crm.NewID("cus", crmtest.T0)
	res = crm.Apply(f.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, "3207", 0,
		crmtest.Obj{"account_no": "M-2", "name": "市里建的", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"}))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	json.Unmarshal(res.Record, &m)
	if m.Owner != "320722" || m.CreatedBy != crmtest.Actor+"@3207" || m.UpdatedBy != crmtest.Actor+"@3207" {
		t.Errorf("created by the parent: owner %s created_by %q updated_by %q; want %s@3207", m.Owner, m.CreatedBy, m.UpdatedBy, crmtest.Actor)
	}
}
