package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"

	"gridcrm/api"
	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/ops"
	"gridcrm/replication"
	"gridcrm/replication/link"
	"gridcrm/store"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// Config is everything a node needs; cmd/gridcrm fills it from flags or a
// YAML file.
type Config struct {
	NodeID         string             `yaml:"node_id"`         // required: unique in the region
	Region         string             `yaml:"region"`          // required: GB/T 2260 code
	Tier           string             `yaml:"tier"`            // province, city or county; default from the code's length
	DataDir        string             `yaml:"data_dir"`        // required
	APIListen      string             `yaml:"api_listen"`      // public HTTP API; default 127.0.0.1:8400
	InternalListen string             `yaml:"internal_listen"` // raft and internal HTTP; default 127.0.0.1:8500
	Advertise      string             `yaml:"advertise"`       // internal address others dial; default InternalListen
	MetricsListen  string             `yaml:"metrics_listen"`  // optional: /metrics without a token, for Prometheus
	APITLS         *APITLS            `yaml:"api_tls"`         // optional: the public API speaks HTTPS only, TLS 1.2+ (apitls.go); default nil: HTTP
	Bootstrap      bool               `yaml:"bootstrap"`       // start a new region (with Peers) if there is no state
	Peers          []replication.Peer `yaml:"peers"`           // initial voters for Bootstrap
	AdminPassword  string             `yaml:"admin_password"`  // create user "admin" with it in a region without users (bootstrap.go); prefer admin_password_file
	TokenTTL       time.Duration      `yaml:"token_ttl"`       // default 12h
	ForwardWait    time.Duration      `yaml:"forward_wait"`    // how long a write forwarded to a child (partial management) waits for its outcome before 202; default 5s

	// AdminPasswordFile names a file holding AdminPassword; cmd reads it
	// (as it reads GRIDCRM_ADMIN_PASSWORD; never a flag) and says where the
	// password came from in AdminPasswordFrom, for error messages.
	AdminPasswordFile string `yaml:"admin_password_file"`
	AdminPasswordFrom string `yaml:"-"`

	Parent         *tiers.ParentLink `yaml:"parent"`          // the parent region and its nodes' internal addresses; nil for a province
	CanaryInterval time.Duration     `yaml:"canary_interval"` // heartbeat record period; default 1s
	DownlinkPoll   time.Duration     `yaml:"downlink_poll"`   // how often the leader pulls directives; default 200ms
	LinkBatch      int               `yaml:"link_batch"`      // changes per uplink/downlink batch; default 2000
	FeedRetention  int               `yaml:"feed_retention"`  // feed entries kept beyond the parent's acknowledgement; default 1,000,000
	// FeedRetentionAge drops feed entries appended longer ago than this even
	// when the parent has not acknowledged them (it then resyncs); 0 = no age bound. Default 7 days.
	FeedRetentionAge time.Duration `yaml:"feed_retention_age"`

	// Tunnel, when set, brings up this node's WireGuard device: the internal
	// endpoints also listen on its overlay address (port TunnelPort), the
	// links to the parent dial through it (so parent.nodes name overlay
	// addresses), and the link endpoints answer only there. Intra-region
	// raft stays on internal_listen unless tunnel.intra_region is set; then
	// the internal listener is the tunnel's and peers name overlay addresses.
	Tunnel     *tunnel.Config `yaml:"tunnel"`
	TunnelPort int            `yaml:"tunnel_port"` // default: the topology's port for this node, else internal_listen's port
	// TopologyFile names a YAML tunnel.Topology shared by every node; cmd
	// reads it into Topology. From it Validate derives tunnel.peers (when
	// empty), parent (when absent or without nodes) and tunnel_port, and
	// refuses explicit peers it does not list.
	TopologyFile string           `yaml:"topology"`
	Topology     *tunnel.Topology `yaml:"-"`

	// TLS makes every node-to-node connection (raft, forwarding, read
	// index, membership, links) mutual TLS 1.3 with this node's certificate
	// (security.go). Without it, a node whose internal endpoints are not on
	// loopback refuses to start unless InsecureInternal is set, and then
	// warns at every start and in /readyz.
	TLS              *TLSFiles `yaml:"tls"`
	InsecureInternal bool      `yaml:"insecure_internal"`
	// Security is mutual TLS built in memory (tests); it stands for TLS.
	Security *replication.Security `yaml:"-"`

	// LinkDialer dials the parent's internal addresses (tests inject faults
	// here). Default: through the tunnel when there is one, else plain TCP.
	LinkDialer replication.Dialer `yaml:"-"`

	// APILimits: concurrent imports and the public listener's timeouts
	// (apilimits.go), as top-level keys.
	APILimits `yaml:",inline"`

	// Analytics is the leader's monthly analytics schedule (the credit
	// grades and warnings of the previous month, api/scheduler.go); on by
	// default, analytics.disabled: true turns it off.
	Analytics api.ScheduleConfig `yaml:"analytics"`

	Raft replication.Config `yaml:"-"` // tunables; identity fields are filled from the above
	// StoreFS, for tests and benchmarks only, is the filesystem the store
	// uses (e.g. one whose fsyncs are slowed, internal/slowfs); nil: the
	// OS's, with the data directory's permissions enforced.
	StoreFS vfs.FS       `yaml:"-"`
	Logger  *slog.Logger `yaml:"-"`
}

