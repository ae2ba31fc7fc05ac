package replication

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"gridcrm/internal/slowfs"
	"gridcrm/store"
)

// TestRegion_PowerLossKeepsAcknowledgedWrites: every node of a region
// loses power at once (each store keeps only what it had fsynced: Pebble's
// crashable in-memory filesystem), while four clients write; the region
// restarts from what the disks kept. Every write acknowledged before the
// power went is there, on every node. With the log's fsync deferred
// (store.LogStore.DeferSync) this holds only because an answer to the
// leader leaves after the follower's fsync, the leader's state machine
// waits for its own, and followers are told a commit only up to the
// leader's durable index (serialTransport); each round also runs with
// SerialLogSync, the plain order, for comparison.
//
// A single node commits an entry on its own append, before any fsync: its
// answer then rests on the state machine's wait alone, which the slow
// fsync there (20 ms) puts to the test on every write.
func TestRegion_PowerLossKeepsAcknowledgedWrites(t *testing.T) {
	for _, tc := range []struct {
		nodes  int
		serial bool
		fsync  time.Duration
	}{{3, false, 2 * time.Millisecond}, {3, true, 2 * time.Millisecond}, {1, false, 20 * time.Millisecond}} {
		t.Run(fmt.Sprintf("nodes=%d/serial=%v", tc.nodes, tc.serial), func(t *testing.T) {
			powerLossRounds(t, tc.nodes, tc.serial, tc.fsync, 3)
		})
	}
}

type plNode struct {
	id, addr string
	fs       vfs.FS
	st       *store.Store
	mux      *Mux
	g        *Group
}

// plRegion starts and stops the nodes of a region on filesystems given
// per start, at the same addresses each time.
type plRegion struct {
	t        testing.TB
	ids      []string
	peers    []Peer
	addrs    map[string]string
	snapDirs map[string]string
	serial   bool
	fsync    time.Duration
}

func newPLRegion(t testing.TB, nodeCount int, serial bool, fsync time.Duration) *plRegion {
	r := &plRegion{t: t, ids: []string{"a", "b", "c"}[:nodeCount], addrs: map[string]string{}, snapDirs: map[string]string{}, serial: serial, fsync: fsync}
	for _, id := range r.ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.addrs[id] = ln.Addr().String()
		ln.Close() // taken again at start (the same address every time)
		r.peers = append(r.peers, Peer{ID: id, Addr: r.addrs[id]})
		r.snapDirs[id] = t.TempDir()
	}
	return r
}

func (r *plRegion) start(id string, fs vfs.FS) *plNode {
	t := r.t
	var ln net.Listener
	var err error
	for try := 0; try < 100; try++ { // the previous listener may linger briefly
		if ln, err = net.Listen("tcp", r.addrs[id]); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Config{FS: slowfs.FS{FS: fs, Delay: r.fsync}, Dir: "db"})
	if err != nil {
		t.Fatalf("%s: open after the power loss: %v", id, err)
	}
	cfg := Config{NodeID: id, Advertise: r.addrs[id], Dir: r.snapDirs[id], Bootstrap: true, Peers: r.peers,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond, LeaderLeaseTimeout: 150 * time.Millisecond,
		ApplyTimeout: 20 * time.Second, LeaderWait: 20 * time.Second, SnapshotThreshold: 1 << 30, SerialLogSync: r.serial}
	mux := NewMux(ln)
	g, err := New(cfg, st, mux, TCPDialer, kvApplier{})
	if err != nil {
		t.Fatalf("%s: start: %v", id, err)
	}
	go mux.Serve()
	return &plNode{id: id, addr: r.addrs[id], fs: fs, st: st, mux: mux, g: g}
}

func (r *plRegion) stop(n *plNode) {
	n.g.Close()
	n.mux.Close()
	n.st.Close()
}

