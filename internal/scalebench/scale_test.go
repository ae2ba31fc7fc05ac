package scalebench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/internal/demo"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

const (
	province, city, county = "32", "3207", "320722"
	chunk                  = 5000 // customers generated and imported together
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// report collects the lines printed at the end (and written to
// GRIDCRM_SCALE_OUT).
type report struct {
	b     *testing.B
	lines []string
}

func (r *report) printf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	r.lines = append(r.lines, line)
	fmt.Println(line)
}

// BenchmarkScale: see the package comment. Run it once (-benchtime 1x).
func BenchmarkScale(b *testing.B) {
	n := envInt("GRIDCRM_SCALE_CUSTOMERS", 100_000)
	months := envInt("GRIDCRM_SCALE_MONTHS", 12)
	projects := envInt("GRIDCRM_SCALE_PROJECTS", max(n/500, 12))
	orders := envInt("GRIDCRM_SCALE_ORDERS", max(n/100, 24))
	requests := max(envInt("GRIDCRM_SCALE_REQUESTS", 100), 1)
	budget := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("GRIDCRM_SCALE_BUDGET")); err == nil {
		budget = d
	}
	rep := &report{b: b}
	defer func() {
		if out := os.Getenv("GRIDCRM_SCALE_OUT"); out != "" {
			_ = os.WriteFile(out, []byte(strings.Join(rep.lines, "\n")+"\n"), 0o644)
		}
	}()
	for i := 0; i < b.N; i++ { // one run whatever b.N: the figures are the report's
		if i > 0 {
			break
		}
		run(b, rep, n, months, projects, orders, requests, budget)
	}
}

