package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/internal/testcluster"
	"gridcrm/ops"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// The analytics at scale, through the real store (Pebble, store.Open): the
// data is written as the node's FSM writes a replicated change (crm.ApplyReplica
// and the aggregate deltas in one batch; no raft log), and the runs' own
// writes go through crm.Apply in a batch with their aggregates
// (storeBackend). Not run by make test:
//
//	GRIDCRM_BENCH_CUSTOMERS=100000 go test -run XXX -bench 'Analytics_' -benchtime 1x -timeout 2h ./api/

// storeBackend is an api.Backend over a Pebble store: a proposal is
// applied at once with crm.Apply in one batch, with its aggregate deltas
// (what link.FeedTxn adds on a node, without the change feed).
type storeBackend struct {
	region string
	st     *store.Store
	mu     sync.Mutex
	closed bool // the store is closing: proposals are refused (the audit flusher may still send one)
}

// close refuses every later proposal; call it before closing the store.
func (b *storeBackend) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
}

// aggTxn folds every record write into the aggregate deltas.
type aggTxn struct {
	*replication.Txn
	deltas []crm.Delta
}

func (t *aggTxn) Set(key, value []byte) error { return t.write(key, value) }
func (t *aggTxn) Delete(key []byte) error     { return t.write(key, nil) }
func (t *aggTxn) write(key, value []byte) error {
	if !bytes.HasPrefix(key, []byte(keyspace.RecordPrefix)) {
		if value == nil {
			return t.Txn.Delete(key)
		}
		return t.Txn.Set(key, value)
	}
	old, err := t.Txn.Get(key)
	if err != nil {
		return err
	}
	t.deltas = append(t.deltas, crm.AggregateDeltas(string(key), old, value)...)
	if value == nil {
		return t.Txn.Delete(key)
	}
	return t.Txn.Set(key, value)
}

func (b *storeBackend) Propose(ctx context.Context, cmd *crm.Command) (crm.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return crm.Result{}, errors.New("bench backend: the store is closed")
	}
	tx, commit := replication.NewBatchTxn(b.st)
	at := &aggTxn{Txn: tx}
	res := crm.Apply(at, cmd)
	if res.Err == nil {
		if err := crm.ApplyDeltas(tx, at.deltas); err != nil {
			return res, err
		}
	}
	return res, commit()
}

func (b *storeBackend) ReadBarrier(ctx context.Context) error { return ctx.Err() }
func (b *storeBackend) Reader() crm.Reader                    { return replication.StateReaderOf(b.st) }
func (b *storeBackend) Ready() error                          { return nil }
func (b *storeBackend) Cluster() api.ClusterInfo {
	return api.ClusterInfo{Region: b.region, Tier: string(tiers.RegionCode(b.region).Tier()), Node: "bench-1", State: "Leader",
		LeaderID: "bench-1", LeaderAddr: "bench:1", Members: []api.Member{{ID: "bench-1", Addr: "bench:1", Leader: true}}}
}
func (b *storeBackend) SyncStatus() []api.LinkStatus  { return nil }
func (b *storeBackend) TunnelPeers() []api.TunnelPeer { return nil }
func (b *storeBackend) Freshness(string, bool) map[string]api.Freshness {
	return map[string]api.Freshness{}
}
func (b *storeBackend) AddVoter(context.Context, string, string) error { return nil }
func (b *storeBackend) RemoveServer(context.Context, string) error     { return nil }

