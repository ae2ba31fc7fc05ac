package ops

import (
	"regexp"
	"slices"
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

// counter is one aggregate as newestPeriods keeps it.
type counter struct {
	region, metric string
	v              float64
}

// newestPeriods reads every aggregate and keeps those without a period and,
// of each series with one (a region's metric but for its trailing
// period), the newest PeriodsKept periods. Only what it keeps is mapped
// to a series: a province holds a counter per county, category, voltage
// class and month for every month since it started, and mapping each of
// them on every scrape cost what the scrape of a few new months needs a
// thousand times over. (Two keys whose series map to one name, a.b and
// a_b, each keep their newest periods; Collect exports the first of each
// series and period, in key order.)
func newestPeriods(r crm.Reader) []counter {
	var out []counter
	region := ""
	byBase := map[string][]counter{} // the current region's series → its newest periods, newest first
	flush := func() {
		for _, cs := range byBase {
			out = append(out, cs...)
		}
		clear(byBase)
	}
	_ = crm.ForEachAggregate(r, func(reg, metric string, v float64) {
		if reg != region { // keys sort by region: a region's series are all read before the next's
			flush()
			region = reg
		}
		i := strings.LastIndexByte(metric, '.')
		if i < 0 || !isPeriod(metric[i+1:]) {
			out = append(out, counter{reg, metric, v})
			return
		}
		base, period := metric[:i], metric[i+1:]
		cs := byBase[base]
		at := len(cs) // where the period goes among the newest, newest first
		for at > 0 && cs[at-1].metric[i+1:] < period {
			at--
		}
		if at >= PeriodsKept {
			return
		}
		cs = slices.Insert(cs, at, counter{reg, metric, v})
		byBase[base] = cs[:min(len(cs), PeriodsKept)]
	})
	flush()
	// Key order, as the counters are stored: of two keys that map to one
	// series the first wins (Collect), the same one every scrape.
	slices.SortFunc(out, func(a, b counter) int {
		if c := strings.Compare(a.region, b.region); c != 0 {
			return c
		}
		return strings.Compare(a.metric, b.metric)
	})
	return out
}

// isPeriod reports whether s looks like a period (periodRE) without a
// regular expression: it is asked once per counter on every scrape.
func isPeriod(s string) bool {
	digits := func(s string) bool {
		for _, c := range []byte(s) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(s) < 4 || !digits(s[:4]) {
		return false
	}
	s = s[4:]
	if s == "" {
		return true
	}
	if s[0] != '-' {
		return false
	}
	s = s[1:]
	n := 2 // the part after the year: MM, Qn, Hn or Wnn
	switch {
	case len(s) >= 2 && digits(s[:2]):
	case len(s) >= 2 && s[0] == 'Q' && s[1] >= '1' && s[1] <= '4':
	case len(s) >= 2 && s[0] == 'H' && (s[1] == '1' || s[1] == '2'):
	case len(s) >= 3 && s[0] == 'W' && digits(s[1:3]):
		n = 3
	default:
		return false
	}
	s = s[n:]
	return s == "" || len(s) == 3 && s[0] == '-' && digits(s[1:])
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
	for _, a := range newestPeriods(c.reader()) {
		if s, ok := MapAggregate(a.metric, a.v); ok {
			rows = append(rows, row{a.region, s})
		}
	}
	descs := map[string]*prometheus.Desc{}
	seen := map[string]bool{} // two keys may map to one series (a.b and a_b): the first wins, or the scrape would fail
	for _, r := range rows {
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