func run(b *testing.B, rep *report, n, months, projects, orders, requests int, budget time.Duration) {
	h := testcluster.NewHierarchy(b, testcluster.HierarchyOpts{
		Regions: []testcluster.RegionSpec{{Code: province}, {Code: city}, {Code: county}},
		Node: func(c *node.Config) {
			c.FeedRetention = 100_000_000 // a county loading faster than its city applies must not resync
		},
	})
	ctx := context.Background()
	login := func(code string) *demo.Client {
		cl := demo.NewClient(h.Region(code).Node(0).APIURL())
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := cl.Login(lctx, "admin", testcluster.AdminPassword); err != nil {
			b.Fatal(err)
		}
		return cl
	}
	cc := login(county)
	rep.printf("== gridcrm province-scale benchmark: county %s → city %s → province %s, one node each, one process (%d CPUs, %s)",
		county, city, province, runtime.NumCPU(), runtime.Version())
	rep.printf("customers %d, months of bills %d, projects %d, work orders %d", n, months, projects, orders)

	// Load: chunks of customers with their bills, generated as they are
	// imported (1,000,000 customers do not fit in memory at once), two
	// imports at a time (the API's MaxImports).
	end := time.Now().UTC().AddDate(0, -1, 0)
	type loaded struct {
		custs []crm.Customer
		ids   []string
	}
	chunks := make(chan int)
	var (
		rows, bills atomic.Int64
		mu          sync.Mutex
		sampleCusts []crm.Customer // the first chunk's, with ids: processes and page reads
		staffIDs    []string
		loadErr     error
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range chunks {
				size := min(chunk, n-k*chunk)
				data := sample.Generate(sample.Options{Region: county, Customers: size, Months: months, End: end, Seed: int64(k + 1)})
				sample.AssignFeeders(data.Customers, county)
				for i := range data.Customers {
					data.Customers[i].AccountNo = fmt.Sprintf("%s%08d", county, k*chunk+i+1)
				}
				ids, err := cc.ImportAll(ctx, "customers", toAny(data.Customers))
				if err == nil {
					var bs []any
					for i, id := range ids {
						for _, bl := range data.Bills[i] {
							bl.CustomerID = id
							bs = append(bs, bl)
						}
					}
					_, err = cc.ImportAll(ctx, "bills", bs)
					rows.Add(int64(len(ids) + len(bs)))
					bills.Add(int64(len(bs)))
				}
				if err == nil && k == 0 {
					var sids []string
					sids, err = cc.ImportAll(ctx, "staff", toAny(data.Staff))
					mu.Lock()
					staffIDs = sids
					mu.Unlock()
				}
				mu.Lock()
				if err != nil && loadErr == nil {
					loadErr = err
				}
				if k == 0 && err == nil {
					for i := range data.Customers {
						data.Customers[i].ID = ids[i]
					}
					sampleCusts = data.Customers
				}
				mu.Unlock()
				if k%10 == 9 {
					el := time.Since(start)
					fmt.Printf("  loaded %d rows in %.0fs (%.0f rows/s)\n", rows.Load(), el.Seconds(), float64(rows.Load())/el.Seconds())
				}
			}
		}()
	}
	for k := 0; k*chunk < n; k++ {
		chunks <- k
		mu.Lock()
		failed := loadErr != nil
		mu.Unlock()
		if failed {
			break
		}
	}
	close(chunks)
	wg.Wait()
	if loadErr != nil {
		b.Fatal(loadErr)
	}
	loadTime := time.Since(start)
	rep.printf("load: %d customers and %d bills (%d rows) through POST /{customers,bills}/import in %s: %.0f rows/s",
		n, bills.Load(), rows.Load(), loadTime.Round(time.Millisecond), float64(rows.Load())/loadTime.Seconds())

	// Processes: projects, work orders and outages, through the API one at a time.
	pstart := time.Now()
	summary := loadProcesses(b, ctx, cc, sampleCusts, staffIDs, projects, orders)
	rep.printf("processes: %s in %s", summary, time.Since(pstart).Round(time.Millisecond))

	// Credit grades and warnings of the last billed month (the churn
	// warnings read the grades), with GRIDCRM_SCALE_GRADES=1. Each run reads
	// every customer's bills in one request: a long one.
	if os.Getenv("GRIDCRM_SCALE_GRADES") == "1" {
		gradeRun(b, rep, cc.Base(), end)
	}

	// Catch-up: the city holds everything the county had written when it
	// has acknowledged the county's feed head of that moment; the same one
	// tier up.
	cityCl, provCl := login(city), login(province)
	caught := time.Now()
	head := upLink(b, cc).HeadSeq
	waitAcked(b, cc, head, 2*time.Hour)
	cityAt := time.Since(caught)
	head2 := upLink(b, cityCl).HeadSeq
	waitAcked(b, cityCl, head2, 2*time.Hour)
	provAt := time.Since(caught)
	rep.printf("catch-up after the last write at the county: city %s, province %s (county feed head %d, city feed head %d; links run during the load)",
		cityAt.Round(time.Millisecond), provAt.Round(time.Millisecond), head, head2)
	rep.printf("end to end: %d rows loaded and at the province %s after the first: %.0f rows/s",
		rows.Load(), (loadTime + time.Since(pstart)).Round(time.Second), float64(rows.Load())/(loadTime+time.Since(pstart)).Seconds())
	rep.printf("batches or changes refused on the way up (from-child links): at the city %d, at the province %d",
		childLink(b, cityCl).Rejected, childLink(b, provCl).Rejected)

	// Memory and disk (the store's memory first: the disk report flushes
	// the memtables).
	for _, code := range []string{county, city, province} {
		pebbleMemory(rep, code, h.Region(code).Node(0))
	}
	runtime.GC()
	for _, code := range []string{county, city, province} {
		nd := h.Region(code).Node(0)
		diskReport(rep, code, nd, n, int(bills.Load()))
	}
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.printf("memory: process RSS %s (peak %s), Go heap in use %.0f MiB, for the three nodes and the load client together",
		rss, hwm, float64(ms.HeapInuse)/(1<<20))

	// Reads at the province, right after the catch-up (GRIDCRM_SCALE_SETTLE=10s
	// waits that long first, to tell a read's own cost from the nodes'
	// background work after a catch-up).
	tok := testcluster.Login(b, provCl.Base(), "admin", testcluster.AdminPassword).Token
	if d, err := time.ParseDuration(os.Getenv("GRIDCRM_SCALE_SETTLE")); err == nil && d > 0 {
		rep.printf("waiting %s before the reads (GRIDCRM_SCALE_SETTLE)", d)
		time.Sleep(d)
	}
	readsAt(b, rep, provCl, tok, sampleCusts, requests, budget)

	if os.Getenv("GRIDCRM_SCALE_RESYNC") != "0" {
		resyncFromScratch(b, rep, h, login, n, int(bills.Load()))
	}
}

