package replication_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/replication/link"
)

// writer keeps creating, updating and deleting customers in one county
// through its API until stopped, spreading requests over the county's nodes.
type writer struct {
	region string
	acked  atomic.Int64
	errors atomic.Int64
	first  atomic.Value // the first refusal, for the log
}

func (w *writer) refused(st int, body []byte) {
	w.errors.Add(1)
	w.first.CompareAndSwap(nil, fmt.Sprintf("%d %.300s", st, body))
}

func (w *writer) run(t *testing.T, c *testcluster.Cluster, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	clients := []*testcluster.Client{}
	for i := 0; i < c.Size(); i++ {
		if c.Node(i) != nil {
			clients = append(clients, c.Admin(i))
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(w.region)), uint64(time.Now().UnixNano())))
	type rec struct {
		id      string
		version int
	}
	var mine []rec
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		cl := clients[rng.IntN(len(clients))]
		switch op := rng.IntN(10); {
		case op < 7 || len(mine) == 0:
			st, body := cl.Do("POST", "/api/v1/customers", countyCustomer(w.region, fmt.Sprintf("F%s-%05d", w.region, seq)))
			if st != 201 {
				w.refused(st, body)
				continue
			}
			var r struct {
				ID      string
				Version int
			}
			json.Unmarshal(body, &r)
			mine = append(mine, rec{r.ID, r.Version})
		case op < 9:
			i := rng.IntN(len(mine))
			st, body := cl.Do("PATCH", "/api/v1/customers/"+mine[i].id, map[string]any{"version": mine[i].version, "capacity_kva": 100 + seq})
			if st != 200 {
				w.refused(st, body)
				continue
			}
			var r struct{ Version int }
			json.Unmarshal(body, &r)
			mine[i].version = r.Version
		default:
			i := rng.IntN(len(mine))
			if st, body := cl.Do("DELETE", fmt.Sprintf("/api/v1/customers/%s?version=%d", mine[i].id, mine[i].version), nil); st != 204 {
				w.refused(st, body)
				continue
			}
			mine = append(mine[:i], mine[i+1:]...)
		}
		w.acked.Add(1)
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
	}
}

var faultHierarchy = []testcluster.RegionSpec{
	{Code: "32"}, {Code: "3207"}, {Code: "3208"},
	{Code: "320722", Nodes: 3}, {Code: "320723"}, {Code: "320803"}, {Code: "320804"},
}

var counties = []string{"320722", "320723", "320803", "320804"}

func cityOf(county string) string { return county[:4] }

// TestTiers_RandomCutsAndHeals: links between counties, cities and the
// province are cut and healed at random while four counties write; after
// the last heal every city's and the province's copy of each county equals
// the county's records, key for key.
func TestTiers_RandomCutsAndHeals(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: faultHierarchy, Node: func(c *node.Config) {
		c.FeedRetention = 400 // small, so that long cuts force snapshot resyncs too
	}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ws []*writer
	for _, county := range counties {
		w := &writer{region: county}
		ws = append(ws, w)
		wg.Add(1)
		go w.run(t, h.Region(county), stop, &wg)
	}
	acked := func() (n int64) {
		for _, w := range ws {
			n += w.acked.Load()
		}
		return n
	}
	// The counties are writing before the faults start (a slow machine
	// only makes this wait longer).
	testcluster.WaitFor(t, 60*time.Second, "every county writing", func() bool {
		for _, w := range ws {
			if w.acked.Load() < 10 {
				return false
			}
		}
		return true
	})
	before := acked()
	links := []string{"320722", "320723", "320803", "320804", "3207", "3208"}
	rng := rand.New(rand.NewPCG(1, 2))
	deadline := time.Now().Add(8 * time.Second)
	cuts := 0
	for time.Now().Before(deadline) {
		l := links[rng.IntN(len(links))]
		if h.Faults.IsCut(l) {
			h.Faults.Heal(l)
		} else {
			h.Faults.Cut(l)
			cuts++
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
	}
	for _, l := range links {
		h.Faults.Heal(l)
	}
	during := acked() - before
	close(stop)
	wg.Wait()
	total := acked()
	t.Logf("%d link cuts; %d acknowledged writes in 4 counties (%d during the faults)", cuts, total, during)
	for _, w := range ws {
		if f := w.first.Load(); f != nil {
			t.Logf("%s: %d acknowledged, %d refused; first refusal: %v", w.region, w.acked.Load(), w.errors.Load(), f)
		}
	}
	if during == 0 {
		t.Fatalf("no write was acknowledged while links were being cut: the counties did not keep working")
	}
	for _, county := range counties {
		h.WaitReplicated(county, cityOf(county), 60*time.Second)
		h.WaitReplicated(county, "32", 60*time.Second)
	}
}

// TestTiers_CutOffCountyKeepsWorking: a county cut off from its city keeps
// taking reads and writes, catches up when the link returns, and, when it
// wrote more than its feed keeps, the city resyncs it from a snapshot
// (deletes made during the cut included). The city's sweep of what the
// snapshot did not carry looks at 7 records an entry here, so the county
// sends it Sweep parts until it ends.
func TestTiers_CutOffCountyKeepsWorking(t *testing.T) {
	old := link.SetMaxSweep(7)
	t.Cleanup(func() { link.SetMaxSweep(old) }) // after the hierarchy stops
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}},
		Node: func(c *node.Config) { c.FeedRetention = 50 }})
	county := h.Region("320722").Admin(0)
	var ids []string
	create := func(acc string) {
		t.Helper()
		st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", acc))
		if st != 201 {
			t.Fatalf("create %s while cut off: %d %s", acc, st, body)
		}
		var r struct{ ID string }
		json.Unmarshal(body, &r)
		ids = append(ids, r.ID)
	}
	for i := 0; i < 10; i++ {
		create(fmt.Sprintf("C-%03d", i))
	}
	h.WaitReplicated("320722", "32", 10*time.Second)

	h.Faults.Cut("320722")
	for i := 10; i < 20; i++ {
		create(fmt.Sprintf("C-%03d", i))
	}
	if st, body := county.Do("GET", "/api/v1/customers/"+ids[15], nil); st != 200 {
		t.Fatalf("read while cut off: %d %s", st, body)
	}
	h.Faults.Heal("320722")
	h.WaitReplicated("320722", "3207", 10*time.Second)
	h.WaitReplicated("320722", "32", 10*time.Second)

	// Past retention: more writes than the feed keeps, and deletes.
	h.Faults.Cut("320722")
	for i := 20; i < 120; i++ {
		create(fmt.Sprintf("C-%03d", i))
	}
	for _, id := range ids[:5] {
		if st, body := county.Do("DELETE", "/api/v1/customers/"+id, nil); st != 204 {
			t.Fatalf("delete while cut off: %d %s", st, body)
		}
	}
	testcluster.WaitFor(t, 10*time.Second, "the county to prune its feed past the city's cursor", func() bool {
		cn := h.Region("320722")
		first, _, _ := replication.FeedBounds(cn.Node(cn.Leader()).Group().Reader())
		return first > 60
	})
	h.Faults.Heal("320722")
	h.WaitReplicated("320722", "3207", 20*time.Second)
	h.WaitReplicated("320722", "32", 20*time.Second)
	// The records can match before the resync's last sweep part (which
	// counts the resync and moves the cursor) is applied: the sweep's
	// earlier parts already dropped what the snapshot did not carry.
	testcluster.WaitFor(t, 20*time.Second, "the city to count a resync of 320722 from a snapshot", func() bool {
		st, body := h.Region("3207").Admin(0).Do("GET", "/api/v1/sync/status", nil)
		return st == 200 && childResyncs(body, "320722") >= 1
	})
	for _, id := range ids[:5] {
		if st, _ := h.Region("32").Admin(0).Do("GET", "/api/v1/customers/"+id, nil); st != 404 {
			t.Fatalf("customer %s deleted during the cut is still at the province (%d)", id, st)
		}
	}
}

