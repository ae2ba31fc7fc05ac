package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"gridcrm/tiers"
)

// Mode selects the Tunnel implementation.
type Mode string

// The three modes.
const (
	ModeNetstack Mode = "netstack" // wireguard-go with a gVisor netstack in the process; no privileges
	ModeTUN      Mode = "tun"      // wireguard-go on /dev/net/tun; root
	ModeKernel   Mode = "kernel"   // a kernel WireGuard link; root and the wireguard module
)

// Config is one node's tunnel. Build it with DefaultConfig and set the
// node's own fields; Validate before use.
type Config struct {
	Mode           Mode             `yaml:"mode"`             // default ModeNetstack
	DeviceName     string           `yaml:"device"`           // interface and UAPI socket name, 1..15 of [A-Za-z0-9_.=+-]; default "gridcrm0"; unique per machine
	PrivateKeyFile string           `yaml:"private_key_file"` // required; mode 0600, written by GenerateKey or `wg genkey`
	ListenAddr     string           `yaml:"listen"`           // UDP endpoint "ip:port" bound to that address only; default "0.0.0.0:51820"; port 0 picks one
	Prefix         netip.Prefix     `yaml:"prefix"`           // overlay prefix, IPv6, at most /80; default DefaultPrefix
	Region         tiers.RegionCode `yaml:"region"`           // this node's region; required
	Index          int              `yaml:"index"`            // this node's index in its region, 1..MaxNodeIndex; required
	MTU            int              `yaml:"mtu"`              // device MTU; default 1420
	Keepalive      time.Duration    `yaml:"keepalive"`        // persistent keepalive to every peer, whole seconds; default 25s; 0 turns it off
	NoKeepalive    bool             `yaml:"no_keepalive"`     // FillDefaults leaves Keepalive 0 (off) instead of 25s
	NoUAPI         bool             `yaml:"no_uapi"`          // default false: expose /var/run/wireguard/DeviceName.sock for wgctrl and `wg show`
	IntraRegion    bool             `yaml:"intra_region"`     // default false: the region's own raft traffic goes direct; true: through the tunnel, and the region's other nodes are peers
	Peers          []PeerConfig     `yaml:"peers"`            // the peers; only the parent's and the children's nodes (and the region's own with IntraRegion); Topology.Peers derives them
}

// PeerConfig is one peer of this node.
type PeerConfig struct {
	PublicKey string           `yaml:"public_key"` // base64, as `wg pubkey` prints it; required
	Endpoint  string           `yaml:"endpoint"`   // UDP "host:port"; "" if the peer always connects first
	Region    tiers.RegionCode `yaml:"region"`     // the peer's region; required
	Index     int              `yaml:"index"`      // the peer's node index; required
}

// DefaultConfig returns a Config with every default filled in and the
// node's own fields (key file, region, index, peers) empty.
func DefaultConfig() Config {
	return Config{
		Mode:       ModeNetstack,
		DeviceName: "gridcrm0",
		ListenAddr: "0.0.0.0:51820",
		Prefix:     DefaultPrefix,
		MTU:        1420,
		Keepalive:  25 * time.Second,
	}
}

// FillDefaults sets every zero field that has a default (a Config read
// from YAML starts empty): Mode netstack, DeviceName "gc<region>-<index>"
// (so that several nodes on one machine get distinct devices), ListenAddr
// 0.0.0.0:51820, Prefix DefaultPrefix, MTU 1420, Keepalive 25s unless
// NoKeepalive.
func (c *Config) FillDefaults() {
	d := DefaultConfig()
	if c.Mode == "" {
		c.Mode = d.Mode
	}
	if c.DeviceName == "" {
		c.DeviceName = fmt.Sprintf("gc%s-%d", c.Region, c.Index)
	}
	if c.ListenAddr == "" {
		c.ListenAddr = d.ListenAddr
	}
	if !c.Prefix.IsValid() {
		c.Prefix = d.Prefix
	}
	if c.MTU == 0 {
		c.MTU = d.MTU
	}
	if c.NoKeepalive {
		c.Keepalive = 0
	} else if c.Keepalive == 0 {
		c.Keepalive = d.Keepalive
	}
}

