package link

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what crosses this node's links, per peer region and
// direction (as in GET /api/v1/sync/status), and the batches and changes
// it refused. Its methods may be called from any goroutine; a nil *Metrics
// counts nothing.
//
// Traffic:
//   - up: this region's leader shipping its feed to the parent, counted at
//     the HTTP client (bytes both ways; batches = uplink requests answered);
//   - down: batches pulled from the parent, bytes counted at the HTTP
//     client on the leader, batches when applied (every node);
//   - from-child: uplink batches from a child region, counted when applied
//     (every node of this region applies them).
//
// Refusals: before proposing them (the node that received them) or when
// applying them (every node of the region; nothing of them was written),
// counted in gridcrm_link_rejected_total, logged, and the latest kept per
// link for the status.
type Metrics struct {
	sent, received, batches, changes *prometheus.CounterVec
	rejected                         *prometheus.CounterVec // gridcrm_link_rejected_total{peer, direction, reason}
	log                              *slog.Logger

	mu     sync.Mutex                // guards counts, recent
	counts map[[2]string]uint64      // (peer, direction) → refused
	recent map[[2]string][]Rejection // (peer, direction) → the latest, oldest first
}

// Rejection is one batch or change a node refused on a link.
type Rejection struct {
	Seq     uint64    // the sender's feed sequence (0 for a resync item)
	Key     string    // the record; "" for a whole batch
	Reason  Reason    // why
	Message string    // what the sender was told
	Stage   string    // "proposal" (refused before it was proposed) or "apply" (committed, rejected on apply)
	At      time.Time // when this node refused it
}

const recentRejects = 10 // kept per link

// NewMetrics returns the link counters; refusals are logged on log (nil: not logged).
func NewMetrics(log *slog.Logger) *Metrics {
	v := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_link_" + name, Help: help}, []string{"peer", "direction"})
	}
	return &Metrics{log: log, counts: map[[2]string]uint64{}, recent: map[[2]string][]Rejection{},
		sent:     v("sent_bytes_total", "Bytes this node sent on the link (request bodies; up and down on the region's leader)."),
		received: v("received_bytes_total", "Bytes this node received on the link (answers on up and down; applied batch bodies for from-child)."),
		batches:  v("batches_total", "Link batches: shipped and acknowledged (up), or applied by this node (down, from-child)."),
		changes:  v("changes_total", "Feed changes in the link batches this node applied (down, from-child)."),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_link_rejected_total",
			Help: "Link batches and changes this node refused: before proposing them (the node that received them) or on apply (every node; nothing of them was written). reason: auth, link, range, invalid, owner, authority."},
			[]string{"peer", "direction", "reason"}),
	}
}

// Collectors are the counters, to register with the region and node labels.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.received, m.batches, m.changes, m.rejected}
}

// applied counts a link batch the FSM applied (any node of the region).
func (m *Metrics) applied(peer, direction string, bytes, changes int) {
	if m == nil {
		return
	}
	m.batches.WithLabelValues(peer, direction).Inc()
	m.received.WithLabelValues(peer, direction).Add(float64(bytes))
	m.changes.WithLabelValues(peer, direction).Add(float64(changes))
}

// reject records that the change key at seq (key "" for the whole batch) on
// the link with peer in direction dir was refused at stage "proposal" or
// "apply". peer must be a metrics label (peerLabel).
func (m *Metrics) reject(peer string, dir Direction, seq uint64, key string, rj *Reject, stage string) {
	if m == nil {
		return
	}
	direction := dir.Label()
	m.rejected.WithLabelValues(peer, direction, string(rj.Reason)).Inc()
	item := Rejection{Seq: seq, Key: key, Reason: rj.Reason, Message: rj.Err.Message, Stage: stage, At: time.Now()}
	m.mu.Lock()
	k := [2]string{peer, direction}
	m.counts[k]++
	m.recent[k] = append(m.recent[k], item)
	if len(m.recent[k]) > recentRejects {
		m.recent[k] = m.recent[k][1:]
	}
	m.mu.Unlock()
	if m.log != nil {
		m.log.Warn("link: change rejected", "peer", peer, "direction", direction, "seq", seq, "key", key, "reason", string(rj.Reason), "err", rj.Err.Message, "stage", stage)
	}
}

