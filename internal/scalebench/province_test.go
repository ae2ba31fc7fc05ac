package scalebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/internal/demo"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/replication/link"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// fillCounties are the counties the province benchmark fills, from the
// sample generator's table of real Jiangsu counties (crm/sample/places.go),
// with their cities: five cities of province 32. 320722 comes first: its
// first chunk is the one the reads pick customers from, and
// "customers by account_no" asks for 320722 account numbers.
var fillCounties = []string{
	"320722", "320703", "320706", "320707", "320723", "320724", // 3207 连云港
	"320382",                               // 3203 徐州
	"320803", "320804", "320826", "320830", // 3208 淮安
	"320921", "320922", // 3209 盐城
	"321322", // 3213 宿迁
}

// manifest is what a kept province directory remembers of its fill
// (GRIDCRM_SCALE_KEEP): the sizes, the feed positions of the fake
// children (so a later change continues them) and the customers the reads
// pick from.
type manifest struct {
	Addr      string            `json:"addr"` // the node's internal address (its raft configuration names it)
	Customers int               `json:"customers"`
	Bills     int               `json:"bills"`
	Rows      int               `json:"rows"`    // customers, bills, contacts, staff, processes
	Changes   int               `json:"changes"` // record changes sent up (process steps are changes of the same record)
	Fill      string            `json:"fill"`    // how long the fill took
	CitySeq   map[string]uint64 `json:"city_seq"`
	CountySeq map[string]uint64 `json:"county_seq"`
	PerCounty map[string]int    `json:"per_county"` // customers filled per county
	Sample    []crm.Customer    `json:"sample"`
	Processes string            `json:"processes"`
	End       time.Time         `json:"end"`    // the last billed month of the fill
	Change    time.Time         `json:"change"` // the month the last change billed
	Done      bool              `json:"done"`
}

// BenchmarkProvince is the province-scale benchmark's second loading mode
// (`make bench-scale-province`; see the package comment): the province's
// store is filled through the province node's own link endpoint, as if
// its cities had rolled up what their counties wrote, then every
// upper-tier read is timed there, and the first read after a rolled-up
// change.
func BenchmarkProvince(b *testing.B) {
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
	for i := 0; i < b.N; i++ {
		if i > 0 {
			break
		}
		runProvince(b, rep, n, months, projects, orders, requests, budget)
	}
}

