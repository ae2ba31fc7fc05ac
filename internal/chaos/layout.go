package chaos

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"gridcrm/pki"
	"gridcrm/tiers"
)

// The regions the harness runs: province 32 (江苏), city 3207 (连云港),
// county 320722 (东海, three nodes) and county 320723 (灌云, one or three).
const (
	Province = "32"
	City     = "3207"
	County   = "320722" // the 3-node county most faults aim at
	County2  = "320723"
)

// NodeSpec is one node process of the layout.
type NodeSpec struct {
	ID           string `json:"id"`
	Region       string `json:"region"`
	Host         string `json:"host"` // the address it listens on
	APIPort      int    `json:"api_port"`
	InternalPort int    `json:"internal_port"`
	NS           string `json:"netns,omitempty"` // its network namespace ("" on loopback)
	DataDir      string `json:"data_dir"`
	Config       string `json:"config"` // its YAML file
	Log          string `json:"log"`    // its stdout and stderr
}

// APIAddr is host:port of the public API.
func (n NodeSpec) APIAddr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.APIPort)) }

// InternalAddr is host:port of raft and the internal endpoints.
func (n NodeSpec) InternalAddr() string {
	return net.JoinHostPort(n.Host, strconv.Itoa(n.InternalPort))
}

// Layout is the hierarchy the harness runs.
type Layout struct {
	Nodes []NodeSpec
}

// Region answers the nodes of one region, in layout order.
func (l Layout) Region(code string) []NodeSpec {
	var out []NodeSpec
	for _, n := range l.Nodes {
		if n.Region == code {
			out = append(out, n)
		}
	}
	return out
}

// Node answers the node with this id.
func (l Layout) Node(id string) (NodeSpec, bool) {
	for _, n := range l.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return NodeSpec{}, false
}

// CountyRegions lists the county regions of the layout.
func (l Layout) CountyRegions() []string { return []string{County, County2} }

// CountyNodes answers the nodes of every county, in layout order.
func (l Layout) CountyNodes() []NodeSpec {
	return append(l.Region(County), l.Region(County2)...)
}

// parentOf answers a region's parent region ("" for the province).
func parentOf(region string) string {
	if len(region) <= 2 {
		return ""
	}
	return region[:len(region)-2]
}

// NewLayout names the nodes and puts them in dir: province p32, city
// c3207, county dh1..dh3 and county gy1..gyN. place gives each node (by
// its index in the layout) its host, ports and namespace.
func NewLayout(dir string, county2Nodes int, place func(i int) (host string, apiPort, internalPort int, ns string)) Layout {
	type named struct{ id, region string }
	names := []named{{"p32", Province}, {"c3207", City}, {"dh1", County}, {"dh2", County}, {"dh3", County}}
	for i := 1; i <= county2Nodes; i++ {
		names = append(names, named{fmt.Sprintf("gy%d", i), County2})
	}
	var l Layout
	for i, nm := range names {
		host, api, internal, ns := place(i)
		l.Nodes = append(l.Nodes, NodeSpec{ID: nm.id, Region: nm.region, Host: host, APIPort: api, InternalPort: internal, NS: ns,
			DataDir: filepath.Join(dir, "data", nm.id), Config: filepath.Join(dir, "config", nm.id+".yaml"),
			Log: filepath.Join(dir, "logs", nm.id+".log")})
	}
	return l
}

// nodeYAML is the part of gridcrm's node config the harness writes.
type nodeYAML struct {
	NodeID         string     `yaml:"node_id"`
	Region         string     `yaml:"region"`
	DataDir        string     `yaml:"data_dir"`
	APIListen      string     `yaml:"api_listen"`
	InternalListen string     `yaml:"internal_listen"`
	Bootstrap      bool       `yaml:"bootstrap"`
	Peers          []peerYAML `yaml:"peers"`
	Parent         *parentYML `yaml:"parent,omitempty"`
	TLS            *tlsYAML   `yaml:"tls,omitempty"`
}

type tlsYAML struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	CA   string `yaml:"ca"`
}

type peerYAML struct {
	ID   string `yaml:"id"`
	Addr string `yaml:"addr"`
}

type parentYML struct {
	Region string   `yaml:"region"`
	Nodes  []string `yaml:"nodes"`
}

// WriteConfigs writes one YAML config per node (internal listeners on the
// namespaces' addresses, no tunnels, mutual TLS between nodes with
// certificates from a province CA made in <dir>/pki) and creates the data
// and log directories.
func (l Layout) WriteConfigs() error {
	if len(l.Nodes) == 0 {
		return nil
	}
	caDir := filepath.Join(filepath.Dir(filepath.Dir(l.Nodes[0].Config)), "pki")
	auth, err := pki.OpenAuthority(caDir)
	if err != nil {
		if auth, err = pki.InitRoot(caDir, tiers.RegionCode(l.Nodes[0].Region[:2]), pki.RootOptions{}); err != nil {
			return fmt.Errorf("chaos: certificate authority: %w", err)
		}
	}
	for _, n := range l.Nodes {
		c := nodeYAML{NodeID: n.ID, Region: n.Region, DataDir: n.DataDir, APIListen: n.APIAddr(),
			InternalListen: n.InternalAddr(), Bootstrap: true}
		id, err := pki.NewIdentity(n.Region, n.ID)
		if err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
		cert, key := auth.NodeFiles(id)
		if _, serr := os.Stat(cert); serr != nil {
			if _, err := auth.Issue(pki.NodeRequest{Identity: id}); err != nil {
				return fmt.Errorf("chaos: issue %s: %w", id, err)
			}
		}
		c.TLS = &tlsYAML{Cert: cert, Key: key, CA: caDir}
		for _, p := range l.Region(n.Region) {
			c.Peers = append(c.Peers, peerYAML{ID: p.ID, Addr: p.InternalAddr()})
		}
		if parent := parentOf(n.Region); parent != "" {
			c.Parent = &parentYML{Region: parent}
			for _, p := range l.Region(parent) {
				c.Parent.Nodes = append(c.Parent.Nodes, p.InternalAddr())
			}
		}
		raw, err := yaml.Marshal(c)
		if err != nil {
			return err
		}
		for _, d := range []string{filepath.Dir(n.Config), filepath.Dir(n.Log), n.DataDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return fmt.Errorf("chaos: %w", err)
			}
		}
		head := fmt.Sprintf("# written by the chaos harness: node %s of region %s\n", n.ID, n.Region)
		if err := os.WriteFile(n.Config, append([]byte(head), raw...), 0o600); err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
	}
	return nil
}
