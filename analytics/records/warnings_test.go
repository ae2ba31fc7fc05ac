package records_test

import (
	"slices"
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
		rollUp(t, w, city) // everything the county wrote arrives at the city
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

// TestChurnTop_SameAsEveryWarningSorted: three counties' churn warnings
// (risks with ties and one exactly at the threshold, some with an account
// manager, some answered) at their city; ChurnTop, which reads the
// risk-ordered index owner by owner and stops, answers what reading every
// warning of the scope, filtering and sorting answers (riskiest first, then
// owner and id), cut to the limit, for every scope, threshold and limit,
// and for an account manager's list. Warnings stored before the index
// (its entries removed) answer ok false, so the caller reads them the old
// way.
func TestChurnTop_SameAsEveryWarningSorted(t *testing.T) {
	city := crm.NewMemTxn()
	risks := []float64{0.9, 0.5, 0.5, 0.2, 0.05, 0.31, 0.77, 0.2, 0.64, 0.5}
	mgr := map[string]string{}
	for ci, region := range []string{"320722", "320723", "320724"} {
		w := crmtest.NewWorld(t, region)
		m := w.Create(crmtest.T0, "staff", "stf", crmtest.StaffBody("G-"+region, region).With("role", "gold_manager"))
		mgr[region] = m
		for i := range 7 {
			cus := w.Customer("industrial", 10)
			body := crmtest.Obj{"customer_id": cus, "period": "2026-05", "kind": "churn", "reasons": []string{"churn_risk"},
				"churn_risk": risks[(ci*7+i)%len(risks)], "detector": "credit/1"}
			if i%2 == 0 {
				body = body.With("manager_id", m)
			}
			w.Create(crmtest.T0, "consumption_warnings", "cwn", body)
		}
		rollUp(t, w, city)
	}
	// keep drops every third customer (as if answered and hidden).
	keep := func(w *records.ConsumptionWarning) (bool, error) {
		return w.CustomerID[len(w.CustomerID)-1]%3 != 0, nil
	}
	want := func(region string, subtree bool, manager string, min float64, limit int) ([]string, bool) {
		var all []*records.ConsumptionWarning
		visit := func(w *records.ConsumptionWarning) bool {
			in := w.Owner == region || subtree && crm.InRegion(w.Owner, region)
			if ok, _ := keep(w); in && ok && *w.ChurnRisk >= min {
				all = append(all, w)
			}
			return true
		}
		var err error
		if manager != "" {
			err = records.ManagerWarnings(city, manager, "churn", "2026-05", visit)
		} else {
			err = records.WarningsOf(city, "churn", "2026-05", region, subtree, visit)
		}
		if err != nil {
			t.Fatal(err)
		}
		sort.SliceStable(all, func(i, j int) bool {
			a, b := all[i], all[j]
			if *a.ChurnRisk != *b.ChurnRisk {
				return *a.ChurnRisk > *b.ChurnRisk
			}
			if a.Owner != b.Owner {
				return a.Owner < b.Owner
			}
			return a.ID < b.ID
		})
		var ids []string
		for _, w := range all {
			ids = append(ids, w.ID)
		}
		if len(ids) > limit {
			return ids[:limit], true
		}
		return ids, false
	}
	for _, sc := range []struct {
		region  string
		subtree bool
		manager string
	}{{"3207", true, ""}, {"320723", false, ""}, {"3207", false, ""}, {"32", true, ""}, {"3207", true, mgr["320722"]}, {"320723", false, mgr["320722"]}} {
		for _, min := range []float64{0, 0.2, 0.5, 0.95} {
			for _, limit := range []int{1, 2, 3, 5, 100} {
				top, more, ok, err := records.ChurnTop(city, "2026-05", sc.region, sc.subtree, sc.manager, min, limit, keep)
				if err != nil || !ok {
					t.Fatalf("%+v min %v limit %d: ok %v, %v", sc, min, limit, ok, err)
				}
				var got []string
				for _, w := range top {
					got = append(got, w.ID)
				}
				if wantIDs, wantMore := want(sc.region, sc.subtree, sc.manager, min, limit); !slices.Equal(got, wantIDs) || more != wantMore {
					t.Errorf("%+v min %v limit %d: %v more %v; want %v more %v", sc, min, limit, got, more, wantIDs, wantMore)
				}
			}
		}
	}
	// WarningsFrom pages through the same list WarningsOf gives, resumed
	// after the last warning of each page, for a subtree, one region and
	// an account manager.
	for _, sc := range []struct {
		region  string
		subtree bool
		manager string
	}{{"3207", true, ""}, {"320723", false, ""}, {"", false, mgr["320724"]}} {
		var whole, paged []string
		visit := func(out *[]string) func(w *records.ConsumptionWarning) bool {
			return func(w *records.ConsumptionWarning) bool { *out = append(*out, w.Owner+"/"+w.ID); return true }
		}
		if err := records.WarningsFrom(city, "churn", "2026-05", sc.region, sc.subtree, sc.manager, "", "", visit(&whole)); err != nil {
			t.Fatal(err)
		}
		owner, id := "", ""
		for range 30 {
			var page []string
			if err := records.WarningsFrom(city, "churn", "2026-05", sc.region, sc.subtree, sc.manager, owner, id, func(w *records.ConsumptionWarning) bool {
				page = append(page, w.Owner+"/"+w.ID)
				return len(page) < 2
			}); err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			owner, id, _ = strings.Cut(page[len(page)-1], "/")
		}
		if len(whole) == 0 || !slices.Equal(paged, whole) {
			t.Errorf("%+v: pages of 2 %v; the whole list %v", sc, paged, whole)
		}
	}

	// The index's entries gone, as in a store written before it: ok false.
	var stale [][]byte
	city.Iterate([]byte("x/consumption_warnings/churn_rank/"), []byte("x/consumption_warnings/churn_rank0"), func(k, _ []byte) bool {
		stale = append(stale, append([]byte(nil), k...))
		return true
	})
	if len(stale) != 21 {
		t.Fatalf("%d churn_rank entries; want 21 (one a warning)", len(stale))
	}
	// One county's entries gone (its warnings rolled up from a node not yet
	// upgraded): the subtree is read the old way, the other county alone
	// still through the index.
	for _, k := range stale {
		if strings.Contains(string(k), "/320723/") {
			city.Delete(k)
		}
	}
	if _, _, ok, err := records.ChurnTop(city, "2026-05", "3207", true, "", 0.2, 10, keep); ok || err != nil {
		t.Errorf("one county without the index: ok %v, %v; want false", ok, err)
	}
	if _, _, ok, err := records.ChurnTop(city, "2026-05", "320722", false, "", 0.2, 10, keep); !ok || err != nil {
		t.Errorf("the county with the index: ok %v, %v; want true", ok, err)
	}
	var stale320723mgr [][]byte
	city.Iterate([]byte("x/consumption_warnings/manager_churn_rank/"+mgr["320723"]), []byte("x/consumption_warnings/manager_churn_rank0"), func(k, _ []byte) bool {
		if strings.HasPrefix(string(k), "x/consumption_warnings/manager_churn_rank/"+mgr["320723"]+"/") {
			stale320723mgr = append(stale320723mgr, append([]byte(nil), k...))
		}
		return true
	})
	if len(stale320723mgr) == 0 {
		t.Fatal("no manager_churn_rank entry of 320723's manager")
	}
	city.Delete(stale320723mgr[0])
	if _, _, ok, err := records.ChurnTop(city, "2026-05", "3207", true, mgr["320723"], 0.2, 10, keep); ok || err != nil {
		t.Errorf("a manager's month with a rank entry missing: ok %v, %v; want false", ok, err)
	}
	for _, k := range stale {
		city.Delete(k)
	}
	if _, _, ok, err := records.ChurnTop(city, "2026-05", "3207", true, "", 0.2, 10, keep); ok || err != nil {
		t.Errorf("without the index: ok %v, %v; want false", ok, err)
	}
	if top, more, ok, err := records.ChurnTop(city, "2026-04", "3207", true, "", 0.2, 10, keep); !ok || err != nil || len(top) != 0 || more {
		t.Errorf("a month without warnings: %v %v %v %v; want none, ok", top, more, ok, err)
	}
}

// rollUp applies every record the county of w wrote to city, as the
// uplink does (crm.ApplyReplica: the city's own indexes).
func rollUp(t *testing.T, w *crmtest.World, city crm.Txn) {
	t.Helper()
	if err := w.Tx.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		if err := crm.ApplyReplica(city, string(k), append([]byte(nil), v...)); err != nil {
			t.Fatal(err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
}
