package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"gridcrm/pki"
	"gridcrm/store"
)

// Peer is one voter of the region's raft group.
type Peer struct {
	ID   string `json:"id" yaml:"id"`     // node id, unique in the region
	Addr string `json:"addr" yaml:"addr"` // internal address (host:port) raft and forwarding dial
}

// Config configures a Group. Zero durations take the defaults of
// DefaultConfig.
type Config struct {
	NodeID    string // required: this node's id in the region
	Advertise string // required: the internal address other nodes dial
	Dir       string // required: where raft keeps snapshot files
	Bootstrap bool   // bootstrap a new region with Peers (or just this node) if it has no state
	Peers     []Peer // initial voters when bootstrapping; must contain this node

	HeartbeatTimeout   time.Duration // default 1s
	ElectionTimeout    time.Duration // default 1s
	LeaderLeaseTimeout time.Duration // default 500ms
	CommitTimeout      time.Duration // default 5ms
	MaxAppendEntries   int           // default 512: entries per append RPC and per group commit
	SnapshotInterval   time.Duration // default 2m: how often raft checks whether to snapshot
	SnapshotThreshold  uint64        // default 8192: entries since the last snapshot that trigger one
	TrailingLogs       uint64        // default 10240: entries kept behind a snapshot
	ApplyTimeout       time.Duration // default 10s: how long a write waits to commit
	LeaderWait         time.Duration // default 2s: how long a write or read retries while there is no reachable leader before answering "not applied"

	// SerialLogSync makes each raft append fsync before it returns, so a
	// leader sends entries only after its own fsync (hashicorp/raft's
	// order). Default false: the leader's fsync runs while the entries
	// travel (store.LogStore.DeferSync, serialTransport); same
	// durability, one fsync less on a write's path. For comparisons.
	SerialLogSync bool

	Logger *slog.Logger // default slog.Default()

	// Security, when set, is mutual TLS on raft and the internal HTTP
	// endpoints (security.go): the mux must be Secure'd with the same
	// value, dials complete a handshake that accepts only this region's
	// nodes, and each endpoint checks its caller's identity. Nil is
	// plaintext.
	Security *Security
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout: time.Second, ElectionTimeout: time.Second, LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout: 5 * time.Millisecond, MaxAppendEntries: 512,
		SnapshotInterval: 2 * time.Minute, SnapshotThreshold: 8192, TrailingLogs: 10240,
		ApplyTimeout: 10 * time.Second, LeaderWait: 2 * time.Second,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = d.HeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = d.ElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = d.LeaderLeaseTimeout
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = d.CommitTimeout
	}
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = d.MaxAppendEntries
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = d.SnapshotInterval
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = d.ApplyTimeout
	}
	if c.LeaderWait == 0 {
		c.LeaderWait = d.LeaderWait
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("replication: node id is required")
	}
	if c.Advertise == "" {
		return errors.New("replication: advertise address is required")
	}
	if _, _, err := net.SplitHostPort(c.Advertise); err != nil {
		return fmt.Errorf("replication: advertise address %q: %w", c.Advertise, err)
	}
	if c.Dir == "" {
		return errors.New("replication: dir is required")
	}
	if c.Bootstrap && len(c.Peers) > 0 {
		self, ids, addrs := false, map[string]bool{}, map[string]bool{}
		for _, p := range c.Peers {
			if p.ID == "" || p.Addr == "" {
				return fmt.Errorf("replication: peer %+v needs an id and an addr", p)
			}
			if ids[p.ID] {
				return fmt.Errorf("replication: peer id %q listed twice", p.ID)
			}
			if addrs[p.Addr] {
				return fmt.Errorf("replication: peer address %q listed twice", p.Addr)
			}
			ids[p.ID], addrs[p.Addr] = true, true
			self = self || p.ID == c.NodeID
		}
		if !self {
			return fmt.Errorf("replication: peers do not include this node %q", c.NodeID)
		}
		if n := len(c.Peers); n != 1 && n != 3 && n != 5 {
			return fmt.Errorf("replication: a region has 1, 3 or 5 voters, not %d", n)
		}
	}
	return nil
}

