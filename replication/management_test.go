package replication_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
)

// regionState is GET /api/v1/regions/{code} as a test reads it.
type regionState struct {
	Mode            string `json:"mode"`
	Epoch           uint64 `json:"epoch"`
	AckedEpoch      uint64 `json:"acked_epoch"`
	Writer          string `json:"writer"`
	OpenConflicts   int    `json:"open_conflicts"`
	PendingCommands int    `json:"pending_commands"`
}

func regionAt(t *testing.T, h *testcluster.Hierarchy, at, code string) regionState {
	t.Helper()
	st, body := h.Region(at).Admin(0).Do("GET", "/api/v1/regions/"+code, nil)
	if st != 200 {
		t.Fatalf("GET region %s at %s: %d %s", code, at, st, body)
	}
	var r regionState
	json.Unmarshal(body, &r)
	return r
}

func setMode(t *testing.T, h *testcluster.Hierarchy, at, code string, body map[string]any) regionState {
	t.Helper()
	st, resp := h.Region(at).Admin(0).Do("PUT", "/api/v1/regions/"+code+"/management", body)
	if st != 200 {
		t.Fatalf("PUT management of %s at %s: %d %s", code, at, st, resp)
	}
	var r regionState
	json.Unmarshal(resp, &r)
	return r
}

// writer creates customers at a region until stopped, keeping the account
// numbers of the writes that were acknowledged and the errors of the rest.
type mgmtWriter struct {
	mu      sync.Mutex
	acked   []string
	refused []string
}

func (w *mgmtWriter) run(t *testing.T, cl *testcluster.Client, region, prefix string, stop <-chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		acc := fmt.Sprintf("%s-%d", prefix, i)
		st, body := cl.Do("POST", "/api/v1/customers", countyCustomer(region, acc))
		w.mu.Lock()
		switch st {
		case 201:
			w.acked = append(w.acked, acc)
		default:
			w.refused = append(w.refused, fmt.Sprintf("%d %s", st, body))
		}
		w.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

func accounts(t *testing.T, h *testcluster.Hierarchy, at, county string) map[string]int {
	out := map[string]int{}
	for _, v := range testcluster.Records(t, h.Region(at).Node(0), county) {
		var c struct {
			AccountNo string `json:"account_no"`
		}
		if json.Unmarshal([]byte(v), &c) == nil && c.AccountNo != "" {
			out[c.AccountNo]++
		}
	}
	return out
}

// TestManagement_FullTakeoverAndRelease: the city takes the county into
// full management and hands it back while the county keeps writing. Every
// acknowledged write survives at both tiers, writes refused during the
// takeover name the managing region, and both replicas end equal.
func TestManagement_FullTakeoverAndRelease(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	if r := regionAt(t, h, "3207", "320722"); r.Mode != "autonomous" || r.Writer != "320722" || r.Epoch != 0 {
		t.Fatalf("before any setting: %+v", r)
	}
	var county mgmtWriter
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go county.run(t, h.Region("320722").Admin(0), "320722", "CNTY", stop, &wg)
	time.Sleep(300 * time.Millisecond)

	if r := setMode(t, h, "3207", "320722", map[string]any{"mode": "full"}); r.Epoch != 1 {
		t.Fatalf("takeover answered %+v", r)
	}
	testcluster.WaitFor(t, 20*time.Second, "the county's acknowledgement at the city", func() bool {
		return regionAt(t, h, "3207", "320722").Writer == "3207"
	})
	// The city now writes the county's records; the county refuses.
	for i := range 10 {
		if st, body := h.Region("3207").Admin(0).Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("CITY-%d", i))); st != 201 {
			t.Fatalf("the city writes for the county it manages: %d %s", st, body)
		}
	}
	st, body := h.Region("320722").Admin(0).Do("POST", "/api/v1/customers", countyCustomer("320722", "LATE"))
	if st != 421 && st != 409 && st != 403 || !strings.Contains(string(body), "write at 3207") {
		t.Fatalf("a county write under full management: %d %s", st, body)
	}
	if r := regionAt(t, h, "320722", "320722"); r.Mode != "full" || r.Epoch != 1 || r.Writer != "3207" {
		t.Fatalf("the county's own view under full management: %+v", r)
	}

	setMode(t, h, "3207", "320722", map[string]any{"mode": "autonomous"})
	testcluster.WaitFor(t, 20*time.Second, "the county to take its records back", func() bool {
		r := regionAt(t, h, "320722", "320722")
		return r.Writer == "320722" && r.Epoch == 2
	})
	time.Sleep(300 * time.Millisecond) // the county writes again
	close(stop)
	wg.Wait()

	h.WaitReplicated("320722", "3207", 30*time.Second)
	for _, at := range []string{"320722", "3207"} {
		got := accounts(t, h, at, "320722")
		for _, acc := range county.acked {
			if got[acc] != 1 {
				t.Errorf("acknowledged county write %s: %d copies at %s", acc, got[acc], at)
			}
		}
		for i := range 10 {
			if acc := fmt.Sprintf("CITY-%d", i); got[acc] != 1 {
				t.Errorf("the city's write %s: %d copies at %s (records must stay continuous after release)", acc, got[acc], at)
			}
		}
	}
	var named int
	for _, r := range county.refused {
		if strings.Contains(r, "3207") {
			named++
		} else {
			t.Errorf("a refused county write does not name the managing region: %s", r)
		}
	}
	if named == 0 {
		t.Errorf("no county write was refused during the takeover (acked %d)", len(county.acked))
	}
	t.Logf("county writes: %d acknowledged, %d refused during full management", len(county.acked), len(county.refused))
}

