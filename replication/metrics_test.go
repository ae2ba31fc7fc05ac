package replication_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"gridcrm/internal/testcluster"
)

// TestGroupMetrics: the group's own collectors count leadership, writes
// and snapshots, and pass the Prometheus linter.
func TestGroupMetrics(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 1})
	cl := c.Admin(0)
	for i := 0; i < 5; i++ {
		if st, body := cl.Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("M-%d", i))); st != 201 {
			t.Fatalf("%d %s", st, body)
		}
	}
	g := c.Node(0).Group()
	if err := g.Snapshot(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	want := `
# HELP gridcrm_raft_snapshots_total FSM snapshots: op=persist taken for raft, op=restore installed from one.
# TYPE gridcrm_raft_snapshots_total counter
gridcrm_raft_snapshots_total{op="persist"} 1
gridcrm_raft_snapshots_total{op="restore"} 0
# HELP gridcrm_raft_leader_changes_total Times this node gained or lost leadership of its region.
# TYPE gridcrm_raft_leader_changes_total counter
gridcrm_raft_leader_changes_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gridcrm_raft_snapshots_total", "gridcrm_raft_leader_changes_total"); err != nil {
		t.Error(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "gridcrm_raft_apply_duration_seconds", "gridcrm_raft_propose_duration_seconds":
			if n := mf.Metric[0].GetHistogram().GetSampleCount(); n < 5 {
				t.Errorf("%s counted %d writes, want at least 5", mf.GetName(), n)
			}
		case "gridcrm_raft_log_fsyncs_total":
			if n := mf.Metric[0].GetCounter().GetValue(); n < 1 {
				t.Errorf("%s = %v after 5 writes, want at least 1", mf.GetName(), n)
			}
		case "gridcrm_raft_last_snapshot_index":
			if mf.Metric[0].GetGauge().GetValue() == 0 {
				t.Error("last snapshot index is 0 after a snapshot")
			}
		}
	}
}