// Group is this node's member of its region's raft group: it proposes
// writes (forwarding them to the leader when it is not the leader), serves
// linearizable read barriers, and manages membership.
type Group struct {
	cfg   Config
	st    *store.Store
	fsm   *fsm
	raft  *raft.Raft
	trans serialTransport
	layer *streamLayer
	snaps *privateSnapshots
	logs  raft.LogStore
	mux   *Mux
	dial  Dialer
	http  *http.Client
	terms *http.Client // askTerm's: at most termConnsPerHost connections a voter (readindex.go)
	srv   *http.Server
	log   *slog.Logger

	internal *http.ServeMux // internal endpoints; others may add theirs with Handle

	members     chan struct{} // holds a token while a membership change runs (changeMembersLocal)
	leaderReady atomic.Bool   // a barrier of the current leadership term has been applied
	closed      atomic.Bool
	wg          sync.WaitGroup
	stop        chan struct{}

	queue chan *proposal // to the batcher (group commit)

	// Counters for metrics.
	Batches        atomic.Uint64 // raft entries written by the batcher
	BatchedEntries atomic.Uint64 // proposals they carried
	Forwarded      atomic.Uint64 // writes forwarded to the leader
	LeaderLoss     atomic.Uint64 // times this node gained or lost leadership
	ApplyErrors    atomic.Uint64

	metrics *groupMetrics // histograms and snapshot counters (metrics.go)

	confirm confirmer // leadership confirmation rounds for read indexes (readindex.go)

	// testHookBeforeApply, when set by a test, runs after a write passed
	// the leader check and before it is handed to raft.
	testHookBeforeApply func()
}

// New starts the node's raft member on the internal mux. The mux must not
// be serving yet; New registers the raft and internal HTTP kinds.
func New(cfg Config, st *store.Store, mux *Mux, dial Dialer, app Applier) (*Group, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dial == nil {
		dial = TCPDialer
	}
	dial = cfg.Security.Dialer(dial, pki.ServiceRaft) // this region's nodes only (nil: plaintext)
	g := &Group{cfg: cfg, st: st, mux: mux, dial: dial, log: cfg.Logger, internal: http.NewServeMux(), stop: make(chan struct{}), queue: make(chan *proposal, 4096), members: make(chan struct{}, 1)}
	f, err := newFSM(st, app)
	if err != nil {
		return nil, err
	}
	g.fsm = f
	g.metrics = newGroupMetrics()
	f.metrics = g.metrics

	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: slogWriter{cfg.Logger}})
	snapDir := filepath.Join(cfg.Dir, "snapshots")
	fsnaps, err := raft.NewFileSnapshotStoreWithLogger(snapDir, 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("replication: snapshot store: %w", err)
	}
	snaps, err := newPrivateSnapshots(snapDir, fsnaps) // snapfiles.go
	if err != nil {
		return nil, fmt.Errorf("replication: snapshot store: %w", err)
	}
	g.snaps = snaps
	if err := g.repairState(); err != nil {
		return nil, err
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.MaxAppendEntries = cfg.MaxAppendEntries
	rc.BatchApplyCh = true
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NoSnapshotRestoreOnStart = true // the FSM's state is durable in Pebble; see repairState
	rc.Logger = hlog

	g.layer = &streamLayer{Listener: mux.Handle(KindRaft), dial: dial, advertise: cfg.Advertise, dialTimeout: 2 * cfg.ElectionTimeout}
	var durable durableLog
	if !cfg.SerialLogSync {
		st.LogStore().DeferSync()
		durable = st.LogStore()
	}
	g.trans = newSerialTransport(raft.NewNetworkTransportWithLogger(g.layer, 5, 10*time.Second, hlog), durable)
	logs, err := raft.NewLogCache(1024, st.LogStore())
	if err != nil {
		return nil, err
	}
	g.logs = logs
	r, err := raft.NewRaft(rc, f, logs, st.StableStore(), snaps, g.trans)
	if err != nil {
		return nil, fmt.Errorf("replication: start raft: %w", err)
	}
	g.raft = r

	if cfg.Bootstrap {
		has, err := raft.HasExistingState(logs, st.StableStore(), snaps)
		if err != nil {
			return nil, err
		}
		if !has {
			peers := cfg.Peers
			if len(peers) == 0 {
				peers = []Peer{{ID: cfg.NodeID, Addr: cfg.Advertise}}
			}
			var servers []raft.Server
			for _, p := range peers {
				servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr), Suffrage: raft.Voter})
			}
			if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				return nil, fmt.Errorf("replication: bootstrap: %w", err)
			}
			// The first configuration must not be lost while the term it
			// was written in is kept (the stable store syncs).
			if err := st.LogStore().Sync(); err != nil {
				return nil, fmt.Errorf("replication: bootstrap: %w", err)
			}
		}
	}

	dialHTTP := internalDialer(dial, 2*cfg.ElectionTimeout, WriteStall)
	g.http = &http.Client{Transport: &http.Transport{
		DialContext:         dialHTTP,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}}
	g.terms = termClient(dialHTTP)
	g.routes()
	g.srv = &http.Server{Handler: g.internal, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: InternalReadTimeout, WriteTimeout: cfg.ApplyTimeout + InternalReadTimeout, IdleTimeout: InternalIdleTimeout}
	g.wg.Add(3)
	go func() { defer g.wg.Done(); g.runBatcher() }()
	go func() { defer g.wg.Done(); _ = g.srv.Serve(mux.Handle(KindHTTP)) }()
	go func() { defer g.wg.Done(); g.watchLeadership() }()
	return g, nil
}

