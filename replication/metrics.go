package replication

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// groupMetrics are the raft group's own collectors: what raft.Stats does
// not say (leadership changes, how long a write takes, snapshots). They
// carry no region or node label; the node registers them through a
// registerer that adds both.
type groupMetrics struct {
	apply   prometheus.Histogram // raft.Apply on the leader until the FSM answered
	propose prometheus.Histogram // Group.Propose on any node, forwarding and retries included

	snapshotsTaken    atomic.Uint64 // FSM snapshots handed to raft
	snapshotsRestored atomic.Uint64 // FSM restores from a snapshot (install from the leader, or repair at start)
}

// latencyBuckets span a fast local commit (~0.2 ms fsync) to a stalled
// leader (ApplyTimeout, 10 s).
var latencyBuckets = []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newGroupMetrics() *groupMetrics {
	return &groupMetrics{
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gridcrm_raft_apply_duration_seconds",
			Help:    "Time from handing an entry to raft on the leader until the state machine applied it; a group-commit batch counts once.",
			Buckets: latencyBuckets}),
		propose: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gridcrm_raft_propose_duration_seconds",
			Help:    "Time a write spends in Propose on this node (queueing, forwarding to the leader, commit and apply), whatever its outcome.",
			Buckets: latencyBuckets}),
	}
}

var (
	descLeaderChanges = prometheus.NewDesc("gridcrm_raft_leader_changes_total", "Times this node gained or lost leadership of its region.", nil, nil)
	descSnapshots     = prometheus.NewDesc("gridcrm_raft_snapshots_total", "FSM snapshots: op=persist taken for raft, op=restore installed from one.", []string{"op"}, nil)
	descSnapIndex     = prometheus.NewDesc("gridcrm_raft_last_snapshot_index", "Raft index of the newest snapshot this node holds (0 if none).", nil, nil)
	descBatches       = prometheus.NewDesc("gridcrm_raft_commit_batches_total", "Raft entries the leader's group commit wrote on this node.", nil, nil)
	descBatched       = prometheus.NewDesc("gridcrm_raft_proposals_total", "Proposals carried by those entries.", nil, nil)
	descForwarded     = prometheus.NewDesc("gridcrm_raft_forwarded_total", "Writes this node forwarded to its region's leader.", nil, nil)
	descApplyErrors   = prometheus.NewDesc("gridcrm_raft_apply_errors_total", "Writes whose commit failed or whose outcome is unknown (leadership lost).", nil, nil)
	descLogFsyncs     = prometheus.NewDesc("gridcrm_raft_log_fsyncs_total", "Fsyncs of the raft log made after appends (the deferred log fsync; 0 when appends fsync themselves, SerialLogSync).", nil, nil)
	descLogFsyncTime  = prometheus.NewDesc("gridcrm_raft_log_fsync_seconds_total", "Time those fsyncs took; divided by gridcrm_raft_log_fsyncs_total, the disk's mean fsync.", nil, nil)
	descLogUnsynced   = prometheus.NewDesc("gridcrm_raft_log_unsynced_entries", "Raft log entries appended here and not yet known fsynced (normally 0 or a batch in flight).", nil, nil)
)

// Describe implements prometheus.Collector: the group's own metrics.
func (g *Group) Describe(ch chan<- *prometheus.Desc) {
	g.metrics.apply.Describe(ch)
	g.metrics.propose.Describe(ch)
	for _, d := range []*prometheus.Desc{descLeaderChanges, descSnapshots, descSnapIndex, descBatches, descBatched, descForwarded, descApplyErrors,
		descLogFsyncs, descLogFsyncTime, descLogUnsynced} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (g *Group) Collect(ch chan<- prometheus.Metric) {
	g.metrics.apply.Collect(ch)
	g.metrics.propose.Collect(ch)
	counter := func(d *prometheus.Desc, v uint64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
	}
	counter(descLeaderChanges, g.LeaderLoss.Load())
	counter(descSnapshots, g.metrics.snapshotsTaken.Load(), "persist")
	counter(descSnapshots, g.metrics.snapshotsRestored.Load(), "restore")
	counter(descBatches, g.Batches.Load())
	counter(descBatched, g.BatchedEntries.Load())
	counter(descForwarded, g.Forwarded.Load())
	counter(descApplyErrors, g.ApplyErrors.Load())
	fsyncs, took, unsynced := g.st.LogStore().SyncStats()
	counter(descLogFsyncs, fsyncs)
	ch <- prometheus.MustNewConstMetric(descLogFsyncTime, prometheus.CounterValue, took.Seconds())
	ch <- prometheus.MustNewConstMetric(descLogUnsynced, prometheus.GaugeValue, float64(unsynced))
	idx, _ := strconv.ParseFloat(g.raft.Stats()["last_snapshot_index"], 64)
	ch <- prometheus.MustNewConstMetric(descSnapIndex, prometheus.GaugeValue, idx)
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