func powerLossRounds(t *testing.T, nodeCount int, serial bool, fsync time.Duration, rounds int) {
	r := newPLRegion(t, nodeCount, serial, fsync)
	ids, start, stop := r.ids, r.start, r.stop
	nodes := map[string]*plNode{}
	for _, id := range ids {
		nodes[id] = start(id, vfs.NewCrashableMem())
	}
	defer func() {
		for _, n := range nodes {
			stop(n)
		}
	}()

	var mu sync.Mutex
	acked := map[string]bool{}
	frozen := false // the power went: later answers come from nodes whose disks are gone
	for round := 0; round < rounds; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					key := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					n := nodes[ids[(w+i)%len(ids)]] // followers forward to the leader
					resp, err := n.g.Propose(ctx, []byte("put "+key+" v"))
					if err == nil && string(resp) == "ok" {
						mu.Lock()
						if !frozen {
							acked[key] = true
						}
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond)
		// The power goes: what was acknowledged up to now must survive.
		mu.Lock()
		frozen = true
		want := len(acked)
		mustHave := make([]string, 0, len(acked))
		for k := range acked {
			mustHave = append(mustHave, k)
		}
		crashed := map[string]vfs.FS{}
		for _, id := range ids { // under mu: no answer arrives between the clones
			crashed[id] = nodes[id].fs.(*vfs.MemFS).CrashClone(vfs.CrashCloneCfg{})
		}
		mu.Unlock()
		cancel()
		wg.Wait()
		for _, id := range ids {
			stop(nodes[id])
			delete(nodes, id)
		}
		if want == 0 {
			t.Fatalf("round %d: no write was acknowledged", round)
		}
		for _, id := range ids {
			nodes[id] = start(id, crashed[id])
		}
		mu.Lock()
		frozen = false
		mu.Unlock()
		var leader *plNode
		marker := fmt.Sprintf("marker%d", round)
		waitUntil(t, "a leader to take a write after the power loss", func() bool {
			for _, n := range nodes {
				if n.g.IsLeader() && n.g.leaderReady.Load() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					resp, err := n.g.Propose(ctx, []byte("put "+marker+" m"))
					if err == nil && (string(resp) == "ok" || string(resp) == "exists m") { // an unknown outcome may have been applied
						leader = n
						return true
					}
				}
			}
			return false
		})
		for _, n := range nodes {
			waitUntil(t, n.id+" to apply the marker", func() bool {
				v, _ := n.g.Reader().Get([]byte("kv/" + marker))
				return v != nil
			})
			missing := 0
			for _, k := range mustHave {
				if v, _ := n.g.Reader().Get([]byte("kv/" + k)); v == nil {
					if missing < 5 {
						t.Errorf("round %d: %s lost acknowledged write %s", round, n.id, k)
					}
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("round %d: %s lost %d of %d acknowledged writes in the power loss", round, n.id, missing, want)
			}
		}
		t.Logf("round %d: %d acknowledged writes survived a power loss of every node (leader after: %s)", round, want, leader.id)
	}
}

// BenchmarkLogSync: one client's sequential writes to a three-node region
// on disks whose fsync takes fsync (an in-memory filesystem, slowed), with
// the leader's log fsync in series with the followers' (SerialLogSync,
// hashicorp/raft's order) and overlapping them (the default). Run with
// -benchtime 1000x or so; compare the pairs' writes/s.
func BenchmarkLogSync(b *testing.B) {
	for _, fsync := range []time.Duration{0, 500 * time.Microsecond, 2 * time.Millisecond} {
		for _, serial := range []bool{true, false} {
			b.Run(fmt.Sprintf("fsync=%s/serial=%v", fsync, serial), func(b *testing.B) {
				r := newPLRegion(b, 3, serial, fsync)
				var nodes []*plNode
				for _, id := range r.ids {
					nodes = append(nodes, r.start(id, vfs.NewMem()))
				}
				defer func() {
					for _, n := range nodes {
						r.stop(n)
					}
				}()
				var leader *plNode
				for leader == nil {
					for _, n := range nodes {
						if n.g.IsLeader() && n.g.leaderReady.Load() {
							leader = n
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
				ctx := context.Background()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if resp, err := leader.g.Propose(ctx, []byte(fmt.Sprintf("put k%d v", i))); err != nil || string(resp) != "ok" {
						b.Fatalf("write %d: %s %v", i, resp, err)
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
			})
		}
	}
}