// DefaultConfig returns a Config with the defaults filled in.
func DefaultConfig() Config {
	return Config{APIListen: "127.0.0.1:8400", InternalListen: "127.0.0.1:8500", TokenTTL: 12 * time.Hour, Raft: replication.DefaultConfig()}
}

// Validate checks the config and fills derived defaults.
func (c *Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("node: node_id is required")
	}
	if strings.ContainsAny(c.NodeID, "/ \t") {
		return fmt.Errorf("node: node_id %q must not contain spaces or '/'", c.NodeID)
	}
	code, err := tiers.ParseRegion(c.Region)
	if err != nil {
		return fmt.Errorf("node: region: %w", err)
	}
	c.Region = string(code)
	want := string(code.Tier()) // tiers decides: the code's length
	if c.Tier == "" {
		c.Tier = want
	}
	if c.Tier != want {
		return fmt.Errorf("node: tier %q does not fit region %s (a %d-digit code is a %s)", c.Tier, c.Region, len(c.Region), want)
	}
	if err := c.Analytics.Validate(); err != nil {
		return fmt.Errorf("node: analytics: %w", err)
	}
	if c.DataDir == "" {
		return errors.New("node: data_dir is required")
	}
	for name, a := range map[string]string{"api_listen": c.APIListen, "internal_listen": c.InternalListen} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("node: %s %q: %w", name, a, err)
		}
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 12 * time.Hour
	}
	if err := c.APILimits.validate(); err != nil { // apilimits.go
		return err
	}
	if c.APITLS != nil {
		if err := c.APITLS.validate(); err != nil {
			return err
		}
	}
	if err := c.validateBootstrap(); err != nil { // bootstrap.go
		return err
	}
	if c.CanaryInterval <= 0 {
		c.CanaryInterval = time.Second
	}
	if c.DownlinkPoll <= 0 {
		c.DownlinkPoll = 200 * time.Millisecond
	}
	if c.LinkBatch <= 0 {
		c.LinkBatch = 2000
	}
	if c.FeedRetention <= 0 {
		c.FeedRetention = 1_000_000
	}
	if c.FeedRetentionAge == 0 {
		c.FeedRetentionAge = 7 * 24 * time.Hour
	}
	if c.Tunnel != nil {
		if err := c.validateTunnel(); err != nil {
			return err
		}
	}
	tc := tiers.Config{Region: tiers.RegionCode(c.Region), Tier: tiers.Tier(c.Tier), Parent: c.Parent}
	if err := tc.Validate(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if c.Tunnel != nil {
		if err := c.checkOverlayAddrs(); err != nil {
			return err
		}
	}
	return c.validateSecurity() // security.go
}

