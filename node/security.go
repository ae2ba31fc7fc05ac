package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// TLSFiles names a node's certificate material as `gridcrm cert` writes it.
type TLSFiles struct {
	Cert string `yaml:"cert"` // the node certificate (then its intermediate, if any)
	Key  string `yaml:"key"`  // its private key, mode 0600
	// CA is a trust directory: root.crt and root.crl, and ca/<region>.crt
	// and .crl for each intermediate (the CA directory itself, or a copy
	// without keys). The node re-reads the lists and its certificate every
	// ReloadEvery, so `gridcrm cert revoke|crl|renew` take effect without a
	// restart.
	CA string `yaml:"ca"`
}

// reloadEvery is how often a node re-reads its certificate and the
// revocation lists.
const reloadEvery = time.Minute

// insecureWarning is logged at every start and shown by /readyz when the
// node-to-node connections are plaintext where others could reach them.
const insecureWarning = "internal connections are PLAINTEXT (insecure_internal: true): anyone who reaches internal_listen or the tunnel can write to this region; configure tls (gridcrm cert issue)"

// validateSecurity refuses a node whose node-to-node connections could be
// reached by others and are not mutual TLS, unless insecure_internal says
// so on purpose, and checks that the certificate's identity is this node's.
func (c *Config) validateSecurity() error {
	if c.TLS != nil {
		var missing []string
		for name, v := range map[string]string{"tls.cert": c.TLS.Cert, "tls.key": c.TLS.Key, "tls.ca": c.TLS.CA} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("node: %v required with tls (the node certificate, its key and the trust directory from `gridcrm cert`)", missing)
		}
	}
	if c.TLS != nil || c.Security != nil {
		if c.InsecureInternal {
			return errors.New("node: insecure_internal and tls are both set; choose one")
		}
		return nil
	}
	if c.InsecureInternal || c.exposedAt() == "" {
		return nil
	}
	return fmt.Errorf("node: %s, and no tls is configured: anyone who reaches it could write to region %s. Issue this node a certificate (`gridcrm cert issue --region %s --node %s`) and set tls.cert, tls.key and tls.ca, or set insecure_internal: true knowingly",
		c.exposedAt(), c.Region, c.Region, c.NodeID)
}

// exposedAt names how the node-to-node endpoints are reachable by others,
// or "" when they are on loopback only.
func (c *Config) exposedAt() string {
	if c.Tunnel != nil {
		return "the internal endpoints are served on a WireGuard tunnel"
	}
	host, _, err := net.SplitHostPort(c.InternalListen)
	if err != nil {
		return "internal_listen " + c.InternalListen + " is not an address"
	}
	if host == "localhost" {
		return ""
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return ""
	}
	return "internal_listen " + c.InternalListen + " is not a loopback address"
}

// loadSecurity builds the node's mutual-TLS setting from Config.Security
// or Config.TLS; nil when the node runs plaintext.
func (c *Config) loadSecurity() (*replication.Security, error) {
	sec := c.Security
	if sec == nil && c.TLS != nil {
		trust, err := pki.LoadTrust(c.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("node: tls.ca: %w", err)
		}
		kp, err := pki.LoadKeypair(c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("node: tls: %w", err)
		}
		if sec, err = replication.NewSecurity(trust, kp, c.Logger); err != nil {
			return nil, fmt.Errorf("node: tls: %w", err)
		}
	}
	if sec == nil {
		return nil, nil
	}
	if id := sec.Self(); string(id.Region) != c.Region || id.Node != c.NodeID {
		return nil, fmt.Errorf("node: the certificate names %s, but this node is %s of region %s: a node presents its own certificate", id, c.NodeID, c.Region)
	}
	return sec, nil
}

// reloadSecurity re-reads the node's certificate (after `gridcrm cert
// renew`) and every revocation list in the trust directory (after `gridcrm
// cert revoke` or `crl`), until the node stops. A list with a lower number
// than the loaded one is refused by pki; an unreadable file leaves the old
// material in place and is logged.
func (n *Node) reloadSecurity(sec *replication.Security) {
	for n.sleep(reloadEvery) {
		if err := sec.Keypair().Reload(); err != nil {
			n.log.Warn("node: reload certificate", "err", err)
		}
		files, _ := filepath.Glob(filepath.Join(n.cfg.TLS.CA, "ca", "*.crl"))
		for _, p := range append([]string{filepath.Join(n.cfg.TLS.CA, "root.crl")}, files...) {
			rl, err := pki.LoadCRL(p)
			if err == nil {
				err = sec.Trust().UpdateCRL(rl)
			}
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				n.log.Warn("node: reload revocation list", "file", p, "err", err)
			}
		}
	}
}

