package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"gridcrm/store"
)

// Regression tests for a leader that is paused (SIGSTOP, a stall) and
// resumes after a new leader has taken over (DESIGN.md, "Leader pauses").
// A pause is emulated at the network: every connection to or from the
// paused node stops moving bytes in both directions, as it does when the
// process is stopped, while what was already sent waits in the sockets.
// The paused node is given a leader lease far longer than the test, so that
// it does not step down on its own, as a stopped process cannot.

// pauseNet wraps the connections every test node dials.
type pauseNet struct {
	mu       sync.Mutex
	cond     *sync.Cond
	paused   map[string]bool // node addr → no bytes move on its connections
	held     map[string]bool // node addr → reads on connections it dialed wait
	readable map[string]bool // node addr → reads on connections it dialed pass even while paused
}

func newPauseNet() *pauseNet {
	n := &pauseNet{paused: map[string]bool{}, held: map[string]bool{}, readable: map[string]bool{}}
	n.cond = sync.NewCond(&n.mu)
	return n
}

func (n *pauseNet) set(m map[string]bool, addr string, on bool) {
	n.mu.Lock()
	m[addr] = on
	n.mu.Unlock()
	n.cond.Broadcast()
}

// clear lets every connection go on (cleanup).
func (n *pauseNet) clear() {
	n.mu.Lock()
	clear(n.paused)
	clear(n.held)
	clear(n.readable)
	n.mu.Unlock()
	n.cond.Broadcast()
}

func (n *pauseNet) dialer(from string) Dialer {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := TCPDialer(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &pauseConn{Conn: c, n: n, from: from, to: addr}, nil
	}
}

type pauseConn struct {
	net.Conn
	n        *pauseNet
	from, to string
}

func (c *pauseConn) Read(p []byte) (int, error) {
	c.n.mu.Lock()
	for (c.n.paused[c.from] && !c.n.readable[c.from]) || c.n.paused[c.to] || c.n.held[c.from] {
		c.n.cond.Wait()
	}
	c.n.mu.Unlock()
	return c.Conn.Read(p)
}

func (c *pauseConn) Write(p []byte) (int, error) {
	c.n.mu.Lock()
	for c.n.paused[c.from] || c.n.paused[c.to] {
		c.n.cond.Wait()
	}
	c.n.mu.Unlock()
	return c.Conn.Write(p)
}

// kvApplier is a minimal deterministic state machine: "put KEY VALUE"
// creates KEY once; a second put of the same key is refused, as a second
// customer with the same account number is.
type kvApplier struct{}

func (kvApplier) ApplyEntry(tx *Txn, _ uint64, data []byte) []byte {
	f := strings.Fields(string(data))
	if len(f) != 3 || f[0] != "put" {
		return []byte("bad")
	}
	k := []byte("kv/" + f[1])
	if old, err := tx.Get(k); err != nil || old != nil {
		return []byte("exists " + string(old))
	}
	if err := tx.Set(k, []byte(f[2])); err != nil {
		panic(err)
	}
	return []byte("ok")
}

type pauseNode struct {
	id, addr string
	st       *store.Store
	mux      *Mux
	g        *Group
}

