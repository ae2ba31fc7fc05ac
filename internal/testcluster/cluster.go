package testcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"gridcrm/internal/slowfs"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// AdminPassword is the bootstrap admin's password in every test cluster.
const AdminPassword = "test-root-pw-7"

// Opts shape a cluster.
type Opts struct {
	Region string // default "320722"
	Nodes  int    // voters at start: 1, 3 or 5 (default 3)
	// Tune changes each node's raft config before start (e.g. snapshot thresholds).
	Tune func(*replication.Config)
	// Log shows node logs (default: only errors).
	Log bool
	// Parent links the region to its parent (hierarchies; see NewHierarchy).
	Parent *tiers.ParentLink
	// LinkDialer dials the parent (fault injection).
	LinkDialer replication.Dialer
	// Node changes each node's config before start.
	Node func(*node.Config)
	// InternalAddrs fixes the nodes' internal addresses (default: free ports).
	InternalAddrs []string
	// Tunnel gives node i (0-based) a WireGuard tunnel config, or nil.
	Tunnel func(i int) *tunnel.Config
	// Canary is the heartbeat period; default: an hour for a lone region
	// (so WaitConverged sees a quiet state), 200ms in a hierarchy.
	Canary time.Duration
	// Plaintext runs the node-to-node connections without TLS. By default
	// every node has a certificate from the test root of its province
	// (pki.go) and every connection between nodes is mutual TLS.
	Plaintext bool
}

// Cluster is one region of in-process nodes.
type Cluster struct {
	t      testing.TB
	opts   Opts
	mu     sync.Mutex // guards nodes, admins
	nodes  []*node.Node
	cfgs   []node.Config
	admins map[*node.Node]*Client // Admin's logins, per running node
}

// New starts a region and waits until it is ready on every node.
func New(t testing.TB, o Opts) *Cluster {
	t.Helper()
	if o.Region == "" {
		o.Region = "320722"
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	c := &Cluster{t: t, opts: o}
	base := t.TempDir()
	var peers []replication.Peer
	addrs := o.InternalAddrs
	if addrs == nil {
		addrs = reserve(t, o.Nodes)
	}
	for _, a := range addrs {
		peers = append(peers, replication.Peer{ID: fmt.Sprintf("n%d", len(peers)+1), Addr: a})
	}
	for i, p := range peers {
		cfg := c.config(base, p.ID, p.Addr)
		cfg.Bootstrap, cfg.Peers = true, peers
		if o.Tunnel != nil {
			cfg.Tunnel = o.Tunnel(i)
		}
		c.cfgs = append(c.cfgs, cfg)
	}
	for i := range c.cfgs {
		c.nodes = append(c.nodes, c.start(i))
	}
	t.Cleanup(c.Close)
	c.WaitReady()
	return c
}

func (c *Cluster) config(base, id, internal string) node.Config {
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.Region = id, c.opts.Region
	cfg.DataDir = filepath.Join(base, id)
	cfg.APIListen, cfg.InternalListen = "127.0.0.1:0", internal
	cfg.AdminPassword = AdminPassword
	cfg.Parent, cfg.LinkDialer = c.opts.Parent, c.opts.LinkDialer
	if !c.opts.Plaintext {
		cfg.Security = Security(c.t, c.opts.Region, id)
	} else {
		cfg.InsecureInternal = true // plaintext on purpose (a tunnel would otherwise need TLS)
	}
	cfg.CanaryInterval = c.opts.Canary
	if cfg.CanaryInterval == 0 {
		cfg.CanaryInterval = time.Hour
	}
	cfg.DownlinkPoll = 50 * time.Millisecond
	cfg.Analytics.Disabled = true // the monthly runs write records; tests start them by hand (api.Server.ScheduleOnce)
	cfg.Raft.HeartbeatTimeout = 500 * time.Millisecond
	cfg.Raft.ElectionTimeout = 500 * time.Millisecond
	cfg.Raft.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.Raft.ApplyTimeout = time.Minute    // a busy machine is slow, not broken
	cfg.Raft.LeaderWait = 30 * time.Second // tests write across elections without retrying themselves
	// GRIDCRM_SERIAL_LOG_SYNC=1: the leader fsyncs its log before it
	// replicates (hashicorp/raft's order), to compare with the default.
	cfg.Raft.SerialLogSync = os.Getenv("GRIDCRM_SERIAL_LOG_SYNC") == "1"
	// GRIDCRM_FSYNC_DELAY=2ms: every fsync of the nodes' stores takes that
	// long, as on a disk without a power-safe write cache (benchmarks).
	if d, err := time.ParseDuration(os.Getenv("GRIDCRM_FSYNC_DELAY")); err == nil && d > 0 {
		cfg.StoreFS = slowfs.FS{FS: vfs.Default, Delay: d}
	}
	if c.opts.Tune != nil {
		c.opts.Tune(&cfg.Raft)
	}
	if c.opts.Node != nil {
		c.opts.Node(&cfg)
	}
	level := slog.LevelError + 4
	if c.opts.Log {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("test", c.t.Name())
	return cfg
}

func (c *Cluster) start(i int) *node.Node {
	c.t.Helper()
	var n *node.Node
	var err error
	// A just-closed port can take a moment to be reusable.
	for try := 0; try < 50; try++ {
		if n, err = node.Start(c.cfgs[i]); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("testcluster: start %s: %v", c.cfgs[i].NodeID, err)
	}
	// Keep the API port across restarts so clients can reconnect.
	c.cfgs[i].APIListen = n.APIURL()[len("http://"):]
	return n
}

// reserve picks n free loopback addresses.
func reserve(t testing.TB, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, freeAddr(t))
	}
	return out
}

