package node_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// tunnelFixture is a county node's config with a netstack tunnel and a
// topology of province 32, city 3207 and county 320722 (two nodes).
type tunnelFixture struct {
	dir  string
	keys map[string]string // "region/index" → key file
	top  *tunnel.Topology
}

func newTunnelFixture(t *testing.T) *tunnelFixture {
	f := &tunnelFixture{dir: t.TempDir(), keys: map[string]string{}, top: &tunnel.Topology{}}
	for i, n := range []struct {
		r   tiers.RegionCode
		idx int
	}{{"32", 1}, {"3207", 1}, {"320722", 1}, {"320722", 2}} {
		name := string(n.r) + "/" + string(rune('0'+n.idx))
		path := filepath.Join(f.dir, string(n.r)+"-"+string(rune('0'+n.idx))+".key")
		pub, err := tunnel.GenerateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		f.keys[name] = path
		f.top.Nodes = append(f.top.Nodes, tunnel.TopologyNode{Region: n.r, Index: n.idx, PublicKey: pub, Endpoint: "127.0.0.1:" + string(rune('1'+i)) + "1820", Port: 8600 + i})
	}
	return f
}

// config is county 320722 node 1, deriving everything from the topology.
func (f *tunnelFixture) config(t *testing.T) node.Config {
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.Region, cfg.DataDir = "n1", "320722", filepath.Join(t.TempDir(), "data")
	cfg.APIListen, cfg.InternalListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Tunnel = &tunnel.Config{Index: 1, PrivateKeyFile: f.keys["320722/1"], ListenAddr: "127.0.0.1:0", NoUAPI: true}
	cfg.Topology = f.top
	cfg.Security = testcluster.Security(t, "320722", "n1") // a tunnel needs mutual TLS (or insecure_internal)
	return cfg
}