// pauseCluster starts three voters a, b, c; a has a lease longer than any
// test (it never steps down by itself), b and c fail over fast.
func pauseCluster(t *testing.T) (*pauseNet, map[string]*pauseNode) {
	t.Helper()
	pn := newPauseNet()
	ids := []string{"a", "b", "c"}
	lns := map[string]net.Listener{}
	var peers []Peer
	for _, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id] = ln
		peers = append(peers, Peer{ID: id, Addr: ln.Addr().String()})
	}
	nodes := map[string]*pauseNode{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, id := range ids {
		addr := lns[id].Addr().String()
		st, err := store.Open(store.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{NodeID: id, Advertise: addr, Dir: t.TempDir(), Bootstrap: true, Peers: peers, Logger: quiet,
			HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
			LeaderLeaseTimeout: 100 * time.Millisecond, ApplyTimeout: 20 * time.Second}
		if id == "a" {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Minute, time.Minute, time.Minute
		}
		mux := NewMux(lns[id])
		g, err := New(cfg, st, mux, pn.dialer(addr), kvApplier{})
		if err != nil {
			t.Fatal(err)
		}
		go mux.Serve()
		nodes[id] = &pauseNode{id: id, addr: addr, st: st, mux: mux, g: g}
	}
	t.Cleanup(func() {
		pn.clear()
		for _, n := range nodes {
			n.g.Close()
			n.mux.Close()
			n.st.Close()
		}
	})
	return pn, nodes
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute) // a busy machine is slow, not broken
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leaderAmong returns the node of ns that leads, or nil.
func leaderAmong(ns ...*pauseNode) *pauseNode {
	for _, n := range ns {
		if n.g.IsLeader() {
			return n
		}
	}
	return nil
}

// makeLeader moves leadership to n (whose own election timeout is a minute).
func makeLeader(t *testing.T, nodes map[string]*pauseNode, n *pauseNode) {
	t.Helper()
	waitUntil(t, "a first leader", func() bool { return leaderAmong(nodes["a"], nodes["b"], nodes["c"]) != nil })
	for !n.g.IsLeader() {
		if l := leaderAmong(nodes["a"], nodes["b"], nodes["c"]); l != nil && l != n {
			_ = l.g.raft.LeadershipTransferToServer(raft.ServerID(n.id), raft.ServerAddress(n.addr)).Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitUntil(t, n.id+" ready to serve reads", n.g.leaderReady.Load)
}

func put(t *testing.T, n *pauseNode, key, value string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := n.g.Propose(ctx, []byte("put "+key+" "+value))
	if err != nil {
		t.Fatalf("put %s on %s: %v", key, n.id, err)
	}
	return string(resp)
}

func dumpState(t *testing.T, n *pauseNode) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := StateReaderOf(n.st).Iterate(nil, nil, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sendHeartbeat delivers to target a raft heartbeat of leader (id, addr)
// at term, on a connection of its own, as the leader's heartbeat goroutine
// does.
func sendHeartbeat(t *testing.T, target *pauseNode, id, addr string, term uint64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := raft.NewNetworkTransport(&streamLayer{Listener: ln, dial: TCPDialer, advertise: addr}, 1, 5*time.Second, io.Discard)
	defer tr.Close()
	req := raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(id), Addr: []byte(addr)},
		Term:      term,
	}
	var resp raft.AppendEntriesResponse
	if err := tr.AppendEntries(raft.ServerID(target.id), raft.ServerAddress(target.addr), &req, &resp); err != nil {
		t.Fatalf("heartbeat to %s: %v", target.id, err)
	}
}

// converge writes a marker through leader and waits until every node has
// applied it, then answers every node's state.
func converge(t *testing.T, nodes map[string]*pauseNode, leader *pauseNode) map[string]map[string]string {
	t.Helper()
	if got := put(t, leader, "marker", "m"); got != "ok" {
		t.Fatalf("marker: %s", got)
	}
	for _, n := range nodes {
		waitUntil(t, n.id+" to apply the marker", func() bool {
			v, _ := n.g.Reader().Get([]byte("kv/marker"))
			return v != nil
		})
	}
	waitUntil(t, "equal applied indexes", func() bool {
		a := nodes["a"].g.Applied()
		return nodes["b"].g.Applied() == a && nodes["c"].g.Applied() == a
	})
	out := map[string]map[string]string{}
	for id, n := range nodes {
		out[id] = dumpState(t, n)
	}
	return out
}

func diffStates(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			d = append(d, fmt.Sprintf("%s: %q vs %q", k, v, b[k]))
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing vs %q", k, w))
		}
	}
	return strings.Join(d, "; ")
}