// InternalAddrs are the internal addresses of the region's nodes.
func (c *Cluster) InternalAddrs() []string {
	var out []string
	for _, cfg := range c.cfgs {
		out = append(out, cfg.InternalListen)
	}
	return out
}

// Region is the cluster's region code.
func (c *Cluster) Region() string { return c.opts.Region }

var (
	handedMu sync.Mutex
	handed   = map[int]bool{} // ports freeAddr answered (or found taken) in this process
)

// freeAddr picks a free loopback port below the kernel's ephemeral range
// (32768–60999 by default): a port from that range, free when picked, is
// often taken by an outgoing connection's local end before the node binds
// it ("address already in use"). Random, so that test binaries running in
// parallel rarely pick the same one.
// A port is handed out once per process: two draws of the same free port
// (a cluster's internal and API addresses, say) would make one node's
// addresses collide ("peer address listed twice").
func freeAddr(t testing.TB) string {
	for try := 0; try < 1000; try++ {
		port := 20000 + rand.IntN(12000)
		handedMu.Lock()
		taken := handed[port]
		handed[port] = true
		handedMu.Unlock()
		if taken {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String()
	}
	t.Fatal("testcluster: no free port in 20000-32000")
	return ""
}

// Node returns node i (nil while it is killed).
func (c *Cluster) Node(i int) *node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Size is the number of node slots (live or killed).
func (c *Cluster) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// Live returns the running nodes.
func (c *Cluster) Live() []*node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*node.Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// WaitFor polls cond every 10 ms until it holds or timeout passes.
func (c *Cluster) WaitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	WaitFor(c.t, timeout, what, cond)
}

// Slack scales every wait of the test helpers: a wait is sized for a quiet
// machine and a test must not fail because the machine is busy (CI, other
// work). GRIDCRM_TEST_SLACK overrides the factor (default 5).
func Slack(d time.Duration) time.Duration {
	f := 5.0
	if v, err := strconv.ParseFloat(os.Getenv("GRIDCRM_TEST_SLACK"), 64); err == nil && v >= 1 {
		f = v
	}
	return time.Duration(float64(d) * f)
}

// RequestTimeout bounds one test request: long, so that a slow machine is
// never mistaken for a failure; a request that truly hangs is caught by
// go test's own -timeout.
const RequestTimeout = 5 * time.Minute

// WaitFor polls cond every 10 ms until it holds or Slack(timeout) passes.
// A cond that takes longer than that to answer (an API call, a state dump)
// is polled with a pause as long as its last answer took (pollPause).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = Slack(timeout)
	deadline := time.Now().Add(timeout)
	for {
		start := time.Now()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: timed out after %v waiting for %s", timeout, what)
		}
		pollPause(start, 10*time.Millisecond)
	}
}