func customerIDs(t *testing.T, h *testcluster.Hierarchy, at, county string) map[string]string {
	out := map[string]string{}
	for k, v := range testcluster.Records(t, h.Region(at).Node(0), county) {
		var c struct {
			AccountNo string `json:"account_no"`
		}
		if strings.HasPrefix(k, "r/customers/") && json.Unmarshal([]byte(v), &c) == nil {
			out[c.AccountNo] = strings.TrimPrefix(k, "r/customers/")
		}
	}
	return out
}

func customerAt(t *testing.T, h *testcluster.Hierarchy, at, id string) (name string, version uint64) {
	t.Helper()
	st, body := h.Region(at).Admin(0).Do("GET", "/api/v1/customers/"+id+"?region=320722", nil)
	if st != 200 {
		t.Fatalf("GET customer %s at %s: %d %s", id, at, st, body)
	}
	var c struct {
		Name    string
		Version uint64
	}
	json.Unmarshal(body, &c)
	return c.Name, c.Version
}

func patchName(t *testing.T, h *testcluster.Hierarchy, at, id, name string) {
	t.Helper()
	_, v := customerAt(t, h, at, id)
	if st, body := h.Region(at).Admin(0).Do("PATCH", "/api/v1/customers/"+id, map[string]any{"version": v, "name": name}); st != 200 {
		t.Fatalf("PATCH %s at %s: %d %s", id, at, st, body)
	}
}

