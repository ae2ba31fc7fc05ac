package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"gridcrm/tiers"
)

// DefaultPort is the TCP port of a node's internal endpoints on its overlay
// address when its Topology entry names none.
const DefaultPort = 8500

// Topology lists every node of a hierarchy that has a tunnel: where it sits
// (region and index, hence its overlay address), its public key, its UDP
// endpoint and the TCP port of its internal endpoints on the overlay. Every
// node reads the same file; from it and its own place a node derives its
// WireGuard peers (Peers) and its parent's internal addresses (Addrs), so
// that nobody writes peer lists by hand.
type Topology struct {
	Prefix netip.Prefix   `yaml:"prefix"` // overlay prefix; default DefaultPrefix; must equal the nodes' tunnel prefix
	Nodes  []TopologyNode `yaml:"nodes"`
}

// TopologyNode is one node in a Topology.
type TopologyNode struct {
	Region    tiers.RegionCode `yaml:"region"`     // required
	Index     int              `yaml:"index"`      // required: 1..MaxNodeIndex, unique in the region
	PublicKey string           `yaml:"public_key"` // required: base64, as `gridcrm keygen` prints it
	Endpoint  string           `yaml:"endpoint"`   // UDP "host:port" where its tunnel listens; "" if it always dials first
	Port      int              `yaml:"port"`       // TCP port of its internal endpoints on the overlay; default DefaultPort
}

// Adjacent reports whether a node of region a may peer with a node of
// region b: b is a's parent or one of its children, or, when intra is set
// (the region's own raft traffic goes through the tunnel), b is a itself.
// Nobody else: a county never peers with its province or with another city's
// counties.
func Adjacent(a, b tiers.RegionCode, intra bool) bool {
	switch {
	case a == b:
		return intra
	case a.Tier() != tiers.Province && a.Parent() == b:
		return true
	case b.Tier() != tiers.Province && b.Parent() == a:
		return true
	}
	return false
}

func (t *Topology) prefix() netip.Prefix {
	if t.Prefix.IsValid() {
		return t.Prefix
	}
	return DefaultPrefix
}

func (t *Topology) port(n TopologyNode) int {
	if n.Port == 0 {
		return DefaultPort
	}
	return n.Port
}

// Validate returns every problem, joined, each wrapping ErrInvalidConfig and
// naming the node: a bad region, index, key, endpoint or port, two nodes
// with the same region and index (their overlay addresses would overlap),
// and a public key listed twice.
func (t *Topology) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: topology: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
	}
	if len(t.Nodes) == 0 {
		bad("nodes is empty")
	}
	addrs := map[netip.Addr]int{}
	keys := map[string]int{}
	for i, n := range t.Nodes {
		name := fmt.Sprintf("nodes[%d] (region %s, index %d)", i, n.Region, n.Index)
		if a, err := OverlayAddr(t.prefix(), n.Region, n.Index); err != nil {
			bad("%s: %s", name, err.Error())
		} else if j, dup := addrs[a]; dup {
			bad("%s: overlay address %s overlaps nodes[%d]'s (same region and index)", name, a, j)
		} else {
			addrs[a] = i
		}
		if k, err := ParsePublicKey(n.PublicKey); err != nil {
			bad("%s: %s", name, err.Error())
		} else if j, dup := keys[k.String()]; dup {
			bad("%s: public key %s is also nodes[%d]'s", name, k, j)
		} else {
			keys[k.String()] = i
		}
		if n.Endpoint != "" {
			if msg := endpointProblem(n.Endpoint); msg != "" {
				bad("%s: endpoint %q: %s", name, n.Endpoint, msg)
			}
		}
		if n.Port < 0 || n.Port > 65535 {
			bad("%s: port %d: want 1..65535 (0 means %d)", name, n.Port, DefaultPort)
		}
	}
	return errors.Join(errs...)
}

// Find returns the entry of node (region, index).
func (t *Topology) Find(region tiers.RegionCode, index int) (TopologyNode, bool) {
	for _, n := range t.Nodes {
		if n.Region == region && n.Index == index {
			return n, true
		}
	}
	return TopologyNode{}, false
}

// Peers returns the peers of node (region, index): every node Adjacent to
// it, in file order.
func (t *Topology) Peers(region tiers.RegionCode, index int, intra bool) []PeerConfig {
	var out []PeerConfig
	for _, n := range t.Nodes {
		if (n.Region == region && n.Index == index) || !Adjacent(region, n.Region, intra) {
			continue
		}
		out = append(out, PeerConfig{PublicKey: n.PublicKey, Endpoint: n.Endpoint, Region: n.Region, Index: n.Index})
	}
	return out
}

// Addrs returns the overlay "[ip6]:port" of every node of region, in file
// order: what a child puts in parent.nodes.
func (t *Topology) Addrs(region tiers.RegionCode) []string {
	var out []string
	for _, n := range t.Nodes {
		if n.Region != region {
			continue
		}
		a, err := OverlayAddr(t.prefix(), n.Region, n.Index)
		if err != nil {
			continue // Validate reports it
		}
		out = append(out, net.JoinHostPort(a.String(), strconv.Itoa(t.port(n))))
	}
	return out
}

// Port returns the overlay TCP port of node (region, index), or 0 if the
// topology does not list it.
func (t *Topology) Port(region tiers.RegionCode, index int) int {
	n, ok := t.Find(region, index)
	if !ok {
		return 0
	}
	return t.port(n)
}