func runProvince(b *testing.B, rep *report, n, months, projects, orders, requests int, budget time.Duration) {
	dir := os.Getenv("GRIDCRM_SCALE_KEEP")
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	mf := filepath.Join(dir, "manifest.json")
	var m manifest
	if raw, err := os.ReadFile(mf); err == nil {
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatalf("%s: %v", mf, err)
		}
		if !m.Done {
			b.Fatalf("%s: an earlier fill of this directory did not finish; remove %s and fill again", mf, dir)
		}
	}
	reuse := m.Done
	if reuse && len(m.PerCounty) == 0 { // a manifest of before per_county: its fill dealt customers round the counties
		m.PerCounty = map[string]int{}
		for i := 0; i < m.Customers; i++ {
			m.PerCounty[fillCounties[i%len(fillCounties)]]++
		}
	}
	if !reuse {
		m = manifest{Addr: freeLoopback(b), CitySeq: map[string]uint64{}, CountySeq: map[string]uint64{}, PerCounty: map[string]int{}}
	}
	maxTime := 6 * time.Hour
	if d, err := time.ParseDuration(os.Getenv("GRIDCRM_SCALE_FILL_MAX")); err == nil {
		maxTime = d
	}
	rep.printf("== gridcrm province-scale benchmark, replica fill: province %s alone, one node, one process (%d CPUs, %s)", province, runtime.NumCPU(), runtime.Version())
	rep.printf("machine load before: %s", loadavg())
	nd := startProvince(b, dir, m.Addr)
	defer nd.Close()
	base := nd.APIURL()
	up := &uplinker{addr: nd.InternalAddr(), hc: linkHTTP()}
	if reuse {
		rep.printf("reusing %s: %d customers, %d bills, %d rows (%d record changes) filled before in %s; %s",
			dir, m.Customers, m.Bills, m.Rows, m.Changes, m.Fill, m.Processes)
	}
	if m.Customers < n { // a new directory, or a kept one to grow
		m.Done = false
		writeManifest(b, mf, &m) // Done false: a fill that does not end is not reused
		fill(b, rep, up, &m, n, months, projects, orders, maxTime)
		m.Done = true
		writeManifest(b, mf, &m)
	}
	rep.printf("machine load after the fill: %s", loadavg())

	pebbleMemory(rep, province, nd) // before diskReport flushes the memtables
	runtime.GC()
	diskReport(rep, province, nd, m.Customers, m.Bills)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.printf("memory: process RSS %s (peak %s), Go heap in use %.0f MiB (the province node and the benchmark together; with a fill in this run the peak includes the generators)",
		procStatus("VmRSS"), procStatus("VmHWM"), float64(ms.HeapInuse)/(1<<20))

	cl := demo.NewClient(base)
	lctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Login(lctx, "admin", testcluster.AdminPassword); err != nil {
		b.Fatal(err)
	}
	tok := testcluster.Login(b, base, "admin", testcluster.AdminPassword).Token
	readsAt(b, rep, cl, tok, m.Sample, requests, budget)

	// The first read after a rolled-up change: before each read, one more
	// change of a big customer and one more bill of it arrive from its
	// city, through the same endpoint.
	rep.printf("after a rolled-up change (one customer update and one bill of a big customer, one uplink batch, applied before each first read):")
	changeThenRead(b, rep, nd, up, &m, cl, tok, requests, budget)
	writeManifest(b, mf, &m)
	rep.printf("machine load at the end: %s", loadavg())
}

func writeManifest(b *testing.B, path string, m *manifest) {
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		b.Fatal(err)
	}
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return "load average " + strings.Join(f[:3], " ")
}

