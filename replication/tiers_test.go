package replication_test

import (
	"encoding/json"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

func countyCustomer(region, acc string) map[string]any {
	return map[string]any{"account_no": acc, "name": "客户" + acc, "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": region}
}

func TestTiers_RollUpAndPushDown(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{
		{Code: "32"}, {Code: "3207"}, {Code: "3208"}, {Code: "320722"}, {Code: "320803"},
	}})
	county := h.Region("320722").Client(0)
	st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "UP-1"))
	if st != 201 {
		t.Fatalf("create at county: %d %s", st, body)
	}
	var rec struct{ ID string }
	json.Unmarshal(body, &rec)
	h.WaitReplicated("320722", "3207", 10*time.Second)
	h.WaitReplicated("320722", "32", 10*time.Second)
	if st, body := h.Region("32").Client(0).Do("GET", "/api/v1/customers/"+rec.ID+"?region=320722", nil); st != 200 {
		t.Fatalf("read at the province: %d %s", st, body)
	}
	// A directive from the province reaches every county; one from a city only its own.
	prov := h.Region("32").Client(0)
	if st, body := prov.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "全省迎峰度夏"}); st != 201 {
		t.Fatalf("province directive: %d %s", st, body)
	}
	city := h.Region("3207").Client(0)
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "tariff", "title": "连云港分时电价", "body": map[string]any{"peak": 1.6}}); st != 201 {
		t.Fatalf("city directive: %d %s", st, body)
	}
	testcluster.WaitFor(t, 10*time.Second, "directives pushed down", func() bool {
		return dirs(t, h, "320722") == 2 && dirs(t, h, "320803") == 1 && dirs(t, h, "3208") == 1
	})
}

// dirs counts the directive records a region's first node holds.
func dirs(t *testing.T, h *testcluster.Hierarchy, region string) int {
	n := 0
	h.Region(region).Node(0).Group().Reader().Iterate([]byte("r/directives/"), []byte("r/directives0"), func(k, v []byte) bool { n++; return true })
	return n
}