// resyncFromScratch measures a resync of the whole county into a city that
// holds nothing of it: the city's only node is lost with its disk and
// comes back empty (testcluster's Wipe), and the county, whose feed holds
// only what the city had not acknowledged (it prunes the rest every
// second), sends it a snapshot of its records (link.resyncUp: parts in key
// order, then the sweep), not its feed. The city's own link to the
// province is cut before the wipe: the province, which is not measured
// here, keeps what it has.
func resyncFromScratch(b *testing.B, rep *report, h *testcluster.Hierarchy, login func(string) *demo.Client, n, bills int) {
	h.Faults.Cut(city)
	cz := h.Region(county)
	first, head, err := replication.FeedBounds(cz.Node(0).Group().Reader())
	if err != nil {
		b.Fatal(err)
	}
	if first <= 1 {
		b.Fatalf("the county's feed still starts at %d (head %d): the emptied city would replay it, not resync", first, head)
	}
	cc := login(county)
	before := upLink(b, cc).Resyncs

	ct := h.Region(city)
	ct.Wipe(0)
	cpu0, start := processCPU(), time.Now()
	ct.Restart(0)
	// Done when the county's uplink counts the resync (at the end of its
	// sweep) and the city has acknowledged the head of this moment.
	head = upLink(b, cc).HeadSeq
	for deadline := time.Now().Add(6 * time.Hour); ; time.Sleep(50 * time.Millisecond) {
		up := upLink(b, cc)
		if up.Resyncs > before && up.AckedSeq >= head {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("no resync into the emptied city after 6 h: %+v", up)
		}
	}
	el, cpu := time.Since(start), processCPU()-cpu0
	if up := upLink(b, cc); up.Resyncs != before+1 {
		b.Fatalf("the county's uplink resynced %d times, want 1: %+v", up.Resyncs-before, up)
	}
	records := 0
	nd := ct.Node(0)
	lo, hi := []byte(keyspace.RecordPrefix), []byte(keyspace.End(keyspace.RecordPrefix))
	if err := nd.Group().Reader().Iterate(lo, hi, func(_, _ []byte) bool { records++; return true }); err != nil {
		b.Fatal(err)
	}
	rep.printf("resync from scratch of the county into its emptied city: %d records at the city (the county's and the city's own few) in %s: %.0f records/s, %.0f µs of CPU a record (the process: county and city)",
		records, el.Round(time.Second), float64(records)/el.Seconds(), float64(cpu.Microseconds())/float64(records))
	diskReport(rep, city+"*", nd, n, bills)
}

