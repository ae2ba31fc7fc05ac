package node_test

import (
	"encoding/json"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestDuplicateAccounts_SeenAbove: two counties each accept 户号 DUP-7 (it
// is unique only within a region); once both roll up, the city lists the
// account as a duplicate with both regions and customers, and a county
// alone sees no duplicate.
func TestDuplicateAccounts_SeenAbove(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	a := create(t, h.Region("320722").Client(0), countyCustomer("320722", "DUP-7"))
	b := create(t, h.Region("320723").Client(0), countyCustomer("320723", "DUP-7"))
	create(t, h.Region("320723").Client(0), countyCustomer("320723", "ONLY-1"))
	city := h.Region("3207").Client(0)
	type answer struct {
		Count      int `json:"count"`
		Duplicates []struct {
			AccountNo string   `json:"account_no"`
			Regions   []string `json:"regions"`
			Customers []struct {
				ID    string `json:"id"`
				Owner string `json:"owner"`
			} `json:"customers"`
		} `json:"duplicates"`
	}
	var got answer
	testcluster.WaitFor(t, 20*time.Second, "the city lists DUP-7", func() bool {
		st, raw := city.Do("GET", "/api/v1/customers/duplicates", nil)
		got = answer{}
		json.Unmarshal(raw, &got)
		return st == 200 && got.Count == 1
	})
	d := got.Duplicates[0]
	if d.AccountNo != "DUP-7" || len(d.Regions) != 2 || d.Regions[0] != "320722" || d.Regions[1] != "320723" || len(d.Customers) != 2 ||
		(d.Customers[0].ID != a["id"] && d.Customers[1].ID != a["id"]) || (d.Customers[0].ID != b["id"] && d.Customers[1].ID != b["id"]) {
		t.Errorf("duplicate %+v; want DUP-7 held by %s (320722) and %s (320723)", d, a["id"], b["id"])
	}
	st, raw := h.Region("320722").Client(0).Do("GET", "/api/v1/customers/duplicates", nil)
	got = answer{}
	json.Unmarshal(raw, &got)
	if st != 200 || got.Count != 0 {
		t.Errorf("a county alone: %d %s; want no duplicate", st, raw)
	}
	if st, raw := city.Do("GET", "/api/v1/customers/duplicates?region=320722", nil); st != 200 || json.Unmarshal(raw, &got) != nil || got.Count != 0 {
		t.Errorf("the city, region=320722: %d %s; want none (one region holds it there)", st, raw)
	}
}
