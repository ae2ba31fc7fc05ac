package api_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
)

// BenchmarkAPI measures writes through the HTTP API with auth on a 3-node
// region over loopback (all three nodes and the load in this one process):
// one sequential client, 32 clients, bulk import (100 rows a request, 8
// clients; each node serves 8 imports at once, as make bench-peers runs its
// nodes, where the default of 2 would refuse some with 429), and one client
// importing 10,000 rows a request. Run with
// -benchtime 1x: each sub-benchmark is a fixed load and reports its own
// rates as metrics, and the process's CPU time per row (cpu-µs/row: the
// three nodes, Pebble's background work and the load's clients).
func BenchmarkAPI(b *testing.B) {
	c := testcluster.New(b, testcluster.Opts{Nodes: 3, Node: func(nc *node.Config) { nc.MaxImports = 8 }})
	var targets []load.Target
	for i := 0; i < 3; i++ {
		targets = append(targets, load.Target{URL: c.Node(i).APIURL(), Token: c.Client(i).Token})
	}
	leader := []load.Target{targets[c.Leader()]}
	// body makes request i of a run; tag keeps account numbers unique
	// across runs (the 户号 is unique per region).
	type body func(tag string, i int) []byte
	run := func(b *testing.B, name string, s load.Spec, mk body) {
		b.Run(name, func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				tag := fmt.Sprintf("B%d", time.Now().UnixNano()%1e9)
				s.Body = func(i int) []byte { return mk(tag, i) }
				cpu0 := processCPU()
				r := load.Run(context.Background(), s)
				cpu := processCPU() - cpu0
				if r.Errors > 0 {
					b.Fatalf("%s: %d errors; first: %s", name, r.Errors, r.FirstErr)
				}
				b.ReportMetric(r.PerSec(), "writes/s")
				if s.Rows > 1 {
					b.ReportMetric(r.RowsPerSec(), "rows/s")
				}
				b.ReportMetric(float64(r.Quantile(0.5).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(r.Quantile(0.99).Microseconds())/1000, "p99-ms")
				if r.Rows > 0 {
					b.ReportMetric(float64(cpu.Microseconds())/float64(r.Rows), "cpu-µs/row")
				}
				b.Logf("%s: %s", name, r)
			}
		})
	}
	single := func(tag string, i int) []byte { return load.Customer("320722", tag, i) }
	bulk := func(tag string, i int) []byte { return load.Customers("320722", tag, i, 100) }
	follower := targets[(c.Leader()+1)%3]
	only := os.Getenv("GRIDCRM_BENCH_ONLY")        // e.g. bulk, to profile one part
	if os.Getenv("GRIDCRM_BENCH_AUDIT") == "off" { // the audit trail's cost: the same run without it
		defer api.SetAuditHooks(api.SetAuditHooks(false))
	}
	run0 := run
	run = func(b *testing.B, name string, s load.Spec, mk body) {
		if only == "" || strings.HasPrefix(name, only) {
			run0(b, name, s, mk)
		}
	}
	run(b, "sequential", load.Spec{Targets: leader, Path: "/api/v1/customers", Clients: 1, Total: 3000, Want: 201}, single)
	run(b, "sequential-via-follower", load.Spec{Targets: []load.Target{follower}, Path: "/api/v1/customers", Clients: 1, Total: 2000, Want: 201}, single)
	run(b, "clients=32", load.Spec{Targets: targets, Path: "/api/v1/customers", Clients: 32, Total: 30000, Want: 201}, single)
	run(b, "bulk-100x8", load.Spec{Targets: targets, Path: "/api/v1/customers/import", Clients: 8, Total: 2000, Rows: 100, Want: 201}, bulk)
	// Issue 17's import of 10,000 rows from one client (the API's largest
	// import), ten of them, to the leader.
	run(b, "import-10000x1", load.Spec{Targets: leader, Path: "/api/v1/customers/import", Clients: 1, Total: 10, Rows: 10000, Want: 201},
		func(tag string, i int) []byte { return load.Customers("320722", tag, i, 10000) })
}
