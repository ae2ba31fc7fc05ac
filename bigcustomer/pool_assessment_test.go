package bigcustomer_test

import (
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestPool_AssessmentBackedByBills: an assessment states an annual
// consumption the customer's bills back: a customer with no bills in the
// 12 months before assessed_on can only be assessed with annual_kwh 0, and
// a billed one with at most bigcustomer.AssessmentGrowth times its billed kWh a
// year. Each refusal names assessment.annual_kwh and writes nothing; an
// unchanged assessment is not checked again.
func TestPool_AssessmentBackedByBills(t *testing.T) {
	w := &classWorld{t: t, tx: crm.NewMemTxn()}
	billed := w.customer("POOL-B", 10, 1_200_000) // 2025-01..12, 100,000 kWh a month
	unbilled := w.ids.Next("cus")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "customers", unbilled, county, 0, crmtest.CustomerBody("POOL-N", county)))
	mgr := w.ids.Next("stf")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "staff", mgr, county, 0, crmtest.StaffBody("M-1", county)))
	entry := func(cus string, kwh float64) crmtest.Obj {
		return crmtest.Obj{"customer_id": cus, "status": "candidate",
			"assessment": crmtest.Obj{"score": 80, "annual_kwh": kwh, "credit": "A", "reason": "10kV 专线", "assessed_by": mgr, "assessed_on": "2026-01-10"}}
	}
	refused := func(name string, body crmtest.Obj, want string) {
		t.Helper()
		before := crmtest.Snapshot(t, w.tx)
		res := crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", w.ids.Next("pen"), county, 0, body))
		crmtest.WantErr(t, res.Err, crm.CodeInvalid, "assessment.annual_kwh")
		if res.Err != nil && !strings.Contains(res.Err.Message, want) {
			t.Errorf("%s: message %q does not say %q", name, res.Err.Message, want)
		}
		if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, w.tx)); d != "" {
			t.Errorf("%s: a refused entry wrote:\n%s", name, d)
		}
	}
	refused("no bills", entry(unbilled, 5_000_000), "has no bills from 2025-01 to 2025-12")
	refused("far above the bills", entry(billed, 5_000_000), "at most 1.5 times")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", w.ids.Next("pen"), county, 0, entry(unbilled, 0)))
	id := w.ids.Next("pen")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpCreate, "pool_entries", id, county, 0, entry(billed, 1_800_000)))
	// Changing the figure is checked again; a status change alone is not.
	res := crm.Apply(w.tx, crmtest.NewCmd(t, crm.OpUpdate, "pool_entries", id, county, 1, crmtest.Obj{"assessment": entry(billed, 1_800_001)["assessment"]}))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "assessment.annual_kwh")
	crmtest.MustApply(t, w.tx, crmtest.NewCmd(t, crm.OpUpdate, "pool_entries", id, county, 1, crmtest.Obj{"status": "rejected"}))
}
