package node

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
)

// processRefresh is how long the process gauges are reused before the
// local replica is scanned again: scanning every project and work order
// of a province on every scrape would cost more than the scrape is worth.
const processRefresh = 30 * time.Second

// processCollector exports what the process records say now and the
// aggregates cannot hold because it depends on the clock or on two
// dimensions at once, read from the node's local replica (an upper tier
// holds its subtree's records, so it exports the subtree's regions):
//
//   - gridcrm_domain_stages_overdue{region}: open connection projects whose
//     current stage is past its working-day deadline now and not paused —
//     the project stages of the supervision list (crm.Supervise) that have a
//     deadline (see stageOverdue); a region with open projects and none
//     overdue exports 0;
//   - gridcrm_domain_work_orders_open{region,kind,state}: work orders not
//     archived, by kind and state jointly.
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

// computeProcess scans the projects and work orders of every region the
// reader holds, once each.
func computeProcess(r crm.Reader, now time.Time) (processValues, error) {
	v := processValues{overdue: map[string]int{}, open: map[woKey]int{}}
	err := crm.EachRecord(r, "projects", "", true, func(raw []byte) error {
		var p crm.Project
		if json.Unmarshal(raw, &p) != nil || p.Status != crm.ProjectOpen {
			return nil
		}
		v.overdue[p.Owner] += 0 // a region with open projects exports 0 rather than nothing
		if stageOverdue(&p, now) {
			v.overdue[p.Owner]++
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	err = crm.EachRecord(r, "work_orders", "", true, func(raw []byte) error {
		var w crm.WorkOrder
		if json.Unmarshal(raw, &w) == nil && w.Open() {
			v.open[woKey{w.Owner, w.Kind, w.State}]++
		}
		return nil
	})
	return v, err
}

// stageOverdue is the test crm.Supervise applies to put an open project's
// current stage on the supervision list (and crm.ProjectKPIsOf to count
// overdue_now): not paused, with a working-day deadline (computed when the
// stage was entered, so no calendar is needed here) that has passed. A
// stage whose deadline cannot be counted (clock error) is flagged there but
// not counted here.
func stageOverdue(p *crm.Project, now time.Time) bool {
	i := p.Current()
	if i < 0 {
		return false
	}
	st := p.Stages[i]
	if n := len(st.Pauses); n > 0 && st.Pauses[n-1].To == nil {
		return false
	}
	return st.Deadline != nil && !now.Before(*st.Deadline)
}

// processMetrics is the node's process collector, on its local replica.
func (n *Node) processMetrics() *processCollector {
	return newProcessCollector(n.cfg.Region, n.cfg.NodeID, func() crm.Reader { return n.group.Reader() }, time.Now)
}