// internalDialer dials a node of this region for the group's internal HTTP
// (forwarded proposals, read-index terms). A dead node refuses plain TCP
// at once, but through a tunnel a dial to it only times out: the dial is
// bounded (dialBound) so that a forward to a leader that just died fails
// fast and retries the new one. A forwarded proposal (a child's link
// batch, up to 4 MB) on a connection that stopped moving fails after stall
// (GuardWrites), not after ApplyTimeout: an unknown outcome its caller
// sends again (a link batch is idempotent: the parent's cursor decides
// what it applies).
func internalDialer(dial Dialer, dialBound, stall time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialBound)
		defer cancel()
		c, err := DialKind(ctx, dial, addr, KindHTTP)
		if err != nil {
			return nil, err
		}
		return GuardWrites(c, stall), nil
	}
}

// Bounds of the internal HTTP servers (the group's, and a tunnel's link
// server), for a peer that dies or stalls in the middle of a request: a
// request's body must arrive within InternalReadTimeout (as long as the
// public API allows an import's body, which a follower forwards whole:
// 32 MiB at about 1 Mbit/s; an uplink batch or resync part is ~4 MB), its
// answer leave within the write timeout (the handler's wait for a commit,
// ApplyTimeout, plus as long again as the body may take), and a
// keep-alive connection idle for InternalIdleTimeout is closed. Without them a handler reading from a
// forwarder or child that stalls mid-body (alive, but sending nothing)
// waited forever, TCP keep-alive being answered, and a handler writing to
// one that does not read held its goroutine and what it read from.
const (
	InternalReadTimeout = 5 * time.Minute
	InternalIdleTimeout = 2 * time.Minute
)

// repairState makes sure the FSM's durable state is not behind the newest
// local snapshot (raft starts applying after the snapshot's index).
func (g *Group) repairState() error {
	partial := CheckState(g.st)
	if partial != nil && !errors.Is(partial, ErrPartialState) {
		return partial
	}
	metas, err := g.snaps.List()
	if err != nil {
		return fmt.Errorf("replication: list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return partial
	}
	if partial == nil && g.fsm.applied.Load() >= metas[0].Index {
		return nil
	}
	g.log.Warn("replication: state behind newest snapshot; restoring it", "applied", g.fsm.applied.Load(), "snapshot", metas[0].Index)
	_, rc, err := g.snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("replication: open snapshot %s: %w", metas[0].ID, err)
	}
	return g.fsm.Restore(rc)
}