// pollPause sleeps after a poll that started at start: at least least and as
// long as the poll took, so that a poll that dumps a replica or calls the
// API takes at most half a core from the nodes the test waits for (on a
// 2-core machine with the race detector, polling a large state every 20 ms
// slowed what it waited for).
func pollPause(start time.Time, least time.Duration) {
	time.Sleep(max(least, time.Since(start)))
}

// WaitReady waits until every live node answers /readyz with 200.
func (c *Cluster) WaitReady() {
	c.t.Helper()
	c.WaitFor(30*time.Second, "every node ready", func() bool {
		for _, n := range c.Live() {
			if n.Ready() != nil {
				return false
			}
			resp, err := http.Get(n.APIURL() + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return false
			}
		}
		return true
	})
}

// Leader waits for a leader among the live nodes and returns its index.
func (c *Cluster) Leader() int {
	c.t.Helper()
	idx := -1
	c.WaitFor(30*time.Second, "a leader", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, n := range c.nodes {
			if n != nil && n.Group().IsLeader() {
				idx = i
				return true
			}
		}
		return false
	})
	return idx
}

// Kill stops node i abruptly (its data stays for Restart).
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	delete(c.admins, n)
	c.mu.Unlock()
	if n != nil {
		_ = n.Close()
	}
}

// Restart starts node i again from its data directory, on the same ports.
func (c *Cluster) Restart(i int) *node.Node {
	c.t.Helper()
	n := c.start(i)
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return n
}

// Wipe stops node i and deletes its data directory, as a node lost with its
// disk: Restart then starts it empty. Meant for a region's only node, which
// then bootstraps a new region; a wiped node of a larger region would
// bootstrap one of its own beside the others.
func (c *Cluster) Wipe(i int) {
	c.t.Helper()
	c.Kill(i)
	if err := os.RemoveAll(c.cfgs[i].DataDir); err != nil {
		c.t.Fatalf("testcluster: wipe %s: %v", c.cfgs[i].NodeID, err)
	}
}

// AddNode starts a new, empty node and adds it to the region through the
// API of a live node; it returns the new node's index.
func (c *Cluster) AddNode() int {
	c.t.Helper()
	id := fmt.Sprintf("n%d", c.Size()+1)
	cfg := c.config(filepath.Dir(c.cfgs[0].DataDir), id, freeAddr(c.t))
	c.mu.Lock()
	c.cfgs = append(c.cfgs, cfg)
	c.nodes = append(c.nodes, nil)
	i := len(c.nodes) - 1
	c.mu.Unlock()
	n := c.start(i)
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	cl := c.Admin(c.Leader())
	if st, body := cl.Do("POST", "/api/v1/cluster/nodes", map[string]string{"id": id, "addr": n.InternalAddr()}); st != 200 {
		c.t.Fatalf("testcluster: join %s: %d %s", id, st, body)
	}
	return i
}

// Close stops every node.
func (c *Cluster) Close() {
	for i := range c.cfgs {
		c.Kill(i)
	}
}

// Client is a logged-in API client of one node.
type Client struct {
	t     testing.TB
	Base  string
	Token string
	HTTP  *http.Client
}

// Client logs in as the bootstrap admin on node i.
func (c *Cluster) Client(i int) *Client {
	c.t.Helper()
	n := c.Node(i)
	if n == nil {
		c.t.Fatalf("testcluster: node %d is not running", i)
	}
	return Login(c.t, n.APIURL(), "admin", AdminPassword)
}

// Admin is a logged-in bootstrap admin client of node i, logged in once
// per node for the cluster's life (Client logs in on every call). A test
// that polls through the API, or checks something many times, uses this:
// every login costs a bcrypt hash (most of a second under -race) and an
// audit write that rolls up to the parents. A restarted node gets a new
// login. Do not log the client out: later calls answer the same client.
func (c *Cluster) Admin(i int) *Client {
	c.t.Helper()
	n := c.Node(i)
	if n == nil {
		c.t.Fatalf("testcluster: node %d is not running", i)
	}
	c.mu.Lock()
	cl := c.admins[n]
	c.mu.Unlock()
	if cl != nil {
		return cl
	}
	cl = Login(c.t, n.APIURL(), "admin", AdminPassword)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admins == nil {
		c.admins = map[*node.Node]*Client{}
	}
	if prev := c.admins[n]; prev != nil {
		return prev
	}
	c.admins[n] = cl
	return cl
}