// Node is one running gridcrm node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	st    *store.Store
	mux   *replication.Mux
	group *replication.Group
	api   *api.Server
	ops   *ops.Registry
	links *links
	tun   tunnel.Tunnel
	sec   *replication.Security // nil: plaintext node-to-node connections

	linkm *link.Metrics             // link traffic and refusals, shared by the applier and the links
	raftp atomic.Pointer[raft.Raft] // for the term in log lines; set once the group runs

	adv       string // internal address others dial
	apiLn     net.Listener
	apiSrv    *http.Server
	metricsLn net.Listener
	metricsSv *http.Server
	closers   []func() error // extra servers (the tunnel's link server), closed before the tunnel

	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
	// ctx ends when the node stops: every background call (links, canary,
	// initialisation) derives from it, so none of them holds a shutdown
	// for its own timeout.
	ctx    context.Context
	cancel context.CancelFunc
}

// Start opens the store, joins the raft group and serves the API. Listeners
// on port 0 are resolved; APIURL and InternalAddr tell where they ended up.
func Start(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{cfg: cfg, stop: make(chan struct{})}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.log = n.contextLogger(cfg.Logger) // region, node and the raft term on every line (ops.go)
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	var err error
	if n.sec, err = cfg.loadSecurity(); err != nil {
		return nil, err
	}
	if n.sec == nil && cfg.InsecureInternal {
		n.log.Warn("node: " + insecureWarning)
	}
	// The whole data directory is private, whatever existed before: the
	// store's files hold the token keys and password hashes, raft's
	// snapshots the same state. SecureDir tightens what is there; files
	// raft writes later are created under 0700 directories (and gridcrm
	// node runs with umask 077).
	if err = store.SecureDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("node: data_dir: %w", err)
	}
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(cfg.DataDir, "pebble")
	sc.FS = cfg.StoreFS
	if n.st, err = store.Open(sc); err != nil {
		return nil, err
	}
	if replication.CheckState(n.st) == nil { // a partial state is restored from a snapshot first (and indexed then)
		if err = migrateSearch(n.st, n.log); err != nil { // search.go: before raft applies anything
			return nil, err
		}
		if err = migrateProcess(n.st, n.log); err != nil { // process_layout.go: the same
			return nil, err
		}
		if err = migrateCommands(n.st, n.log); err != nil { // commands_layout.go: the same
			return nil, err
		}
	}
	// The tunnel comes up first: with intra_region the region's raft runs
	// through it, and a node whose tunnel cannot come up must not start.
	var tln net.Listener
	if cfg.Tunnel != nil {
		if n.tun, err = tunnel.New(*cfg.Tunnel); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		if err = n.tun.Up(); err != nil {
			return nil, fmt.Errorf("node: tunnel: %w", err)
		}
	}
	var iln net.Listener
	dial := replication.Dialer(replication.TCPDialer)
	if cfg.Tunnel != nil && cfg.Tunnel.IntraRegion {
		port := cfg.TunnelPort
		if port == 0 {
			_, p, _ := net.SplitHostPort(cfg.InternalListen)
			port, _ = strconv.Atoi(p)
		}
		if tln, err = n.tun.Listen(port); err != nil {
			return nil, fmt.Errorf("node: listen on the tunnel: %w", err)
		}
		iln = tln // the region's raft and internal HTTP go through the tunnel only
		t := n.tun
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return t.Dial(ctx, addr) }
	} else if iln, err = net.Listen("tcp", cfg.InternalListen); err != nil {
		return nil, fmt.Errorf("node: internal listener: %w", err)
	}
	n.mux = replication.NewMux(iln)
	n.mux.Secure(n.sec)
	adv := cfg.Advertise
	if adv == "" {
		adv = iln.Addr().String()
	}
	n.adv = adv
	rc := cfg.Raft
	rc.NodeID, rc.Advertise, rc.Dir = cfg.NodeID, adv, filepath.Join(cfg.DataDir, "raft")
	rc.Bootstrap, rc.Peers, rc.Logger, rc.Security = cfg.Bootstrap, cfg.Peers, n.log, n.sec
	n.linkm = link.NewMetrics(n.log)
	if n.group, err = replication.New(rc, n.st, n.mux, dial, newApplier(cfg.Region, parentRegion(cfg), n.linkm)); err != nil {
		return nil, err
	}
	if n.links, err = newLinks(n); err != nil { // links.go: before the routes are registered
		return nil, err
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); _ = n.mux.Serve() }()

	n.ops = ops.NewRegistry()
	n.ops.MustRegister(ops.NewRaftCollector(cfg.Region, cfg.NodeID, n.group.Raft(), n.group.Applied))
	n.ops.MustRegister(ops.NewStoreCollector(cfg.Region, cfg.NodeID, n.st))
	n.registerOps() // ops.go: raft group, disk, domain metrics
	var warnings []string
	if n.sec == nil && cfg.InsecureInternal {
		warnings = append(warnings, insecureWarning)
	}
	n.api = api.New(api.Config{Region: cfg.Region, Tier: cfg.Tier, NodeID: cfg.NodeID, TokenTTL: cfg.TokenTTL, ForwardWait: cfg.ForwardWait, Warnings: warnings, Logger: n.log,
		MaxImports: cfg.MaxImports, ImportRetryAfter: cfg.ImportRetryAfter, BodyTimeout: cfg.APIReadTimeout, ImportTimeout: cfg.APIImportReadTimeout,
		WriteTimeout: cfg.APIWriteTimeout, ReadHeaderTimeout: cfg.APIReadHeaderTimeout, IdleTimeout: cfg.APIIdleTimeout}, n, n.ops)
	if n.apiLn, err = net.Listen("tcp", cfg.APIListen); err != nil {
		return nil, fmt.Errorf("node: api listener: %w", err)
	}
	n.apiSrv = n.api.HTTPServer() // with its timeouts
	if cfg.APITLS != nil {
		cert, err := newAPICert(*cfg.APITLS, n.log)
		if err != nil {
			return nil, err
		}
		n.apiSrv.TLSConfig = cert.tlsConfig()
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.api.RunSchedule(n.ctx, cfg.Analytics) }() // on the leader only, once a month
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.warmClassMemos(cfg.Region) }()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if n.apiSrv.TLSConfig != nil {
			_ = n.apiSrv.ServeTLS(n.apiLn, "", "")
		} else {
			_ = n.apiSrv.Serve(n.apiLn)
		}
	}()
	if cfg.MetricsListen != "" {
		if n.metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("node: metrics listener: %w", err)
		}
		n.metricsSv = &http.Server{Handler: n.ops.Handler(), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		n.wg.Add(1)
		go func() { defer n.wg.Done(); _ = n.metricsSv.Serve(n.metricsLn) }()
	}
	if cfg.Tunnel != nil {
		if tln == nil {
			if err = n.serveTunnel(iln); err != nil {
				return nil, err
			}
		} else {
			n.linkRoutes(n.group) // everything internal is on the tunnel already
		}
		if n.cfg.LinkDialer == nil {
			t := n.tun
			n.cfg.LinkDialer = func(ctx context.Context, addr string) (net.Conn, error) { return t.Dial(ctx, addr) }
		}
	} else {
		n.linkRoutes(n.group)
	}
	n.instrumentLinks()
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.initSystem() }()
	go func() { defer n.wg.Done(); n.runCanary() }()
	if cfg.Parent != nil {
		n.wg.Add(2)
		go func() { defer n.wg.Done(); n.links.runUplink() }()
		go func() { defer n.wg.Done(); n.links.runDownlink() }()
	} else {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.runRetention() }()
	}
	if n.sec != nil && cfg.TLS != nil {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.reloadSecurity(n.sec) }()
	}
	ok = true
	n.log.Info("node: started", "api", n.APIURL(), "internal", adv, "tier", cfg.Tier, "mtls", n.sec != nil)
	return n, nil
}

