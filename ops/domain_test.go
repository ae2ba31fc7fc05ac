package ops_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"gridcrm/crm"
	"gridcrm/ops"
)

func TestMapAggregate(t *testing.T) {
	for _, c := range []struct {
		key, name string
		labels    map[string]string
	}{
		{"customers", "gridcrm_domain_customers", map[string]string{}},
		{"customers.category.industrial", "gridcrm_domain_customers_by_category", map[string]string{"category": "industrial"}},
		{"customers.voltage.high", "gridcrm_domain_customers_by_voltage", map[string]string{"voltage": "high"}},
		{"kwh.2026-03", "gridcrm_domain_kwh_by_period", map[string]string{"period": "2026-03"}},
		{"billed.2026-03", "gridcrm_domain_billed_yuan_by_period", map[string]string{"period": "2026-03"}},
		{"arrears", "gridcrm_domain_arrears_yuan", map[string]string{}},
		{"stages.overdue", "gridcrm_domain_stages_overdue", map[string]string{}},
		{"workorders.open.kind.repair.state.received", "gridcrm_domain_workorders_open_by_kind_state", map[string]string{"kind": "repair", "state": "received"}},
		{"workorders.kind.complaint.2026-Q1", "gridcrm_domain_workorders_by_kind_period", map[string]string{"kind": "complaint", "period": "2026-Q1"}},
		{"x.region.320722", "gridcrm_domain_x_by_dim_region", map[string]string{"dim_region": "320722"}},
		{"Work-Orders", "gridcrm_domain_work_orders", map[string]string{}},
	} {
		s, ok := ops.MapAggregate(c.key, 1)
		if !ok || s.Name != c.name || len(s.Labels) != len(c.labels) {
			t.Errorf("%s: %v %+v; want %s %v", c.key, ok, s, c.name, c.labels)
			continue
		}
		for k, v := range c.labels {
			if s.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", c.key, k, s.Labels[k], v)
			}
		}
	}
	if _, ok := ops.MapAggregate("..", 1); ok {
		t.Error("an empty name was mapped")
	}
}

// memReader is a crm.Reader over a sorted map.
type memReader map[string][]byte

func (m memReader) Get(k []byte) ([]byte, error) { return m[string(k)], nil }
func (m memReader) Iterate(lo, hi []byte, fn func(k, v []byte) bool) error {
	var keys []string
	for k := range m {
		if k >= string(lo) && (hi == nil || k < string(hi)) {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	for _, k := range keys {
		if !fn([]byte(k), m[k]) {
			break
		}
	}
	return nil
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func f64(v float64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	return b[:]
}

// TestDomainCollector: aggregates of several regions become lint-clean
// gauges; only the newest PeriodsKept periods are exported.
func TestDomainCollector(t *testing.T) {
	m := memReader{
		"a/320722/customers":                     f64(1200),
		"a/320722/customers.category.industrial": f64(80),
		"a/320723/customers":                     f64(900),
		"a/320722/kwh.2026-01":                   f64(1e6),
		"a/320722/kwh.2026-02":                   f64(2e6),
		"a/320722/kwh.2026-03":                   f64(3e6),
		"a/320722/kwh.2026-04":                   f64(4e6),
		"a/320722/stages.overdue":                f64(2),
		"a/320722/stages_overdue":                f64(3), // maps to the same series: must not break the scrape
		"r/customers/x":                          []byte("{}"),
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ops.NewDomainCollector("3207", "n1", func() crm.Reader { return m }))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	want := `
# HELP gridcrm_domain_customers Domain counter customers per owner region, from the materialised aggregates (see ops.DomainCollector for the mapping).
# TYPE gridcrm_domain_customers gauge
gridcrm_domain_customers{node="n1",node_region="3207",region="320722"} 1200
gridcrm_domain_customers{node="n1",node_region="3207",region="320723"} 900
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gridcrm_domain_customers"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "gridcrm_domain_kwh_by_period"); err != nil || n != ops.PeriodsKept {
		t.Errorf("kwh periods exported: %d (%v), want %d", n, err, ops.PeriodsKept)
	}
	out, _ := reg.Gather()
	for _, mf := range out {
		if mf.GetName() == "gridcrm_domain_kwh_by_period" {
			for _, mm := range mf.Metric {
				for _, l := range mm.Label {
					if l.GetName() == "period" && l.GetValue() == "2026-01" {
						t.Error("the oldest period was exported")
					}
				}
			}
		}
	}
}

// TestDomainCollector_CollidingKeysExportTheFirstEveryScrape: two counters
// whose keys map to one series and period (a.b and a_b) export the first
// in key order, on every scrape (the kept periods were flushed from a map,
// in an order that changed from scrape to scrape).
func TestDomainCollector_CollidingKeysExportTheFirstEveryScrape(t *testing.T) {
	m := memReader{}
	for i := range 20 {
		region := fmt.Sprintf("3207%02d", i)
		m["a/"+region+"/x.b.2026-03"] = f64(1)
		m["a/"+region+"/x_b.2026-03"] = f64(2)
		m["a/"+region+"/y.c.2026-03"] = f64(3)
		m["a/"+region+"/y_c.2026-03"] = f64(4)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ops.NewDomainCollector("32", "n1", func() crm.Reader { return m }))
	for range 10 {
		out, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range out {
			want := map[string]float64{"gridcrm_domain_x_b_by_period": 1, "gridcrm_domain_y_c_by_period": 3}[mf.GetName()]
			for _, mm := range mf.Metric {
				if v := mm.GetGauge().GetValue(); v != want {
					t.Fatalf("%s %v = %v; want %v (the first key's)", mf.GetName(), mm.Label, v, want)
				}
			}
		}
	}
}
