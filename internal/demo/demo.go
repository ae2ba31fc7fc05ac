package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	mrand "math/rand/v2"
	"sync"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/node"
	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// demoFile is DIR/demo.json, read by scripts such as shared/tools/smoke.
type demoFile struct {
	Nodes []demoNode `json:"nodes"`
	Admin struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"admin"`
}

type demoNode struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Tier   string `json:"tier"`
	API    string `json:"api"`
	Device string `json:"device,omitempty"` // the node's WireGuard device, for `wg show`
	// Metrics is the node's token-free metrics listener (make monitor scrapes it).
	Metrics string `json:"metrics,omitempty"`
}

func demoCmd() *cobra.Command {
	var dir string
	var customers, months int
	var plain bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Start a demo hierarchy (province, 2 cities, 4 counties) with sample data on this machine",
		Long: `Start, in this one process, province 32 (江苏省), cities 3207 (连云港市) and
3208 (淮安市), and counties 320722 (东海县, a raft group of three nodes),
320723, 320803 and 320804 (one node each), linked child to parent on
loopback through netstack WireGuard tunnels (one device per node, peers
derived from DIR/topology.yaml; --no-tunnels links them over plain TCP).
Load generated sample data at the counties (customers, 24 months
of bills, staff, contacts, visits) through the HTTP API, write directives at
the province and a city, keep a light trickle of new customers going, write
DIR/demo.json with every node's API URL and the admin's credentials, and run
until SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("--dir is required")
			}
			out := cmd.OutOrStdout()
			d, stop, err := startDemo(dir, customers, months, !plain, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\ngridcrm demo is up. Log in as %s / %s on any node:\n", d.Admin.Username, d.Admin.Password)
			fmt.Fprintln(out, "  (the province and cities read their counties: ?region=320722 or ?region=32&scope=subtree)")
			for _, n := range d.Nodes {
				fmt.Fprintf(out, "  %-10s %-8s %-7s %s\n", n.Name, n.Region, n.Tier, n.API)
			}
			if d.Nodes[0].Device != "" {
				fmt.Fprintf(out, "Tiers are linked through WireGuard (netstack): wg show %s (or: wg show all)\n", d.Nodes[0].Device)
			}
			fmt.Fprintln(out, "Web console (中文), one per region; log in with the same user:")
			seen := map[string]bool{}
			for _, n := range d.Nodes {
				if !seen[n.Region] {
					seen[n.Region] = true
					fmt.Fprintf(out, "  %-8s %-7s %s/console/\n", n.Region, n.Tier, n.API)
				}
			}
			fmt.Fprintf(out, "Try: curl -s -X POST %s/api/v1/auth/login -d '{\"username\":\"admin\",\"password\":\"%s\"}'\n", d.Nodes[0].API, d.Admin.Password)
			fmt.Fprintf(out, "Written: %s. Stop with Ctrl-C.\n", filepath.Join(dir, "demo.json"))
			waitForSignal()
			fmt.Fprintln(out, "gridcrm demo: stopping")
			return stop()
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory for the nodes' data and demo.json (required)")
	c.Flags().IntVar(&customers, "customers", 4000, "customers to generate across the four counties")
	c.Flags().IntVar(&months, "months", 24, "months of bills per customer")
	c.Flags().BoolVar(&plain, "no-tunnels", false, "link the tiers over plain TCP instead of WireGuard tunnels")
	return c
}

// demoRegion is one region of the demo hierarchy.
type demoRegion struct {
	code, name string
	nodes      int
	customers  int // generated at counties
}

// demoRegions: province 32, two cities, four counties; one county is a
// 3-node raft group, the rest run one node each.
var demoRegions = []demoRegion{
	{"32", "江苏省", 1, 0},
	{"3207", "连云港市", 1, 0},
	{"3208", "淮安市", 1, 0},
	{"320722", "东海县", 3, 0},
	{"320723", "灌云县", 1, 0},
	{"320803", "淮安区", 1, 0},
	{"320804", "淮阴区", 1, 0},
}

