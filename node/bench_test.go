package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
)

// BenchmarkPropose measures the region below the HTTP layer: commands
// proposed straight to the leader's node (raft, group commit, three FSMs),
// so that the API benchmark's figures can be split into "raft + domain"
// and "HTTP + auth + JSON".
//
// GRIDCRM_BENCH_PREFILL=N first imports N customers (1,000 a command), so
// the writes land on a region that holds them: how the write path behaves
// as a region fills. GRIDCRM_BENCH_CPUPROFILE=file profiles the measured
// runs only (not the pre-fill). Each run reports the process's CPU per
// row (the three nodes and the proposers) and the leader's Pebble read
// amplification and L0 files after it.
func BenchmarkPropose(b *testing.B) {
	c := testcluster.New(b, testcluster.Opts{Nodes: 3, Tune: func(rc *replication.Config) {
		// A node's own timeouts (the tests' are shorter): a busy machine
		// applying a pre-fill must not lose its leader.
		d := replication.DefaultConfig()
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	}})
	c.Client(0) // the bootstrap admin, the commands' actor, exists once a login works
	n := c.Node(c.Leader())
	prefill(b, n, os.Getenv("GRIDCRM_BENCH_PREFILL"))
	if f := os.Getenv("GRIDCRM_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			tag := fmt.Sprintf("P%d", time.Now().UnixNano()%1e9)
			var wg sync.WaitGroup
			per := b.N/clients + 1
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						body := load.Customer("320722", fmt.Sprintf("%s-%d-", tag, w), i)
						res, err := n.Propose(context.Background(), &crm.Command{Op: crm.OpCreate, Collection: "customers",
							ID: crm.NewID("cus", time.Now()), Body: body, Region: "320722", Actor: "admin", Time: time.Now()})
						if err != nil || res.Err != nil {
							b.Error(err, res.Err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(per*clients)/time.Since(start).Seconds(), "writes/s")
			reportCPU(b, n, cpu0, per*clients)
		})
	}
	b.Run("import-100rows", func(b *testing.B) {
		tag := fmt.Sprintf("I%d", time.Now().UnixNano()%1e9)
		start, cpu0 := time.Now(), cpuTime()
		for i := 0; i < b.N; i++ {
			var rows []json.RawMessage
			_ = json.Unmarshal(load.Customers("320722", tag, i, 100), &rows)
			ids := make([]string, len(rows))
			for j := range ids {
				ids[j] = crm.NewID("cus", time.Now())
			}
			res, err := n.Propose(context.Background(), &crm.Command{Op: crm.OpImport, Collection: "customers", Rows: rows, IDs: ids, Region: "320722", Actor: "admin", Time: time.Now()})
			if err != nil || res.Err != nil {
				b.Fatal(err, res.Err)
			}
		}
		b.ReportMetric(float64(100*b.N)/time.Since(start).Seconds(), "rows/s")
		reportCPU(b, n, cpu0, 100*b.N)
	})
}

// prefill imports want (a count of customers, "" for none) into n's region.
func prefill(b *testing.B, n *node.Node, want string) {
	if want == "" {
		return
	}
	total, err := strconv.Atoi(want)
	if err != nil || total < 0 {
		b.Fatalf("GRIDCRM_BENCH_PREFILL=%q: want a count of customers", want)
	}
	start := time.Now()
	for done := 0; done < total; {
		k := min(1_000, total-done)
		var rows []json.RawMessage
		if err := json.Unmarshal(load.Customers("320722", "F", done/1_000, k), &rows); err != nil {
			b.Fatal(err)
		}
		ids := make([]string, len(rows))
		for j := range ids {
			ids[j] = crm.NewID("cus", time.Now())
		}
		cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Rows: rows, IDs: ids, Region: "320722", Actor: "admin", Time: time.Now()}
		res, err := n.Propose(context.Background(), cmd)
		for try := 0; err != nil && try < 3; try++ { // an unknown outcome: the same import again (creates are idempotent by id)
			res, err = n.Propose(context.Background(), cmd)
		}
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
		done += k
	}
	b.Logf("pre-filled %d customers in %v", total, time.Since(start).Round(time.Millisecond))
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU per row since cpu0, and the leader
// store's read amplification and L0 files.
func reportCPU(b *testing.B, n *node.Node, cpu0 time.Duration, rows int) {
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(rows), "cpu-µs/row")
	m := n.Store().Metrics()
	b.ReportMetric(float64(m.ReadAmp()), "read-amp")
	b.ReportMetric(float64(m.Levels[0].TablesCount), "L0-files")
}
