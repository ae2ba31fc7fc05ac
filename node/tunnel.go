package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"gridcrm/replication"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// validateTunnel fills the tunnel's defaults and derives what the topology
// gives, then validates the tunnel config. Every error names the field.
func (c *Config) validateTunnel() error {
	t := c.Tunnel
	region := tiers.RegionCode(c.Region)
	switch t.Region {
	case "":
		t.Region = region
	case region:
	default:
		return fmt.Errorf("node: tunnel.region %s differs from region %s (leave it out: it defaults to the node's)", t.Region, c.Region)
	}
	t.FillDefaults()
	if top := c.Topology; top != nil {
		if err := top.Validate(); err != nil {
			return fmt.Errorf("node: %s: %w", c.topologyName(), err)
		}
		if top.Prefix.IsValid() && top.Prefix != t.Prefix {
			return fmt.Errorf("node: tunnel.prefix %s differs from the topology's prefix %s", t.Prefix, top.Prefix)
		}
		self, ok := top.Find(region, t.Index)
		if !ok {
			return fmt.Errorf("node: %s lists no node of region %s with index %d (tunnel.index)", c.topologyName(), region, t.Index)
		}
		if key, err := tunnel.LoadKey(t.PrivateKeyFile); err == nil {
			if want, err := tunnel.ParsePublicKey(self.PublicKey); err == nil && key.PublicKey() != want {
				return fmt.Errorf("node: tunnel.private_key_file %s belongs to public key %s, but %s lists %s for region %s index %d",
					t.PrivateKeyFile, key.PublicKey(), c.topologyName(), want, region, t.Index)
			}
		}
		derived := top.Peers(region, t.Index, t.IntraRegion)
		if len(t.Peers) == 0 {
			t.Peers = derived
		} else {
			for i, p := range t.Peers {
				if !listed(derived, p) {
					return fmt.Errorf("node: tunnel.peers[%d] (region %s, index %d, key %s): unknown peer: %s lists no such neighbour of region %s with that key",
						i, p.Region, p.Index, p.PublicKey, c.topologyName(), region)
				}
			}
		}
		if c.TunnelPort == 0 {
			c.TunnelPort = top.Port(region, t.Index)
		}
		if region.Tier() != tiers.Province {
			if up := top.Addrs(region.Parent()); len(up) > 0 {
				switch {
				case c.Parent == nil:
					c.Parent = &tiers.ParentLink{Region: region.Parent(), Nodes: up}
				case len(c.Parent.Nodes) == 0:
					c.Parent.Nodes = up
				}
			}
		}
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("node: tunnel: %w", err)
	}
	if c.TunnelPort < 0 || c.TunnelPort > 65535 {
		return fmt.Errorf("node: tunnel_port %d: want 1..65535", c.TunnelPort)
	}
	return nil
}

func (c *Config) topologyName() string {
	if c.TopologyFile != "" {
		return "topology " + c.TopologyFile
	}
	return "topology"
}

func listed(ps []tunnel.PeerConfig, p tunnel.PeerConfig) bool {
	k, err := tunnel.ParsePublicKey(p.PublicKey)
	if err != nil {
		return false
	}
	for _, q := range ps {
		if qk, _ := tunnel.ParsePublicKey(q.PublicKey); q.Region == p.Region && q.Index == p.Index && qk == k {
			return true
		}
	}
	return false
}

// checkOverlayAddrs refuses parent nodes (and, with intra_region, raft
// peers) that are not overlay addresses of the right region: with a
// tunnel, traffic between tiers never leaves it.
func (c *Config) checkOverlayAddrs() error {
	t := c.Tunnel
	check := func(field, addr string, region tiers.RegionCode) error {
		host, _, err := net.SplitHostPort(addr)
		a, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !t.Prefix.Contains(a) {
			return fmt.Errorf("node: %s %q is not an overlay address in %s: with a tunnel, %s is reached only through it (write [overlay]:port; see tunnel.OverlayAddr, or use a topology)",
				field, addr, t.Prefix, region)
		}
		b := a.As16()
		idx, _ := strconv.Atoi(fmt.Sprintf("%x", uint16(b[14])<<8|uint16(b[15]))) // the index group is decimal digits in hex
		if o, _ := tunnel.OverlayAddr(t.Prefix, region, idx); o == a {
			return nil
		}
		return fmt.Errorf("node: %s %q is an overlay address, but not one of region %s's nodes", field, addr, region)
	}
	if c.Parent != nil {
		for i, a := range c.Parent.Nodes {
			if err := check("parent.nodes["+strconv.Itoa(i)+"]", a, c.Parent.Region); err != nil {
				return err
			}
		}
	}
	if t.IntraRegion {
		var errs []error
		for i, p := range c.Peers {
			if err := check("peers["+strconv.Itoa(i)+"].addr", p.Addr, tiers.RegionCode(c.Region)); err != nil {
				errs = append(errs, err)
			}
		}
		if c.Advertise != "" {
			errs = append(errs, fmt.Errorf("node: advertise %q: with tunnel.intra_region the node advertises its overlay address; leave advertise out", c.Advertise))
		}
		return errors.Join(errs...)
	}
	return nil
}

// serveTunnel serves the parent side of the links on the tunnel's overlay
// address, and nothing else: the region's raft and its internal endpoints
// stay on internal_listen, out of the children's reach. On internal_listen
// the link endpoints answer 403 naming the tunnel address, so that a child
// configured with underlay addresses learns why at once.
func (n *Node) serveTunnel(iln net.Listener) error {
	port := n.cfg.TunnelPort
	if port == 0 {
		_, p, _ := net.SplitHostPort(iln.Addr().String())
		port, _ = strconv.Atoi(p)
	}
	tln, err := n.tun.Listen(port)
	if err != nil {
		return fmt.Errorf("node: listen on the tunnel: %w", err)
	}
	tmux := replication.NewMux(tln) // children announce KindHTTP like any internal client
	tmux.Secure(n.sec)
	links := http.NewServeMux()
	n.linkRoutes(links)
	apply := n.cfg.Raft.ApplyTimeout
	if apply <= 0 {
		apply = replication.DefaultConfig().ApplyTimeout
	}
	// The group's internal server's bounds (replication.InternalReadTimeout).
	srv := &http.Server{Handler: links, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: replication.InternalReadTimeout,
		WriteTimeout: apply + replication.InternalReadTimeout, IdleTimeout: replication.InternalIdleTimeout}
	refuse := func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("node %s: the link endpoints of region %s answer only through its tunnel, at [%s]:%d", n.cfg.NodeID, n.cfg.Region, n.tun.Addr(), port), http.StatusForbidden)
	}
	n.group.Handle("POST /internal/v1/uplink", http.HandlerFunc(refuse))
	n.group.Handle("POST /internal/v1/downlink", http.HandlerFunc(refuse))
	hl := tmux.Handle(replication.KindHTTP)
	n.wg.Add(2)
	go func() { defer n.wg.Done(); _ = tmux.Serve() }()
	go func() { defer n.wg.Done(); _ = srv.Serve(hl) }()
	n.closers = append(n.closers, srv.Close, tmux.Close)
	return nil
}
