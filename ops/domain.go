package ops

import (
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
)

// DomainCollector exports the domain's materialised aggregates
// (crm/aggregate.go, keys a/<region>/<metric>) as gauges, read from the
// local replica at scrape time. It knows no metric by name: every counter
// the domain maintains, now or later, is exported by one mapping rule.
//
// A counter key is dot-separated: name [.extra] {.dimension.value} [.period]
//
//   - a trailing part that looks like a period (2026, 2026-03, 2026-Q1,
//     2026-03-05) becomes the label period and the family gets _by_period;
//   - the remaining parts after the name are read as dimension/value pairs;
//     if their number is odd, the first one joins the name (name_extra);
//   - each dimension becomes a label and the family is named
//     gridcrm_domain_<name>_by_<dim1>_<dim2>...;
//   - amounts of money get the unit suffix _yuan (billed, arrears);
//   - every series carries region (whose counters: the owner region),
//     node and node_region (where they were read: an upper tier holds
//     replicas of its subtree's counters, so sum with max by (region, ...)
//     or filter on node_region).
//
// Examples: customers → gridcrm_domain_customers{region};
// customers.category.industrial → gridcrm_domain_customers_by_category{category="industrial"};
// kwh.2026-03 → gridcrm_domain_kwh_by_period{period="2026-03"};
// billed.2026-03 → gridcrm_domain_billed_yuan_by_period;
// work_orders.open.kind.complaint →
// gridcrm_domain_work_orders_open_by_kind{kind="complaint"};
// projects.stages_late → gridcrm_domain_projects_stages_late.
//
// What depends on the clock (stages overdue now) or needs two dimensions
// of the process records at once is no aggregate: the node computes it at
// scrape time (node/process_metrics.go: gridcrm_domain_stages_overdue,
// gridcrm_domain_work_orders_open{kind,state}).
//
// Period families keep the newest PeriodsKept periods per series (older
// months are history, which Prometheus already keeps), so the number of
// series stays bounded.
type DomainCollector struct {
	reader func() crm.Reader
	labels prometheus.Labels
}

// PeriodsKept is how many of the newest periods a period family exports.
const PeriodsKept = 3

// NewDomainCollector exports the aggregates that reader answers; region
// and node name the node that reads them.
func NewDomainCollector(region, node string, reader func() crm.Reader) *DomainCollector {
	return &DomainCollector{reader: reader, labels: prometheus.Labels{"node_region": region, "node": node}}
}

// Describe implements prometheus.Collector. It describes nothing: the
// families depend on the data, so the collector is unchecked.
func (c *DomainCollector) Describe(chan<- *prometheus.Desc) {}

var (
	periodRE = regexp.MustCompile(`^\d{4}(-(\d{2}|Q[1-4]|H[12]|W\d{2})(-\d{2})?)?$`)
	unsafeRE = regexp.MustCompile(`[^a-zA-Z0-9_]+`)
	reserved = map[string]bool{"region": true, "node": true, "node_region": true, "period": true, "le": true, "quantile": true}
	moneyIn  = map[string]bool{"billed": true, "arrears": true, "fees": true, "paid": true}
)

// DomainSeries is one exported gauge: its family name, label pairs and value.
type DomainSeries struct {
	Name   string
	Labels map[string]string // without region/node/node_region
	Value  float64
}

// MapAggregate turns one counter key into its series (see DomainCollector).
// ok is false for a key that yields no usable name.
func MapAggregate(metric string, v float64) (s DomainSeries, ok bool) {
	parts := strings.Split(metric, ".")
	name := clean(parts[0])
	if name == "" {
		return s, false
	}
	rest := parts[1:]
	s.Labels = map[string]string{}
	period := ""
	if n := len(rest); n > 0 && periodRE.MatchString(rest[n-1]) {
		period, rest = rest[n-1], rest[:n-1]
	}
	if len(rest)%2 == 1 {
		name += "_" + clean(rest[0])
		rest = rest[1:]
	}
	if moneyIn[name] {
		name += "_yuan"
	}
	var dims []string
	for i := 0; i+1 < len(rest); i += 2 {
		d := clean(rest[i])
		if d == "" {
			return s, false
		}
		if reserved[d] {
			d = "dim_" + d
		}
		dims = append(dims, d)
		s.Labels[d] = rest[i+1]
	}
	if period != "" {
		dims = append(dims, "period")
		s.Labels["period"] = period
	}
	s.Name = "gridcrm_domain_" + name
	if len(dims) > 0 {
		s.Name += "_by_" + strings.Join(dims, "_")
	}
	s.Value = v
	return s, true
}

func clean(s string) string {
	return strings.Trim(unsafeRE.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

// Collect implements prometheus.Collector.
func (c *DomainCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		region string
		s      DomainSeries
	}
	var rows []row
	_ = crm.ForEachAggregate(c.reader(), func(region, metric string, v float64) {
		if s, ok := MapAggregate(metric, v); ok {
			rows = append(rows, row{region, s})
		}
	})
	// Keep the newest PeriodsKept periods of every period series.
	newest := map[string][]string{} // series without period → its periods
	seriesKey := func(r row) string {
		keys := make([]string, 0, len(r.s.Labels))
		for k, v := range r.s.Labels {
			if k != "period" {
				keys = append(keys, k+"="+v)
			}
		}
		sort.Strings(keys)
		return r.region + "|" + r.s.Name + "|" + strings.Join(keys, ",")
	}
	for _, r := range rows {
		if p, ok := r.s.Labels["period"]; ok {
			k := seriesKey(r)
			newest[k] = append(newest[k], p)
		}
	}
	for k, ps := range newest {
		sort.Sort(sort.Reverse(sort.StringSlice(ps)))
		newest[k] = ps[:min(len(ps), PeriodsKept)]
	}
	descs := map[string]*prometheus.Desc{}
	seen := map[string]bool{} // two keys may map to one series (a.b and a_b): the first wins, or the scrape would fail
	for _, r := range rows {
		if p, ok := r.s.Labels["period"]; ok {
			keep := false
			for _, q := range newest[seriesKey(r)] {
				keep = keep || q == p
			}
			if !keep {
				continue
			}
		}
		names := make([]string, 0, len(r.s.Labels)+1)
		for k := range r.s.Labels {
			names = append(names, k)
		}
		sort.Strings(names)
		names = append([]string{"region"}, names...)
		id := r.s.Name + "|" + strings.Join(names, ",")
		d := descs[id]
		if d == nil {
			d = prometheus.NewDesc(r.s.Name, "Domain counter "+strings.TrimPrefix(r.s.Name, "gridcrm_domain_")+" per owner region, from the materialised aggregates (see ops.DomainCollector for the mapping).", names, c.labels)
			descs[id] = d
		}
		vals := []string{r.region}
		for _, k := range names[1:] {
			vals = append(vals, r.s.Labels[k])
		}
		if sk := id + "|" + strings.Join(vals, "\xff"); seen[sk] {
			continue
		} else {
			seen[sk] = true
		}
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, r.s.Value, vals...)
		if err == nil {
			ch <- m
		}
	}
}
