package api_test

import (
	"strings"
	"testing"
)

// TestWorkOrder_TakingRegionIsTheServers: the region that took an order
// is the node's region, decided by the server. Left out or given as this
// region, it is this region; any other value (a neighbouring county, the
// province) is refused with 400 naming taking_region, in a create and in
// an import, and nothing is written.
func TestWorkOrder_TakingRegionIsTheServers(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	cus := admin.create("customers", customerBody("TK-1"))
	before := admin.snapshot()
	for _, given := range []string{otherRegion, "32"} {
		st, out := admin.do("POST", "/api/v1/work_orders", workOrderBody(cus).with("taking_region", given))
		e := wantError(t, st, out, 400, "invalid", "taking_region")
		if !strings.Contains(e.Message, region) || !strings.Contains(e.Message, given) {
			t.Errorf("message %q does not name this region %s and the value %s", e.Message, region, given)
		}
		st, out = admin.do("POST", "/api/v1/work_orders/import", []obj{workOrderBody(cus), workOrderBody(cus).with("taking_region", given)})
		wantError(t, st, out, 400, "invalid", "rows")
		if !strings.Contains(string(out), `"field":"taking_region"`) || !strings.Contains(string(out), `"row":1`) {
			t.Errorf("import refusal does not name row 1's taking_region: %s", out)
		}
	}
	admin.on(t).wantUnchanged(before)
	for _, body := range []obj{workOrderBody(cus), workOrderBody(cus).with("taking_region", region)} {
		o := admin.must(201, "POST", "/api/v1/work_orders", body)
		if o["taking_region"] != region {
			t.Errorf("taking_region %v; want %s", o["taking_region"], region)
		}
	}
	imp := admin.must(201, "POST", "/api/v1/work_orders/import", []obj{workOrderBody(cus)})
	id := imp["ids"].([]any)[0].(string)
	if o := admin.must(200, "GET", "/api/v1/work_orders/"+id, nil); o["taking_region"] != region {
		t.Errorf("imported order taken at %v; want %s", o["taking_region"], region)
	}
}
