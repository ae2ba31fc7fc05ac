package replication_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// regionState is GET /api/v1/regions/{code} as a test reads it.
type regionState struct {
	Mode          string `json:"mode"`
	Epoch         uint64 `json:"epoch"`
	AckedEpoch    uint64 `json:"acked_epoch"`
	Writer        string `json:"writer"`
	OpenConflicts int    `json:"open_conflicts"`
}

func regionAt(t *testing.T, h *testcluster.Hierarchy, at, code string) regionState {
	t.Helper()
	st, body := h.Region(at).Client(0).Do("GET", "/api/v1/regions/"+code, nil)
	if st != 200 {
		t.Fatalf("GET region %s at %s: %d %s", code, at, st, body)
	}
	var r regionState
	json.Unmarshal(body, &r)
	return r
}

func setMode(t *testing.T, h *testcluster.Hierarchy, at, code string, body map[string]any) regionState {
	t.Helper()
	st, resp := h.Region(at).Client(0).Do("PUT", "/api/v1/regions/"+code+"/management", body)
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
	go county.run(t, h.Region("320722").Client(0), "320722", "CNTY", stop, &wg)
	time.Sleep(300 * time.Millisecond)

	if r := setMode(t, h, "3207", "320722", map[string]any{"mode": "full"}); r.Epoch != 1 {
		t.Fatalf("takeover answered %+v", r)
	}
	testcluster.WaitFor(t, 20*time.Second, "the county's acknowledgement at the city", func() bool {
		return regionAt(t, h, "3207", "320722").Writer == "3207"
	})
	// The city now writes the county's records; the county refuses.
	for i := range 10 {
		if st, body := h.Region("3207").Client(0).Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("CITY-%d", i))); st != 201 {
			t.Fatalf("the city writes for the county it manages: %d %s", st, body)
		}
	}
	st, body := h.Region("320722").Client(0).Do("POST", "/api/v1/customers", countyCustomer("320722", "LATE"))
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
