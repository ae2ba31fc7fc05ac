package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mrand "math/rand/v2"

	"gopkg.in/yaml.v3"

	"gridcrm/crm/sample"
	"gridcrm/node"
	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// File is DIR/demo.json, read by scripts such as shared/tools/smoke and by
// gridcrm monitor-config.
type File struct {
	Nodes []Node `json:"nodes"`
	Admin struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"admin"`
}

// Node is one demo node as demo.json lists it.
type Node struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Tier   string `json:"tier"`
	API    string `json:"api"`
	Device string `json:"device,omitempty"` // the node's WireGuard device, for `wg show`
	// Metrics is the node's token-free metrics listener (make monitor scrapes it).
	Metrics string `json:"metrics,omitempty"`
}

// DefaultLoadTimeout bounds loading the sample data when Options.LoadTimeout is 0.
const DefaultLoadTimeout = 5 * time.Minute

// Options are what Start needs.
type Options struct {
	Dir       string // the nodes' data directories, keys, pki/, topology.yaml and demo.json
	Customers int    // customers to generate across the four counties
	Months    int    // months of bills per customer
	Tunnels   bool   // link the tiers through WireGuard tunnels (else plain TCP)
	// Log receives a line per loaded region and the load's duration.
	Log io.Writer
	// Logger is the nodes' logger (nil: warnings to stderr).
	Logger *slog.Logger
	// LoadTimeout bounds logging in and loading the sample data, retries
	// included (0: DefaultLoadTimeout).
	LoadTimeout time.Duration
}

// region is one region of the demo hierarchy.
type region struct {
	code, name string
	nodes      int
	customers  int // generated at counties
}

// regions: province 32, two cities, four counties; one county is a
// 3-node raft group, the rest run one node each.
var regions = []region{
	{"32", "江苏省", 1, 0},
	{"3207", "连云港市", 1, 0},
	{"3208", "淮安市", 1, 0},
	{"320722", "东海县", 3, 0},
	{"320723", "灌云县", 1, 0},
	{"320803", "淮安区", 1, 0},
	{"320804", "淮阴区", 1, 0},
}

// Start starts the hierarchy, loads it and writes DIR/demo.json. The
// function it answers stops the trickle of writes and the nodes.
func Start(o Options) (*File, func() error, error) {
	dir := o.Dir
	if dir == "" {
		return nil, nil, errors.New("demo: no directory")
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	pw := make([]byte, 8)
	_, _ = rand.Read(pw)
	password := "demo-" + hex.EncodeToString(pw)

	var nodes []*node.Node
	stopTrickle := make(chan struct{})
	var trickle sync.WaitGroup
	stop := func() error {
		close(stopTrickle)
		trickle.Wait()
		var first error
		for i := len(nodes) - 1; i >= 0; i-- { // children first
			if err := nodes[i].Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	internal := map[string][]string{} // region → its nodes' internal addresses
	var top *tunnel.Topology
	noUAPI := false
	if o.Tunnels {
		var err error
		if top, err = writeTopology(dir); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll("/var/run/wireguard", 0o755); err != nil {
			noUAPI = true
			fmt.Fprintf(log, "note: cannot create /var/run/wireguard (%v); the tunnels run without UAPI sockets, so wg show cannot see them\n", err)
		}
	}
	certFor, err := certificates(dir)
	if err != nil {
		return nil, nil, err
	}
	port := 0
	for _, r := range regions {
		var peers []replication.Peer
		var apis []string
		for i := 0; i < r.nodes; i++ {
			peers = append(peers, replication.Peer{ID: fmt.Sprintf("%s-%d", r.code, i+1), Addr: pickAddr(8501 + port)})
			apis = append(apis, pickAddr(8401+port))
			port++
			internal[r.code] = append(internal[r.code], peers[i].Addr)
		}
		for i, p := range peers {
			cfg := node.DefaultConfig()
			cfg.NodeID, cfg.Region, cfg.DataDir = p.ID, r.code, filepath.Join(dir, p.ID)
			cfg.APIListen, cfg.InternalListen = apis[i], p.Addr
			cfg.MetricsListen = pickAddr(9401 + port - r.nodes + i)
			cfg.Bootstrap, cfg.Peers, cfg.AdminPassword = true, peers, password
			if top != nil {
				// Peers, parent and overlay port come from the topology.
				me, _ := top.Find(tiers.RegionCode(r.code), i+1)
				cfg.Tunnel = &tunnel.Config{Index: i + 1, PrivateKeyFile: keyFile(dir, r.code, i+1), ListenAddr: me.Endpoint, NoUAPI: noUAPI}
				cfg.Topology, cfg.TopologyFile = top, filepath.Join(dir, "topology.yaml")
			} else if parent := tiers.RegionCode(r.code).Parent(); parent != "" {
				cfg.Parent = &tiers.ParentLink{Region: parent, Nodes: internal[string(parent)]}
			}
			if cfg.TLS, err = certFor(r.code, p.ID); err != nil {
				stop()
				return nil, nil, err
			}
			cfg.Logger = logger
			n, err := node.Start(cfg)
			if err != nil {
				stop()
				return nil, nil, err
			}
			nodes = append(nodes, n)
		}
	}
	d := &File{}
	d.Admin.Username, d.Admin.Password = "admin", password
	first := map[string]string{} // region → API of its first node
	all := map[string][]string{} // region → API of each node
	for _, n := range nodes {
		c := n.Config()
		dn := Node{Name: c.NodeID, Region: c.Region, Tier: c.Tier, API: n.APIURL()}
		dn.Metrics = strings.TrimSuffix(strings.TrimPrefix(n.MetricsURL(), "http://"), "/metrics")
		if t := n.Tunnel(); t != nil {
			dn.Device = t.DeviceName()
		}
		d.Nodes = append(d.Nodes, dn)
		if first[c.Region] == "" {
			first[c.Region] = n.APIURL()
		}
		all[c.Region] = append(all[c.Region], n.APIURL())
	}
	clients, err := Load(first, "admin", password, o.Customers, o.Months, o.LoadTimeout, log)
	if err != nil {
		stop()
		return nil, nil, err
	}
	// The month's credit grades and warnings (a second or two), then the
	// wait for all of it to reach the province: the demo is up when the
	// dashboards above show the sample data and a new write rolls up at
	// once, not behind some 120,000 records still on their way (it took
	// 7–40 s before, and tools/smoke's customer missed the province's 10 s).
	runAnalyticsAll(clients, o.LoadTimeout, log, stopTrickle)
	waitRolledUp(clients, all, o.LoadTimeout, log)
	trickle.Add(1)
	go func() {
		defer trickle.Done()
		runTrickle(clients, stopTrickle)
	}()
	raw, _ := json.MarshalIndent(d, "", "  ")
	tmp := filepath.Join(dir, "demo.json.tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		stop()
		return nil, nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "demo.json")); err != nil {
		stop()
		return nil, nil, err
	}
	return d, stop, nil
}

// ErrDeadline is the cause of a load that did not finish within its
// deadline (errors.Is matches it).
var ErrDeadline = errors.New("demo: the load did not finish in time")

// Load logs in as user at every region's API (apis: region → URL) and
// loads it: sample data and big-customer management at the counties
// (customers split between them), directives at the province and a city.
// It answers a logged-in client per region. It runs within timeout (0:
// DefaultLoadTimeout), retries included; past it, the error wraps
// ErrDeadline and names the request that was waiting and its last failure.
func Load(apis map[string]string, user, password string, customers, months int, timeout time.Duration, log io.Writer) (map[string]*Client, error) {
	if timeout <= 0 {
		timeout = DefaultLoadTimeout
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout,
		fmt.Errorf("%w: loading took longer than %s (the demo's --load-timeout)", ErrDeadline, timeout))
	defer cancel()
	start := time.Now()
	clients := map[string]*Client{}
	for _, r := range regions {
		cl := NewClient(apis[r.code])
		if err := cl.Login(ctx, user, password); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		clients[r.code] = cl
		if len(r.code) != 6 {
			continue
		}
		n := customers / 4
		if r.code == "320722" {
			n = customers - 3*(customers/4)
		}
		counts, err := loadSample(ctx, cl, r.code, r.name, n, months)
		if err != nil {
			return nil, fmt.Errorf("demo: loading %s: %w", r.code, err)
		}
		fmt.Fprintf(log, "%s %s: %s\n", r.code, r.name, counts)
		if err := loadBigCustomer(ctx, cl, r.code, log); err != nil { // bigcustomer.go
			return nil, fmt.Errorf("demo: big customers at %s: %w", r.code, err)
		}
	}
	if err := loadDirectives(ctx, clients); err != nil {
		return nil, err
	}
	if err := loadBigCustomerDirectives(ctx, clients); err != nil { // bigcustomer.go
		return nil, err
	}
	fmt.Fprintf(log, "loaded in %.1fs\n", time.Since(start).Seconds())
	return clients, nil
}

// loadDirectives writes a province notice, a city tariff and a province
// class-threshold table; the downlinks carry them to the counties.
func loadDirectives(ctx context.Context, cl map[string]*Client) error {
	for _, d := range []struct {
		region string
		body   map[string]any
	}{
		{"32", map[string]any{"kind": "notice", "title": "关于做好迎峰度夏期间有序用电工作的通知", "body": map[string]any{"text": "各单位做好重要用户保供电工作"}}},
		{"32", map[string]any{"kind": "class_thresholds", "title": "大客户分类标准（2026版）", "body": map[string]any{"annual_kwh": 1000000, "monthly_bill": 100000, "voltage_kv": 35}}},
		{"3207", map[string]any{"kind": "tariff", "title": "连云港市分时电价执行细则", "body": map[string]any{"peak_factor": 1.6, "valley_factor": 0.4}}},
		{"32", map[string]any{"kind": "tariff", "title": "关于调整工商业分时电价峰段价格的通知", "effective_from": sample.TariffChange + "-01",
			"body": map[string]any{"peak_factor": sample.PeakMultAfter, "valley_factor": 0.4, "categories": []string{"commercial", "industrial"}}}},
	} {
		if err := cl[d.region].Do(ctx, "POST", "/api/v1/directives", d.body, nil); err != nil {
			return fmt.Errorf("demo: directive at %s: %w", d.region, err)
		}
	}
	// 淮安市 manages 淮阴区 partially: the city may write its visits and work
	// orders (forwarded to the county). The other counties stay autonomous.
	if err := cl["3208"].Do(ctx, "PUT", "/api/v1/regions/320804/management",
		map[string]any{"mode": "partial", "collections": []string{"interactions", "work_orders"}}, nil); err != nil {
		return fmt.Errorf("demo: management of 320804: %w", err)
	}
	return nil
}

// runAnalyticsAll runs the last month's credit grades and warnings at the
// four counties at once (runAnalytics, sample.go) and logs what each found
// and how long it took; it gives up at timeout (0: DefaultLoadTimeout) or
// when stop closes.
func runAnalyticsAll(cl map[string]*Client, timeout time.Duration, log io.Writer, stop <-chan struct{}) {
	if timeout <= 0 {
		timeout = DefaultLoadTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	runs := make([]string, len(regions))
	errs := make([]error, len(regions))
	for i, r := range regions {
		if len(r.code) != 6 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = runAnalytics(ctx, cl[r.code])
		}()
	}
	wg.Wait()
	var b strings.Builder
	for i, r := range regions {
		switch {
		case errs[i] != nil:
			fmt.Fprintf(&b, "%s analytics: %v\n", r.code, errs[i])
		case runs[i] != "":
			fmt.Fprintf(&b, "%s analytics: %s\n", r.code, runs[i])
		}
	}
	fmt.Fprintf(&b, "analytics run in %.1fs\n", time.Since(start).Seconds())
	io.WriteString(log, b.String())
}

// waitRolledUp waits, within timeout (0: DefaultLoadTimeout), until every
// region's changes have reached its parent but for a few (the heartbeats
// go on). It asks the region itself (GET /api/v1/sync/status at each of
// its nodes): the node whose uplink runs says how far the parent has
// acked against the feed's head as it is now (lag_entries), and the
// parent's own view must show the link (acked_seq above 0). The parent's
// view alone (its head_seq is the head the child last sent with a batch)
// once called a county caught up while its new leader's first batch, with
// 30,670 changes, had not arrived. Past the timeout it says so and goes on.
func waitRolledUp(cl map[string]*Client, apis map[string][]string, timeout time.Duration, log io.Writer) {
	if timeout <= 0 {
		timeout = DefaultLoadTimeout
	}
	start := time.Now()
	behind := ""
	for time.Since(start) < timeout {
		behind = ""
		for _, r := range regions {
			parent := string(tiers.RegionCode(r.code).Parent())
			if parent == "" || cl[parent] == nil || cl[r.code] == nil {
				continue
			}
			if behind = rolledUp(cl, apis, r.code, parent); behind != "" {
				break
			}
		}
		if behind == "" {
			fmt.Fprintf(log, "rolled up to the province in %.1fs\n", time.Since(start).Seconds())
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(log, "not all rolled up after %s (%s); going on\n", timeout, behind)
}

// syncStatus is the part of GET /api/v1/sync/status rolledUp reads.
type syncStatus struct {
	Links []struct {
		Peer      string `json:"peer"`
		Direction string `json:"direction"`
		Running   bool   `json:"running"`
		Acked     uint64 `json:"acked_seq"`
		Lag       uint64 `json:"lag_entries"`
	} `json:"links"`
}

// rolledUp says what region still has to send parent, or "" when it is
// caught up but for a few entries.
func rolledUp(cl map[string]*Client, apis map[string][]string, region, parent string) string {
	const few = 50 // entries still on their way that count as caught up
	get := func(c *Client) (syncStatus, error) {
		var st syncStatus
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return st, c.Do(ctx, "GET", "/api/v1/sync/status", nil, &st)
	}
	st, err := get(cl[parent])
	if err != nil {
		return fmt.Sprintf("%s: %v", parent, err)
	}
	seen := false
	for _, l := range st.Links {
		if l.Direction == "from-child" && l.Peer == region {
			seen = l.Acked > 0
		}
	}
	if !seen {
		return fmt.Sprintf("%s has nothing of %s yet", parent, region)
	}
	var errs []error
	for _, api := range apis[region] {
		st, err := get(cl[region].At(api))
		if err != nil {
			errs = append(errs, err) // a node that does not answer does not lead
			continue
		}
		for _, l := range st.Links {
			if l.Direction == "up" && l.Running {
				if l.Lag > few {
					return fmt.Sprintf("%s has %d changes for %s on their way", region, l.Lag, parent)
				}
				return ""
			}
		}
	}
	return fmt.Sprintf("no node of %s runs its uplink (%v)", region, errors.Join(errs...))
}

// runTrickle keeps a light flow of new writes going at the counties: a new
// customer, a visit or a payment every second or so, round-robin.
func runTrickle(cl map[string]*Client, stop <-chan struct{}) {
	counties := []string{"320722", "320723", "320803", "320804"}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
		region := counties[i%len(counties)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c := sample.Customer(mrand.New(mrand.NewPCG(uint64(i), 7)), region, 900000+i)
		_ = cl[region].Do(ctx, "POST", "/api/v1/customers", c, nil)
		cancel()
	}
}

// pickAddr answers 127.0.0.1:port when that port is free, else a free port.
func pickAddr(port int) string {
	for _, a := range []string{fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.1:0"} {
		ln, err := net.Listen("tcp", a)
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}
	}
	return "127.0.0.1:0"
}

func keyFile(dir, region string, index int) string {
	return filepath.Join(dir, "keys", fmt.Sprintf("%s-%d.key", region, index))
}

// writeTopology gives every demo node a key (DIR/keys, kept across restarts
// of the demo in the same directory) and a UDP endpoint on loopback, and
// writes DIR/topology.yaml, the file each node derives its peers from.
func writeTopology(dir string) (*tunnel.Topology, error) {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	top := &tunnel.Topology{Prefix: tunnel.DefaultPrefix}
	k := 0
	for _, r := range regions {
		for i := 1; i <= r.nodes; i++ {
			path := keyFile(dir, r.code, i)
			var pub string
			if key, err := tunnel.LoadKey(path); err == nil {
				pub = key.PublicKey().String()
			} else if pub, err = tunnel.GenerateKey(path); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			top.Nodes = append(top.Nodes, tunnel.TopologyNode{Region: tiers.RegionCode(r.code), Index: i, PublicKey: pub,
				Endpoint: pickUDP(51820 + k), Port: 8600 + k})
			k++
		}
	}
	raw, err := yaml.Marshal(top)
	if err != nil {
		return nil, err
	}
	head := "# The demo's tunnel topology: every node's place, public key and UDP endpoint.\n# Each node derives its WireGuard peers (its parent's and children's nodes) from it.\n"
	return top, os.WriteFile(filepath.Join(dir, "topology.yaml"), append([]byte(head), raw...), 0o644)
}

// pickUDP returns 127.0.0.1:port if that UDP port is free, else a free one.
func pickUDP(port int) string {
	for _, p := range []int{port, 0} {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err == nil {
			addr := c.LocalAddr().String()
			c.Close()
			return addr
		}
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// certificates makes the demo's province CA in DIR/pki (kept across
// restarts of the demo in the same directory, like the tunnel keys) and a
// node certificate for each demo node, so that every node-to-node
// connection of the demo is mutual TLS as in production. The nodes read
// DIR/pki as their trust directory (production copies it without keys).
func certificates(dir string) (func(region, nodeID string) (*node.TLSFiles, error), error) {
	ca := filepath.Join(dir, "pki")
	auth, err := pki.OpenAuthority(ca)
	if errors.Is(err, pki.ErrAuthority) {
		if _, serr := os.Stat(filepath.Join(ca, "root.crt")); os.IsNotExist(serr) {
			auth, err = pki.InitRoot(ca, "32", pki.RootOptions{})
		}
	}
	if err == nil {
		_, err = auth.RefreshCRLs(pki.CRLOptions{}) // a demo directory reused after weeks keeps working
	}
	if err != nil {
		return nil, fmt.Errorf("demo: certificate authority: %w", err)
	}
	return func(region, nodeID string) (*node.TLSFiles, error) {
		id, err := pki.NewIdentity(region, nodeID)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		cert, key := auth.NodeFiles(id)
		if _, err := pki.LoadKeypair(cert, key); err != nil {
			if _, serr := os.Stat(cert); serr == nil {
				if _, _, err = auth.Renew(id, false, pki.RenewRequest{}); err != nil {
					return nil, fmt.Errorf("demo: renew %s: %w", id, err)
				}
			} else if _, err = auth.Issue(pki.NodeRequest{Identity: id, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}); err != nil {
				return nil, fmt.Errorf("demo: issue %s: %w", id, err)
			}
		}
		return &node.TLSFiles{Cert: cert, Key: key, CA: ca}, nil
	}, nil
}
