package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestTiers_ClassRulesFlowDown: class thresholds written at the province
// and then at the city reach the county through the downlink, and the
// county's customer is classified under the rule in force there; the
// province, reading the county's replica, agrees. A bulletin made at the
// county rolls up.
func TestTiers_ClassRulesFlowDown(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}}})
	county, city, prov := h.Region("320722").Client(0), h.Region("3207").Client(0), h.Region("32").Client(0)
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
	cus := must(county, 201, "POST", "/api/v1/customers", map[string]any{"account_no": "T-1", "name": "连云港某化工有限公司", "category": "industrial",
		"voltage_kv": 10, "capacity_kva": 5000, "region": "320722"})["id"].(string)
	for m := 1; m <= 12; m++ {
		must(county, 201, "POST", "/api/v1/bills", map[string]any{"customer_id": cus, "period": fmt.Sprintf("2025-%02d", m), "kwh": 50000, "billed": 35000, "paid": 0})
	}
	classAt := func(cl *testcluster.Client, extra string) string {
		st, out := cl.Do("GET", "/api/v1/customers/"+cus+"/class?day=2026-01-15"+extra, nil)
		if st != 200 {
			return fmt.Sprintf("%d %s", st, out)
		}
		var c struct {
			Class string
			Rules struct{ Scope string }
		}
		_ = json.Unmarshal(out, &c)
		return c.Class + "@" + c.Rules.Scope
	}
	if got := classAt(county, ""); got != "ordinary@" {
		t.Fatalf("under the defaults: %s", got)
	}
	must(prov, 201, "POST", "/api/v1/directives", map[string]any{"kind": "class_thresholds", "title": "省大客户标准", "body": map[string]any{"annual_kwh": 500000}})
	testcluster.WaitFor(t, 20*time.Second, "the province's rule at the county", func() bool { return classAt(county, "") == "big@32" })
	must(city, 201, "POST", "/api/v1/directives", map[string]any{"kind": "class_thresholds", "title": "市大客户标准", "body": map[string]any{"annual_kwh": 700000}})
	testcluster.WaitFor(t, 20*time.Second, "the city's rule at the county", func() bool { return classAt(county, "") == "ordinary@3207" })
	// The province reads the county's customer from its replica, with the
	// city's directive rolled up: the same answer.
	h.WaitReplicated("320722", "32", 20*time.Second)
	testcluster.WaitFor(t, 20*time.Second, "the same class at the province", func() bool { return classAt(prov, "") == "ordinary@3207" })

	must(county, 201, "POST", "/api/v1/bulletins/generate", map[string]any{"period": "2026-01"})
	testcluster.WaitFor(t, 20*time.Second, "the bulletin at the province", func() bool {
		st, out := prov.Do("GET", "/api/v1/bulletins?region=32&scope=subtree", nil)
		var page struct{ Items []map[string]any }
		_ = json.Unmarshal(out, &page)
		return st == 200 && len(page.Items) == 1 && page.Items[0]["owner"] == "320722"
	})
	// Written below, read-only above.
	st, out := prov.Do("POST", "/api/v1/key_projects", keyProjectBody("").with("customer_id", nil, "region", "320722"))
	wantError(t, st, out, 403, "wrong_owner", "region")
}