// Propose implements api.Backend: it commits cmd through the region's raft
// log (via the leader) and decodes the domain's answer.
func (n *Node) Propose(ctx context.Context, cmd *crm.Command) (crm.Result, error) {
	data, err := encodeCommand(cmd)
	if err != nil {
		return crm.Result{}, err
	}
	resp, err := n.group.Propose(ctx, data)
	if err != nil {
		return crm.Result{}, err
	}
	var res crm.Result
	if err := json.Unmarshal(resp, &res); err != nil {
		return crm.Result{}, fmt.Errorf("node: undecodable answer from the state machine: %w", err)
	}
	return res, nil
}

// ReadBarrier implements api.Backend.
func (n *Node) ReadBarrier(ctx context.Context) error { return n.group.ReadBarrier(ctx) }

// Reader implements api.Backend: the local replica.
func (n *Node) Reader() crm.Reader { return n.group.Reader() }

// Ready implements api.Backend: the store is open and the region has a leader.
func (n *Node) Ready() error {
	if id, _ := n.group.Leader(); id == "" {
		return replication.ErrNoLeader
	}
	if key, err := crm.System(n.group.Reader(), "token_key"); err != nil || key == nil {
		return errors.New("node: the region is not initialised yet (no token key replicated here)")
	}
	return nil
}