// processCPU answers the user and system time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gradeRun grades the county's customers as of end's month, then runs the
// month's warnings (abnormal consumption, churn, the customers' trends
// that the analysis lists rank), so that those province reads list
// something.
func gradeRun(b *testing.B, rep *report, base string, end time.Time) {
	ctok := testcluster.Login(b, base, "admin", testcluster.AdminPassword).Token
	for _, run := range []struct{ name, path string }{
		{"credit grade run", "/api/v1/credit/grades/run"},
		{"warning run", "/api/v1/warnings/run"},
	} {
		start := time.Now()
		req, _ := http.NewRequest("POST", base+run.path, strings.NewReader(`{"period":"`+end.Format("2006-01")+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ctok)
		resp, err := (&http.Client{Timeout: 2 * time.Hour}).Do(req)
		if err != nil {
			rep.printf("%s at the county: %v after %s (the warning lists will be empty)", run.name, err, time.Since(start).Round(time.Millisecond))
			return
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		rep.printf("%s at the county for %s: %d %s in %s", run.name, end.Format("2006-01"), resp.StatusCode, compact(out), time.Since(start).Round(time.Millisecond))
	}
}

// compact prints a small JSON answer on one line (long arrays cut).
func compact(v map[string]any) string {
	out := map[string]any{}
	for k, x := range v {
		if a, ok := x.([]any); ok && len(a) > 3 {
			x = fmt.Sprintf("[%d items]", len(a))
		}
		out[k] = x
	}
	raw, _ := json.Marshal(out)
	return string(raw)
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// loadProcesses creates the projects, work orders and outages of
// sample.GenerateProcesses with their steps, as the demo does.
func loadProcesses(b *testing.B, ctx context.Context, cl *demo.Client, custs []crm.Customer, staffIDs []string, projects, orders int) string {
	plan := sample.GenerateProcesses(sample.ProcessOptions{Region: county, Customers: custs, StaffIDs: staffIDs, Now: time.Now(),
		Projects: projects, Orders: orders, Seed: 20261206})
	type rec struct {
		ID      string `json:"id"`
		Version uint64 `json:"version"`
	}
	act := func(path, verb string, r *rec, step any) {
		var body map[string]any
		raw, _ := json.Marshal(step)
		_ = json.Unmarshal(raw, &body)
		body["version"] = r.Version
		if err := cl.Do(ctx, "POST", path+"/"+r.ID+"/"+verb, body, r); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, p := range plan.Projects {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var r rec
			if err := cl.Do(ctx, "POST", "/api/v1/projects", p.Project, &r); err != nil {
				b.Error(err)
				return
			}
			for _, s := range p.Steps {
				act("/api/v1/projects", "stage", &r, s)
			}
		}()
	}
	for _, o := range plan.Orders {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var r rec
			if err := cl.Do(ctx, "POST", "/api/v1/work_orders", o.Order, &r); err != nil {
				b.Error(err)
				return
			}
			for _, s := range o.Steps {
				act("/api/v1/work_orders", "transition", &r, s)
			}
		}()
	}
	wg.Wait()
	for _, o := range plan.Outages {
		if err := cl.Do(ctx, "POST", "/api/v1/outages", o, nil); err != nil {
			b.Fatal(err)
		}
	}
	if b.Failed() {
		b.FailNow()
	}
	return fmt.Sprintf("%d projects, %d work orders, %d outages", len(plan.Projects), len(plan.Orders), len(plan.Outages))
}

type linkStatus struct {
	Peer       string `json:"peer"`
	Direction  string `json:"direction"`
	AckedSeq   uint64 `json:"acked_seq"`
	Resyncs    uint64 `json:"resyncs"`
	Rejected   uint64 `json:"rejected"`
	HeadSeq    uint64 `json:"head_seq"`
	LagEntries uint64 `json:"lag_entries"`
}

// childLink answers the node's (only) link from a child as its status says.
func childLink(b *testing.B, cl *demo.Client) linkStatus {
	return linkOf(b, cl, "from-child")
}

// upLink answers the node's link to its parent as its status says.
func upLink(b *testing.B, cl *demo.Client) linkStatus { return linkOf(b, cl, "up") }

func linkOf(b *testing.B, cl *demo.Client, direction string) linkStatus {
	var out struct {
		Links []linkStatus `json:"links"`
	}
	if err := cl.Do(context.Background(), "GET", "/api/v1/sync/status", nil, &out); err != nil {
		b.Fatal(err)
	}
	for _, l := range out.Links {
		if l.Direction == direction {
			return l
		}
	}
	b.Fatalf("no %s link at %s", direction, cl.Base())
	return linkStatus{}
}

func waitAcked(b *testing.B, cl *demo.Client, head uint64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for upLink(b, cl).AckedSeq < head {
		if time.Now().After(deadline) {
			b.Fatalf("%s: the parent has not acknowledged seq %d after %s", cl.Base(), head, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// diskReport prints a node's disk use, in all and by part of the keyspace
// (Pebble's estimate of the sstables holding each range, after a flush).
func diskReport(rep *report, code string, nd *node.Node, customers, bills int) {
	db := nd.Store().DB()
	_ = db.Flush()
	dirBytes := dirSize(nd.Config().DataDir)
	est := func(prefix string) uint64 {
		lo := append(append([]byte(nil), store.StatePrefix...), prefix...)
		hi := append(append([]byte(nil), store.StatePrefix...), keyspace.End(prefix)...)
		u, err := db.EstimateDiskUsage(lo, hi)
		if err != nil {
			return 0
		}
		return u
	}
	cr, ci, cu := est(keyspace.Collection("customers")), est(keyspace.IndexPrefix+"customers/"), est(keyspace.UniquePrefix+"customers/")
	br, bi, bu := est(keyspace.Collection("bills")), est(keyspace.IndexPrefix+"bills/"), est(keyspace.UniquePrefix+"bills/")
	feed, audit := est(keyspace.FeedPrefix), est(keyspace.AuditPrefix)+est(keyspace.IndexPrefix+"_audit/")
	raftLog, _ := db.EstimateDiskUsage([]byte{'l'}, []byte{'m'})
	per := func(v uint64, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(v) / float64(n)
	}
	rep.printf("disk %-6s: data dir %.0f MiB (%.0f B per customer+12 bills); customers %.0f B each (record %.0f, indexes %.0f, unique %.0f); bills %.0f B each (record %.0f, indexes %.0f, unique %.0f); feed %.0f MiB, audit %.0f MiB, raft log %.0f MiB",
		code, float64(dirBytes)/(1<<20), per(dirBytes, customers),
		per(cr+ci+cu, customers), per(cr, customers), per(ci, customers), per(cu, customers),
		per(br+bi+bu, bills), per(br, bills), per(bi, bills), per(bu, bills),
		float64(feed)/(1<<20), float64(audit)/(1<<20), float64(raftLog)/(1<<20))
}

// pebbleMemory reports what a node's store has allocated outside the Go
// heap, the part of a node's memory that can be told apart when the nodes
// share a process: its memtables (the one being written and those queued
// for a flush; each is allocated at its full size, and its pages count in
// the RSS as they are written) and its block cache. The Go heap (records
// decoded, memos, raft's in-flight entries) is the process's, not split by
// node.
func pebbleMemory(rep *report, code string, nd *node.Node) {
	m := nd.Store().Metrics()
	rep.printf("memory %-6s: Pebble %.0f MiB allocated outside the Go heap: memtables %.0f MiB (%d), block cache %.0f MiB",
		code, float64(m.MemTable.Size+uint64(m.BlockCache.Size))/(1<<20),
		float64(m.MemTable.Size)/(1<<20), m.MemTable.Count, float64(m.BlockCache.Size)/(1<<20))
}

func dirSize(dir string) uint64 {
	var total uint64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			total += uint64(fi.Size())
		}
		return nil
	})
	return total
}

func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// read is one upper-tier read: its name and the path of request i.
type read struct {
	name   string
	path   func(i int) string
	target time.Duration
}

// alsoTimed are answers other than 200 that a read may give and still be
// timed: a customer forecast's 422 when the customer's bills are too few
// (the customer page asks for it only when they are not).
var alsoTimed = map[string][]int{"customer forecast": {422}}

// readsAt measures every read at the province: up to requests requests
// each, one at a time, stopping early after budget (at least 5).
func readsAt(b *testing.B, rep *report, cl *demo.Client, token string, custs []crm.Customer, requests int, budget time.Duration) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, 0, len(custs))
	var bigIDs []string
	for _, c := range custs {
		ids = append(ids, c.ID)
		if c.Category != crm.CategoryResidential {
			bigIDs = append(bigIDs, c.ID)
		}
	}
	if len(bigIDs) == 0 {
		bigIDs = ids
	}
	cust := func(int) string { return ids[rng.IntN(len(ids))] }
	names := make([]string, 0, len(custs))
	for _, c := range custs {
		if r := []rune(c.Name); len(r) >= 2 {
			names = append(names, string(r[:2]))
		}
	}
	sub := "region=" + province + "&scope=subtree"
	ms := time.Millisecond
	reads := []read{
		{"overview", func(int) string { return "/api/v1/stats/overview?region=" + province }, 50 * ms},
		{"summary", func(int) string { return "/api/v1/stats/summary?" + sub }, 50 * ms},
		{"customers list", func(int) string { return "/api/v1/customers?" + sub + "&limit=50" }, 50 * ms},
		{"customers by category", func(int) string { return "/api/v1/customers?" + sub + "&category=industrial&limit=50" }, 50 * ms},
		{"customers by account_no", func(i int) string {
			return "/api/v1/customers?account_no=" + fmt.Sprintf("%s%08d", county, 1+rng.IntN(len(custs)))
		}, 50 * ms},
		{"customer", func(i int) string { return "/api/v1/customers/" + cust(i) }, 50 * ms},
		{"customer bills", func(i int) string { return "/api/v1/bills?customer_id=" + cust(i) + "&limit=24" }, 50 * ms},
		{"customer consumption", func(i int) string { return "/api/v1/customers/" + cust(i) + "/consumption" }, 50 * ms},
		{"customer class", func(i int) string { return "/api/v1/customers/" + bigIDs[rng.IntN(len(bigIDs))] + "/class" }, 50 * ms},
		{"customer work orders", func(i int) string { return "/api/v1/work_orders?customer_id=" + cust(i) }, 50 * ms},
		{"customer projects", func(i int) string { return "/api/v1/projects?customer_id=" + cust(i) }, 50 * ms},
		{"customer contacts", func(i int) string { return "/api/v1/contacts?customer_id=" + cust(i) }, 50 * ms},
		{"classification big", func(int) string { return "/api/v1/classification?" + sub + "&class=big&limit=50" }, 50 * ms},
		{"classification core", func(int) string { return "/api/v1/classification?" + sub + "&grade=core&limit=50" }, 50 * ms},
		{"pareto", func(int) string { return "/api/v1/reports/pareto?" + sub + "&top=20" }, 50 * ms},
		{"supervision", func(int) string { return "/api/v1/supervision?" + sub }, 200 * ms},
		{"supervision all levels", func(int) string { return "/api/v1/supervision?" + sub + "&level=all" }, 200 * ms},
		{"supervision warnings", func(int) string { return "/api/v1/supervision/warnings?" + sub }, 200 * ms},
		{"kpi projects", func(int) string { return "/api/v1/kpi/projects?" + sub }, 200 * ms},
		{"kpi work orders", func(int) string { return "/api/v1/kpi/work_orders?" + sub }, 200 * ms},
		{"kpi outages", func(int) string { return "/api/v1/kpi/outages?" + sub }, 200 * ms},
		{"grid plans", func(int) string { return "/api/v1/grid_plans?" + sub }, 50 * ms},
		{"pool entries", func(int) string { return "/api/v1/pool_entries?" + sub + "&limit=50" }, 50 * ms},
		{"abnormal warnings", func(int) string { return "/api/v1/warnings/abnormal?" + sub }, 50 * ms},
		{"churn warnings", func(int) string { return "/api/v1/warnings/churn?" + sub }, 50 * ms},
		{"credit distribution", func(int) string { return "/api/v1/credit/distribution?" + sub }, 50 * ms},
		{"demand forecast", func(int) string { return "/api/v1/forecast/demand?" + sub }, 50 * ms},
		{"duplicate accounts", func(int) string { return "/api/v1/customers/duplicates?" + sub }, 50 * ms},
		{"outages list", func(int) string { return "/api/v1/outages?" + sub }, 50 * ms},
		// The rest of the customer page (console/static/pages/customers.js)
		// and of the analytics page (analytics.js).
		{"customer interactions", func(i int) string { return "/api/v1/interactions?customer_id=" + cust(i) + "&limit=50" }, 50 * ms},
		{"customer gold managers", func(i int) string { return "/api/v1/gold_assignments?customer_id=" + cust(i) + "&limit=50" }, 50 * ms},
		{"customer service plans", func(i int) string { return "/api/v1/service_plans?customer_id=" + cust(i) + "&limit=50" }, 50 * ms},
		{"customer credit", func(i int) string { return "/api/v1/customers/" + cust(i) + "/credit" }, 50 * ms},
		{"customer forecast", func(i int) string { return "/api/v1/customers/" + cust(i) + "/forecast?horizon=12" }, 50 * ms},
		{"tariff by category", func(int) string { return "/api/v1/analysis/tariff?" + sub + "&dim=category" }, 50 * ms},
		{"market", func(int) string { return "/api/v1/analysis/market?" + sub }, 50 * ms},
		{"market top customers", func(int) string { return "/api/v1/analysis/market/top?" + sub }, 50 * ms},
		{"capacity added", func(int) string { return "/api/v1/analysis/capacity?" + sub }, 50 * ms},
		{"customers growing", func(int) string { return "/api/v1/analysis/customers?" + sub + "&rank=growing&limit=20" }, 50 * ms},
		{"customers peak share", func(int) string { return "/api/v1/analysis/customers?" + sub + "&rank=peak_share&limit=20" }, 50 * ms},
		{"staff", func(int) string { return "/api/v1/staff?" + sub + "&limit=200" }, 50 * ms},
	}
	if len(names) > 0 && searchRoute(cl) {
		reads = append(reads, read{"customer search", func(int) string {
			return "/api/v1/customers/search?" + sub + "&q=" + url.QueryEscape(names[rng.IntN(len(names))])
		}, 50 * ms})
	}
	only := os.Getenv("GRIDCRM_SCALE_ONLY")
	rep.printf("reads at the province %s (loopback, one at a time, default consistency; up to %d requests each, at most %s):", province, requests, budget)
	rep.printf("%-26s %6s %10s %10s %10s %10s %9s %7s  %s", "read", "n", "first", "p50", "p99", "max", "bytes", "target", "")
	hc := &http.Client{Timeout: 10 * time.Minute}
	for _, rd := range reads {
		if only != "" && !strings.Contains(rd.name, only) {
			continue
		}
		var lat []time.Duration
		var size int
		status := 0
		t0 := time.Now()
		for i := 0; i < requests && (i < 5 || time.Since(t0) < budget); i++ {
			st, body, d := get(hc, cl.Base(), token, rd.path(i))
			if st != 200 && !slices.Contains(alsoTimed[rd.name], st) {
				status = st
				rep.printf("%-26s answered %d: %.200s", rd.name, st, body)
				break
			}
			lat = append(lat, d)
			size = len(body)
		}
		if status != 0 || len(lat) == 0 {
			continue
		}
		first := lat[0] // the first request after the load: nothing kept in memory yet
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		verdict := "ok"
		if q(0.99) > rd.target {
			verdict = "OVER"
		}
		rep.printf("%-26s %6d %10s %10s %10s %10s %9d %7s  %s", rd.name, len(lat), round(first), round(q(0.5)), round(q(0.99)), round(lat[len(lat)-1]), size, rd.target, verdict)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// searchRoute reports whether the node serves a customer search.
func searchRoute(cl *demo.Client) bool {
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := cl.Do(context.Background(), "GET", "/api/v1/openapi.json", nil, &doc); err != nil {
		return false
	}
	_, ok := doc.Paths["/api/v1/customers/search"]
	return ok
}

// get sends one GET with the client's token and times it.
func get(hc *http.Client, base, token, path string) (int, []byte, time.Duration) {
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error()), time.Since(t0)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, body, time.Since(t0)
}