// watchLeadership runs a barrier whenever this node becomes leader, so that
// read barriers know every entry of earlier terms is applied.
func (g *Group) watchLeadership() {
	ch := g.raft.LeaderCh()
	for {
		select {
		case <-g.stop:
			return
		case isLeader := <-ch:
			g.LeaderLoss.Add(1)
			g.leaderReady.Store(false)
			if isLeader {
				if err := g.raft.Barrier(g.cfg.ApplyTimeout).Error(); err == nil {
					g.leaderReady.Store(g.raft.State() == raft.Leader)
				}
			}
			g.log.Info("replication: leadership changed", "leader", isLeader)
		}
	}
}

// Raft exposes the raft instance to metrics and status; do not Apply on it.
func (g *Group) Raft() *raft.Raft { return g.raft }

// IsLeader reports whether this node leads the region now.
func (g *Group) IsLeader() bool { return g.raft.State() == raft.Leader }

// Leader returns the current leader's id and internal address, empty if unknown.
func (g *Group) Leader() (id, addr string) {
	a, i := g.raft.LeaderWithID()
	return string(i), string(a)
}

// NodeID is this node's id.
func (g *Group) NodeID() string { return g.cfg.NodeID }

// Applied is the last index the FSM applied.
func (g *Group) Applied() uint64 { return g.fsm.applied.Load() }

// AppliedEntries counts the entries this process handed to the Applier;
// entries a restarted node already had are not counted (nor applied).
func (g *Group) AppliedEntries() uint64 { return g.fsm.entries.Load() }

// WaitApplied blocks until the local state reflects every entry up to idx.
func (g *Group) WaitApplied(ctx context.Context, idx uint64) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if g.appliedThrough(idx) >= idx {
			return nil
		}
		g.fsm.mu.Lock()
		ch := g.fsm.notify
		g.fsm.mu.Unlock()
		select {
		case <-ch:
		case <-tick.C: // no-op entries commit without touching the FSM
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for index %d, applied %d", ErrTimeout, idx, g.fsm.applied.Load())
		}
	}
}

// appliedThrough is the FSM's applied index, extended over committed log
// entries that never reach an FSM (a new leader's no-op, barriers): the
// state after them is the state before them. It looks no further than want.
func (g *Group) appliedThrough(want uint64) uint64 {
	a := g.fsm.applied.Load()
	limit := min(g.raft.CommitIndex(), want)
	for a < limit {
		var l raft.Log
		if err := g.logs.GetLog(a+1, &l); err != nil {
			break
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			break // the FSM has not applied it yet
		}
		a++
	}
	return a
}

// Reader reads the local replica's current state (no consistency barrier).
func (g *Group) Reader() StateReader { return StateReader{r: g.st.DB()} }

// Handle registers an internal endpoint (served on the internal listener only).
func (g *Group) Handle(pattern string, h http.Handler) { g.internal.Handle(pattern, h) }

// InternalClient is an HTTP client that dials other nodes' internal listeners.
func (g *Group) InternalClient() *http.Client { return g.http }

// Propose commits data through the region's raft log and answers the
// Applier's response. On a follower it forwards to the leader; it retries
// only where the write certainly was not applied (no leader yet, leader
// changed before accepting), until ctx ends.
func (g *Group) Propose(ctx context.Context, data []byte) ([]byte, error) {
	if g.closed.Load() {
		return nil, ErrClosed
	}
	defer func(start time.Time) { g.metrics.propose.Observe(since(start)) }(time.Now())
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	giveUp := time.Now().Add(g.cfg.LeaderWait)
	for backoff := 5 * time.Millisecond; ; backoff = min(backoff*2, 200*time.Millisecond) {
		resp, err := g.proposeOnce(ctx, data)
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
			return resp, err
		}
		if !g.retryLeaderless(ctx, giveUp, backoff) {
			return nil, err
		}
	}
}