// authenticateLink decides whether the node that made r may speak on a link
// for region claimed (the child region whose uplink batch or downlink
// request r carries). With mutual TLS the caller's certificate must be of a
// region directly below this one and be that region; through a tunnel the
// overlay source address, which WireGuard ties to the peer's key, must be
// one of that region's too (defence in depth: either check alone refuses a
// county that ships as its sibling). Without TLS and without a tunnel
// (loopback, or insecure_internal) every caller is admitted.
func (n *Node) authenticateLink(r *http.Request, claimed string) error {
	if sec := n.sec; sec != nil {
		// Uplink and downlink have the same rule: a region directly below.
		if err := sec.Authorize(pki.ServiceUplink, r); err != nil {
			return err
		}
		peer, _, _ := replication.PeerOf(r)
		if string(peer.Region) != claimed {
			return fmt.Errorf("%w: %s is of region %s; it may not speak for %s", replication.ErrForbidden, peer.Short(), peer.Region, claimed)
		}
	}
	if n.tun != nil {
		if err := n.overlaySourceIs(r.RemoteAddr, claimed); err != nil {
			return err
		}
	}
	return nil
}

// overlaySourceIs checks that remote (host:port) is an overlay address of
// a node of region claimed.
func (n *Node) overlaySourceIs(remote, claimed string) error {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return fmt.Errorf("%w: link call from %q, not an overlay address", replication.ErrForbidden, remote)
	}
	region, _, err := tunnel.OverlayRegion(n.cfg.Tunnel.Prefix, ap.Addr().Unmap())
	if err != nil {
		return fmt.Errorf("%w: link call from %s: %w", replication.ErrForbidden, ap.Addr(), err)
	}
	if region != tiers.RegionCode(claimed) {
		return fmt.Errorf("%w: link call from %s, an overlay address of region %s, speaking for %s", replication.ErrForbidden, ap.Addr(), region, claimed)
	}
	return nil
}

// securityCollector exports the state of the node-to-node trust: whether
// it is mutual TLS at all, refusals, and when this node's certificate and
// the revocation lists it holds expire (both fail closed: an expired
// certificate or list stops every connection through it).
type securityCollector struct {
	n                       *Node
	mtls, refused           *prometheus.Desc
	certExpiry, crlNextUpdt *prometheus.Desc
}

func newSecurityCollector(n *Node) *securityCollector {
	l := nodeLabels(n)
	return &securityCollector{n: n,
		mtls:        prometheus.NewDesc("gridcrm_internal_mtls", "1 if this node's node-to-node connections are mutual TLS, 0 if plaintext.", nil, l),
		refused:     prometheus.NewDesc("gridcrm_internal_refused_total", "Node-to-node connections (TLS handshake, or raft from another region) and internal calls refused by identity.", []string{"what"}, l),
		certExpiry:  prometheus.NewDesc("gridcrm_tls_cert_expiry_timestamp_seconds", "When this node's certificate expires (Unix seconds).", nil, l),
		crlNextUpdt: prometheus.NewDesc("gridcrm_tls_crl_next_update_timestamp_seconds", "When the earliest revocation list this node holds expires (Unix seconds); past it, connections through that CA are refused.", nil, l),
	}
}

func (c *securityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.mtls
	ch <- c.refused
	ch <- c.certExpiry
	ch <- c.crlNextUpdt
}

func (c *securityCollector) Collect(ch chan<- prometheus.Metric) {
	sec := c.n.sec
	if sec == nil {
		ch <- prometheus.MustNewConstMetric(c.mtls, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.mtls, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(sec.Refused.Load()), "connection")
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(sec.RefusedCalls.Load()), "call")
	if chain := sec.Keypair().Chain(); len(chain) > 0 {
		ch <- prometheus.MustNewConstMetric(c.certExpiry, prometheus.GaugeValue, float64(chain[0].NotAfter.Unix()))
	}
	if t := sec.Trust().NextCRLExpiry(); !t.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.crlNextUpdt, prometheus.GaugeValue, float64(t.Unix()))
	}
}
