package node

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// nodeLabels are the constant labels of this node's collectors.
func nodeLabels(n *Node) prometheus.Labels {
	return prometheus.Labels{"region": n.cfg.Region, "node": n.cfg.NodeID}
}

// tunnelCollector exports the WireGuard peers' state, read at scrape time.
// (The link gauges are replication/link's Collector.)
type tunnelCollector struct {
	n                              *Node
	handshakeAge, rxBytes, txBytes *prometheus.Desc
}

func newTunnelCollector(n *Node) *tunnelCollector {
	l := nodeLabels(n)
	return &tunnelCollector{n: n,
		handshakeAge: prometheus.NewDesc("gridcrm_tunnel_peer_last_handshake_age_seconds", "Seconds since the last WireGuard handshake with the peer.", []string{"peer_key", "peer_addr"}, l),
		rxBytes:      prometheus.NewDesc("gridcrm_tunnel_peer_receive_bytes_total", "Bytes received from the WireGuard peer.", []string{"peer_key", "peer_addr"}, l),
		txBytes:      prometheus.NewDesc("gridcrm_tunnel_peer_transmit_bytes_total", "Bytes sent to the WireGuard peer.", []string{"peer_key", "peer_addr"}, l),
	}
}

func (c *tunnelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.handshakeAge
	ch <- c.rxBytes
	ch <- c.txBytes
}

func (c *tunnelCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.n.TunnelPeers() {
		lv := []string{p.PublicKey, p.Addr}
		if p.HandshakeAgeSeconds != nil {
			ch <- prometheus.MustNewConstMetric(c.handshakeAge, prometheus.GaugeValue, *p.HandshakeAgeSeconds, lv...)
		}
		ch <- prometheus.MustNewConstMetric(c.rxBytes, prometheus.CounterValue, float64(p.RxBytes), lv...)
		ch <- prometheus.MustNewConstMetric(c.txBytes, prometheus.CounterValue, float64(p.TxBytes), lv...)
	}
}

// managementCollector exports the management settings this node holds (of
// its own region, set by its parent, and of the regions below it), with
// the forwarded writes pending and the conflicts open for each.
type managementCollector struct {
	n                       *Node
	epoch, pending, conflts *prometheus.Desc
}

func newManagementCollector(n *Node) *managementCollector {
	l := nodeLabels(n)
	return &managementCollector{n: n,
		epoch:   prometheus.NewDesc("gridcrm_management_epoch", "Epoch of the management setting of managed_region (mode: autonomous, partial, full); raised by every change.", []string{"managed_region", "mode"}, l),
		pending: prometheus.NewDesc("gridcrm_management_pending_commands", "Writes forwarded to managed_region (partial management, work orders) still waiting for its outcome.", []string{"managed_region"}, l),
		conflts: prometheus.NewDesc("gridcrm_management_open_conflicts", "Writes managed_region made under an old epoch after a forced takeover, kept here unresolved.", []string{"managed_region"}, l),
	}
}

func (c *managementCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.epoch
	ch <- c.pending
	ch <- c.conflts
}

func (c *managementCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.n.group.Reader()
	var pending map[string]int // read once, and only when a region is managed
	_ = r.Iterate([]byte(keyspace.MgmtPrefix), []byte(keyspace.End(keyspace.MgmtPrefix)), func(k, v []byte) bool {
		var m crm.Management
		if json.Unmarshal(v, &m) != nil {
			return true
		}
		ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(m.Epoch), m.Region, m.Mode)
		if pending == nil {
			pending, _ = crm.PendingCommandsByRegion(r, "")
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(crm.SumPending(pending, m.Region)), m.Region)
		o, _ := crm.OpenConflicts(r, m.Region)
		ch <- prometheus.MustNewConstMetric(c.conflts, prometheus.GaugeValue, float64(o), m.Region)
		return true
	})
}
