package node_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestCalendar_PushedDownRestartsClocks: a county project accepted near
// the end of a year (today: 2026-12) has a deadline in the next one, which
// no calendar holds, so its clock stops (clock_error; the test skips on a
// day when it does not). When the city writes a 2027 calendar
// directive, the county counts the deadline as soon as the directive
// arrives over the downlink, with no stage action, and the recount rolls
// back up to the city.
func TestCalendar_PushedDownRestartsClocks(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	county, city := h.Region("320722"), h.Region("3207")
	cus := create(t, county.Client(0), countyCustomer("320722", "CAL-1"))
	st, raw := county.Client(0).Do("POST", "/api/v1/projects", map[string]any{"kind": "new_connection", "customer_id": cus["id"],
		"voltage_kv": 10, "supply": "single", "capacity_kva": 400, "accepted_at": time.Now().Add(-time.Hour)})
	if st != 201 {
		t.Fatalf("project: %d %s", st, raw)
	}
	var p struct {
		ID         string `json:"id"`
		ClockError string `json:"clock_error"`
	}
	json.Unmarshal(raw, &p)
	if p.ClockError == "" {
		t.Skipf("accepted today, the project's limits stay within the years the calendar holds: %s", raw)
	}
	year := func(y int) map[string]any {
		return map[string]any{"holidays": map[string]any{"元旦": []string{fmt.Sprintf("%d-01-01", y)}}, "workdays": []string{}}
	}
	next := time.Now().Year()
	st, raw = city.Client(0).Do("POST", "/api/v1/directives", map[string]any{"kind": "calendar", "title": "2027年节假日", "scope": "3207",
		"body": map[string]any{"years": map[string]any{strconv.Itoa(next): year(next), strconv.Itoa(next + 1): year(next + 1)}}})
	if st != 201 {
		t.Fatalf("calendar directive: %d %s", st, raw)
	}
	counted := func(cl *testcluster.Client) func() bool {
		return func() bool {
			st, raw := cl.Do("GET", "/api/v1/projects/"+p.ID, nil)
			var got struct {
				ClockError string `json:"clock_error"`
				UpdatedBy  string `json:"updated_by"`
			}
			json.Unmarshal(raw, &got)
			return st == 200 && got.ClockError == "" && got.UpdatedBy == "system"
		}
	}
	testcluster.WaitFor(t, 20*time.Second, "the county's project counted on the 2027 calendar", counted(county.Client(0)))
	testcluster.WaitFor(t, 20*time.Second, "the recount rolled up to the city", counted(city.Client(0)))
}
