package bigcustomer_test

import (
	"testing"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
)

// TestPool_ReentryAfterExit: a customer is in the pool once while its entry
// is a candidate, admitted or rejected; once the entry is exited, the
// customer may enter again with a new entry (which then holds the place).
func TestPool_ReentryAfterExit(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	cus := w.customer("POOL-1", 10, 2_000_000)
	mgr := w.ids.next("stf")
	mustApply(t, w.tx, newCmd(t, crm.OpCreate, "staff", mgr, county, 0, staffBody("M-1", county)))
	con := w.ids.next("con")
	mustApply(t, w.tx, newCmd(t, crm.OpCreate, "contacts", con, county, 0, obj{"customer_id": cus, "name": "Zhao", "phone": "13800138000"}))
	entry := func(status string) obj {
		return obj{"customer_id": cus, "status": status, "front_manager_id": mgr, "contact_id": con,
			"assessment": obj{"score": 80, "annual_kwh": 2_000_000, "credit": "A", "reason": "10kV 专线", "assessed_by": mgr, "assessed_on": "2026-01-10"}}
	}
	first := w.ids.next("pen")
	mustApply(t, w.tx, newCmd(t, crm.OpCreate, "pool_entries", first, county, 0, entry("admitted")))
	// While admitted, a second entry is a duplicate.
	res := crm.Apply(w.tx, newCmd(t, crm.OpCreate, "pool_entries", w.ids.next("pen"), county, 0, entry("candidate")))
	wantErr(t, res.Err, crm.CodeDuplicate, "customer_id")
	// Exit; the customer comes back as a candidate and is admitted again.
	mustApply(t, w.tx, newCmd(t, crm.OpUpdate, "pool_entries", first, county, 1, obj{"status": "exited", "exit_reason": "企业停产"}))
	again := w.ids.next("pen")
	mustApply(t, w.tx, newCmd(t, crm.OpCreate, "pool_entries", again, county, 0, entry("candidate")))
	mustApply(t, w.tx, newCmd(t, crm.OpUpdate, "pool_entries", again, county, 1, obj{"status": "admitted"}))
	if ids, e := bigcustomer.AdmittedPool(w.tx, county); e != nil || len(ids) != 1 || ids[0] != cus {
		t.Errorf("admitted pool %v %v; want [%s]", ids, e, cus)
	}
	// The new entry holds the place: a third is a duplicate again.
	res = crm.Apply(w.tx, newCmd(t, crm.OpCreate, "pool_entries", w.ids.next("pen"), county, 0, entry("candidate")))
	wantErr(t, res.Err, crm.CodeDuplicate, "customer_id")
	// The exited entry stays final.
	res = crm.Apply(w.tx, newCmd(t, crm.OpUpdate, "pool_entries", first, county, 2, obj{"status": "admitted"}))
	wantErr(t, res.Err, crm.CodeTransition, "status")
}
