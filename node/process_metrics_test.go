package node

import (
	"encoding/binary"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// countingReader counts the scans of the process collector.
type countingReader struct {
	crm.Reader
	scans *int
}

func (r countingReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	*r.scans++
	return r.Reader.Iterate(lower, upper, fn)
}

func TestProcessCollector_Caches(t *testing.T) {
	scans := 0
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := newProcessCollector("32", "n1", func() crm.Reader { return countingReader{crm.NewMemTxn(), &scans} }, func() time.Time { return clock })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	gather := func() {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	gather()
	if scans == 0 {
		t.Fatal("the first scrape did not compute")
	}
	first := scans
	clock = clock.Add(processRefresh - time.Second)
	gather()
	if scans != first {
		t.Errorf("a scrape within %v scanned again (%d scans, want %d)", processRefresh, scans, first)
	}
	clock = clock.Add(2 * time.Second)
	gather()
	if scans != 2*first {
		t.Errorf("a scrape after %v did not recompute (%d scans, want %d)", processRefresh, scans, 2*first)
	}
}

// The gauges come from the counters: overdue stages are those due on or
// before today (China time) per owner region, a region with open projects
// and none overdue exports 0, and open work orders are split by state and
// kind jointly.
func TestComputeProcess_FromCounters(t *testing.T) {
	tx := crm.NewMemTxn()
	set := func(region, metric string, v float64) {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, math.Float64bits(v))
		if err := tx.Set([]byte(keyspace.Aggregate(region, metric)), b); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 09:00 on 2 March in China
	set("320722", "projects.status.open", 3)
	set("320722", "projects.stages_due.2026-02-27", 1)
	set("320722", "projects.stages_due.2026-03-02", 1) // due from today's midnight: overdue
	set("320722", "projects.stages_due.2026-03-03", 1) // tomorrow: not yet
	set("320723", "projects.status.open", 1)
	set("320723", "projects.stages_due.2026-04-01", 1)
	set("320723", "projects.status.energised", 4)
	set("320722", "work_orders.open.state_kind.dispatched.complaint", 2)
	set("320722", "work_orders.open.state_kind.received.repair", 1)
	set("320723", "work_orders.open.state_kind.received.complaint", 0) // drained: no series
	v, err := computeProcess(tx, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"320722": 2, "320723": 0}; !maps.Equal(v.overdue, want) {
		t.Errorf("overdue %v, want %v", v.overdue, want)
	}
	want := map[woKey]int{{"320722", "complaint", "dispatched"}: 2, {"320722", "repair", "received"}: 1}
	if !maps.Equal(v.open, want) {
		t.Errorf("open work orders %v, want %v", v.open, want)
	}
}
