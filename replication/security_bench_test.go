package replication_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
)

// BenchmarkMTLS compares the write path and a county's catch-up with
// mutual TLS between the nodes against plaintext, side by side in one run
// (run with -count 3 or more and compare with `benchstat -col /transport`):
//
//   - writes32: 32 API clients create customers on the leader of a 3-node
//     region (raft's appends to both followers cross the transport);
//   - writes32-via-follower: the same on a follower, which forwards each
//     write to the leader over the internal HTTP transport as well;
//   - catchup: a county cut off from its city writes 100,000 changes;
//     after the heal, how fast the city takes them over the uplink.
//
// Run with -benchtime 1x: each sub-benchmark is a fixed load.
func BenchmarkMTLS(b *testing.B) {
	for _, mode := range []string{"plain", "mtls"} {
		plain := mode == "plain"
		b.Run("transport="+mode, func(b *testing.B) {
			c := testcluster.New(b, testcluster.Opts{Nodes: 3, Plaintext: plain, Tune: productionTimeouts})
			var targets []load.Target
			for i := 0; i < 3; i++ {
				targets = append(targets, load.Target{URL: c.Node(i).APIURL(), Token: c.Client(i).Token})
			}
			leader := c.Leader()
			for _, w := range []struct {
				name   string
				target load.Target
				total  int
			}{{"writes32", targets[leader], 6000}, {"writes32-via-follower", targets[(leader+1)%3], 4000}} {
				b.Run(w.name, func(b *testing.B) {
					for n := 0; n < b.N; n++ {
						tag := fmt.Sprintf("T%d", time.Now().UnixNano()%1e9)
						r := load.Run(context.Background(), load.Spec{Targets: []load.Target{w.target}, Path: "/api/v1/customers", Clients: 32, Total: w.total, Want: 201,
							Body: func(i int) []byte { return load.Customer("320722", tag, i) }})
						if r.Errors > 0 {
							b.Fatalf("%d errors; first: %s", r.Errors, r.FirstErr)
						}
						b.ReportMetric(r.PerSec(), "writes/s")
						b.ReportMetric(float64(r.Quantile(0.99).Microseconds())/1000, "p99-ms")
					}
				})
			}
			b.Run("catchup", func(b *testing.B) {
				for n := 0; n < b.N; n++ {
					n, el := catchUp(b, plain, 100_000)
					b.ReportMetric(float64(n)/el.Seconds(), "changes/s")
				}
			})
		})
	}
}

// catchUp writes changes at a county cut off from its city, heals the link
// and answers how many changes the city took and how long it took them.
func catchUp(b *testing.B, plain bool, changes int) (uint64, time.Duration) {
	return catchUpOrResync(b, plain, changes, 0)
}

// catchUpOrResync is catchUp; with retention > 0 the county keeps only that
// many feed entries while cut off, so the city, which holds nothing of it
// yet, takes the county from a snapshot (a resync from scratch).
func catchUpOrResync(b *testing.B, plain bool, changes, retention int) (uint64, time.Duration) {
	b.StopTimer()
	h := testcluster.NewHierarchy(b, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}, Plaintext: plain,
		Node: func(c *node.Config) {
			productionTimeouts(&c.Raft)
			if retention > 0 {
				c.FeedRetention = retention
			}
		}})
	h.Faults.Cut("320722")
	h.Region("320722").Client(0) // the admin exists once a login works
	county := h.Region("320722").Node(0)
	for i := 0; i < changes/1000; i++ {
		var rows []json.RawMessage
		json.Unmarshal(load.Customers("320722", "K", i, 1000), &rows)
		ids := make([]string, len(rows))
		for j := range ids {
			ids[j] = crm.NewID("cus", time.Now())
		}
		res, err := county.Propose(context.Background(), &crm.Command{Op: crm.OpImport, Collection: "customers", Rows: rows, IDs: ids, Region: "320722", Actor: "admin", Time: time.Now()})
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
	}
	if retention > 0 {
		testcluster.WaitFor(b, time.Minute, "the county to prune its feed", func() bool {
			first, _, _ := replication.FeedBounds(county.Group().Reader())
			return first > uint64(retention)
		})
	}
	_, head, _ := replication.FeedBounds(county.Group().Reader())
	city := h.Region("3207").Node(0)
	if f := os.Getenv("GRIDCRM_BENCH_CPUPROFILE"); f != "" { // the catch-up only, not the county's writes
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(out)
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	b.StartTimer()
	start, cpu0 := time.Now(), processCPU()
	h.Faults.Heal("320722")
	testcluster.WaitFor(b, 10*time.Minute, "catch-up", func() bool {
		cur, _ := replication.GetUint(city.Group().Reader(), "m/link/up/320722")
		return cur >= head
	})
	el := time.Since(start)
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(head), "cpu-µs/change")
	if retention > 0 { // a resync it was, not a catch-up
		b.StopTimer()
		_, body := h.Region("3207").Admin(0).Do("GET", "/api/v1/sync/status", nil)
		if childResyncs(body, "320722") != 1 {
			b.Fatalf("the city did not resync 320722 once: %s", body)
		}
	}
	return head, el
}

// productionTimeouts puts back the default raft timeouts (test clusters
// shorten them so that failover tests run fast; a loaded 2-core machine then
// loses leaders under a benchmark's load).
func productionTimeouts(c *replication.Config) {
	d := replication.DefaultConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
}

// processCPU answers the user and system time of this process so far (all
// its nodes: on a shared machine, the work a run did, where its wall time
// also holds the others').
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
