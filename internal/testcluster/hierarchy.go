package testcluster

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// RegionSpec is one region of a hierarchy.
type RegionSpec struct {
	Code  string
	Nodes int // default 1
}

// HierarchyOpts shape a hierarchy.
type HierarchyOpts struct {
	Regions []RegionSpec
	Node    func(*node.Config) // applied to every node
	// Tunnels joins the tiers through netstack WireGuard tunnels: every
	// node gets a key and an overlay address, peers follow the tree (a
	// node peers with its parent region's nodes and its children's), and
	// the links dial the parent's overlay addresses.
	Tunnels bool
	// WrongKey, with Tunnels, tells this region's peers a key its nodes do
	// not hold, so every handshake with them fails.
	WrongKey string
	// Plaintext runs every node-to-node connection without TLS (Opts).
	Plaintext bool
}

// tunnelNode is one node's identity in a hierarchy.
type tunnelNode struct {
	region   string
	index    int
	keyFile  string
	pub      string // the public key its peers are told
	udp      string
	internal string
	overlay  netip.Addr
}

// Hierarchy is several regions linked child → parent, each its own
// Cluster, with a fault switch on every link.
type Hierarchy struct {
	t       testing.TB
	Regions map[string]*Cluster
	Faults  *Faults
}

// NewHierarchy starts the regions parents first and links each to the
// region whose code is its prefix.
func NewHierarchy(t testing.TB, o HierarchyOpts) *Hierarchy {
	t.Helper()
	h := &Hierarchy{t: t, Regions: map[string]*Cluster{}, Faults: NewFaults()}
	specs := append([]RegionSpec(nil), o.Regions...)
	sort.Slice(specs, func(i, j int) bool {
		return len(specs[i].Code) < len(specs[j].Code) || (len(specs[i].Code) == len(specs[j].Code) && specs[i].Code < specs[j].Code)
	})
	inTree := map[string]bool{}
	for i := range specs {
		if specs[i].Nodes == 0 {
			specs[i].Nodes = 1
		}
		inTree[specs[i].Code] = true
	}
	// Every node's identity first: a parent's tunnel must know its children.
	nodes := map[string][]*tunnelNode{}
	keys := t.TempDir()
	for _, s := range specs {
		for i := 1; i <= s.Nodes; i++ {
			tn := &tunnelNode{region: s.Code, index: i, internal: freeAddr(t)}
			if o.Tunnels {
				tn.keyFile = filepath.Join(keys, fmt.Sprintf("%s-%d.key", s.Code, i))
				pub, err := tunnel.GenerateKey(tn.keyFile)
				if err != nil {
					t.Fatal(err)
				}
				tn.pub = pub
				if s.Code == o.WrongKey { // peers are told another key than the node holds
					if tn.pub, err = tunnel.GenerateKey(filepath.Join(keys, fmt.Sprintf("%s-%d.other", s.Code, i))); err != nil {
						t.Fatal(err)
					}
				}
				tn.udp = freeUDP(t)
				if tn.overlay, err = tunnel.OverlayAddr(tunnel.DefaultPrefix, tiers.RegionCode(s.Code), i); err != nil {
					t.Fatal(err)
				}
			}
			nodes[s.Code] = append(nodes[s.Code], tn)
		}
	}
	for _, s := range specs {
		opts := Opts{Region: s.Code, Nodes: s.Nodes, Node: o.Node, Canary: 200 * time.Millisecond, Plaintext: o.Plaintext}
		for _, tn := range nodes[s.Code] {
			opts.InternalAddrs = append(opts.InternalAddrs, tn.internal)
		}
		parent := string(tiers.RegionCode(s.Code).Parent())
		if inTree[parent] { // a region whose parent is not in the hierarchy is a root
			var addrs []string
			for _, pn := range nodes[parent] {
				if o.Tunnels {
					_, port, _ := net.SplitHostPort(pn.internal)
					addrs = append(addrs, net.JoinHostPort(pn.overlay.String(), port))
				} else {
					addrs = append(addrs, pn.internal)
				}
			}
			opts.Parent = &tiers.ParentLink{Region: tiers.RegionCode(parent), Nodes: addrs}
			if !o.Tunnels {
				opts.LinkDialer = h.Faults.Dialer(s.Code)
			}
		}
		if o.Tunnels {
			code := s.Code
			opts.Tunnel = func(i int) *tunnel.Config {
				me := nodes[code][i]
				cfg := tunnel.DefaultConfig()
				cfg.DeviceName = fmt.Sprintf("g%d-%s-%d", os.Getpid()%10000, code, me.index)
				cfg.PrivateKeyFile, cfg.ListenAddr = me.keyFile, me.udp
				cfg.Region, cfg.Index = tiers.RegionCode(code), me.index
				cfg.Keepalive = time.Second
				for region, ns := range nodes { // the parent's nodes and the children's, nobody else
					if region == string(tiers.RegionCode(code).Parent()) || string(tiers.RegionCode(region).Parent()) == code {
						for _, pn := range ns {
							cfg.Peers = append(cfg.Peers, tunnel.PeerConfig{PublicKey: pn.pub, Endpoint: pn.udp, Region: tiers.RegionCode(region), Index: pn.index})
						}
					}
				}
				return &cfg
			}
		}
		h.Regions[s.Code] = New(t, opts)
	}
	return h
}