// TestManagement_ForcedTakeoverKeepsConflicts: the city takes a cut-off
// county over by force while the county goes on writing. After the heal
// every write the county made under the old epoch is an open conflict at
// the city (both versions, who, when), none is applied or lost; resolving
// them (keep parent's, keep child's, merged) makes the replicas equal.
func TestManagement_ForcedTakeoverKeepsConflicts(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	county, city := h.Region("320722").Admin(0), h.Region("3207").Admin(0)
	for _, acc := range []string{"F-1", "F-2"} {
		if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", acc)); st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	ids := customerIDs(t, h, "3207", "320722")

	h.Faults.Cut("320722")
	if r := setMode(t, h, "3207", "320722", map[string]any{"mode": "full", "force": true}); r.Epoch != 1 {
		t.Fatalf("forced takeover: %+v", r)
	}
	if r := regionAt(t, h, "3207", "320722"); r.Writer != "3207" {
		t.Fatalf("a forced takeover makes the city the writer at once: %+v", r)
	}
	patchName(t, h, "3207", ids["F-1"], "市里改的")
	// The county, cut off, does not know and goes on writing.
	patchName(t, h, "320722", ids["F-1"], "县里改的")
	patchName(t, h, "320722", ids["F-2"], "县里也改了")
	if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "F-NEW")); st != 201 {
		t.Fatalf("the cut-off county writes: %d %s", st, body)
	}
	h.Faults.Heal("320722")

	testcluster.WaitFor(t, 30*time.Second, "the county's acknowledgement and three conflicts at the city", func() bool {
		r := regionAt(t, h, "3207", "320722")
		return r.AckedEpoch == 1 && r.OpenConflicts == 3
	})
	st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "F-LATE"))
	if st == 201 || !strings.Contains(string(body), "write at 3207") {
		t.Fatalf("the county after it learned of the takeover: %d %s", st, body)
	}
	st, body = city.Do("GET", "/api/v1/conflicts?region=320722", nil)
	var list struct {
		Conflicts []struct {
			ID      string          `json:"id"`
			Key     string          `json:"key"`
			Child   json.RawMessage `json:"child"`
			Parent  json.RawMessage `json:"parent"`
			ChildBy string          `json:"child_by"`
			ChildAt time.Time       `json:"child_at"`
			Status  string          `json:"status"`
		} `json:"conflicts"`
	}
	if st != 200 || json.Unmarshal(body, &list) != nil || len(list.Conflicts) != 3 {
		t.Fatalf("conflicts: %d %s", st, body)
	}
	byKey := map[string]string{}
	for _, c := range list.Conflicts {
		if c.ChildBy != "admin" || c.ChildAt.IsZero() || c.Status != "open" || len(c.Child) < 10 {
			t.Errorf("conflict lacks who/when/version: %+v", c)
		}
		byKey[c.Key] = c.ID
		switch c.Key {
		case "r/customers/" + ids["F-1"]:
			if !strings.Contains(string(c.Child), "县里改的") || !strings.Contains(string(c.Parent), "市里改的") {
				t.Errorf("F-1 conflict keeps both versions: child %s parent %s", c.Child, c.Parent)
			}
		case "r/customers/" + ids["F-2"]:
		default:
			if string(c.Parent) != "null" || !strings.Contains(string(c.Child), "F-NEW") {
				t.Errorf("the county's new customer: child %s parent %s", c.Child, c.Parent)
			}
		}
	}
	// None of the county's old-epoch writes was applied at the city.
	if name, _ := customerAt(t, h, "3207", ids["F-1"]); name != "市里改的" {
		t.Errorf("F-1 at the city is %q: the county's conflicting write was applied", name)
	}
	if _, ok := customerIDs(t, h, "3207", "320722")["F-NEW"]; ok {
		t.Errorf("the county's new customer was applied at the city without a resolution")
	}
	// Release is held while conflicts are open.
	if st, body := city.Do("PUT", "/api/v1/regions/320722/management", map[string]any{"mode": "autonomous"}); st != 409 || !strings.Contains(string(body), "3 open conflicts") {
		t.Fatalf("release with open conflicts: %d %s", st, body)
	}
	resolve := func(id string, req map[string]any) {
		t.Helper()
		req["id"] = id
		if st, body := city.Do("POST", "/api/v1/conflicts/resolve", req); st != 200 && st != 204 {
			t.Fatalf("resolve %s: %d %s", id, st, body)
		}
	}
	resolve(byKey["r/customers/"+ids["F-1"]], map[string]any{"keep": "parent"})
	resolve(byKey["r/customers/"+ids["F-2"]], map[string]any{"keep": "child"})
	for k, id := range byKey {
		if k != "r/customers/"+ids["F-1"] && k != "r/customers/"+ids["F-2"] {
			merged := countyCustomer("320722", "F-NEW")
			merged["name"] = "合并后的新户"
			resolve(id, map[string]any{"keep": "merged", "body": merged})
		}
	}
	h.WaitReplicated("320722", "3207", 30*time.Second)
	for _, at := range []string{"3207", "320722"} {
		got := customerIDs(t, h, at, "320722")
		if n1, _ := customerAt(t, h, at, got["F-1"]); n1 != "市里改的" {
			t.Errorf("F-1 at %s: %q, want the parent's", at, n1)
		}
		if n2, _ := customerAt(t, h, at, got["F-2"]); n2 != "县里也改了" {
			t.Errorf("F-2 at %s: %q, want the child's", at, n2)
		}
		if got["F-NEW"] == "" {
			t.Errorf("F-NEW missing at %s after the merge", at)
		} else if n3, _ := customerAt(t, h, at, got["F-NEW"]); n3 != "合并后的新户" {
			t.Errorf("F-NEW at %s: %q, want the merged body", at, n3)
		}
	}
	// Handing it back now works; the county writes again.
	setMode(t, h, "3207", "320722", map[string]any{"mode": "autonomous"})
	testcluster.WaitFor(t, 20*time.Second, "the county to take its records back", func() bool {
		return regionAt(t, h, "320722", "320722").Writer == "320722"
	})
	if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "F-AFTER")); st != 201 {
		t.Fatalf("the county after release: %d %s", st, body)
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
}

