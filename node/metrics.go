package node

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
)

// linkCollector exports the links of GET /api/v1/sync/status as metrics,
// read at scrape time.
type linkCollector struct {
	n *Node

	running, acked, head, lagEntries, lagSeconds, resyncs, up, queued *prometheus.Desc
	handshakeAge, rxBytes, txBytes                                    *prometheus.Desc
}

func newLinkCollector(n *Node) *linkCollector {
	l := prometheus.Labels{"region": n.cfg.Region, "node": n.cfg.NodeID}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gridcrm_link_"+name, help, []string{"peer", "direction"}, l)
	}
	return &linkCollector{n: n,
		running:      d("running", "1 when this node runs the link (up and down: the region's leader; from-child: every node), else 0. The other link series exist only where it runs."),
		acked:        d("acked_seq", "The receiver's cursor on the sender's change feed."),
		head:         d("head_seq", "The sender's change-feed head, as last known."),
		lagEntries:   d("lag_entries", "Feed entries the receiver has not applied yet (up: this region's feed head minus what the parent acknowledged, also while the link is cut)."),
		lagSeconds:   d("lag_seconds", "up: age of the oldest change not shipped to the parent; down: seconds since the last exchange with the parent; from-child: age of the child's newest heartbeat held here."),
		resyncs:      d("resyncs_total", "Snapshot resyncs of the link."),
		up:           d("up", "1 when the link's last exchange succeeded, else 0."),
		queued:       d("queued_commands", "Writes forwarded to the peer region below (partial management, work orders taken above) still waiting for its outcome; they wait durably while it is unreachable."),
		handshakeAge: prometheus.NewDesc("gridcrm_tunnel_peer_last_handshake_age_seconds", "Seconds since the last WireGuard handshake with the peer.", []string{"peer_key", "peer_addr"}, l),
		rxBytes:      prometheus.NewDesc("gridcrm_tunnel_peer_receive_bytes_total", "Bytes received from the WireGuard peer.", []string{"peer_key", "peer_addr"}, l),
		txBytes:      prometheus.NewDesc("gridcrm_tunnel_peer_transmit_bytes_total", "Bytes sent to the WireGuard peer.", []string{"peer_key", "peer_addr"}, l),
	}
}

func (c *linkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.running, c.acked, c.head, c.lagEntries, c.lagSeconds, c.resyncs, c.up, c.queued, c.handshakeAge, c.rxBytes, c.txBytes} {
		ch <- d
	}
}

func (c *linkCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.n.SyncStatus() {
		lv := []string{s.Peer, s.Direction}
		if !s.Running {
			ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, 0, lv...)
			continue // its figures are the leader's to export
		}
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, 1, lv...)
		up := 0.0
		if s.State == "up" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.acked, prometheus.GaugeValue, float64(s.AckedSeq), lv...)
		ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(s.HeadSeq), lv...)
		ch <- prometheus.MustNewConstMetric(c.lagEntries, prometheus.GaugeValue, float64(s.LagEntries), lv...)
		ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, s.LagSeconds, lv...)
		ch <- prometheus.MustNewConstMetric(c.resyncs, prometheus.CounterValue, float64(s.Resyncs), lv...)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, lv...)
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(c.n.queuedCommands(s.Peer, s.Direction)), lv...)
	}
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
	l := prometheus.Labels{"region": n.cfg.Region, "node": n.cfg.NodeID}
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
	_ = r.Iterate([]byte("r/_mgmt/"), []byte("r/_mgmt0"), func(k, v []byte) bool {
		var m crm.Management
		if json.Unmarshal(v, &m) != nil {
			return true
		}
		ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(m.Epoch), m.Region, m.Mode)
		p, _ := crm.PendingCommands(r, m.Region)
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(p), m.Region)
		o, _ := crm.OpenConflicts(r, m.Region)
		ch <- prometheus.MustNewConstMetric(c.conflts, prometheus.GaugeValue, float64(o), m.Region)
		return true
	})
}