func freeLoopback(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProvince starts the province's one node on dir (a new region the
// first time, the same one after), internal address addr on loopback (no
// TLS: the link endpoint then checks only that the sender is a child).
func startProvince(b *testing.B, dir, addr string) *node.Node {
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.Region = "n1", province
	cfg.DataDir = filepath.Join(dir, "n1")
	cfg.APIListen, cfg.InternalListen = "127.0.0.1:0", addr
	cfg.AdminPassword = testcluster.AdminPassword
	cfg.Bootstrap, cfg.Peers = true, []replication.Peer{{ID: "n1", Addr: addr}}
	cfg.CanaryInterval = time.Hour
	cfg.Analytics.Disabled = true
	cfg.Raft.ApplyTimeout = 10 * time.Minute // a large batch on a busy machine is slow, not broken
	cfg.Raft.LeaderWait = time.Minute
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var nd *node.Node
	var err error
	for try := 0; try < 50; try++ { // a port just closed can take a moment
		if nd, err = node.Start(cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		b.Fatalf("start the province node: %v", err)
	}
	testcluster.WaitFor(b, 2*time.Minute, "the province node to serve", func() bool {
		resp, err := http.Get(nd.APIURL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return nd
}

// linkHTTP is a child's HTTP client to its parent's internal listener
// (node.linkClient without TLS).
func linkHTTP() *http.Client {
	return &http.Client{Timeout: 30 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return replication.DialKind(ctx, replication.TCPDialer, addr, replication.KindHTTP)
		},
		MaxIdleConnsPerHost: 8,
	}}
}

// uplinker posts uplink batches to the province as its cities would.
type uplinker struct {
	addr string
	hc   *http.Client
}

// post sends one batch and checks that everything in it was applied.
func (u *uplinker) post(bt *link.Batch) error {
	raw, err := json.Marshal(bt)
	if err != nil {
		return err
	}
	resp, err := u.hc.Post("http://"+u.addr+link.UplinkPath, "application/json", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("uplink batch %s (%d, %d]: %d %.300s", bt.Link, bt.From, bt.To, resp.StatusCode, body)
	}
	var a link.Answer
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("uplink batch %s: %v: %.300s", bt.Link, err, body)
	}
	if a.Err != nil || a.Rejected > 0 || a.Acked != bt.To {
		return fmt.Errorf("uplink batch %s (%d, %d]: acked %d, %d rejected, error %v", bt.Link, bt.From, bt.To, a.Acked, a.Rejected, a.Err)
	}
	return nil
}

// write is one record write a county made, as its feed carries it.
type write struct {
	key   string
	value []byte // nil: deleted
}

// countyTxn is a county's state machine transaction as the benchmark uses
// it: crm.Apply runs on it exactly as on the county (the same commands the
// API proposes), over a scratch batch that is never committed, and it
// keeps the record writes, which are what the county's feed rolls up.
type countyTxn struct {
	*replication.Txn
	writes []write
}

func (t *countyTxn) Set(key, value []byte) error {
	t.keep(key, value)
	return t.Txn.Set(key, value)
}

func (t *countyTxn) Delete(key []byte) error {
	t.keep(key, nil)
	return t.Txn.Delete(key)
}

func (t *countyTxn) keep(key, value []byte) {
	if !bytes.HasPrefix(key, []byte(keyspace.RecordPrefix)) || bytes.HasPrefix(key, []byte(keyspace.UsersPrefix)) {
		return
	}
	old, _ := t.Txn.Get(key)
	if (value == nil && old == nil) || (value != nil && bytes.Equal(old, value)) {
		return // the feed does not carry a write that changes nothing
	}
	t.writes = append(t.writes, write{string(key), bytes.Clone(value)})
}

// countyTx applies commands as county code does, on a scratch batch.
type countyTx struct {
	code  string
	tx    *countyTxn
	close func()
	now   time.Time
}

func newCounty(scratch *store.Store, code string) *countyTx {
	tx, _ := replication.NewBatchTxn(scratch) // never committed: the batch is dropped
	return &countyTx{code: code, tx: &countyTxn{Txn: tx}, close: func() {}, now: time.Now().UTC()}
}

// apply runs cmd as the county's state machine would and answers the result.
func (c *countyTx) apply(cmd *crm.Command) (crm.Result, error) {
	c.now = c.now.Add(time.Millisecond)
	if now := time.Now().UTC(); now.After(c.now) {
		c.now = now // the proposer's clock, as the API stamps it
	}
	cmd.Region, cmd.Actor, cmd.Time = c.code, "admin", c.now
	res := crm.Apply(c.tx, cmd)
	if res.Err != nil {
		return res, fmt.Errorf("%s %s at %s: %w", cmd.Op, cmd.Collection, c.code, res.Err)
	}
	return res, nil
}

// importRows imports rows of coll as POST /{coll}/import does.
func (c *countyTx) importRows(coll string, rows []any) ([]string, error) {
	kind := crm.Kinds[coll]
	ids := make([]string, len(rows))
	raws := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		raws[i], _ = json.Marshal(r)
		ids[i] = crm.NewID(kind.IDPrefix, time.Now())
	}
	for lo := 0; lo < len(rows); lo += crm.MaxImportRows {
		hi := min(lo+crm.MaxImportRows, len(rows))
		if _, err := c.apply(&crm.Command{Op: crm.OpImport, Collection: coll, Rows: raws[lo:hi], IDs: ids[lo:hi]}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// feedPos is where a county's and its city's feeds are.
type feedPos struct {
	mu        sync.Mutex
	citySeq   map[string]uint64
	countySeq map[string]uint64
}

// send rolls the county's kept writes up to the province as its city
// would: uplink batches of at most per changes, in order.
func (c *countyTx) send(u *uplinker, pos *feedPos, per int, progress *atomic.Int64) (int, error) {
	city := c.code[:4]
	ws := c.tx.writes
	c.tx.writes = nil
	at := c.now.UnixMilli()
	sent := 0
	for lo := 0; lo < len(ws); lo += per {
		hi := min(lo+per, len(ws))
		pos.mu.Lock()
		from := pos.citySeq[city]
		oseq := pos.countySeq[c.code]
		pos.citySeq[city] = from + uint64(hi-lo)
		pos.countySeq[c.code] = oseq + uint64(hi-lo)
		pos.mu.Unlock()
		bt := &link.Batch{Link: city, From: from, To: from + uint64(hi-lo), Head: from + uint64(hi-lo)}
		for i, w := range ws[lo:hi] {
			ch := link.Change{Seq: from + uint64(i) + 1, Origin: c.code, OSeq: oseq + uint64(i) + 1, Key: w.key, Value: w.value, Time: at, Appended: at}
			src := w.value
			if src == nil {
				src, _ = c.tx.Txn.Get([]byte(w.key))
			}
			ch.Owner = crm.StoredOwner(w.key, src)
			bt.Changes = append(bt.Changes, ch)
		}
		if err := u.post(bt); err != nil {
			return sent, err
		}
		sent += hi - lo
		if progress != nil {
			progress.Add(int64(hi - lo))
		}
	}
	return sent, nil
}

// fill loads the province: n customers over fillCounties, months of bills
// each, the contacts of the non-residential ones, the staff of the first
// county and its processes, each county's writes made by crm.Apply as the
// county makes them and sent up as its city sends them. A city's batches
// go in order (one goroutine per city); cities run side by side.
func fill(b *testing.B, rep *report, u *uplinker, m *manifest, n, months, projects, orders int, maxTime time.Duration) {
	scratch, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer scratch.Close()
	if m.End.IsZero() {
		m.End = time.Now().UTC().AddDate(0, -1, 0)
	}
	if m.PerCounty == nil {
		m.PerCounty = map[string]int{}
	}
	target := make(map[string]int, len(fillCounties)) // customers per county
	for i := 0; i < n; i++ {
		target[fillCounties[i%len(fillCounties)]]++
	}
	byCity := map[string][]string{}
	var cities []string
	for _, code := range fillCounties {
		if byCity[code[:4]] == nil {
			cities = append(cities, code[:4])
		}
		byCity[code[:4]] = append(byCity[code[:4]], code)
	}
	pos := &feedPos{citySeq: m.CitySeq, countySeq: m.CountySeq}
	var (
		custs, rows, bills, changes atomic.Int64
		mu                          sync.Mutex
		firstErr                    error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	had := m.Customers
	rep.printf("fill: from %d to %d customers over %d counties of %d cities (%s), %d months of bills, chunks of %d customers, uplink batches of at most %d changes, for at most %s",
		had, n, len(fillCounties), len(cities), strings.Join(cities, " "), months, fillChunk, batchChanges, maxTime)
	// The fill makes garbage fast: no collection below 8 GiB of heap leaves
	// more of the shared machine's CPU to the apply. The reads run with
	// the defaults.
	gc := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(8 << 30)
	defer func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit); runtime.GC() }()
	start := time.Now()
	stop := make(chan struct{})
	go func() { // progress
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				el := time.Since(start).Seconds()
				fmt.Printf("  applied %d changes in %.0fs: %.0f changes/s (%d customers, %d rows in whole chunks); %s\n",
					changes.Load(), el, float64(changes.Load())/el, had+int(custs.Load()), rows.Load(), loadavg())
			}
		}
	}()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2) // chunks made at once (a city's go in order)
	for _, city := range cities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for more := true; more && !failed() && time.Since(start) < maxTime; {
				more = false
				for _, code := range byCity[city] { // the city's counties in turn, so a fill cut short stays even
					mu.Lock()
					off := m.PerCounty[code]
					mu.Unlock()
					if off >= target[code] || failed() || time.Since(start) >= maxTime {
						continue
					}
					size := min(fillChunk, target[code]-off)
					sem <- struct{}{}
					nr, nb, err := makeChunk(u, pos, m, &mu, scratch, code, off, size, months, projects, orders, &changes)
					<-sem
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					m.PerCounty[code] = off + size
					m.Customers += size
					m.Bills += nb
					m.Rows += nr
					mu.Unlock()
					custs.Add(int64(size))
					rows.Add(int64(nr))
					bills.Add(int64(nb))
					more = more || off+size < target[code]
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	el := time.Since(start)
	m.Changes += int(changes.Load())
	if m.Fill != "" {
		m.Fill += " + "
	}
	m.Fill += el.Round(time.Second).String()
	rep.printf("fill: %d customers and %d bills (%d rows with contacts, staff and processes; %d record changes) applied at the province in %s: %.0f rows/s, %.0f changes/s",
		custs.Load(), bills.Load(), rows.Load(), changes.Load(), el.Round(time.Millisecond), float64(rows.Load())/el.Seconds(), float64(changes.Load())/el.Seconds())
	if m.Customers < n {
		rep.printf("fill: stopped after %s with %d of %d customers (GRIDCRM_SCALE_FILL_MAX); the same GRIDCRM_SCALE_KEEP continues it", maxTime, m.Customers, n)
	}
	if m.Processes != "" {
		rep.printf("processes (county %s, on the customers of its first chunk): %s", fillCounties[0], m.Processes)
	}
}

// fillChunk is the customers a county makes at once (with their bills and
// contacts) before they are sent up: smaller than the import mode's, so the
// county's scratch batch stays small and the sending starts early.
const fillChunk = 2500

// batchChanges is the most changes in one uplink batch (a city's link
// sends LinkBatch, 2000 by default; larger here for the fill).
const batchChanges = 5000

// makeChunk makes size customers of county code, from its offset-th on,
// with their bills and contacts (and, for the first chunk of the first
// county, the staff and the processes) at the county and sends them up;
// it answers the rows and the bills made.
func makeChunk(u *uplinker, pos *feedPos, m *manifest, mu *sync.Mutex, scratch *store.Store, code string, off, size, months, projects, orders int,
	changes *atomic.Int64) (int, int, error) {
	c := newCounty(scratch, code)
	defer c.close()
	seed := int64(off/fillChunk+1) + int64(slices.Index(fillCounties, code))*1_000_003
	data := sample.Generate(sample.Options{Region: code, Customers: size, Months: months, End: m.End, Seed: seed})
	sample.AssignFeeders(data.Customers, code)
	for i := range data.Customers {
		data.Customers[i].AccountNo = fmt.Sprintf("%s%08d", code, off+i+1)
	}
	ids, err := c.importRows("customers", toAny(data.Customers))
	if err != nil {
		return 0, 0, err
	}
	var bs, cs []any
	for i, id := range ids {
		data.Customers[i].ID = id
		for _, bl := range data.Bills[i] {
			bl.CustomerID = id
			bs = append(bs, bl)
		}
		if i < len(data.Contacts) {
			for _, ct := range data.Contacts[i] {
				ct.CustomerID = id
				cs = append(cs, ct)
			}
		}
	}
	if _, err := c.importRows("bills", bs); err != nil {
		return 0, 0, err
	}
	if _, err := c.importRows("contacts", cs); err != nil {
		return 0, 0, err
	}
	n := len(ids) + len(bs) + len(cs)
	if off == 0 && code == fillCounties[0] {
		sids, err := c.importRows("staff", toAny(data.Staff))
		if err != nil {
			return 0, 0, err
		}
		summary, steps, err := c.processes(data.Customers, sids, projects, orders)
		if err != nil {
			return 0, 0, err
		}
		n += len(sids) + steps
		mu.Lock()
		m.Sample = data.Customers
		m.Processes = summary
		mu.Unlock()
	}
	if _, err := c.send(u, pos, batchChanges, changes); err != nil {
		return 0, 0, err
	}
	return n, len(bs), nil
}

// processes creates the projects, work orders and outages of
// sample.GenerateProcesses with their steps, as the API's create and
// action handlers propose them at the county; it answers a summary and
// the rows written (records and steps).
func (c *countyTx) processes(custs []crm.Customer, staffIDs []string, projects, orders int) (string, int, error) {
	// Now two hours back: the generator's redispatch after a dissatisfied
	// revisit (sample.GenerateProcesses) can fall up to an hour past Now,
	// which the county refuses as a time in the future.
	plan := sample.GenerateProcesses(sample.ProcessOptions{Region: c.code, Customers: custs, StaffIDs: staffIDs, Now: time.Now().Add(-2 * time.Hour),
		Projects: projects, Orders: orders, Seed: 20261206})
	create := func(coll string, body any) (string, uint64, error) {
		raw, _ := json.Marshal(body)
		if coll == "work_orders" { // api.routeWorkOrder: the customer's county handles and takes it
			var mm map[string]any
			_ = json.Unmarshal(raw, &mm)
			mm["region"], mm["taking_region"] = c.code, c.code
			raw, _ = json.Marshal(mm)
		}
		kind := crm.Kinds[coll]
		if _, e := kind.CheckNew(raw, c.code); e != nil {
			return "", 0, fmt.Errorf("%s: %w", coll, e)
		}
		id := crm.NewID(kind.IDPrefix, time.Now())
		res, err := c.apply(&crm.Command{Op: crm.OpCreate, Collection: coll, ID: id, Body: raw})
		if err != nil {
			return "", 0, err
		}
		return id, recordVersion(res.Record), nil
	}
	act := func(coll, id string, v uint64, step any) (uint64, error) {
		var body map[string]any
		raw, _ := json.Marshal(step)
		_ = json.Unmarshal(raw, &body)
		body["version"] = v
		raw, _ = json.Marshal(body)
		ver, rest, e := crm.CheckAction(raw)
		if e != nil {
			return 0, e
		}
		res, err := c.apply(&crm.Command{Op: crm.OpAction, Collection: coll, ID: id, Version: ver, Body: rest})
		if err != nil {
			return 0, err
		}
		return recordVersion(res.Record), nil
	}
	rows := 0
	for _, p := range plan.Projects {
		id, v, err := create("projects", p.Project)
		if err != nil {
			return "", 0, err
		}
		for _, s := range p.Steps {
			if v, err = act("projects", id, v, s); err != nil {
				return "", 0, err
			}
		}
		rows += 1 + len(p.Steps)
	}
	for _, o := range plan.Orders {
		id, v, err := create("work_orders", o.Order)
		if err != nil {
			return "", 0, err
		}
		for _, s := range o.Steps {
			if v, err = act("work_orders", id, v, s); err != nil {
				return "", 0, err
			}
		}
		rows += 1 + len(o.Steps)
	}
	for _, o := range plan.Outages {
		if _, _, err := create("outages", o); err != nil {
			return "", 0, err
		}
		rows++
	}
	return fmt.Sprintf("%d projects, %d work orders, %d outages (%d records and steps)", len(plan.Projects), len(plan.Orders), len(plan.Outages), rows), rows, nil
}

func recordVersion(raw []byte) uint64 {
	var r struct {
		Version uint64 `json:"version"`
	}
	_ = json.Unmarshal(raw, &r)
	return r.Version
}

// changeThenRead times the reads a rolled-up change may invalidate: before
// each, one more update of a big customer of the sample and one more bill
// of it (the month after the last billed) arrive from the county's city.
func changeThenRead(b *testing.B, rep *report, nd *node.Node, u *uplinker, m *manifest, cl *demo.Client, token string, requests int, budget time.Duration) {
	var big []crm.Customer
	for _, c := range m.Sample {
		if c.Category != crm.CategoryResidential {
			big = append(big, c)
		}
	}
	if len(big) == 0 {
		b.Fatal("no non-residential customer in the sample")
	}
	pos := &feedPos{citySeq: m.CitySeq, countySeq: m.CountySeq}
	scratch, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer scratch.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	change := func() string {
		cu := big[rng.IntN(len(big))]
		key := keyspace.Record("customers", cu.ID)
		cur, err := replication.StateReaderOf(nd.Store()).Get([]byte(key))
		if err != nil || cur == nil {
			b.Fatalf("customer %s at the province: %v (%d bytes)", cu.ID, err, len(cur))
		}
		c := newCounty(scratch, fillCounties[0])
		defer c.close()
		if err := c.tx.Txn.Set([]byte(key), cur); err != nil { // the county holds the record as the province does
			b.Fatal(err)
		}
		var rec crm.Customer
		_ = json.Unmarshal(cur, &rec)
		patch, _ := json.Marshal(map[string]any{"capacity_kva": rec.CapacityKVA + 10})
		if _, err := c.apply(&crm.Command{Op: crm.OpUpdate, Collection: "customers", ID: cu.ID, Version: rec.Version, Body: patch}); err != nil {
			b.Fatal(err)
		}
		if m.Change.IsZero() {
			m.Change = m.End
		}
		month := m.Change.AddDate(0, 1, 0)
		m.Change = month // the next change bills the month after
		amt := 800 + float64(rng.IntN(80000))
		bill := crm.Bill{CustomerID: cu.ID, Period: month.Format("2006-01"), KWh: 1000 + float64(rng.IntN(100000)), Billed: amt} // unpaid yet: no pay_date
		if _, err := c.importRows("bills", []any{bill}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.send(u, pos, batchChanges, nil); err != nil {
			b.Fatal(err)
		}
		return cu.ID
	}
	sub := "region=" + province + "&scope=subtree"
	var changed string
	reads := []read{
		{"customer (the changed one)", func(int) string { return "/api/v1/customers/" + changed }, 50 * time.Millisecond},
		{"customer class (changed)", func(int) string { return "/api/v1/customers/" + changed + "/class" }, 50 * time.Millisecond},
		{"classification big", func(int) string { return "/api/v1/classification?" + sub + "&class=big&limit=50" }, 50 * time.Millisecond},
		{"classification core", func(int) string { return "/api/v1/classification?" + sub + "&grade=core&limit=50" }, 50 * time.Millisecond},
		{"pareto", func(int) string { return "/api/v1/reports/pareto?" + sub + "&top=20" }, 50 * time.Millisecond},
		{"overview", func(int) string { return "/api/v1/stats/overview?region=" + province }, 50 * time.Millisecond},
		{"summary", func(int) string { return "/api/v1/stats/summary?" + sub }, 50 * time.Millisecond},
	}
	rep.printf("%-26s %6s %10s %10s %10s %10s %9s %7s  %s", "read", "n", "first", "p50", "p99", "max", "bytes", "target", "")
	hc := &http.Client{Timeout: 10 * time.Minute}
	for _, rd := range reads {
		changed = change()
		measure(rep, hc, cl.Base(), token, rd, min(requests, 20), budget)
	}
}

// measure times up to requests GETs of rd, one at a time, stopping early
// after budget (at least 5), and prints its line.
func measure(rep *report, hc *http.Client, base, token string, rd read, requests int, budget time.Duration) {
	var lat []time.Duration
	var size int
	t0 := time.Now()
	for i := 0; i < requests && (i < 5 || time.Since(t0) < budget); i++ {
		st, body, d := get(hc, base, token, rd.path(i))
		if st != 200 {
			rep.printf("%-26s answered %d: %.200s", rd.name, st, body)
			return
		}
		lat = append(lat, d)
		size = len(body)
	}
	first := lat[0]
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	verdict := "ok"
	if q(0.99) > rd.target || first > rd.target {
		verdict = "OVER"
	}
	rep.printf("%-26s %6d %10s %10s %10s %10s %9d %7s  %s", rd.name, len(lat), round(first), round(q(0.5)), round(q(0.99)), round(lat[len(lat)-1]), size, rd.target, verdict)
}
