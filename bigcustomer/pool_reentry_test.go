package bigcustomer_test

import (
	"testing"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestPool_ReentryAfterExit: a customer is in the pool once while its entry
// is a candidate, admitted or rejected; once the entry is exited, the
// customer may enter again with a new entry (which then holds the place).
func TestPool_ReentryAfterExit(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	cus := w.customer("POOL-1", 10, 2_000_000)
	mgr := w.ids.Next("stf")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "staff", mgr, county, 0, crmtest.StaffBody("M-1", county)))
	con := w.ids.Next("con")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "contacts", con, county, 0, crmtest.Obj{"customer_id": cus, "name": "Zhao", "phone": "13800138000"}))
	entry := func(status string) crmtest.Obj {
		return crmtest.Obj{"customer_id": cus, "status": status, "front_manager_id": mgr, "contact_id": con,
			"assessment": crmtest.Obj{"score": 80, "annual_kwh": 2_000_000, "credit": "A", "reason": "10kV 专线", "assessed_by": mgr, "assessed_on": "2026-01-10"}}
	}
	first := w.ids.Next("pen")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", first, county, 0, entry("admitted")))
	// While admitted, a second entry is a duplicate.
	res := crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", w.ids.Next("pen"), county, 0, entry("candidate")))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "customer_id")
	// Exit; the customer comes back as a candidate and is admitted again.
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpUpdate, "pool_entries", first, county, 1, crmtest.Obj{"status": "exited", "exit_reason": "企业停产"}))
	again := w.ids.Next("pen")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", again, county, 0, entry("candidate")))
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpUpdate, "pool_entries", again, county, 1, crmtest.Obj{"status": "admitted"}))
	if ids, e := bigcustomer.AdmittedPool(w.tx, county); e != nil || len(ids) != 1 || ids[0] != cus {
		t.Errorf("admitted pool %v %v; want [%s]", ids, e, cus)
	}
	// The new entry holds the place: a third is a duplicate again.
	res = crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", w.ids.Next("pen"), county, 0, entry("candidate")))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "customer_id")
	// The exited entry stays final.
	res = crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpUpdate, "pool_entries", first, county, 2, crmtest.Obj{"status": "admitted"}))
	crmtest.WantErr(t, res.Err, crm.CodeTransition, "status")
}