// TestConfig_TunnelDerivedFromTopology: peers, parent addresses and the
// tunnel port come from the topology and the tier tree.
func TestConfig_TunnelDerivedFromTopology(t *testing.T) {
	f := newTunnelFixture(t)
	cfg := f.config(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var peers []string
	for _, p := range cfg.Tunnel.Peers {
		peers = append(peers, string(p.Region))
	}
	if !slices.Equal(peers, []string{"3207"}) {
		t.Errorf("county peers %v, want only the city (not the province, not its own region)", peers)
	}
	if cfg.Parent == nil || cfg.Parent.Region != "3207" || !slices.Equal(cfg.Parent.Nodes, []string{"[fd47:7269:6463::3207:0:1]:8601"}) {
		t.Errorf("parent %+v, want city 3207 at its overlay address", cfg.Parent)
	}
	if cfg.TunnelPort != 8602 || cfg.Tunnel.DeviceName != "gc320722-1" {
		t.Errorf("tunnel_port %d device %q", cfg.TunnelPort, cfg.Tunnel.DeviceName)
	}
	intra := f.config(t)
	intra.Tunnel.IntraRegion = true
	intra.Peers = nil
	if err := intra.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(intra.Tunnel.Peers) != 2 || intra.Tunnel.Peers[1].Region != "320722" || intra.Tunnel.Peers[1].Index != 2 {
		t.Errorf("intra_region peers %+v, want the city and node 2 of the county", intra.Tunnel.Peers)
	}
}

// TestStart_RefusesBadTunnelConfig: a node with a bad tunnel config does not
// start, and says which setting is wrong.
func TestStart_RefusesBadTunnelConfig(t *testing.T) {
	f := newTunnelFixture(t)
	readable := filepath.Join(f.dir, "readable.key")
	raw, _ := os.ReadFile(f.keys["320722/1"])
	if err := os.WriteFile(readable, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(f.dir, "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stranger := filepath.Join(f.dir, "stranger.key")
	strangerPub, _ := tunnel.GenerateKey(stranger)
	for _, tc := range []struct {
		name   string
		change func(*node.Config)
		want   string
	}{
		{"missing key", func(c *node.Config) { c.Tunnel.PrivateKeyFile = filepath.Join(f.dir, "gone.key") }, "gone.key does not exist"},
		{"key readable by others", func(c *node.Config) { c.Tunnel.PrivateKeyFile = readable }, "readable.key"},
		{"malformed key", func(c *node.Config) { c.Tunnel.PrivateKeyFile = garbage }, "garbage.key"},
		{"key not the topology's", func(c *node.Config) { c.Tunnel.PrivateKeyFile = stranger }, "belongs to public key " + strangerPub},
		{"unknown peer: province", func(c *node.Config) {
			c.Tunnel.Peers = []tunnel.PeerConfig{{PublicKey: f.top.Nodes[0].PublicKey, Region: "32", Index: 1}}
		}, "unknown peer"},
		{"unknown peer: key not in topology", func(c *node.Config) {
			c.Tunnel.Peers = []tunnel.PeerConfig{{PublicKey: strangerPub, Region: "3207", Index: 1}}
		}, "tunnel.peers[0] (region 3207, index 1, key " + strangerPub + "): unknown peer"},
		{"unknown peer without topology", func(c *node.Config) {
			c.Topology = nil
			c.Parent = &tiers.ParentLink{Region: "3207", Nodes: []string{"[fd47:7269:6463::3207:0:1]:8601"}}
			c.Tunnel.Peers = []tunnel.PeerConfig{{PublicKey: f.top.Nodes[0].PublicKey, Region: "32", Index: 1}}
		}, "unknown peer for region 320722"},
		{"overlapping addresses in the topology", func(c *node.Config) {
			top := *c.Topology
			top.Nodes = slices.Clone(top.Nodes)
			top.Nodes[3].Index = 1
			c.Topology = &top
		}, "overlay address fd47:7269:6463::3207:22:1 overlaps nodes[2]'s"},
		{"overlapping peer addresses", func(c *node.Config) {
			c.Topology = nil
			c.Parent = &tiers.ParentLink{Region: "3207", Nodes: []string{"[fd47:7269:6463::3207:0:1]:8601"}}
			c.Tunnel.Peers = []tunnel.PeerConfig{{PublicKey: f.top.Nodes[1].PublicKey, Region: "3207", Index: 1}, {PublicKey: strangerPub, Region: "3207", Index: 1}}
		}, "overlaps peer 1's"},
		{"not in the topology", func(c *node.Config) { c.Tunnel.Index = 7 }, "lists no node of region 320722 with index 7"},
		{"parent outside the tunnel", func(c *node.Config) {
			c.Parent = &tiers.ParentLink{Region: "3207", Nodes: []string{"127.0.0.1:8501"}}
		}, `parent.nodes[0] "127.0.0.1:8501" is not an overlay address`},
		{"parent overlay of another region", func(c *node.Config) {
			c.Parent = &tiers.ParentLink{Region: "3207", Nodes: []string{"[fd47:7269:6463::3200:0:1]:8601"}}
		}, "not one of region 3207's nodes"},
		{"tunnel region differs", func(c *node.Config) { c.Tunnel.Region = "320723" }, "tunnel.region 320723 differs from region 320722"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.config(t)
			tc.change(&cfg)
			n, err := node.Start(cfg)
			if err == nil {
				n.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if _, statErr := os.Stat(cfg.DataDir); statErr == nil {
				t.Errorf("a refused config left a data directory behind")
			}
		})
	}
}

// TestRegion_IntraRegionThroughTunnel: with tunnel.intra_region the region's
// own raft and forwarding run through WireGuard between its nodes: the
// nodes know each other only by overlay addresses, elect a leader, and a
// write on one node is read on another, also after the leader is killed.
func TestRegion_IntraRegionThroughTunnel(t *testing.T) {
	dir := t.TempDir()
	var keys, pubs, udp, addrs []string
	for i := 1; i <= 3; i++ {
		path := filepath.Join(dir, fmt.Sprintf("n%d.key", i))
		pub, err := tunnel.GenerateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		udp = append(udp, c.LocalAddr().String())
		c.Close()
		o, _ := tunnel.OverlayAddr(tunnel.DefaultPrefix, "320722", i)
		keys, pubs, addrs = append(keys, path), append(pubs, pub), append(addrs, net.JoinHostPort(o.String(), "8500"))
	}
	c := testcluster.New(t, testcluster.Opts{Nodes: 3, InternalAddrs: addrs, Tunnel: func(i int) *tunnel.Config {
		tc := &tunnel.Config{Index: i + 1, PrivateKeyFile: keys[i], ListenAddr: udp[i], NoUAPI: true, IntraRegion: true}
		for j := range 3 {
			if j != i {
				tc.Peers = append(tc.Peers, tunnel.PeerConfig{PublicKey: pubs[j], Endpoint: udp[j], Region: "320722", Index: j + 1})
			}
		}
		return tc
	}})
	for i := range 3 {
		if got := c.Node(i).InternalAddr(); got != addrs[i] {
			t.Fatalf("node %d advertises %s, want its overlay address %s", i+1, got, addrs[i])
		}
	}
	create := func(cl *testcluster.Client, acc string) string {
		st, body := cl.Do("POST", "/api/v1/customers", map[string]any{"account_no": acc, "name": "客户" + acc, "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"})
		if st != 201 {
			t.Fatalf("create %s: %d %s", acc, st, body)
		}
		var rec struct{ ID string }
		json.Unmarshal(body, &rec)
		return rec.ID
	}
	leader := c.Leader()
	follower := (leader + 1) % 3
	id := create(c.Client(follower), "INTRA-1") // forwarded to the leader through the tunnel
	if st, body := c.Client((leader+2)%3).Do("GET", "/api/v1/customers/"+id, nil); st != 200 {
		t.Fatalf("read on a third node: %d %s", st, body)
	}
	c.Kill(leader)
	id2 := create(c.Client(follower), "INTRA-2")
	if st, body := c.Client((leader+2)%3).Do("GET", "/api/v1/customers/"+id2, nil); st != 200 {
		t.Fatalf("read after the leader was killed: %d %s", st, body)
	}
	ps, err := c.Node(follower).Tunnel().Peers()
	if err != nil || len(ps) != 2 {
		t.Fatalf("peers: %v %v", ps, err)
	}
	for _, p := range ps {
		if p.RxBytes == 0 {
			t.Errorf("nothing received from sibling %s: the region's traffic did not use the tunnel", p.Addr)
		}
	}
}