// Rejections answers how many were refused on a link (direction as
// Direction.Label names it, or "up"), and the latest.
func (m *Metrics) Rejections(peer, direction string) (uint64, []Rejection) {
	if m == nil {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{peer, direction}
	return m.counts[k], append([]Rejection(nil), m.recent[k]...)
}

// transport wraps the links' HTTP transport to count bytes per direction.
func (m *Metrics) transport(parent string, rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		dir := "down"
		if strings.HasSuffix(req.URL.Path, "/uplink") {
			dir = "up"
		}
		if req.ContentLength > 0 {
			m.sent.WithLabelValues(parent, dir).Add(float64(req.ContentLength))
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if dir == "up" && resp.StatusCode == http.StatusOK {
			m.batches.WithLabelValues(parent, dir).Inc()
		}
		resp.Body = &countingBody{ReadCloser: resp.Body, c: m.received.WithLabelValues(parent, dir)}
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type countingBody struct {
	io.ReadCloser
	c prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.Add(float64(n))
	return n, err
}

// Collector exports the links' status as gauges, read at scrape time:
// gridcrm_link_{running,acked_seq,head_seq,lag_entries,lag_seconds,
// resyncs_total,up,queued_commands}{peer,direction}.
type Collector struct {
	status func() []Status

	running, acked, head, lagEntries, lagSeconds, resyncs, up, queued *prometheus.Desc
}

// NewCollector exports what status answers (Service.Status, with the
// domain's figures filled in) with the constant labels given.
func NewCollector(labels prometheus.Labels, status func() []Status) *Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gridcrm_link_"+name, help, []string{"peer", "direction"}, labels)
	}
	return &Collector{status: status,
		running:    d("running", "1 when this node runs the link (up and down: the region's leader; from-child: every node), else 0. The other link series exist only where it runs."),
		acked:      d("acked_seq", "The receiver's cursor on the sender's change feed."),
		head:       d("head_seq", "The sender's change-feed head, as last known."),
		lagEntries: d("lag_entries", "Feed entries the receiver has not applied yet (up: this region's feed head minus what the parent acknowledged, also while the link is cut)."),
		lagSeconds: d("lag_seconds", "up: age of the oldest change not shipped to the parent; down: seconds since the last exchange with the parent; from-child: age of the child's newest heartbeat held here."),
		resyncs:    d("resyncs_total", "Snapshot resyncs of the link."),
		up:         d("up", "1 when the link's last exchange succeeded, else 0."),
		queued:     d("queued_commands", "Writes forwarded to the peer region below (partial management, work orders taken above) still waiting for its outcome; they wait durably while it is unreachable."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.running, c.acked, c.head, c.lagEntries, c.lagSeconds, c.resyncs, c.up, c.queued} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.status() {
		lv := []string{s.Peer, s.Direction}
		if !s.Running {
			ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, 0, lv...)
			continue // its figures are the leader's to export
		}
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, 1, lv...)
		up := 0.0
		if s.State == StateUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.acked, prometheus.GaugeValue, float64(s.AckedSeq), lv...)
		ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(s.HeadSeq), lv...)
		ch <- prometheus.MustNewConstMetric(c.lagEntries, prometheus.GaugeValue, float64(s.LagEntries), lv...)
		ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, s.LagSeconds, lv...)
		ch <- prometheus.MustNewConstMetric(c.resyncs, prometheus.CounterValue, float64(s.Resyncs), lv...)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, lv...)
		ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.QueuedCommands), lv...)
	}
}