// retryLeaderless waits backoff before another attempt of an operation
// that found no reachable leader, and answers false once LeaderWait has
// passed or ctx ended: the caller then answers "not applied" while a client
// still waits for it, rather than after the client gave up (and could not
// tell what happened).
func (g *Group) retryLeaderless(ctx context.Context, giveUp time.Time, backoff time.Duration) bool {
	if time.Now().Add(backoff).After(giveUp) {
		return false
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(backoff):
		return true
	}
}

func (g *Group) proposeOnce(ctx context.Context, data []byte) ([]byte, error) {
	if g.raft.State() == raft.Leader {
		return g.proposeBatched(ctx, data)
	}
	_, addr := g.Leader()
	if addr == "" {
		return nil, ErrNoLeader
	}
	g.Forwarded.Add(1)
	return g.forward(ctx, addr, "/internal/v1/propose", data)
}

func (g *Group) applyLocal(ctx context.Context, data []byte) ([]byte, error) {
	timeout := g.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	start := time.Now()
	if g.testHookBeforeApply != nil {
		g.testHookBeforeApply()
	}
	f := g.raft.Apply(data, timeout)
	err := g.wait(f)
	g.metrics.apply.Observe(since(start))
	if err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader):
			return nil, ErrNotLeader // not accepted: safe to retry
		case errors.Is(err, raft.ErrEnqueueTimeout):
			return nil, fmt.Errorf("%w: the leader is overloaded", ErrTimeout)
		case errors.Is(err, raft.ErrLeadershipLost):
			g.ApplyErrors.Add(1)
			return nil, fmt.Errorf("%w: leadership lost while committing", ErrUnknownOutcome)
		case errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, ErrClosed):
			return nil, fmt.Errorf("%w: the node shut down while committing", ErrUnknownOutcome)
		}
		g.ApplyErrors.Add(1)
		return nil, fmt.Errorf("%w: apply: %v", ErrUnknownOutcome, err)
	}
	resp, _ := f.Response().([]byte)
	return resp, nil
}

// wait answers f's outcome, or ErrClosed once the group stops: raft never
// answers a future still queued for a leader that was shut down, and Close
// must not wait for it. (The goroutine left waiting on such a future ends
// with the process.)
func (g *Group) wait(f raft.ApplyFuture) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-g.stop:
		return ErrClosed
	}
}

// forward posts data to the leader's internal endpoint. A 421 answer means
// the target is no longer leader and did not apply it.
func (g *Group) forward(ctx context.Context, addr, path string, data []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	resp, err := g.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, ErrNoLeader // never reached the leader: safe to retry
		}
		// The request may have reached the leader (and been committed).
		return nil, fmt.Errorf("%w: forwarding to leader %s: %v", ErrUnknownOutcome, addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the leader's answer: %v", ErrUnknownOutcome, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusMisdirectedRequest:
		return nil, ErrNotLeader
	case http.StatusServiceUnavailable: // the leader says: not applied
		return nil, fmt.Errorf("%w: leader %s: %s", ErrNoLeader, addr, bytes.TrimSpace(body))
	case http.StatusGatewayTimeout:
		return nil, fmt.Errorf("%w: leader %s: %s", ErrUnknownOutcome, addr, bytes.TrimSpace(body))
	case http.StatusFailedDependency: // a membership change: the joining node does not answer
		return nil, fmt.Errorf("%w (leader %s: %s)", ErrPeerUnreachable, addr, bytes.TrimSpace(body))
	}
	return nil, fmt.Errorf("replication: leader %s answered %d: %s", addr, resp.StatusCode, bytes.TrimSpace(body))
}

