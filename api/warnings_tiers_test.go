package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestTiers_WarningsRollUp: two counties run their month's warnings where
// their customers are owned; the city lists both from the replicated
// records (subtree) or one county's (region), the market counters of
// both counties' bills add up by category at the city, and a county user
// asking for its sibling is refused naming region.
func TestTiers_WarningsRollUp(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	city := h.Region("3207").Client(0)
	must := func(cl *testcluster.Client, want int, method, path string, body any) map[string]any {
		t.Helper()
		st, out := cl.Do(method, path, body)
		if st != want {
			t.Fatalf("%s %s: %d %s", method, path, st, out)
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return m
	}
	const months = 36                                      // 2023-01 .. 2025-12
	last := map[string]float64{"320722": 0, "320723": 0.5} // December: stopped, halved
	ids := map[string]string{}
	for county, share := range last {
		cl := h.Region(county).Client(0)
		ids[county] = must(cl, 201, "POST", "/api/v1/customers", map[string]any{"account_no": "W-" + county, "name": "化工厂 " + county,
			"category": "industrial", "voltage_kv": 10, "capacity_kva": 2000, "region": county})["id"].(string)
		rows := []map[string]any{}
		for i := range months {
			k := seasonal(i, 80000)
			if i == months-1 {
				k = math.Round(k * share)
			}
			rows = append(rows, map[string]any{"customer_id": ids[county], "period": period(i), "kwh": k, "billed": math.Round(k * 0.6), "paid": 0})
		}
		must(cl, 201, "POST", "/api/v1/bills/import", rows)
		run := must(cl, 200, "POST", "/api/v1/warnings/run", map[string]any{"period": "2025-12"})
		if run["abnormal"] != 1.0 || run["trends"] != 1.0 {
			t.Fatalf("%s's run: %v", county, run)
		}
	}
	h.WaitReplicated("320722", "3207", 30*time.Second)
	h.WaitReplicated("320723", "3207", 30*time.Second)
	list := func(q string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, w := range must(city, 200, "GET", "/api/v1/warnings/abnormal?period=2025-12&"+q, nil)["warnings"].([]any) {
			out = append(out, w.(map[string]any))
		}
		return out
	}
	all := list("region=3207&scope=subtree")
	if len(all) != 2 {
		t.Fatalf("the city's subtree: %v", all)
	}
	for _, w := range all {
		want := map[string]string{"320722": "zero", "320723": "drop"}[w["region"].(string)]
		if w["reasons"].([]any)[0] != want || w["customer_id"] != ids[w["region"].(string)] {
			t.Errorf("warning %v: want %s", w, want)
		}
	}
	if one := list("region=320723"); len(one) != 1 || one[0]["region"] != "320723" {
		t.Errorf("one county at the city: %v", one)
	}
	if own := list("region=3207"); len(own) != 0 {
		t.Errorf("the city's own customers: %v", own)
	}
	mk := must(city, 200, "GET", "/api/v1/analysis/market?region=3207&scope=subtree&period=2025-12", nil)
	bc := mk["by_category"].([]any)
	if len(bc) != 1 || bc[0].(map[string]any)["customers_billed"] != 2.0 || fmt.Sprint(mk["regions"]) != "[320722 320723]" {
		t.Errorf("the city's market: %v", mk)
	}
	cs := must(city, 200, "GET", "/api/v1/analysis/customers?rank=shrinking&region=3207&scope=subtree&period=2025-12", nil)["customers"].([]any)
	if len(cs) != 2 || cs[0].(map[string]any)["customer_id"] != ids["320722"] { // the stopped one shrank most
		t.Errorf("shrinking at the city: %v", cs)
	}
	st, out := h.Region("320723").Client(0).Do("GET", "/api/v1/warnings/abnormal?region=320722", nil)
	wantError(t, st, out, 403, "forbidden", "region")
}