// TestTiers_LeaderKillsDuringUplink: the county's and the city's leaders
// are killed while the county writes; nothing is lost or duplicated above.
func TestTiers_LeaderKillsDuringUplink(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207", Nodes: 3}, {Code: "320722", Nodes: 3}}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	w := &writer{region: "320722"}
	wg.Add(1)
	go w.run(t, h.Region("320722"), stop, &wg)
	waitWrites := func(n int64) {
		testcluster.WaitFor(t, 30*time.Second, fmt.Sprintf("%d writes", n), func() bool { return w.acked.Load() >= n })
	}
	waitWrites(100)
	county, city := h.Region("320722"), h.Region("3207")
	kc := county.Leader()
	county.Kill(kc)
	waitWrites(w.acked.Load() + 50)
	kp := city.Leader()
	city.Kill(kp)
	waitWrites(w.acked.Load() + 50)
	county.Restart(kc)
	city.Restart(kp)
	waitWrites(w.acked.Load() + 50)
	close(stop)
	wg.Wait()
	t.Logf("%d acknowledged writes, %d refused around the kills", w.acked.Load(), w.errors.Load())
	h.WaitReplicated("320722", "3207", 60*time.Second)
	h.WaitReplicated("320722", "32", 60*time.Second)
}

// TestTiers_RetentionByAge: while the parent is away, feed entries older
// than the age bound are dropped; the parent then resyncs and ends equal.
func TestTiers_RetentionByAge(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}},
		Node: func(c *node.Config) { c.FeedRetentionAge = 300 * time.Millisecond }})
	county := h.Region("320722")
	h.Faults.Cut("320722")
	cl := county.Admin(0)
	for i := 0; i < 5; i++ {
		if st, body := cl.Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("AGE-%d", i))); st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	_, head, _ := replication.FeedBounds(county.Node(0).Group().Reader())
	testcluster.WaitFor(t, 10*time.Second, "entries older than the age bound to be dropped", func() bool {
		first, _, _ := replication.FeedBounds(county.Node(0).Group().Reader())
		return first > head-3 // the canaries keep coming; the writes are gone
	})
	h.Faults.Heal("320722")
	h.WaitReplicated("320722", "3207", 20*time.Second)
}

// childResyncs answers how many snapshot resyncs a node's
// /api/v1/sync/status body counts from its child child (-1: no such link).
func childResyncs(body []byte, child string) int {
	var status struct {
		Links []struct {
			Peer, Direction string
			Resyncs         int
		}
	}
	json.Unmarshal(body, &status)
	for _, l := range status.Links {
		if l.Peer == child && l.Direction == "from-child" {
			return l.Resyncs
		}
	}
	return -1
}