// ReadBarrier returns once the local replica reflects every write committed
// before the call (a read index): the leader confirms its leadership with a
// quorum and answers its commit index; this node waits until it has applied
// that index. Reads that follow are linearizable.
func (g *Group) ReadBarrier(ctx context.Context) error {
	defer func(start time.Time) { g.metrics.propose.Observe(since(start)) }(time.Now())
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	giveUp := time.Now().Add(g.cfg.LeaderWait)
	for backoff := 5 * time.Millisecond; ; backoff = min(backoff*2, 200*time.Millisecond) {
		idx, err := g.readIndex(ctx)
		if err == nil {
			return g.WaitApplied(ctx, idx)
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
			return err
		}
		if !g.retryLeaderless(ctx, giveUp, backoff) {
			return err
		}
	}
}

// Servers lists the voters of the region.
func (g *Group) Servers() ([]Peer, error) {
	f := g.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []Peer
	for _, s := range f.Configuration().Servers {
		out = append(out, Peer{ID: string(s.ID), Addr: string(s.Address)})
	}
	return out, nil
}

type memberChange struct {
	Op string `json:"op"` // "add" or "remove"
	Peer
}

// AddVoter adds a node to the region (it then catches up by log or
// snapshot); RemoveServer takes one out. Both are routed to the leader.
func (g *Group) AddVoter(ctx context.Context, p Peer) error {
	return g.changeMembers(ctx, memberChange{Op: "add", Peer: p})
}

// RemoveServer removes node id from the region.
func (g *Group) RemoveServer(ctx context.Context, id string) error {
	return g.changeMembers(ctx, memberChange{Op: "remove", Peer: Peer{ID: id}})
}

func (g *Group) changeMembers(ctx context.Context, c memberChange) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ApplyTimeout)
	defer cancel()
	data, _ := json.Marshal(c)
	for backoff := 5 * time.Millisecond; ; backoff = min(backoff*2, 200*time.Millisecond) {
		var err error
		if g.raft.State() == raft.Leader {
			err = g.changeMembersLocal(ctx, c)
		} else if _, addr := g.Leader(); addr == "" {
			err = ErrNoLeader
		} else {
			_, err = g.forward(ctx, addr, "/internal/v1/members", data)
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
}

// changeMembersLocal makes one membership change on the leader, one at a
// time (g.members; a caller whose ctx ends while it waits gives up
// without a change) and each after this node's log is durable: raft takes a
// new configuration as soon as the previous one is committed by its count,
// which includes the leader's own copy before its fsync ends (the deferred
// log fsync, DESIGN.md). Two changes chained on a configuration that only
// a leader about to lose its power held could give two majorities; the
// previous change's future is answered only once applied, after the
// leader's fsync, so serialised changes never build on one not durable.
func (g *Group) changeMembersLocal(ctx context.Context, c memberChange) error {
	if c.Op == "add" && !g.isVoter(c.ID, c.Addr) { // adding a voter again changes nothing
		if err := g.reachable(ctx, c.Addr); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			return fmt.Errorf("%w: node %s at %s: %v (start it first, and check the address it advertises: a voter that never answers can leave the region without a majority, and then no one can remove it)", ErrPeerUnreachable, c.ID, c.Addr, err)
		}
	}
	select {
	case g.members <- struct{}{}:
		defer func() { <-g.members }()
	case <-ctx.Done():
		return fmt.Errorf("replication: %s %s: %w", c.Op, c.ID, ctx.Err())
	}
	if err := g.st.LogStore().Sync(); err != nil {
		return fmt.Errorf("replication: %s %s: %w", c.Op, c.ID, err)
	}
	var f raft.IndexFuture
	switch c.Op {
	case "add":
		f = g.raft.AddVoter(raft.ServerID(c.ID), raft.ServerAddress(c.Addr), 0, g.cfg.ApplyTimeout)
	case "remove":
		f = g.raft.RemoveServer(raft.ServerID(c.ID), 0, g.cfg.ApplyTimeout)
	default:
		return fmt.Errorf("replication: unknown membership change %q", c.Op)
	}
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return ErrNotLeader
		}
		return fmt.Errorf("replication: %s %s: %w", c.Op, c.ID, err)
	}
	return nil
}