// benchServer serves region over st, with a logged-in admin if admin.
func benchServer(b testing.TB, st *store.Store, code string, admin bool) (*api.Server, *storeBackend, client) {
	b.Helper()
	be := &storeBackend{region: code, st: st}
	ctx := context.Background()
	key, _ := json.Marshal(fmt.Sprintf("%064x", time.Now().UnixNano()))
	if res, err := be.Propose(ctx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: key, Region: code, Actor: crm.SystemActor, Time: time.Now().UTC()}); err != nil || res.Err != nil {
		b.Fatalf("token key: %v %v", err, res.Err)
	}
	cfg := api.Config{Region: code, Tier: string(tiers.RegionCode(code).Tier()), NodeID: code + "-bench",
		ForwardWait: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := api.New(cfg, be, ops.NewRegistry())
	if !admin {
		return srv, be, client{}
	}
	if _, err := srv.BootstrapAdmin(ctx, testcluster.AdminPassword); err != nil {
		b.Fatalf("bootstrap admin: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return srv, be, login(b, ts.URL, "admin", testcluster.AdminPassword)
}

// loadCounty writes n generated customers of county (crm/sample, in chunks
// of 10,000: seeds 1, 2, …, account numbers prefixed by the chunk) with
// months of bills to 2025-12 each, as replicated records with their
// aggregates, loadBatch customers and their bills a batch. It answers the
// records written. The records are new (fresh ids), so the replica's read
// of a record's old value answers nil without a read (freshTxn), and the
// batch's aggregate deltas are summed and applied once at its end: the
// same state as one ApplyReplica and ApplyDeltas a record, in a fraction
// of the reads.
func loadCounty(b testing.TB, st *store.Store, county string, n, months int) int {
	b.Helper()
	written := 0
	now := time.Now()
	for chunk := 0; chunk*10_000 < n; chunk++ {
		d := sample.Generate(sample.Options{Region: county, Customers: min(10_000, n-chunk*10_000), Months: months, Seed: int64(chunk + 1)})
		for lo := 0; lo < len(d.Customers); lo += loadBatch {
			tx, commit := replication.NewBatchTxn(st)
			ft := &freshTxn{Txn: tx, sums: map[[2]string]float64{}}
			put := func(key string, v any) {
				raw, err := json.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				ft.fresh = key
				if err := crm.ApplyReplica(ft, key, raw); err != nil {
					b.Fatalf("%s: %v", key, err)
				}
				ft.fresh = ""
				ft.add(crm.AggregateDeltas(key, nil, raw))
				written++
			}
			for i := lo; i < min(lo+loadBatch, len(d.Customers)); i++ {
				c := d.Customers[i]
				c.AccountNo = fmt.Sprintf("B%02d%s", chunk, c.AccountNo)
				if len(c.AccountNo) > 32 {
					c.AccountNo = c.AccountNo[:32]
				}
				c.Meta = crm.Meta{ID: crm.NewID("cus", now), Owner: county, Version: 1}
				put("r/customers/"+c.ID, &c)
				for _, bl := range d.Bills[i] {
					bl.Meta = crm.Meta{ID: crm.NewID("bil", now), Owner: county, Version: 1}
					bl.CustomerID = c.ID
					bl.Category, bl.VoltageClass = c.Category, crm.VoltageClass(c.VoltageKV)
					put("r/bills/"+bl.ID, &bl)
				}
			}
			if err := crm.ApplyDeltas(tx, ft.summed()); err != nil {
				b.Fatal(err)
			}
			if err := commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return written
}

// loadBatch is how many generated customers (with their bills) loadCounty
// writes in one Pebble batch.
const loadBatch = 2000

// freshTxn is the loader's transaction: a Get of the record key being
// written (fresh, never written before) answers nil without reading, and
// the aggregate deltas are summed in memory until the batch's end.
type freshTxn struct {
	*replication.Txn
	fresh string
	sums  map[[2]string]float64
	order [][2]string
}

func (t *freshTxn) Get(key []byte) ([]byte, error) {
	if t.fresh != "" && string(key) == t.fresh {
		return nil, nil
	}
	return t.Txn.Get(key)
}

func (t *freshTxn) add(ds []crm.Delta) {
	for _, d := range ds {
		k := [2]string{d.Region, d.Metric}
		if _, ok := t.sums[k]; !ok {
			t.order = append(t.order, k)
		}
		t.sums[k] += d.Value
	}
}

func (t *freshTxn) summed() []crm.Delta {
	out := make([]crm.Delta, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, crm.Delta{Region: k[0], Metric: k[1], Value: t.sums[k]})
	}
	return out
}

// vmHWM answers the process's peak resident set (kB) since the last
// resetHWM, from /proc/self/status; 0 where there is none.
func vmHWM() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// resetHWM resets the peak resident set to the current one (Linux).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// heapPeak samples the Go heap in use every 20 ms until stop is called,
// which answers the highest sample (bytes).
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		hi := uint64(0)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			hi = max(hi, m.HeapInuse)
			select {
			case <-done:
				peak <- hi
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

// reportP99 reports the 99th percentile of the requests' times (ms).
func reportP99(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

func benchCustomers(def int) int {
	if v, err := strconv.Atoi(os.Getenv("GRIDCRM_BENCH_CUSTOMERS")); err == nil && v > 0 {
		return v
	}
	return def
}

// loadedCounty opens a store holding county's n generated customers with
// 24 months of bills. With GRIDCRM_BENCH_KEEP set, the loaded store is kept
// in that directory (one subdirectory per n, with a manifest once the load
// has finished) and a later run reuses it: each run gets a Pebble
// checkpoint of it (hard links, beside it) which it writes to and which is
// removed at the end, so the kept store stays as loaded.
func loadedCounty(b *testing.B, county string, n int) *store.Store {
	b.Helper()
	keep := os.Getenv("GRIDCRM_BENCH_KEEP")
	if keep == "" {
		st, err := store.Open(store.Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		recs := loadCounty(b, st, county, n, 24)
		b.Logf("loaded %d customers, %d records in %v", n, recs, time.Since(t0).Round(time.Second))
		return st
	}
	dir := filepath.Join(keep, fmt.Sprintf("county-%s-%d", county, n))
	manifest := filepath.Join(dir, "loaded.txt")
	if raw, err := os.ReadFile(manifest); err == nil {
		b.Logf("reusing %s: %s", dir, strings.TrimSpace(string(raw)))
	} else {
		if err := os.RemoveAll(dir); err != nil { // an unfinished load
			b.Fatal(err)
		}
		if err := os.MkdirAll(keep, 0o700); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(store.Config{Dir: filepath.Join(dir, "db")})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		recs := loadCounty(b, st, county, n, 24)
		took := time.Since(t0).Round(time.Second)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		line := fmt.Sprintf("%d customers, %d records loaded in %v", n, recs, took)
		b.Logf("loaded into %s: %s", dir, line)
		if err := os.WriteFile(manifest, []byte(line+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	src, err := store.Open(store.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		b.Fatal(err)
	}
	run := filepath.Join(dir, fmt.Sprintf("run-%d", os.Getpid()))
	os.RemoveAll(run)
	err = src.DB().Checkpoint(run, pebble.WithFlushedWAL())
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(run) })
	st, err := store.Open(store.Config{Dir: run})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkAnalytics_CountyMonthlyRun: the monthly analytics run of a
// county (the credit grades of every customer, then the warnings and
// trends, as the scheduler runs them on the 5th) over n customers
// (GRIDCRM_BENCH_CUSTOMERS, default 10,000; the county is 100,000)
// with 24 months of bills (2024-01..2025-12, crm/sample), through Pebble.
// Reported: the run's seconds, its peak RSS (VmHWM reset after the load)
// and allocation, per customer; then the first and a memoised read of the
// top-customer share and the tariff effect over the county's cards.
func BenchmarkAnalytics_CountyMonthlyRun(b *testing.B) {
	n := benchCustomers(10_000)
	const county = "320723"
	for range b.N {
		b.StopTimer()
		st := loadedCounty(b, county, n)
		srv, be, admin := benchServer(b, st, county, true)
		runtime.GC()
		resetHWM()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		hwm0 := vmHWM()
		stopPeak := heapPeak()
		cpu0 := processCPU()
		b.StartTimer()
		start := time.Now()
		out, err := srv.ScheduleOnce(context.Background(), api.DefaultScheduleConfig(), time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC))
		took := time.Since(start)
		cpu := processCPU() - cpu0
		b.StopTimer()
		heap := stopPeak()
		runtime.ReadMemStats(&m1)
		if err != nil || out.Grades == nil || out.Warnings == nil || out.Grades.Graded+out.Grades.NoBills != n {
			b.Fatalf("run: %+v %v", out, err)
		}
		b.ReportMetric(took.Seconds(), "s/run")
		b.ReportMetric(float64(took.Microseconds())/float64(n), "µs/customer")
		b.ReportMetric(cpu.Seconds(), "cpu-s/run")
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/customer")
		b.ReportMetric(float64(vmHWM())/1024, "peak-RSS-MB")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.Logf("RSS peak before the run %d MB (after the load, reset if the kernel allows), heap in use before %d MB", hwm0/1024, m0.HeapInuse>>20)
		b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), "alloc-MB")
		b.Logf("run of %s: %d graded %v, %d abnormal, %d churn, %d trends", out.Period, out.Grades.Graded, out.Grades.ByGrade,
			out.Warnings.Abnormal, out.Warnings.Churn, out.Warnings.Trends)
		for _, path := range []string{"/api/v1/analysis/market/top?period=2025-12", "/api/v1/analysis/tariff/effect?at=2025-07&months=6",
			"/api/v1/credit/distribution", "/api/v1/analysis/customers?rank=shrinking"} {
			for _, pass := range []string{"first", "again"} {
				t := time.Now()
				admin.on(b).must(200, "GET", path, nil)
				b.Logf("%s (%s read): %v", path, pass, time.Since(t).Round(time.Microsecond))
			}
		}
		be.close()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "customers")
}

// BenchmarkAnalytics_ProvinceReads: the province's analysis reads over
// aggregates representing 1,000,000 customers: a county of n generated
// customers (default 10,000) is loaded and run (grades, warnings, trends)
// as above, and its counters (a/<county>/…) copied to as many more
// counties of the province as make 1,000,000 customers (100 counties of
// 10,000, the county's counters scaled), as the province holds them once
// they have rolled up. Each sub-benchmark is one route at
// the province over its subtree. The counters are written as the deltas
// the province applies (crm.ApplyDeltasAt: its subtree totals with them),
// and stay in Pebble's memtable, every version of each (as a province's
// hot counters are between flushes); GRIDCRM_BENCH_COMPACT=1 compacts the
// store first (one version of each, in sstables).
func BenchmarkAnalytics_ProvinceReads(b *testing.B) {
	n := benchCustomers(10_000)
	const county = "320723"
	st, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	loadCounty(b, st, county, n, 24)
	csrv, _, _ := benchServer(b, st, county, false)
	if out, err := csrv.ScheduleOnce(context.Background(), api.DefaultScheduleConfig(), time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)); err != nil || out.Grades == nil {
		b.Fatalf("run: %+v %v", out, err)
	}
	// Copy the county's counters to more counties: 3201xx..3213xx.
	var counters [][2][]byte
	prefix := []byte(keyspace.AggregatesOf(county))
	replication.StateReaderOf(st).Iterate(prefix, append(bytes.Clone(prefix), 0xff), func(k, v []byte) bool {
		counters = append(counters, [2][]byte{bytes.Clone(k[len(prefix):]), bytes.Clone(v)})
		return true
	})
	// 100 counties of 10,000 customers each (a province's counties hold
	// about that many): the county's counters scaled to 10,000 customers.
	const counties, perCounty = 100, 10_000
	scale := float64(perCounty) / float64(n)
	copies := counties - 1
	for i := range counties {
		code := fmt.Sprintf("32%02d%02d", 1+i/10, 1+i%10)
		if i == copies {
			code = county
		}
		// As the province's FSM applies rolled-up changes: the deltas to
		// the counters, and with them the province's subtree totals
		// (crm.ApplyDeltasAt; the first call builds them from the county
		// loaded above).
		tx, commit := replication.NewBatchTxn(st)
		ds := make([]crm.Delta, 0, len(counters))
		for _, kv := range counters {
			v := math.Float64frombits(binary.BigEndian.Uint64(kv[1]))
			d := v * scale
			if code == county {
				d -= v // the loaded county: to its scaled value
			}
			if d != 0 {
				ds = append(ds, crm.Delta{Region: code, Metric: string(kv[0]), Value: d})
			}
		}
		if err := crm.ApplyDeltasAt(tx, "32", ds); err != nil {
			b.Fatal(err)
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("GRIDCRM_BENCH_COMPACT") != "" {
		st.DB().Compact(context.Background(), []byte{0}, []byte{0xff}, true)
	}
	sum, _ := crm.Summarize(replication.StateReaderOf(st), "32", true)
	b.Logf("%d counters a county, %d counties: %d customers at the province", len(counters), copies+1, sum.Customers)
	_, _, admin := benchServer(b, st, "32", true)
	for _, path := range []string{
		"/api/v1/forecast/demand?horizon=12", "/api/v1/forecast/demand?category=industrial&horizon=12",
		"/api/v1/credit/distribution?", "/api/v1/analysis/tariff?", "/api/v1/analysis/market?",
		"/api/v1/analysis/customers?rank=growing", "/api/v1/analysis/tariff/effect?at=2025-07&months=6", "/api/v1/analysis/capacity?",
		"/api/v1/warnings/churn?", "/api/v1/warnings/abnormal?class=all", // the top customers need every county's cards: make bench-scale times them
	} {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/"), "?")
		path += "&scope=subtree"
		b.Run(name, func(b *testing.B) {
			// Memory as well as time: allocations a read (the whole process's,
			// the server's mostly) and the process's peak RSS so far.
			b.ReportAllocs()
			var took []time.Duration
			for b.Loop() {
				t := time.Now()
				admin.on(b).must(200, "GET", path, nil)
				took = append(took, time.Since(t))
			}
			reportP99(b, took)
			b.ReportMetric(float64(vmHWM())/1024, "peak-RSS-MB")
		})
	}
}
