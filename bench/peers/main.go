// Command peerbench runs the same write workloads against gridcrm and its
// peers side by side: each peer a 3-node cluster of separate processes on
// loopback with its default durability (fsync on), started by this tool from
// binaries built from the Go module proxy (`make bench-peers` builds them).
//
// Workloads (rows are the ~300-byte customer JSON of gridcrm's own API
// benchmark; etcd stores the same bytes as values under unique keys):
//
//	seq          1 client, sequential single-row writes to the leader
//	c32          32 clients, single-row writes to the leader
//	bulk         8 clients, 100 rows per request to the leader
//	             (etcd: a txn of 100 puts; gridcrm: POST /api/v1/customers/import)
//	bulk-follow  the same bulk through a follower (etcd: a client pointed at
//	             a follower; gridcrm: a follower's API, which forwards)
//
// Rounds interleave the peers (round 1: seq on A, seq on B, c32 on A, ...;
// then round 2 ...), and the report gives medians over rounds of
// writes/s or rows/s, p99 latency and server CPU per row (utime+stime of
// the three server processes from /proc, before and after each run), with
// the ratio of the first peer to each other. The table goes to
// <out>/peers.txt, every run and the medians to <out>/peers.json.
//
// It only sends traffic to the loopback processes it started, and every run
// is bounded in requests and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Workload is one kind of run.
type Workload struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Clients  int    `json:"clients"`
	Requests int    `json:"requests"`         // requests per run, all clients together
	Rows     int    `json:"rows_per_request"` // 1: single-row writes
	Follower bool   `json:"via_follower"`
}

