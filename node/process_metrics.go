package node

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
	"gridcrm/process"
)

// processRefresh is how long the process gauges are reused before the
// counters are read again.
const processRefresh = 30 * time.Second

// processCollector exports the process figures that depend on the clock or
// on two dimensions at once, from the materialised process counters of the
// node's local replica (process/kpi.go; an upper tier holds its subtree's
// counters, so it exports the subtree's regions), never from the records:
//
//   - gridcrm_domain_stages_overdue{region}: open connection projects whose
//     current stage is past its working-day deadline now and not paused —
//     the project stages of the supervision list (process.Supervise) that have a
//     deadline — added up from projects.stages_due.<day> by
//     process.ClockFiguresOf; a region with open projects and none overdue
//     exports 0;
//   - gridcrm_domain_work_orders_open{region,kind,state}: work orders not
//     archived, by kind and state jointly (work_orders.open.state_kind.*).
//
// As in ops.DomainCollector, region is the owner region and node_region
// the node's own region. The values are computed on the first scrape and
// then at most every processRefresh.
type processCollector struct {
	reader func() crm.Reader
	now    func() time.Time

	overdue, open *prometheus.Desc

	mu   sync.Mutex
	at   time.Time // when the cached values were computed; zero: never
	vals processValues
}

type woKey struct{ region, kind, state string }

type processValues struct {
	overdue map[string]int // owner region → overdue stages (regions with open projects)
	open    map[woKey]int
}

func newProcessCollector(region, nodeID string, reader func() crm.Reader, now func() time.Time) *processCollector {
	l := prometheus.Labels{"node_region": region, "node": nodeID}
	return &processCollector{reader: reader, now: now,
		overdue: prometheus.NewDesc("gridcrm_domain_stages_overdue",
			"Open connection-project stages past their working-day deadline now (not paused), per owner region; recomputed at most every 30s.",
			[]string{"region"}, l),
		open: prometheus.NewDesc("gridcrm_domain_work_orders_open",
			"Work orders not archived, per owner region, kind and state; recomputed at most every 30s.",
			[]string{"region", "kind", "state"}, l),
	}
}

func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.overdue
	ch <- c.open
}

func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.values()
	for region, k := range v.overdue {
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(k), region)
	}
	for key, k := range v.open {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(k), key.region, key.kind, key.state)
	}
}

// values answers the cached values, recomputing them when they are older
// than processRefresh. Concurrent scrapes wait for one computation.
func (c *processCollector) values() processValues {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.at.IsZero() || now.Sub(c.at) >= processRefresh || now.Before(c.at) {
		if v, err := computeProcess(c.reader(), now); err == nil || c.at.IsZero() {
			c.vals, c.at = v, now
		}
	}
	return c.vals
}

// computeProcess reads the process counters of every region the reader
// holds: one pass over the counters, whose number grows with the regions
// and the days with open deadlines, not with the records.
func computeProcess(r crm.Reader, now time.Time) (processValues, error) {
	v := processValues{overdue: map[string]int{}, open: map[woKey]int{}}
	due := map[string]map[string]float64{} // region → its projects.stages_due.* counters
	err := crm.ForEachAggregate(r, func(region, metric string, x float64) {
		n := int(math.Round(x))
		switch {
		case metric == "projects.status."+process.ProjectOpen:
			if n > 0 {
				v.overdue[region] += 0 // a region with open projects exports 0 rather than nothing
			}
		case strings.HasPrefix(metric, "projects.stages_due."):
			if due[region] == nil {
				due[region] = map[string]float64{}
			}
			due[region][metric] = x
		case strings.HasPrefix(metric, "work_orders.open.state_kind."):
			state, kind, ok := strings.Cut(metric[len("work_orders.open.state_kind."):], ".")
			if ok && n > 0 {
				v.open[woKey{region, kind, state}] += n
			}
		}
	})
	for region, pc := range due {
		v.overdue[region] += int(process.ClockFiguresOf(pc, now).StagesOverdue)
	}
	return v, err
}

// processMetrics is the node's process collector, on its local replica.
func (n *Node) processMetrics() *processCollector {
	return newProcessCollector(n.cfg.Region, n.cfg.NodeID, func() crm.Reader { return n.group.Reader() }, time.Now)
}