// TestLeaderPause_QueuedWriteDoesNotDiverge: a leader paused with a client
// write already past its leader check resumes after a new leader has
// acknowledged a conflicting write, and the new leader's heartbeat reaches
// it before the queued write does. The replicas must end equal, holding the
// acknowledged write. (hashicorp/raft's heartbeat fast path used to raise
// the paused leader's term under its running leader loop, which appended
// the queued write under the new term: log matching could not see the
// conflict and the paused node applied its own write.)
func TestLeaderPause_QueuedWriteDoesNotDiverge(t *testing.T) {
	pn, nodes := pauseCluster(t)
	a, b, c := nodes["a"], nodes["b"], nodes["c"]
	makeLeader(t, nodes, a)
	for i := range 5 {
		put(t, a, fmt.Sprintf("k%d", i), "v")
	}

	// A client write passes a's leader check, and a pauses.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a.g.testHookBeforeApply = func() { once.Do(func() { close(entered); <-release }) }
	staleDone := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := a.g.Propose(ctx, []byte("put X from-a"))
		staleDone <- fmt.Sprintf("%s %v", resp, err)
	}()
	<-entered
	pn.set(pn.paused, a.addr, true)

	// b and c elect a leader, which acknowledges a write of the same key.
	var nl *pauseNode
	waitUntil(t, "a new leader", func() bool { nl = leaderAmong(b, c); return nl != nil })
	if got := put(t, nl, "X", "from-"+nl.id); got != "ok" {
		t.Fatalf("the new leader refused X: %s", got)
	}

	// a resumes: the new leader's heartbeat is read first, then the queued
	// write goes on.
	sendHeartbeat(t, a, nl.id, nl.addr, nl.g.raft.CurrentTerm())
	close(release)
	select {
	case s := <-staleDone:
		if strings.HasPrefix(s, "ok") {
			t.Fatalf("the paused leader acknowledged its write of X as well: %s", s)
		}
	case <-time.After(2 * time.Second): // still retrying towards the new leader
	}
	pn.set(pn.paused, a.addr, false)

	states := converge(t, nodes, nl)
	for id, st := range states {
		if got := st["kv/X"]; got != "from-"+nl.id {
			t.Errorf("%s holds X = %q, want the acknowledged %q", id, got, "from-"+nl.id)
		}
	}
	if d := diffStates(states["b"], states["a"]); d != "" {
		t.Errorf("a differs from b: %s", d)
	}
	if d := diffStates(states["b"], states["c"]); d != "" {
		t.Errorf("c differs from b: %s", d)
	}
}

// TestLeaderPause_ReadIndexNotConfirmedByOldHeartbeats: a leader paused
// while its followers' answers to its last heartbeats sat unread in its
// sockets must not count those answers as confirmation of a read that
// starts after it resumes; by then a new leader has acknowledged a write,
// and a linearizable read on the old leader must see it or fail. (The read
// index used raft's VerifyLeader, which counted them.)
func TestLeaderPause_ReadIndexNotConfirmedByOldHeartbeats(t *testing.T) {
	pn, nodes := pauseCluster(t)
	a, b, c := nodes["a"], nodes["b"], nodes["c"]
	makeLeader(t, nodes, a)
	for i := range 5 {
		put(t, a, fmt.Sprintf("k%d", i), "v")
	}

	// a sends heartbeats; b and c answer; a does not read the answers yet.
	pn.set(pn.held, a.addr, true)
	go a.g.raft.VerifyLeader()
	time.Sleep(300 * time.Millisecond)
	pn.set(pn.paused, a.addr, true)

	var nl *pauseNode
	waitUntil(t, "a new leader", func() bool { nl = leaderAmong(b, c); return nl != nil })
	if got := put(t, nl, "X", "acknowledged"); got != "ok" {
		t.Fatalf("the new leader refused X: %s", got)
	}

	// A read starts on a, which then reads what waited in its sockets.
	type result struct {
		err error
		x   []byte
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		err := a.g.ReadBarrier(ctx)
		x, _ := a.g.Reader().Get([]byte("kv/X"))
		done <- result{err, x}
	}()
	time.Sleep(300 * time.Millisecond)
	pn.set(pn.readable, a.addr, true)
	pn.set(pn.held, a.addr, false)

	r := <-done
	t.Logf("read: err=%v x=%q", r.err, r.x)
	if r.err == nil && !bytes.Equal(r.x, []byte("acknowledged")) {
		t.Fatalf("a linearizable read on the paused leader succeeded without the acknowledged write (X = %q)", r.x)
	}
	if r.err != nil && !NotApplied(r.err) {
		t.Errorf("the refused read answered %v, want a retryable error", r.err)
	}
	if r.err != nil && !errors.Is(r.err, ErrTimeout) && !errors.Is(r.err, ErrNotLeader) && !errors.Is(r.err, ErrNoLeader) {
		t.Errorf("unexpected error kind: %v", r.err)
	}
	pn.clear()
	converge(t, nodes, nl)
}