// reachable dials addr as raft will (the stream layer: the region's
// dialer, through the tunnel if any, with mutual TLS if set, bounded by
// twice the election timeout) and hangs up. A voter added at an address
// nothing answers counts toward every majority from then on: a
// one-node region adding it has no leader any more, and removing it needs
// the majority it took away.
//
// A refusal (nothing listens there) answers at once; a dial that times out
// (through a tunnel, a first handshake packet lost is sent again only
// after 5 s) is tried again until ctx ends.
func (g *Group) reachable(ctx context.Context, addr string) error {
	for {
		c, err := g.layer.Dial(raft.ServerAddress(addr), 2*g.cfg.ElectionTimeout)
		if err == nil {
			return c.Close()
		}
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isVoter reports whether node id is a voter of the region at addr.
func (g *Group) isVoter(id, addr string) bool {
	f := g.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id && string(s.Address) == addr && s.Suffrage == raft.Voter {
			return true
		}
	}
	return false
}

func (g *Group) routes() {
	sec := g.cfg.Security
	g.internal.Handle("POST /internal/v1/propose", sec.Require(pki.ServicePropose, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if g.raft.State() != raft.Leader {
			http.Error(w, ErrNotLeader.Error(), http.StatusMisdirectedRequest)
			return
		}
		resp, err := g.proposeBatched(r.Context(), data)
		internalAnswer(w, resp, err)
	})))
	g.internal.Handle("POST /internal/v1/readindex", sec.Require(pki.ServiceReadIndex, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.raft.State() != raft.Leader {
			http.Error(w, ErrNotLeader.Error(), http.StatusMisdirectedRequest)
			return
		}
		idx, err := g.localReadIndex(r.Context())
		internalAnswer(w, []byte(strconv.FormatUint(idx, 10)), err)
	})))
	g.internal.Handle("POST "+termPath, sec.Require(pki.ServiceReadIndex, http.HandlerFunc(g.serveTerm)))
	g.internal.Handle("POST /internal/v1/members", sec.Require(pki.ServiceMembership, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c memberChange
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if g.raft.State() != raft.Leader {
			http.Error(w, ErrNotLeader.Error(), http.StatusMisdirectedRequest)
			return
		}
		internalAnswer(w, nil, g.changeMembersLocal(r.Context(), c))
	})))
}

func internalAnswer(w http.ResponseWriter, body []byte, err error) {
	switch {
	case err == nil:
		w.Write(body)
	case errors.Is(err, ErrUnknownOutcome):
		// The leader stopped or lost leadership mid-commit: the forwarder
		// must not retry blindly.
		http.Error(w, err.Error(), http.StatusGatewayTimeout)
	case errors.Is(err, ErrNotLeader):
		http.Error(w, err.Error(), http.StatusMisdirectedRequest)
	case errors.Is(err, ErrPeerUnreachable):
		http.Error(w, err.Error(), http.StatusFailedDependency)
	case NotApplied(err):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// Snapshot asks raft for a snapshot now (tests and operators).
func (g *Group) Snapshot() error { return g.raft.Snapshot().Error() }

// Close leaves the raft group running state and releases the transport. It
// does not remove the node from the region; use RemoveServer for that.
func (g *Group) Close() error {
	if !g.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(g.stop)
	shut := g.raft.Shutdown()
	// Replication goroutines blocked on a paused or dead peer would hold
	// the shutdown for the transport's I/O timeout: end their connections.
	g.layer.closeConns()
	err := shut.Error()
	_ = g.srv.Close()
	_ = g.trans.Close()
	g.http.CloseIdleConnections()
	g.terms.CloseIdleConnections()
	g.wg.Wait()
	return err
}

// slogWriter adapts hclog's text output to slog at warn level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn(string(bytes.TrimSpace(p)), "component", "raft")
	return len(p), nil
}
