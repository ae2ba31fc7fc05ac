package replication_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/replication"
)

func customer(acc string) map[string]any {
	return map[string]any{"account_no": acc, "name": "测试客户" + acc, "category": "commercial", "voltage_kv": 0.4, "capacity_kva": 100, "region": "320722"}
}

// acked is what the writers saw succeed: account_no → record id.
type acked struct {
	mu  sync.Mutex
	ids map[string]string
}

func (a *acked) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

func (a *acked) add(acc, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[acc] = id
}

// customersByAccount reads every customer record from a state dump.
func customersByAccount(t *testing.T, state map[string]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for k, v := range state {
		if !strings.HasPrefix(k, "r/customers/") {
			continue
		}
		var rec struct {
			ID        string `json:"id"`
			AccountNo string `json:"account_no"`
		}
		if err := json.Unmarshal([]byte(v), &rec); err != nil {
			t.Fatal(err)
		}
		out[rec.AccountNo] = append(out[rec.AccountNo], rec.ID)
	}
	return out
}

// TestRegion_KillLeaderUnderLoad: 32 writers, the leader is killed in the
// middle; every acknowledged write is on every survivor and on the killed
// node once it is back; no write appears twice.
func TestRegion_KillLeaderUnderLoad(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 3})
	clients := make([]*testcluster.Client, c.Size())
	for i := range clients {
		clients[i] = c.Admin(i)
	}
	ack := &acked{ids: map[string]string{}}
	var attempts, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				acc := fmt.Sprintf("W%02d-%06d", w, seq)
				i := rng.IntN(len(clients))
				attempts.Add(1)
				st, body := clients[i].Do("POST", "/api/v1/customers", customer(acc))
				if st != 201 {
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				var rec struct{ ID string }
				if err := json.Unmarshal(body, &rec); err != nil || rec.ID == "" {
					t.Errorf("201 without an id: %s", body)
					return
				}
				ack.add(acc, rec.ID)
			}
		}(w)
	}
	waitAcked := func(n int) {
		testcluster.WaitFor(t, 60*time.Second, fmt.Sprintf("%d acknowledged writes", n), func() bool { return ack.len() >= n })
	}
	waitAcked(200)
	killed := c.Leader()
	c.Kill(killed)
	before := ack.len()
	waitAcked(before + 200) // the survivors elect a leader and go on
	close(stop)
	wg.Wait()
	t.Logf("attempts %d, acknowledged %d, failed %d (around the kill)", attempts.Load(), len(ack.ids), failures.Load())

	check := func(who string, state map[string]string) {
		t.Helper()
		got := customersByAccount(t, state)
		for acc, id := range ack.ids {
			ids := got[acc]
			if len(ids) != 1 || ids[0] != id {
				t.Fatalf("%s: acknowledged write %s (id %s) stored as %v", who, acc, id, ids)
			}
		}
		for acc, ids := range got {
			if len(ids) != 1 {
				t.Fatalf("%s: %s stored %d times: %v", who, acc, len(ids), ids)
			}
		}
	}
	state := c.WaitConverged(30 * time.Second)
	check("survivors", state)
	c.Restart(killed)
	final := c.WaitConverged(60 * time.Second)
	check("all nodes after restart", final)
	if d := testcluster.Diff(final, c.State(killed)); d != "" {
		t.Fatalf("restarted node differs: %s", d)
	}
}

// TestRegion_RestartFromDataDir: a node restarted from its data dir has the
// same state and applies nothing twice (it skips what its store has).
func TestRegion_RestartFromDataDir(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 3})
	cl := c.Admin(c.Leader())
	var id string
	for i := 0; i < 50; i++ {
		st, body := cl.Do("POST", "/api/v1/customers", customer(fmt.Sprintf("R-%03d", i)))
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var rec struct{ ID string }
		json.Unmarshal(body, &rec)
		id = rec.ID
	}
	for v := 1; v <= 5; v++ {
		if st, body := cl.Do("PATCH", "/api/v1/customers/"+id, map[string]any{"version": v, "capacity_kva": 100 + v}); st != 200 {
			t.Fatalf("update v%d: %d %s", v, st, body)
		}
	}
	want := c.WaitConverged(30 * time.Second)
	follower := (c.Leader() + 1) % 3
	appliedBefore := c.Node(follower).Group().Applied()
	c.Kill(follower)
	n := c.Restart(follower)
	c.WaitFor(30*time.Second, "restarted node to see a leader", func() bool { id, _ := n.Group().Leader(); return id != "" })
	if got := n.Group().Applied(); got < appliedBefore {
		t.Fatalf("applied index went back from %d to %d", appliedBefore, got)
	}
	if d := testcluster.Diff(want, c.State(follower)); d != "" {
		t.Fatalf("state after restart differs: %s", d)
	}
	if e := n.Group().AppliedEntries(); e != 0 {
		t.Fatalf("the restarted node re-applied %d entries it already had", e)
	}
	// Every node restarted at once: the region comes back with the same state.
	for i := 0; i < 3; i++ {
		c.Kill(i)
	}
	for i := 0; i < 3; i++ {
		c.Restart(i)
	}
	c.WaitReady()
	if d := testcluster.Diff(want, c.WaitConverged(30*time.Second)); d != "" {
		t.Fatalf("state after a full restart differs: %s", d)
	}
	for i := 0; i < 3; i++ {
		if e := c.Node(i).Group().AppliedEntries(); e != 0 {
			t.Fatalf("node %d re-applied %d entries after a full restart", i, e)
		}
	}
	st, body := c.Admin(0).Do("GET", "/api/v1/customers/"+id, nil)
	if st != 200 || !strings.Contains(string(body), `"version":6`) {
		t.Fatalf("after restart: %d %s", st, body)
	}
}