// Login logs in at base and returns a client carrying the token.
func Login(t testing.TB, base, user, password string) *Client {
	t.Helper()
	cl := &Client{t: t, Base: base, HTTP: &http.Client{Timeout: RequestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var tok, lastErr string
	defer func() {
		if tok == "" {
			t.Logf("testcluster: last login answer at %s: %s", base, lastErr)
		}
	}()
	WaitFor(t, 30*time.Second, "login at "+base, func() bool {
		st, body := cl.Do("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": password})
		if st != 200 {
			lastErr = fmt.Sprintf("%d %s", st, body)
			return false
		}
		var out struct{ Token string }
		_ = json.Unmarshal(body, &out)
		tok = out.Token
		return tok != ""
	})
	cl.Token = tok
	return cl
}

// Do sends a request; body may be nil, []byte (sent as is) or a value sent
// as JSON. It answers the status (0 on a transport error) and the body.
func (cl *Client) Do(method, path string, body any) (int, []byte) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			cl.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, cl.Base+path, r)
	if err != nil {
		cl.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if cl.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.Token)
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// State returns node i's whole state keyspace except the FSM's own
// bookkeeping (the applied index), as key → value.
func (c *Cluster) State(i int) map[string]string {
	c.t.Helper()
	n := c.Node(i)
	if n == nil {
		c.t.Fatalf("testcluster: node %d is not running", i)
	}
	return StateOf(c.t, n)
}

// StateOf dumps a node's state keyspace (records, indexes, system values),
// without the FSM's applied index.
func StateOf(t testing.TB, n *node.Node) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := n.Group().Reader().Iterate(nil, nil, func(k, v []byte) bool {
		if string(k) != keyspace.AppliedKey {
			out[string(k)] = string(v)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// digestOf hashes a node's state keyspace as StateOf dumps it (in key
// order, without the applied index): comparing digests costs a pass over
// each state, not a map of it (a 14 MiB state took tens of seconds to dump
// into maps under -race on a busy machine).
func digestOf(t testing.TB, n *node.Node) [sha256.Size]byte {
	t.Helper()
	h := sha256.New()
	var lens [2 * binary.MaxVarintLen64]byte
	err := n.Group().Reader().Iterate(nil, nil, func(k, v []byte) bool {
		if string(k) != keyspace.AppliedKey {
			b := binary.AppendUvarint(lens[:0], uint64(len(k)))
			h.Write(binary.AppendUvarint(b, uint64(len(v))))
			h.Write(k)
			h.Write(v)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// WaitConverged waits until every live node holds the same state as the
// leader, and answers that state. It compares digests of the states and
// dumps the leader's once they agree (or, past the timeout, every state,
// to say how they differ).
func (c *Cluster) WaitConverged(timeout time.Duration) map[string]string {
	c.t.Helper()
	timeout = Slack(timeout)
	deadline := time.Now().Add(timeout)
	for {
		start := time.Now()
		l := c.Leader()
		ln := c.Node(l)
		if ln == nil {
			c.t.Fatalf("testcluster: node %d is not running", l)
		}
		want := digestOf(c.t, ln)
		same := true
		for _, n := range c.Live() {
			if n != ln && digestOf(c.t, n) != want {
				same = false
				break
			}
		}
		if same {
			return StateOf(c.t, ln)
		}
		if time.Now().After(deadline) {
			state := StateOf(c.t, ln)
			for i, n := range c.Live() {
				if d := Diff(state, StateOf(c.t, n)); d != "" {
					c.t.Fatalf("testcluster: replicas did not converge in %v: node %d (%s) differs from the leader: %s", timeout, i, n.Config().NodeID, d)
				}
			}
			return state // equal by the time they were dumped
		}
		pollPause(start, 20*time.Millisecond)
	}
}

// Diff describes how got differs from want ("" when equal), naming up to
// three keys.
func Diff(want, got map[string]string) string {
	var missing, extra, changed []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != v:
			changed = append(changed, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(changed) == 0 {
		return ""
	}
	cut := func(s []string) []string {
		if len(s) > 3 {
			return s[:3]
		}
		return s
	}
	return fmt.Sprintf("%d missing %q, %d extra %q, %d changed %q", len(missing), cut(missing), len(extra), cut(extra), len(changed), cut(changed))
}
