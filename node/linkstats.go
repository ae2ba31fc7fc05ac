package node

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/api"
)

// linkTraffic counts what crosses this node's links, per peer region and
// direction (as in GET /api/v1/sync/status):
//
//   - up: this region's leader shipping its feed to the parent, counted at
//     the HTTP client (bytes both ways; batches = uplink requests answered);
//   - down: directive batches pulled from the parent, bytes counted at the
//     HTTP client on the leader, batches when applied (every node);
//   - from-child: uplink batches from a child region, counted when applied
//     (every node of this region applies them).
type linkTraffic struct {
	sent, received, batches, changes *prometheus.CounterVec
}

func newLinkTraffic() *linkTraffic {
	v := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_link_" + name, Help: help}, []string{"peer", "direction"})
	}
	return &linkTraffic{
		sent:     v("sent_bytes_total", "Bytes this node sent on the link (request bodies; up and down on the region's leader)."),
		received: v("received_bytes_total", "Bytes this node received on the link (answers on up and down; applied batch bodies for from-child)."),
		batches:  v("batches_total", "Link batches: shipped and acknowledged (up), or applied by this node (down, from-child)."),
		changes:  v("changes_total", "Feed changes in the link batches this node applied (down, from-child)."),
	}
}

func (t *linkTraffic) collectors() []prometheus.Collector {
	return []prometheus.Collector{t.sent, t.received, t.batches, t.changes}
}

// applied counts a link batch the FSM applied (any node of the region).
func (t *linkTraffic) applied(peer, direction string, bytes, changes int) {
	if t == nil {
		return
	}
	t.batches.WithLabelValues(peer, direction).Inc()
	t.received.WithLabelValues(peer, direction).Add(float64(bytes))
	t.changes.WithLabelValues(peer, direction).Add(float64(changes))
}

// transport wraps the links' HTTP client to count bytes per direction.
func (t *linkTraffic) transport(parent string, rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		dir := "down"
		if strings.HasSuffix(req.URL.Path, "/uplink") {
			dir = "up"
		}
		if req.ContentLength > 0 {
			t.sent.WithLabelValues(parent, dir).Add(float64(req.ContentLength))
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if dir == "up" && resp.StatusCode == http.StatusOK {
			t.batches.WithLabelValues(parent, dir).Inc()
		}
		resp.Body = &countingBody{ReadCloser: resp.Body, c: t.received.WithLabelValues(parent, dir)}
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

// linkRejects counts, remembers and logs the link batches and changes this
// node refused: before proposing them (the node that received them) or when
// applying them (every node of the region; nothing of them was written).
// Its methods may be called from any goroutine; a nil *linkRejects does
// nothing.
type linkRejects struct {
	log   *slog.Logger
	total *prometheus.CounterVec // gridcrm_link_rejected_total{peer, direction, reason}

	mu     sync.Mutex                 // guards counts, recent
	counts map[[2]string]uint64       // (peer, direction) → refused
	recent map[[2]string][]rejectItem // (peer, direction) → the latest, oldest first
}

type rejectItem = api.LinkRejection

const recentRejects = 10 // kept per link

func newLinkRejects(log *slog.Logger) *linkRejects {
	return &linkRejects{log: log, counts: map[[2]string]uint64{}, recent: map[[2]string][]rejectItem{},
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_link_rejected_total",
			Help: "Link batches and changes this node refused: before proposing them (the node that received them) or on apply (every node; nothing of them was written). reason: link, range, invalid, owner, authority."},
			[]string{"peer", "direction", "reason"})}
}

// add records that the change key at seq (key "" for the whole batch) on
// the link with peer, dir "up" (from a child) or "down", was refused at
// stage "proposal" or "apply". peer must be a metrics label (peerLabel).
func (r *linkRejects) add(peer, dir string, seq uint64, key string, rj *reject, stage string) {
	if r == nil {
		return
	}
	direction := directionOf(dir)
	r.total.WithLabelValues(peer, direction, rj.reason).Inc()
	item := rejectItem{Seq: seq, Key: key, Reason: rj.reason, Message: rj.err.Message, Stage: stage, At: time.Now()}
	r.mu.Lock()
	k := [2]string{peer, direction}
	r.counts[k]++
	r.recent[k] = append(r.recent[k], item)
	if len(r.recent[k]) > recentRejects {
		r.recent[k] = r.recent[k][1:]
	}
	r.mu.Unlock()
	if r.log != nil {
		r.log.Warn("node: link change rejected", "peer", peer, "direction", direction, "seq", seq, "key", key, "reason", rj.reason, "err", rj.err.Message, "stage", stage)
	}
}

// of answers how many were refused on a link, and the latest.
func (r *linkRejects) of(peer, direction string) (uint64, []rejectItem) {
	if r == nil {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{peer, direction}
	return r.counts[k], append([]rejectItem(nil), r.recent[k]...)
}

// instrumentLinks counts the links' traffic and registers the link metrics.
func (n *Node) instrumentLinks() {
	if n.links.parent != "" {
		n.links.client.Transport = n.traffic.transport(n.links.parent, n.links.client.Transport)
	}
	n.ops.RegisterLabelled(n.cfg.Region, n.cfg.NodeID, append(n.traffic.collectors(), n.rejects.total)...)
	n.ops.MustRegister(newLinkCollector(n))
	n.ops.MustRegister(newManagementCollector(n))
	n.ops.MustRegister(n.processMetrics()) // process_metrics.go
}