// Cluster implements api.Backend.
func (n *Node) Cluster() api.ClusterInfo {
	id, addr := n.group.Leader()
	servers, _ := n.group.Servers()
	var members []api.Member
	for _, s := range servers {
		members = append(members, api.Member{ID: s.ID, Addr: s.Addr, Leader: s.ID == id})
	}
	return api.ClusterInfo{Region: n.cfg.Region, Tier: n.cfg.Tier, Node: n.cfg.NodeID, LeaderID: id, LeaderAddr: addr,
		Applied: n.group.Applied(), State: n.group.Raft().State().String(), Members: members}
}

// AddVoter implements api.Backend.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.group.AddVoter(ctx, replication.Peer{ID: id, Addr: addr})
}

// RemoveServer implements api.Backend.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	return n.group.RemoveServer(ctx, id)
}

// Group exposes the raft member (tests, status).
func (n *Node) Group() *replication.Group { return n.group }

// Store exposes the store (tests, backup).
func (n *Node) Store() *store.Store { return n.st }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// APIURL is the base URL of the public API, e.g. http://127.0.0.1:8401.
func (n *Node) APIURL() string {
	if n.apiLn == nil {
		return ""
	}
	if n.cfg.APITLS != nil {
		return "https://" + n.apiLn.Addr().String()
	}
	return "http://" + n.apiLn.Addr().String()
}

// InternalAddr is the address other nodes of the region dial.
func (n *Node) InternalAddr() string { return n.adv }

// MetricsURL is the URL of the token-free metrics listener, if configured.
func (n *Node) MetricsURL() string {
	if n.metricsLn == nil {
		return ""
	}
	return "http://" + n.metricsLn.Addr().String() + "/metrics"
}

// Close stops serving and closes the store. It does not leave the region.
func (n *Node) Close() error {
	var errs []error
	n.stopOnce.Do(func() {
		close(n.stop)
		n.cancel()
		// In-flight API requests get a short grace; those still waiting
		// for a commit then answer from the group's close (outcome unknown).
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if n.apiSrv != nil {
			_ = n.apiSrv.Shutdown(ctx)
		} else if n.apiLn != nil {
			n.apiLn.Close()
		}
		if n.metricsSv != nil {
			_ = n.metricsSv.Shutdown(ctx)
		}
		if n.group != nil {
			errs = append(errs, n.group.Close())
		}
		if n.mux != nil {
			_ = n.mux.Close()
		}
		for _, c := range n.closers {
			_ = c()
		}
		if n.tun != nil {
			_ = n.tun.Close()
		}
		n.wg.Wait()
		if n.st != nil {
			errs = append(errs, n.st.Close())
		}
	})
	return errors.Join(errs...)
}

func parentRegion(c Config) string {
	if c.Parent == nil {
		return ""
	}
	return string(c.Parent.Region)
}

