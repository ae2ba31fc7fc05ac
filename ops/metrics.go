package ops

import (
	"net/http"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is a node's Prometheus registry with the process and Go
// collectors already registered.
type Registry struct{ *prometheus.Registry }

// NewRegistry returns a registry with process and Go runtime metrics.
func NewRegistry() *Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{r}
}

// Handler serves the registry in the Prometheus exposition format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{Registry: r.Registry})
}

// RaftCollector reads raft's state at scrape time.
type RaftCollector struct {
	r       *raft.Raft
	applied func() uint64
	labels  prometheus.Labels

	state, term, lastIndex, commitIndex, appliedIndex, fsmPending, lastContact, peers *prometheus.Desc
}

// NewRaftCollector describes raft metrics of one node; applied reports the
// FSM's own applied index (raft's AppliedIndex is only what it dispatched).
func NewRaftCollector(region, node string, r *raft.Raft, applied func() uint64) *RaftCollector {
	l := prometheus.Labels{"region": region, "node": node}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gridcrm_raft_"+name, help, nil, l)
	}
	return &RaftCollector{r: r, applied: applied, labels: l,
		state:        prometheus.NewDesc("gridcrm_raft_state", "Raft state of the node: 1 for the state it is in.", []string{"state"}, l),
		term:         d("term", "Current raft term."),
		lastIndex:    d("last_index", "Last index in the raft log."),
		commitIndex:  d("commit_index", "Highest committed raft index known to the node."),
		appliedIndex: d("applied_index", "Last raft index applied by the state machine."),
		fsmPending:   d("fsm_pending", "Committed entries waiting for the state machine."),
		lastContact:  d("last_contact_seconds", "Seconds since the follower last heard from the leader (0 on the leader)."),
		peers:        d("peers", "Voters in the region's raft configuration."),
	}
}

// Describe implements prometheus.Collector.
func (c *RaftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.term, c.lastIndex, c.commitIndex, c.appliedIndex, c.fsmPending, c.lastContact, c.peers} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *RaftCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.Stats()
	cur := c.r.State()
	for _, s := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		v := 0.0
		if s == cur {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, s.String())
	}
	num := func(k string) float64 { v, _ := strconv.ParseFloat(st[k], 64); return v }
	ch <- prometheus.MustNewConstMetric(c.term, prometheus.GaugeValue, num("term"))
	ch <- prometheus.MustNewConstMetric(c.lastIndex, prometheus.GaugeValue, float64(c.r.LastIndex()))
	ch <- prometheus.MustNewConstMetric(c.commitIndex, prometheus.GaugeValue, float64(c.r.CommitIndex()))
	ch <- prometheus.MustNewConstMetric(c.appliedIndex, prometheus.GaugeValue, float64(c.applied()))
	ch <- prometheus.MustNewConstMetric(c.fsmPending, prometheus.GaugeValue, num("fsm_pending"))
	lc := 0.0
	if cur != raft.Leader {
		if t := c.r.LastContact(); !t.IsZero() {
			lc = timeSince(t)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.lastContact, prometheus.GaugeValue, lc)
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, num("num_peers")+1)
}

// StoreCollector reports Pebble's disk usage and health.
type StoreCollector struct {
	metrics func() *pebble.Metrics
	usage   func() uint64

	diskBytes, compactions, readAmp, cacheHits, cacheMisses, cacheRatio, walBytes *prometheus.Desc
}

// PebbleStore is what StoreCollector reads.
type PebbleStore interface {
	Metrics() *pebble.Metrics
	DiskUsage() uint64
}

// NewStoreCollector describes the store metrics of one node.
func NewStoreCollector(region, node string, s PebbleStore) *StoreCollector {
	l := prometheus.Labels{"region": region, "node": node}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gridcrm_store_"+name, help, nil, l)
	}
	return &StoreCollector{metrics: s.Metrics, usage: s.DiskUsage,
		diskBytes:   d("disk_usage_bytes", "Bytes the Pebble store uses on disk."),
		compactions: d("compactions_total", "Compactions Pebble has run."),
		readAmp:     d("read_amplification", "Pebble read amplification (sublevels to consult)."),
		cacheHits:   d("block_cache_hits_total", "Block cache hits."),
		cacheMisses: d("block_cache_misses_total", "Block cache misses."),
		cacheRatio:  d("block_cache_hit_ratio", "Block cache hits over lookups since start (0 before the first lookup); for a recent rate use the _total counters."),
		walBytes:    d("wal_bytes_written_total", "Bytes written to the write-ahead log."),
	}
}

// Describe implements prometheus.Collector.
func (c *StoreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.diskBytes, c.compactions, c.readAmp, c.cacheHits, c.cacheMisses, c.cacheRatio, c.walBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *StoreCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.metrics()
	ch <- prometheus.MustNewConstMetric(c.diskBytes, prometheus.GaugeValue, float64(c.usage()))
	ch <- prometheus.MustNewConstMetric(c.compactions, prometheus.CounterValue, float64(m.Compact.Count))
	ch <- prometheus.MustNewConstMetric(c.readAmp, prometheus.GaugeValue, float64(m.ReadAmp()))
	ch <- prometheus.MustNewConstMetric(c.cacheHits, prometheus.CounterValue, float64(m.BlockCache.Hits))
	ch <- prometheus.MustNewConstMetric(c.cacheMisses, prometheus.CounterValue, float64(m.BlockCache.Misses))
	ratio := 0.0
	if n := m.BlockCache.Hits + m.BlockCache.Misses; n > 0 {
		ratio = float64(m.BlockCache.Hits) / float64(n)
	}
	ch <- prometheus.MustNewConstMetric(c.cacheRatio, prometheus.GaugeValue, ratio)
	ch <- prometheus.MustNewConstMetric(c.walBytes, prometheus.CounterValue, float64(m.WAL.BytesWritten))
}