// Run is one workload's run on one peer in one round.
type Run struct {
	Peer       string  `json:"peer"`
	Workload   string  `json:"workload"`
	Round      int     `json:"round"`
	Requests   int     `json:"requests"`
	Rows       int     `json:"rows"`
	Errors     int     `json:"errors"`
	FirstErr   string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	WritesPS   float64 `json:"writes_per_s"` // acknowledged requests per second
	RowsPS     float64 `json:"rows_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	CPUusRow   float64 `json:"server_cpu_us_per_row"`
	LoadAvg1   float64 `json:"loadavg_1m_after"`
	MachineCPU float64 `json:"machine_cpu_busy"` // share of all cores busy during the run (everything on the machine)
}

func main() {
	var (
		gridBin   = flag.String("gridcrm", "bin/gridcrm", "gridcrm binary")
		gridVer   = flag.String("gridcrm-version", "", "gridcrm version for the report (e.g. git describe)")
		etcdBin   = flag.String("etcd", "bin/peerbench-etcd", "etcd server binary (bench/peers/cmd/etcd)")
		rqBin     = flag.String("rqlite", "bin/peerbench-rqlited", "rqlite server binary (bench/peers/rqlited)")
		rqVer     = flag.String("rqlite-version", "", "rqlite version for the report (its binary says only the major)")
		peerList  = flag.String("peers", "gridcrm,etcd,rqlite", "peers to run, the first compared to each other (known: "+peerNames()+")")
		only      = flag.String("only", "", "comma-separated workloads to run (seq,c32,bulk,bulk-follow; default all)")
		rounds    = flag.Int("rounds", 3, "interleaved rounds (the report gives medians)")
		scale     = flag.Float64("scale", 1, "multiply every workload's request count (0.1 to check the tool quickly)")
		dir       = flag.String("dir", filepath.Join(os.TempDir(), "gridcrm-peers"), "data directories and server logs (emptied first; removed after unless -keep)")
		keep      = flag.Bool("keep", false, "keep -dir after the run")
		out       = flag.String("out", "bench/out", "where peers.txt and peers.json go")
		runTimout = flag.Duration("run-timeout", 5*time.Minute, "longest one run may take")
		note      = flag.String("note", "", "a line for the report (e.g. how busy the machine was)")
		settle    = flag.Duration("settle", time.Second, "pause before each run, so one run's background work (compaction, snapshots) mostly ends before the next starts")
	)
	flag.Parse()
	log.SetFlags(log.Ltime)

	workloads := []Workload{
		{Name: "seq", Label: "1 client, writes/s (p99)", Clients: 1, Requests: 2000, Rows: 1},
		{Name: "c32", Label: "32 clients, writes/s (p99)", Clients: 32, Requests: 16000, Rows: 1},
		{Name: "bulk", Label: "bulk: 100 rows per request × 8 clients, rows/s", Clients: 8, Requests: 400, Rows: 100},
		{Name: "bulk-follow", Label: "the same through a follower", Clients: 8, Requests: 400, Rows: 100, Follower: true},
	}
	if *only != "" {
		want := strings.Split(*only, ",")
		workloads = slices.DeleteFunc(workloads, func(w Workload) bool { return !slices.Contains(want, w.Name) })
		if len(workloads) == 0 {
			log.Fatalf("-only %q names no workload", *only)
		}
	}
	for i := range workloads {
		workloads[i].Requests = max(workloads[i].Clients, int(math.Round(float64(workloads[i].Requests)**scale)))
	}

	cfgs := map[string]PeerConfig{"gridcrm": {Bin: *gridBin, Version: *gridVer}, "etcd": {Bin: *etcdBin}, "rqlite": {Bin: *rqBin, Version: *rqVer}}
	var ps []Peer
	for _, name := range strings.Split(*peerList, ",") {
		p, err := newPeer(strings.TrimSpace(name), cfgs[strings.TrimSpace(name)])
		if err != nil {
			log.Fatal(err)
		}
		ps = append(ps, p)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, ps, workloads, *rounds, *dir, *keep, *out, *runTimout, *settle, *note)
	if err != nil {
		log.Printf("peerbench: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, ps []Peer, workloads []Workload, rounds int, dir string, keep bool, out string, runTimeout, settle time.Duration, note string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	started := time.Now()
	load0 := loadAvg()
	log.Printf("load average (1 min) %.1f on %d CPUs", load0, runtime.NumCPU())
	defer func() {
		for _, p := range ps {
			p.Stop()
		}
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	// All peers run for the whole session (an idle cluster's heartbeats cost
	// little), so rounds can alternate between them.
	for _, p := range ps {
		d := filepath.Join(dir, p.Name())
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		log.Printf("starting %s (3 nodes, data and logs in %s)", p.Label(), d)
		if err := p.Start(ctx, d); err != nil {
			return fmt.Errorf("%s: %w (logs in %s; -keep keeps them)", p.Name(), err, d)
		}
	}
	// Warm-up, not counted: connections, caches, the first Pebble/bbolt
	// pages, Go's heap.
	for _, p := range ps {
		for wi, w := range workloads {
			w.Requests = max(w.Clients, w.Requests/10)
			if _, err := runOne(ctx, p, w, 0, fmt.Sprintf("W%d", wi), runTimeout); err != nil {
				return fmt.Errorf("warm-up %s %s: %w", p.Name(), w.Name, err)
			}
		}
	}
	var runs []Run
	for r := 1; r <= rounds; r++ {
		for wi, w := range workloads {
			for _, p := range ps {
				// Account numbers (户号) are unique per run: round and workload.
				tag := fmt.Sprintf("R%dW%d", r, wi)
				time.Sleep(settle)
				res, err := runOne(ctx, p, w, r, tag, runTimeout)
				if err != nil {
					return fmt.Errorf("round %d %s %s: %w", r, p.Name(), w.Name, err)
				}
				log.Printf("round %d %-8s %-11s %8.0f writes/s %9.0f rows/s p99 %6.1f ms cpu %5.0f µs/row busy %3.0f%% errors %d",
					r, p.Name(), w.Name, res.WritesPS, res.RowsPS, res.P99ms, res.CPUusRow, 100*res.MachineCPU, res.Errors)
				runs = append(runs, res)
			}
		}
	}
	rep := newReport(ps, workloads, runs, rounds, started, load0, loadAvg(), note)
	return rep.write(out)
}

// runOne runs w once on p: w.Requests requests from w.Clients clients, each
// on its own connection.
func runOne(ctx context.Context, p Peer, w Workload, round int, tag string, timeout time.Duration) (Run, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conns := make([]Conn, w.Clients)
	for i := range conns {
		c, err := p.Dial(ctx, w.Follower)
		if err != nil {
			return Run{}, err
		}
		defer c.Close()
		conns[i] = c
	}
	var next atomic.Int64
	lats := make([][]time.Duration, w.Clients)
	errs := make([]int, w.Clients)
	firstErr := make([]error, w.Clients)
	cpu0, err := cpuTime(p.PIDs())
	if err != nil {
		return Run{}, err
	}
	busy0, total0 := machineBusy()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := make([]string, w.Rows)
			rows := make([][]byte, w.Rows)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= w.Requests {
					return
				}
				for j := range rows {
					keys[j], rows[j] = row(tag, i*w.Rows+j)
				}
				t0 := time.Now()
				var err error
				if w.Rows == 1 {
					err = conns[c].Put(ctx, keys[0], rows[0])
				} else {
					err = conns[c].PutBatch(ctx, keys, rows)
				}
				if err != nil {
					errs[c]++
					if firstErr[c] == nil {
						firstErr[c] = err
					}
					continue
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	busy1, total1 := machineBusy()
	cpu1, err := cpuTime(p.PIDs())
	if err != nil {
		return Run{}, err
	}
	if ctx.Err() != nil {
		return Run{}, fmt.Errorf("stopped after %v: %w", elapsed.Round(time.Millisecond), ctx.Err())
	}
	var all []time.Duration
	res := Run{Peer: p.Name(), Workload: w.Name, Round: round, Requests: w.Requests, Seconds: elapsed.Seconds(), LoadAvg1: loadAvg()}
	for c := range conns {
		all = append(all, lats[c]...)
		res.Errors += errs[c]
		if res.FirstErr == "" && firstErr[c] != nil {
			res.FirstErr = firstErr[c].Error()
		}
	}
	slices.Sort(all)
	res.Rows = len(all) * w.Rows
	res.WritesPS = float64(len(all)) / elapsed.Seconds()
	res.RowsPS = float64(res.Rows) / elapsed.Seconds()
	res.P50ms = ms(quantile(all, 0.50))
	res.P99ms = ms(quantile(all, 0.99))
	if res.Rows > 0 {
		res.CPUusRow = float64((cpu1 - cpu0).Microseconds()) / float64(res.Rows)
	}
	if total1 > total0 {
		res.MachineCPU = float64(busy1-busy0) / float64(total1-total0)
	}
	if res.Errors > w.Requests/100 {
		return res, errors.New(fmt.Sprintf("%d of %d requests failed; first: %s", res.Errors, w.Requests, res.FirstErr))
	}
	return res, nil
}

func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