func freeUDP(t testing.TB) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// Region returns the cluster of code.
func (h *Hierarchy) Region(code string) *Cluster {
	c, ok := h.Regions[code]
	if !ok {
		h.t.Fatalf("testcluster: no region %s", code)
	}
	return c
}

// Faults cuts and heals the link between a region and its parent: a cut
// link refuses new connections and closes the open ones.
type Faults struct {
	mu    sync.Mutex // guards cut, conns
	cut   map[string]bool
	conns map[string]map[net.Conn]bool
}

// NewFaults returns a switchboard with every link up.
func NewFaults() *Faults {
	return &Faults{cut: map[string]bool{}, conns: map[string]map[net.Conn]bool{}}
}

// Dialer is the link dialer of child region link.
func (f *Faults) Dialer(link string) replication.Dialer {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		f.mu.Lock()
		cut := f.cut[link]
		f.mu.Unlock()
		if cut {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("testcluster: link %s is cut", link)}
		}
		c, err := replication.TCPDialer(ctx, addr)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.cut[link] {
			c.Close()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("testcluster: link %s is cut", link)}
		}
		if f.conns[link] == nil {
			f.conns[link] = map[net.Conn]bool{}
		}
		tc := &trackedConn{Conn: c, f: f, link: link}
		f.conns[link][tc] = true
		return tc, nil
	}
}

// Cut takes the link of region link down.
func (f *Faults) Cut(link string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut[link] = true
	for c := range f.conns[link] {
		c.(*trackedConn).Conn.Close()
	}
	f.conns[link] = nil
}

// Heal brings the link of region link back.
func (f *Faults) Heal(link string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.cut, link)
}

// IsCut reports whether the link is down.
func (f *Faults) IsCut(link string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[link]
}

type trackedConn struct {
	net.Conn
	f    *Faults
	link string
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.f.mu.Lock()
		delete(c.f.conns[c.link], c)
		c.f.mu.Unlock()
	})
	return c.Conn.Close()
}

// Records dumps the record copies (r/… keys, users and canaries excluded)
// that node holds for records owned in region's subtree.
func Records(t testing.TB, n *node.Node, region string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := n.Group().Reader().Iterate([]byte(keyspace.RecordPrefix), []byte(keyspace.End(keyspace.RecordPrefix)), func(k, v []byte) bool {
		key := string(k)
		if strings.HasPrefix(key, keyspace.UsersPrefix) || strings.HasPrefix(key, keyspace.CanaryPrefix) {
			return true
		}
		if crm.InRegion(crm.RecordOwner(v), region) {
			out[key] = string(v)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitReplicated waits until every node of region ancestor holds exactly
// the records of region's subtree that region's leader holds.
func (h *Hierarchy) WaitReplicated(region, ancestor string, timeout time.Duration) {
	h.t.Helper()
	src, dst := h.Region(region), h.Region(ancestor)
	deadline := time.Now().Add(timeout)
	for {
		start := time.Now()
		want := Records(h.t, src.Node(src.Leader()), region)
		diff := ""
		for _, n := range dst.Live() {
			if d := Diff(want, Records(h.t, n, region)); d != "" {
				diff = n.Config().NodeID + ": " + d
				break
			}
		}
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("testcluster: %s's records at %s after %v: %s", region, ancestor, timeout, diff)
		}
		pollPause(start, 20*time.Millisecond)
	}
}