// Addr returns this node's overlay address, or an error if Prefix, Region
// or Index is invalid.
func (c *Config) Addr() (netip.Addr, error) { return OverlayAddr(c.Prefix, c.Region, c.Index) }

// Validate checks c and returns every problem found, joined, each wrapping
// ErrInvalidConfig and naming the field or peer: an unknown mode, a bad
// device name, a missing, unreadable, world-readable or malformed key file,
// a listen address that is not "ip:port", a bad prefix, region or index, and
// for peers: a malformed key, a key listed twice, a peer that is this node
// (same key or same address), two peers with the same overlay address, and
// a malformed endpoint.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
	}
	switch c.Mode {
	case ModeNetstack, ModeTUN, ModeKernel:
	default:
		bad("mode %q is not one of netstack, tun, kernel", c.Mode)
	}
	if !validDeviceName(c.DeviceName) {
		bad("device name %q: want 1 to 15 characters of A-Z a-z 0-9 _ . = + -", c.DeviceName)
	}
	var selfPub string
	if k, err := LoadKey(c.PrivateKeyFile); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	} else {
		selfPub = k.PublicKey().String()
	}
	if ap, err := netip.ParseAddrPort(c.ListenAddr); err != nil {
		bad("listen address %q: want the UDP \"ip:port\" to bind, e.g. 10.1.2.3:51820", c.ListenAddr)
	} else if ap.Addr().Zone() != "" {
		bad("listen address %q: zones are not supported", c.ListenAddr)
	}
	if c.MTU < 1280 || c.MTU > 65535 {
		bad("mtu %d: want 1280..65535 (IPv6 needs at least 1280)", c.MTU)
	}
	if c.Keepalive < 0 || c.Keepalive%time.Second != 0 || c.Keepalive > 65535*time.Second {
		bad("keepalive %s: want whole seconds, 0 to 65535s", c.Keepalive)
	}
	self, selfErr := c.Addr()
	if selfErr != nil {
		bad("this node (region %s, index %d): %s", c.Region, c.Index, selfErr.Error())
	}
	keys := map[string]int{}
	addrs := map[netip.Addr]int{}
	for i, p := range c.Peers {
		name := fmt.Sprintf("peer %d (region %s, index %d)", i+1, p.Region, p.Index)
		if c.Region.Valid() && p.Region.Valid() && !Adjacent(c.Region, p.Region, c.IntraRegion) {
			why := "a node peers only with its parent region's and its child regions' nodes"
			if p.Region == c.Region {
				why = "it is in this node's own region; set intra_region to carry the region's raft traffic through the tunnel"
			}
			bad("%s: unknown peer for region %s: %s", name, c.Region, why)
		}
		k, err := ParsePublicKey(p.PublicKey)
		if err != nil {
			bad("%s: %s", name, err.Error())
		} else {
			pub := k.String()
			if j, dup := keys[pub]; dup {
				bad("%s: public key %s is also peer %d's", name, pub, j+1)
			} else {
				keys[pub] = i
			}
			if pub == selfPub {
				bad("%s: public key %s is this node's own key", name, pub)
			}
		}
		a, err := OverlayAddr(c.Prefix, p.Region, p.Index)
		if err != nil {
			bad("%s: %s", name, err.Error())
		} else {
			if j, dup := addrs[a]; dup {
				bad("%s: overlay address %s overlaps peer %d's (same region and index)", name, a, j+1)
			} else {
				addrs[a] = i
			}
			if selfErr == nil && a == self {
				bad("%s: overlay address %s is this node's own (same region and index)", name, a)
			}
		}
		if p.Endpoint != "" {
			if msg := endpointProblem(p.Endpoint); msg != "" {
				bad("%s: endpoint %q: %s", name, p.Endpoint, msg)
			}
		}
	}
	return errors.Join(errs...)
}

// endpointProblem says what is wrong with a peer endpoint "host:port".
func endpointProblem(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "want \"host:port\", e.g. 203.0.113.7:51820"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "port must be 1..65535"
	}
	return ""
}

// validDeviceName reports whether s is usable as an interface and socket name.
func validDeviceName(s string) bool {
	if len(s) < 1 || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '_' || r == '.' || r == '=' || r == '+' || r == '-':
		default:
			return false
		}
	}
	return true
}