// TestManagement_PartialForwarding: under partial management the city
// writes a granted collection of the county: the write is forwarded, applied
// at the county as the county's own, and the county's answer comes back. A
// refused one reports the county's reason at the city; an ungranted
// collection is refused naming the owner. Cut off, the city's writes queue
// durably (pending) and are applied in order when the link heals.
func TestManagement_PartialForwarding(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}},
		Node: func(c *node.Config) { c.ForwardWait = 1500 * time.Millisecond }})
	county, city := h.Region("320722").Admin(0), h.Region("3207").Admin(0)
	for _, acc := range []string{"P-1", "P-2"} {
		if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", acc)); st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	ids := customerIDs(t, h, "3207", "320722")

	setMode(t, h, "3207", "320722", map[string]any{"mode": "partial", "collections": []string{"interactions"}})
	_, v := customerAt(t, h, "3207", ids["P-1"])
	st, body := city.Do("PATCH", "/api/v1/customers/"+ids["P-1"], map[string]any{"version": v, "name": "未授权"})
	if st == 200 || !strings.Contains(string(body), `"owner":"320722"`) || !strings.Contains(string(body), "not granted") {
		t.Fatalf("a write in a collection not granted: %d %s", st, body)
	}

	setMode(t, h, "3207", "320722", map[string]any{"mode": "partial", "collections": []string{"customers", "interactions"}})
	st, body = city.Do("PATCH", "/api/v1/customers/"+ids["P-1"], map[string]any{"version": v, "name": "市里转发的"})
	if st != 200 || !strings.Contains(string(body), "市里转发的") || !strings.Contains(string(body), `"owner":"320722"`) || !strings.Contains(string(body), "admin@3207") {
		t.Fatalf("forwarded write: %d %s", st, body)
	}
	if name, _ := customerAt(t, h, "320722", ids["P-1"]); name != "市里转发的" {
		t.Fatalf("at the county: %q", name)
	}
	// The county refuses a stale version; the city reports the county's reason.
	st, body = city.Do("PATCH", "/api/v1/customers/"+ids["P-1"], map[string]any{"version": v, "name": "过期版本"})
	if st != 409 || !strings.Contains(string(body), "is at version") {
		t.Fatalf("a forwarded write the county refuses: %d %s", st, body)
	}

	// Cut off: queued at the city, pending, applied in order on heal.
	h.WaitReplicated("320722", "3207", 20*time.Second)
	_, v1 := customerAt(t, h, "3207", ids["P-1"])
	_, v2 := customerAt(t, h, "3207", ids["P-2"])
	h.Faults.Cut("320722")
	for _, w := range []struct {
		id   string
		ver  uint64
		name string
	}{{ids["P-1"], v1, "第一次"}, {ids["P-1"], v1 + 1, "第二次"}, {ids["P-2"], v2, "另一户"}} {
		st, body := city.Do("PATCH", "/api/v1/customers/"+w.id, map[string]any{"version": w.ver, "name": w.name})
		if st != 202 || !strings.Contains(string(body), `"status":"pending"`) {
			t.Fatalf("a forwarded write while the county is cut off: %d %s", st, body)
		}
	}
	if r := regionAt(t, h, "3207", "320722"); r.PendingCommands != 3 {
		t.Fatalf("pending commands at the city: %+v", r)
	}
	st, body = city.Do("GET", "/api/v1/commands?region=320722&status=pending", nil)
	if st != 200 || strings.Count(string(body), `"status":"pending"`) != 3 {
		t.Fatalf("pending list: %d %s", st, body)
	}
	// The queue shows in the link status and in the metrics.
	if st, body := city.Do("GET", "/api/v1/sync/status", nil); st != 200 || !strings.Contains(string(body), `"mode":"partial","epoch":2,"queued_commands":3`) {
		t.Fatalf("sync status at the city: %d %s", st, body)
	}
	st, body = city.Do("GET", "/metrics", nil)
	for _, want := range []string{`gridcrm_management_pending_commands{managed_region="320722",node="n1",region="3207"} 3`,
		`gridcrm_management_epoch{managed_region="320722",mode="partial",node="n1",region="3207"} 2`,
		`gridcrm_link_queued_commands{direction="from-child",node="n1",peer="320722",region="3207"} 3`} {
		if st != 200 || !strings.Contains(string(body), want) {
			for _, l := range strings.Split(string(body), "\n") {
				if strings.Contains(l, "management") || strings.Contains(l, "queued") {
					t.Log(l)
				}
			}
			t.Fatalf("metrics lack %s", want)
		}
	}
	h.Faults.Heal("320722")
	testcluster.WaitFor(t, 30*time.Second, "the queued writes' outcomes at the city", func() bool {
		return regionAt(t, h, "3207", "320722").PendingCommands == 0
	})
	st, body = city.Do("GET", "/api/v1/commands?region=320722", nil)
	if st != 200 || strings.Count(string(body), `"status":"applied"`) != 4 || strings.Count(string(body), `"status":"refused"`) != 1 {
		t.Fatalf("outcomes (the second write to P-1 applies only if it came after the first): %d %s", st, body)
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	if name, _ := customerAt(t, h, "320722", ids["P-1"]); name != "第二次" {
		t.Fatalf("P-1 at the county: %q, want the second write", name)
	}
	if name, _ := customerAt(t, h, "3207", ids["P-2"]); name != "另一户" {
		t.Fatalf("P-2 at the city: %q", name)
	}
}
