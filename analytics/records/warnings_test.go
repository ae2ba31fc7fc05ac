package records_test

import (
	"sort"
	"strings"
	"testing"

	"gridcrm/analytics/records"
	_ "gridcrm/bigcustomer" // the gold_assignments GoldManagerOf reads
	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestWarnings_IndexesAndScope: warnings written at two counties arrive at
// the city; WarningsOf lists a month's of one kind by region or subtree
// from the composite index, ManagerWarnings an account manager's; a bad
// warning is refused naming its field; GoldManagerOf answers the active
// gold manager.
func TestWarnings_IndexesAndScope(t *testing.T) {
	city := crm.NewMemTxn()
	type made struct{ cus, mgr string }
	write := func(region string, withManager bool) made {
		t.Helper()
		w := crmtest.NewWorld(t, region)
		cus := w.Customer("industrial", 10)
		var mgr string
		if withManager {
			mgr = w.Create(crmtest.T0, "staff", "stf", crmtest.StaffBody("G-"+region, region).With("role", "gold_manager"))
			w.Create(crmtest.T0, "gold_assignments", "gam", crmtest.Obj{"customer_id": cus, "staff_id": mgr, "from": "2026-01-01"})
			got, err := records.GoldManagerOf(w.Tx, cus)
			if err != nil || got != mgr {
				t.Fatalf("GoldManagerOf = %q, %v; want %s", got, err, mgr)
			}
		} else if got, err := records.GoldManagerOf(w.Tx, cus); err != nil || got != "" {
			t.Fatalf("GoldManagerOf without one = %q, %v", got, err)
		}
		body := crmtest.Obj{"customer_id": cus, "period": "2026-05", "kind": "abnormal", "reasons": []string{"drop"}, "kwh": 500.0,
			"expected_kwh": 1000.0, "change": -0.5, "detector": "warning/1"}
		if mgr != "" {
			body = body.With("manager_id", mgr)
		}
		w.Create(crmtest.T0, "consumption_warnings", "cwn", body)
		w.Create(crmtest.T0, "consumption_warnings", "cwn", crmtest.Obj{"customer_id": cus, "period": "2026-05", "kind": "churn", "reasons": []string{"churn_risk"},
			"churn_risk": 0.4, "detector": "credit/1"})
		for _, bad := range []struct {
			body  crmtest.Obj
			field string
		}{
			{body, "period"}, // the same customer, kind and month again
			{body.With("period", "2026-13"), "period"},
			{body.With("kind", "odd"), "kind"},
			{body.With("reasons", []string{}), "reasons"},
			{body.With("reasons", []string{"fell"}), "reasons"},
			{body.With("kwh", nil, "period", "2026-04"), "kwh"},
			{body.With("churn_risk", 2.0, "period", "2026-04"), "churn_risk"},
			{body.With("manager_id", "x", "period", "2026-04"), "manager_id"},
			{body.With("change", -2.0, "period", "2026-04"), "change"},
			{body.With("detector", "", "period", "2026-04"), "detector"},
		} {
			res := w.At(crmtest.T0, crm.OpCreate, "consumption_warnings", w.IDs.Next("cwn"), 0, bad.body)
			if res.Err == nil || res.Err.Field != bad.field {
				t.Errorf("%v: %v, want an error naming %s", bad.body, res.Err, bad.field)
			}
		}
		// Everything the county wrote arrives at the city.
		if err := w.Tx.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
			if err := crm.ApplyReplica(city, string(k), append([]byte(nil), v...)); err != nil {
				t.Fatal(err)
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return made{cus, mgr}
	}
	a := write("320722", true)
	b := write("320723", false)

	list := func(kind, region string, subtree bool) []string {
		t.Helper()
		var out []string
		if err := records.WarningsOf(city, kind, "2026-05", region, subtree, func(w *records.ConsumptionWarning) bool {
			out = append(out, w.CustomerID+"@"+w.Owner)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	if got := list("abnormal", "3207", true); len(got) != 2 {
		t.Errorf("city subtree: %v, want both counties'", got)
	}
	if got := list("abnormal", "320722", false); len(got) != 1 || !strings.HasPrefix(got[0], a.cus) {
		t.Errorf("county 320722: %v", got)
	}
	if got := list("abnormal", "3207", false); len(got) != 0 {
		t.Errorf("the city's own: %v, want none", got)
	}
	if got := list("churn", "320723", false); len(got) != 1 || !strings.HasPrefix(got[0], b.cus) {
		t.Errorf("churn at 320723: %v", got)
	}
	var mine []string
	if err := records.ManagerWarnings(city, a.mgr, "abnormal", "2026-05", func(w *records.ConsumptionWarning) bool {
		mine = append(mine, w.CustomerID)
		return true
	}); err != nil || len(mine) != 1 || mine[0] != a.cus {
		t.Errorf("manager %s: %v %v", a.mgr, mine, err)
	}
}