// startDemo starts the hierarchy, loads it and writes demo.json.
func startDemo(dir string, customers, months int, tunnels bool, log io.Writer) (*demoFile, func() error, error) {
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
	logger := newLogger("warn", false, os.Stderr)
	internal := map[string][]string{} // region → its nodes' internal addresses
	var top *tunnel.Topology
	noUAPI := false
	if tunnels {
		var err error
		if top, err = demoTopology(dir); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll("/var/run/wireguard", 0o755); err != nil {
			noUAPI = true
			fmt.Fprintf(log, "note: cannot create /var/run/wireguard (%v); the tunnels run without UAPI sockets, so wg show cannot see them\n", err)
		}
	}
	certFor, err := demoCertificates(dir)
	if err != nil {
		return nil, nil, err
	}
	port := 0
	for _, r := range demoRegions {
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
				cfg.Tunnel = &tunnel.Config{Index: i + 1, PrivateKeyFile: demoKeyFile(dir, r.code, i+1), ListenAddr: me.Endpoint, NoUAPI: noUAPI}
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
	d := &demoFile{}
	d.Admin.Username, d.Admin.Password = "admin", password
	first := map[string]string{} // region → API of its first node
	for _, n := range nodes {
		c := n.Config()
		dn := demoNode{Name: c.NodeID, Region: c.Region, Tier: c.Tier, API: n.APIURL()}
		dn.Metrics = strings.TrimSuffix(strings.TrimPrefix(n.MetricsURL(), "http://"), "/metrics")
		if t := n.Tunnel(); t != nil {
			dn.Device = t.DeviceName()
		}
		d.Nodes = append(d.Nodes, dn)
		if first[c.Region] == "" {
			first[c.Region] = n.APIURL()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	clients := map[string]*apiClient{}
	for _, r := range demoRegions {
		cl, err := login(ctx, first[r.code], "admin", password)
		if err != nil {
			stop()
			return nil, nil, err
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
			stop()
			return nil, nil, fmt.Errorf("demo: loading %s: %w", r.code, err)
		}
		fmt.Fprintf(log, "%s %s: %s\n", r.code, r.name, counts)
		if err := loadBigCustomer(ctx, cl, r.code, log); err != nil { // demo_bigcustomer.go
			stop()
			return nil, nil, fmt.Errorf("demo: big customers at %s: %w", r.code, err)
		}
	}
	if err := demoDirectives(ctx, clients); err != nil {
		stop()
		return nil, nil, err
	}
	if err := demoBigCustomerDirectives(ctx, clients); err != nil { // demo_bigcustomer.go
		stop()
		return nil, nil, err
	}
	fmt.Fprintf(log, "loaded in %.1fs\n", time.Since(start).Seconds())
	trickle.Add(1)
	go func() { defer trickle.Done(); runTrickle(clients, stopTrickle) }()
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

// demoDirectives writes a province notice, a city tariff and a province
// class-threshold table; the downlinks carry them to the counties.
func demoDirectives(ctx context.Context, cl map[string]*apiClient) error {
	for _, d := range []struct {
		region string
		body   map[string]any
	}{
		{"32", map[string]any{"kind": "notice", "title": "关于做好迎峰度夏期间有序用电工作的通知", "body": map[string]any{"text": "各单位做好重要用户保供电工作"}}},
		{"32", map[string]any{"kind": "class_thresholds", "title": "大客户分类标准（2026版）", "body": map[string]any{"annual_kwh": 1000000, "monthly_bill": 100000, "voltage_kv": 35}}},
		{"3207", map[string]any{"kind": "tariff", "title": "连云港市分时电价执行细则", "body": map[string]any{"peak_factor": 1.6, "valley_factor": 0.4}}},
	} {
		if err := cl[d.region].do(ctx, "POST", "/api/v1/directives", d.body, nil); err != nil {
			return fmt.Errorf("demo: directive at %s: %w", d.region, err)
		}
	}
	// 淮安市 manages 淮阴区 partially: the city may write its visits and work
	// orders (forwarded to the county). The other counties stay autonomous.
	if err := cl["3208"].do(ctx, "PUT", "/api/v1/regions/320804/management",
		map[string]any{"mode": "partial", "collections": []string{"interactions", "work_orders"}}, nil); err != nil {
		return fmt.Errorf("demo: management of 320804: %w", err)
	}
	return nil
}

// runTrickle keeps a light flow of new writes going at the counties: a new
// customer, a visit or a payment every second or so, round-robin.
func runTrickle(cl map[string]*apiClient, stop <-chan struct{}) {
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
		_ = cl[region].do(ctx, "POST", "/api/v1/customers", c, nil)
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

// loadSample generates a region's data and imports it through the API.
func loadSample(ctx context.Context, cl *apiClient, region, name string, customers, months int) (string, error) {
	end := time.Now().UTC().AddDate(0, -1, 0)
	data := sample.Generate(sample.Options{Region: region, RegionName: name, Customers: customers, Months: months, End: end, Seed: 20261125})
	sample.AssignFeeders(data.Customers, region) // outages find their customers by feeder (demo_process.go)
	ids, err := cl.importAll(ctx, "customers", toAny(data.Customers))
	if err != nil {
		return "", err
	}
	var bills, contacts []any
	for i, id := range ids {
		for _, b := range data.Bills[i] {
			b.CustomerID = id
			bills = append(bills, b)
		}
		for _, c := range data.Contacts[i] {
			c.CustomerID = id
			contacts = append(contacts, c)
		}
	}
	if _, err := cl.importAll(ctx, "bills", bills); err != nil {
		return "", err
	}
	if _, err := cl.importAll(ctx, "contacts", contacts); err != nil {
		return "", err
	}
	staffIDs, err := cl.importAll(ctx, "staff", toAny(data.Staff))
	if err != nil {
		return "", err
	}
	// A visit or call for every non-residential customer, by an account manager.
	var visits []any
	kinds := []string{"visit", "call", "meeting"}
	for i, c := range data.Customers {
		if c.Category == crm.CategoryResidential || len(staffIDs) == 0 {
			continue
		}
		visits = append(visits, crm.Interaction{CustomerID: ids[i], StaffID: staffIDs[i%len(staffIDs)], Kind: kinds[i%3],
			At: end.AddDate(0, 0, -(i % 60)), Summary: "走访了解用电需求与电费缴纳情况", Outcome: "客户用电正常，无新增诉求"})
	}
	if _, err := cl.importAll(ctx, "interactions", visits); err != nil {
		return "", err
	}
	procs, err := loadProcesses(ctx, cl, region, data.Customers, ids, staffIDs) // demo_process.go
	if err != nil {
		return "", fmt.Errorf("processes: %w", err)
	}
	return fmt.Sprintf("%d customers, %d bills, %d contacts, %d staff, %d interactions, %s", len(ids), len(bills), len(contacts), len(staffIDs), len(visits), procs), nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func demoKeyFile(dir, region string, index int) string {
	return filepath.Join(dir, "keys", fmt.Sprintf("%s-%d.key", region, index))
}

// demoTopology gives every demo node a key (DIR/keys, kept across restarts
// of the demo in the same directory) and a UDP endpoint on loopback, and
// writes DIR/topology.yaml, the file each node derives its peers from.
func demoTopology(dir string) (*tunnel.Topology, error) {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	top := &tunnel.Topology{Prefix: tunnel.DefaultPrefix}
	k := 0
	for _, r := range demoRegions {
		for i := 1; i <= r.nodes; i++ {
			path := demoKeyFile(dir, r.code, i)
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

// demoCertificates makes the demo's province CA in DIR/pki (kept across
// restarts of the demo in the same directory, like the tunnel keys) and a
// node certificate for each demo node, so that every node-to-node
// connection of the demo is mutual TLS as in production. The nodes read
// DIR/pki as their trust directory (production copies it without keys).
func demoCertificates(dir string) (func(region, nodeID string) (*node.TLSFiles, error), error) {
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