// TunnelPeers answers the WireGuard peers' state (nil without a tunnel).
func (n *Node) TunnelPeers() []api.TunnelPeer {
	if n.tun == nil {
		return nil
	}
	ps, err := n.tun.Peers()
	if err != nil {
		return nil
	}
	now := time.Now()
	out := make([]api.TunnelPeer, 0, len(ps))
	for _, p := range ps {
		tp := api.TunnelPeer{PublicKey: p.PublicKey, Addr: p.Addr.String(), Endpoint: p.Endpoint, RxBytes: p.RxBytes, TxBytes: p.TxBytes}
		if !p.LastHandshake.IsZero() {
			age := now.Sub(p.LastHandshake).Seconds()
			tp.HandshakeAgeSeconds = &age
		}
		out = append(out, tp)
	}
	return out
}

// Tunnel exposes the node's WireGuard device (nil without one).
func (n *Node) Tunnel() tunnel.Tunnel { return n.tun }

// warmClassMemos builds the class memos of the node's subtree from its
// customer cards shortly after start, in the background
// (bigcustomer.WarmClassMemos), and the top customers' ranking
// (api.WarmMarketRanking), so that the first classification list, Pareto
// report, customer page or top-customers list does not wait for them (about 11 s for a county
// of a million customers on a 2-core machine). Then it brings them up to
// date after many cards changed (a bulk load, a catch-up: a county's
// 100,000 customers made the first customer page after them take 0.49 s,
// read from every card), when the writes stand still or have gone on for a
// few minutes (warmPolicy), never on a timer alone: a node whose cards do not
// change reads nothing, and the nodes of a region or of `make demo` do not
// all rebuild their memos while data is rolling up.
func (n *Node) warmClassMemos(region string) {
	select {
	case <-n.ctx.Done():
		return
	case <-time.After(2 * time.Second): // let raft replay and the listeners settle first
	}
	var p warmPolicy
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		writes := crm.CardWrites()
		start := time.Now()
		day := crm.Date(start.In(workday.CST).Format(time.DateOnly))
		k, err := bigcustomer.WarmClassMemos(n.Reader(), region, day)
		if rerr := api.WarmMarketRanking(n.Reader(), region); rerr != nil { // the top customers' ranking, from the same cards
			n.log.Warn("node: top customers' ranking not warmed", "err", rerr)
		}
		took := time.Since(start)
		p.warmed(writes, time.Now(), took)
		if err != nil {
			n.log.Warn("node: class memos not warmed", "err", err)
		} else if took > time.Second {
			n.log.Info("node: class memos warmed", "customers", k, "took", took.Round(time.Millisecond))
		}
		for due := false; !due; {
			select {
			case <-n.ctx.Done():
				return
			case now := <-tick.C:
				due = p.due(crm.CardWrites(), now)
			}
		}
	}
}

// warmPolicy decides when a node reads its cards again to bring its class
// memos up to date: after at least warmMinWrites card writes (fewer are
// patched into the memo by the first reader in milliseconds), once the
// writes have stood still for warmQuiet, or have kept coming for
// warmMaxWait after that many (a node never quiet for long: its memos do
// not drift past what a reader patches in), and never more than a tenth of
// the time (the last warm-up took d: not before 9·d after it ended), so
// that at a county of a million customers, where a warm-up reads for
// seconds, a bulk load is not slowed by it.
type warmPolicy struct {
	base     uint64    // card writes when the last warm-up started
	seen     uint64    // card writes at the last look
	moved    time.Time // when seen last changed
	enough   time.Time // the first look that found warmMinWrites past base
	notUntil time.Time // the last warm-up's end + 9 times its length
}

const (
	warmMinWrites = 1000
	warmQuiet     = 3 * time.Second
	warmMaxWait   = 5 * time.Minute
)

func (p *warmPolicy) warmed(writes uint64, end time.Time, took time.Duration) {
	*p = warmPolicy{base: writes, seen: writes, moved: end, notUntil: end.Add(9 * took)}
}

func (p *warmPolicy) due(writes uint64, now time.Time) bool {
	if writes != p.seen {
		if p.seen-p.base < warmMinWrites && writes-p.base >= warmMinWrites {
			p.enough = now
		}
		p.seen, p.moved = writes, now
	}
	if writes-p.base < warmMinWrites || now.Before(p.notUntil) {
		return false
	}
	return now.Sub(p.moved) >= warmQuiet || now.Sub(p.enough) >= warmMaxWait
}