// TestRegion_JoinCatchesUpBySnapshot: a node added to a region that holds
// 6,000 customers (a state of about 14 MiB, several of the 4 MiB batches a
// restore commits in) receives a snapshot (the log behind it is compacted)
// and ends with the same state. GRIDCRM_JOIN_RECORDS sets the number of
// customers (make soak: 100,000; under -race that is many minutes of
// imports alone, and an import of 10,000 rows in one request outlasted the
// API's two-minute write timeout on a busy machine).
func TestRegion_JoinCatchesUpBySnapshot(t *testing.T) {
	records := 6_000
	if n, err := strconv.Atoi(os.Getenv("GRIDCRM_JOIN_RECORDS")); err == nil && n > 0 {
		records = n
	}
	c := testcluster.New(t, testcluster.Opts{Nodes: 1, Tune: func(rc *replication.Config) {
		rc.TrailingLogs = 4 // keep almost no log behind a snapshot
		rc.SnapshotThreshold = 1 << 30
	}})
	cl := c.Admin(0)
	const batch = 2_500
	began := time.Now()
	for start := 0; start < records; start += batch {
		rows := make([]map[string]any, 0, batch)
		for i := start; i < start+batch && i < records; i++ {
			rows = append(rows, customer(fmt.Sprintf("J-%07d", i)))
		}
		if st, body := cl.Do("POST", "/api/v1/customers/import", rows); st != 201 {
			t.Fatalf("import at %d: %d %.300s", start, st, body)
		}
	}
	if err := c.Node(0).Group().Snapshot(); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Node(0).Store().LogStore().FirstIndex()
	loaded := time.Now()
	applied := c.Node(0).Group().Applied()
	j := c.AddNode()
	// The applied index first (a cheap poll), then the state (two dumps of
	// the whole state on every poll).
	c.WaitFor(120*time.Second, "the new node to apply what the region held", func() bool {
		n := c.Node(j)
		return n != nil && n.Group().Applied() >= applied
	})
	caught := time.Now()
	state := c.WaitConverged(120 * time.Second)
	t.Logf("loaded in %v, joined and applied in %v, converged %v later", loaded.Sub(began).Round(time.Second), caught.Sub(loaded).Round(time.Second), time.Since(caught).Round(time.Second))
	if got := len(customersByAccount(t, state)); got != records {
		t.Fatalf("%d customers; want %d", got, records)
	}
	size := 0
	for k, v := range state {
		size += len(k) + len(v)
	}
	t.Logf("%d customers: a state of %.1f MiB", records, float64(size)/(1<<20))
	if size < 2*4<<20 {
		t.Fatalf("a state of %d bytes: too small to span several of the restore's 4 MiB batches (replication.RestoreState)", size)
	}
	stats := c.Node(j).Group().Raft().Stats()
	if stats["last_snapshot_index"] == "0" {
		t.Fatalf("the new node caught up without a snapshot (log starts at %d): %v", first, stats)
	}
	if e := c.Node(j).Group().AppliedEntries(); e > 10 {
		t.Fatalf("the new node replayed %d entries; it should have restored a snapshot", e)
	}
	// It serves reads and takes part in writes.
	if st, body := c.Admin(j).Do("POST", "/api/v1/customers", customer("J-after")); st != 201 {
		t.Fatalf("write through the new node: %d %s", st, body)
	}
}

// TestRegion_MembershipThroughAPI grows a 1-node region to 3 and removes one.
func TestRegion_MembershipThroughAPI(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 1})
	c.AddNode()
	c.AddNode()
	st, body := c.Admin(0).Do("GET", "/api/v1/cluster", nil)
	if st != 200 || strings.Count(string(body), `"id"`) != 3 {
		t.Fatalf("cluster after two joins: %d %s", st, body)
	}
	c.WaitConverged(30 * time.Second)
	if st, body := c.Admin(0).Do("DELETE", "/api/v1/cluster/nodes/n3", nil); st != 200 || strings.Count(string(body), `"id"`) != 2 {
		t.Fatalf("remove n3: %d %s", st, body)
	}
	if st, body := c.Admin(0).Do("POST", "/api/v1/cluster/nodes", map[string]any{"id": "n9"}); st != 400 || !strings.Contains(string(body), `"field":"addr"`) {
		t.Fatalf("join without addr: %d %s", st, body)
	}
}
