package replication_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
)

// ackedWrite is a write some region's API acknowledged: version Version of
// record ID, committed by region Writer.
type ackedWrite struct {
	ID      string
	Version uint64
	Writer  string
	Via     string // which API took it
}

type ackLog struct {
	mu      sync.Mutex
	writes  []ackedWrite
	pending []string // forwarded command ids answered 202
	refused map[string]int
}

func (l *ackLog) add(w ackedWrite) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

func (l *ackLog) refuse(why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused[why]++
}

// patchLoop patches random customers through clients (any of which may be
// down) until stop, logging what is acknowledged. at is the tier the
// clients serve.
func patchLoop(t *testing.T, at string, clients []*testcluster.Client, ids []string, log *ackLog, rng *rand.Rand, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		cl := clients[rng.IntN(len(clients))]
		id := ids[rng.IntN(len(ids))]
		st, body := cl.Do("GET", "/api/v1/customers/"+id+"?region=320722", nil)
		if st != 200 {
			log.refuse(fmt.Sprintf("%s read %d", at, st))
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var cur struct{ Version uint64 }
		json.Unmarshal(body, &cur)
		st, body = cl.Do("PATCH", "/api/v1/customers/"+id, map[string]any{"version": cur.Version, "name": fmt.Sprintf("%s-%d", at, i)})
		switch st {
		case 200:
			var rec struct {
				Version   uint64
				UpdatedBy string `json:"updated_by"`
			}
			json.Unmarshal(body, &rec)
			writer := at
			if strings.Contains(rec.UpdatedBy, "@") { // forwarded: executed by the county
				writer = "320722"
			}
			log.add(ackedWrite{ID: id, Version: rec.Version, Writer: writer, Via: at})
		case 202:
			var cmd struct{ ID string }
			json.Unmarshal(body, &cmd)
			log.mu.Lock()
			log.pending = append(log.pending, cmd.ID)
			log.mu.Unlock()
		default:
			var e struct {
				Error struct{ Code string }
			}
			json.Unmarshal(body, &e)
			log.refuse(fmt.Sprintf("%s %d %s", at, st, e.Error.Code))
			if st >= 500 {
				t.Logf("%s answered %d: %s", at, st, body)
			}
		}
		time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
	}
}

// checkProgress is where the checker stands, for the watchdog's dump.
type checkProgress struct {
	mu       sync.Mutex
	phase    string
	schedule []string
	h        *testcluster.Hierarchy
	clients  []*testcluster.Client // logged in before the schedule: the dump reads through them
}

func (p *checkProgress) enter(phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase = phase
}

func (p *checkProgress) step(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.schedule = append(p.schedule, s)
}

func (p *checkProgress) steps() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.schedule...)
}

// checkBound is how long the checker may run before it gives up with a
// state dump: far more than it needs (a minute or two for 24 steps under
// -race on a busy 2-core machine), and short of go test's -timeout, which
// would end the binary without the seed or where the run stood (the
// checker once ran 30 minutes under load until -timeout killed it).
// GRIDCRM_CHECK_BOUND (a duration) overrides it.
func checkBound(t *testing.T, steps int) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GRIDCRM_CHECK_BOUND")); err == nil && d > 0 {
		return d
	}
	bound := 8*time.Minute + time.Duration(steps)*10*time.Second
	if dl, ok := t.Deadline(); ok {
		bound = max(min(bound, time.Until(dl)-2*time.Minute), time.Minute)
	}
	return bound
}

// dumpCheck describes the regions as the checker left them: links, every
// node's raft state and applied index, the management state each tier
// reports (through clients logged in before, with a short timeout: no
// wait of its own may hang), the writes seen; the goroutines go to a file.
func dumpCheck(p *checkProgress, seed uint64, log *ackLog) string {
	var b strings.Builder
	p.mu.Lock()
	fmt.Fprintf(&b, "seed %d; stuck at: %s\nschedule so far (%d steps): %s\n", seed, p.phase, len(p.schedule), strings.Join(p.schedule, "; "))
	h, clients := p.h, p.clients
	p.mu.Unlock()
	if h != nil {
		fmt.Fprintf(&b, "link 320722 cut: %v\n", h.Faults.IsCut("320722"))
		for _, code := range []string{"3207", "320722"} {
			c := h.Region(code)
			for i := range c.Size() {
				n := c.Node(i)
				if n == nil {
					fmt.Fprintf(&b, "%s node %d: killed\n", code, i)
					continue
				}
				st := n.Group().Raft().Stats()
				fmt.Fprintf(&b, "%s node %d (%s): %s term %s, last log %s, commit %s, applied %d\n", code, i, n.Config().NodeID,
					st["state"], st["term"], st["last_log_index"], st["commit_index"], n.Group().Applied())
			}
		}
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, cl := range clients {
		for _, path := range []string{"/api/v1/regions/320722", "/api/v1/sync/status"} {
			req, _ := http.NewRequest("GET", cl.Base+path, nil)
			req.Header.Set("Authorization", "Bearer "+cl.Token)
			resp, err := hc.Do(req)
			if err != nil {
				fmt.Fprintf(&b, "%s%s: %v\n", cl.Base, path, err)
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4000))
			resp.Body.Close()
			fmt.Fprintf(&b, "%s%s: %d %s\n", cl.Base, path, resp.StatusCode, body)
		}
	}
	log.mu.Lock()
	fmt.Fprintf(&b, "acknowledged writes %d, forwarded and pending %d, refused %v\n", len(log.writes), len(log.pending), log.refused)
	log.mu.Unlock()
	f := filepath.Join(os.TempDir(), fmt.Sprintf("gridcrm-check-%d-goroutines.txt", seed))
	if out, err := os.Create(f); err == nil {
		pprof.Lookup("goroutine").WriteTo(out, 2)
		out.Close()
		fmt.Fprintf(&b, "goroutines: %s\n", f)
	}
	return b.String()
}

// TestManagement_RandomSchedules is the checker for invariant 4: under a
// random schedule of management changes (autonomous, partial, full
// takeover and release), link cuts and heals and county leader kills, with
// writes at both tiers all the while, no version of a record is ever
// acknowledged by two regions (two writers would fork the version chain),
// every acknowledged version is reached, and at the end every replica is
// equal. GRIDCRM_CHECK_SEED replays a schedule; GRIDCRM_CHECK_STEPS makes
// it longer (make soak). The seed is printed first thing (to stderr, which
// go test shows even when the binary is killed); a run that has not ended
// within checkBound prints a state dump and panics rather than hang.
func TestManagement_RandomSchedules(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("GRIDCRM_CHECK_SEED"), 10, 64); err == nil {
		seed = s
	}
	steps := 24
	if n, err := strconv.Atoi(os.Getenv("GRIDCRM_CHECK_STEPS")); err == nil && n > 0 {
		steps = n
	}
	bound := checkBound(t, steps)
	fmt.Fprintf(os.Stderr, "%s: seed %d (GRIDCRM_CHECK_SEED=%d replays this schedule), %d steps, gives up after %v\n", t.Name(), seed, seed, steps, bound)
	t.Logf("seed %d (GRIDCRM_CHECK_SEED=%d replays this schedule), %d steps", seed, seed, steps)
	rng := rand.New(rand.NewPCG(seed, 7))
	log := &ackLog{refused: map[string]int{}}
	prog := &checkProgress{phase: "starting the hierarchy"}
	start := time.Now()
	watchdog := time.AfterFunc(bound, func() {
		dump := make(chan string, 1)
		go func() { dump <- dumpCheck(prog, seed, log) }()
		select {
		case d := <-dump:
			fmt.Fprintf(os.Stderr, "--- %s did not end in %v (GRIDCRM_CHECK_SEED=%d replays it); state:\n%s", t.Name(), time.Since(start).Round(time.Second), seed, d)
		case <-time.After(time.Minute):
			fmt.Fprintf(os.Stderr, "--- %s did not end in %v (GRIDCRM_CHECK_SEED=%d replays it); the state dump itself did not end in a minute\n", t.Name(), time.Since(start).Round(time.Second), seed)
		}
		prog.mu.Lock()
		phase := prog.phase
		prog.mu.Unlock()
		panic(fmt.Sprintf("%s: seed %d did not converge within %v, stuck at: %s (state dump above)", t.Name(), seed, bound, phase))
	})
	defer watchdog.Stop()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d; schedule: %s", seed, strings.Join(prog.steps(), "; "))
		}
	})

	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{
		Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722", Nodes: 3}},
		Node:    func(c *node.Config) { c.ForwardWait = 500 * time.Millisecond }})
	county, city := h.Region("320722"), h.Region("3207")
	prog.mu.Lock()
	prog.h = h
	prog.mu.Unlock()
	prog.enter("creating the customers")
	var ids []string
	for i := range 6 {
		st, body := county.Admin(0).Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("R-%d", i)))
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var rec struct{ ID string }
		json.Unmarshal(body, &rec)
		ids = append(ids, rec.ID)
	}
	prog.enter("waiting for the customers at the city")
	h.WaitReplicated("320722", "3207", 20*time.Second)
	countyClients := []*testcluster.Client{county.Admin(0), county.Admin(1), county.Admin(2)}
	cityClients := []*testcluster.Client{city.Admin(0)}
	prog.mu.Lock()
	prog.clients = append(append([]*testcluster.Client(nil), cityClients...), countyClients...)
	prog.mu.Unlock()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go patchLoop(t, "320722", countyClients, ids, log, rand.New(rand.NewPCG(seed, 1)), stop, &wg)
	go patchLoop(t, "3207", cityClients, ids, log, rand.New(rand.NewPCG(seed, 2)), stop, &wg)

	killed := -1
	for i := range steps {
		var step string
		switch k := rng.IntN(10); {
		case k < 4:
			mode := []map[string]any{{"mode": "autonomous"}, {"mode": "full"}, {"mode": "partial", "collections": []string{"customers"}}}[rng.IntN(3)]
			prog.enter(fmt.Sprintf("step %d: setting mode %v", i+1, mode["mode"]))
			st, body := city.Admin(0).Do("PUT", "/api/v1/regions/320722/management", mode)
			step = fmt.Sprintf("mode %v: %d", mode["mode"], st)
			if st != 200 {
				t.Fatalf("set mode: %d %s", st, body)
			}
		case k < 7:
			prog.enter(fmt.Sprintf("step %d: cutting or healing the link", i+1))
			if h.Faults.IsCut("320722") {
				h.Faults.Heal("320722")
				step = "heal"
			} else {
				h.Faults.Cut("320722")
				step = "cut"
			}
		default:
			prog.enter(fmt.Sprintf("step %d: killing or restarting a county node", i+1))
			if killed >= 0 {
				county.Restart(killed)
				step = fmt.Sprintf("restart county node %d", killed)
				killed = -1
			} else {
				killed = county.Leader()
				county.Kill(killed)
				step = fmt.Sprintf("kill county leader %d", killed)
			}
		}
		prog.step(step)
		time.Sleep(time.Duration(200+rng.IntN(500)) * time.Millisecond)
	}
	// Quiesce: heal, restart, hand the county back, let every queued command land.
	prog.enter("quiescing: heal, restart, stop the writers")
	h.Faults.Heal("320722")
	if killed >= 0 {
		county.Restart(killed)
	}
	close(stop)
	wg.Wait()
	prog.enter("the final release")
	if st, body := city.Admin(0).Do("PUT", "/api/v1/regions/320722/management", map[string]any{"mode": "autonomous"}); st != 200 {
		t.Fatalf("final release: %d %s", st, body)
	}
	prog.enter("waiting for the county to hold its records again and every forwarded command's outcome")
	testcluster.WaitFor(t, 60*time.Second, "the county to hold its records again and every forwarded command's outcome", func() bool {
		return regionAt(t, h, "320722", "320722").Writer == "320722" && regionAt(t, h, "3207", "320722").PendingCommands == 0
	})
	t.Logf("schedule: %s", strings.Join(prog.steps(), "; "))

	// Forwarded writes answered 202 are acknowledged when their outcome says applied.
	prog.enter("reading the forwarded commands' outcomes")
	for _, id := range log.pending {
		st, body := city.Admin(0).Do("GET", "/api/v1/commands/"+id, nil)
		var v struct {
			Status string
			Record struct {
				ID      string
				Version uint64
			}
		}
		if st != 200 || json.Unmarshal(body, &v) != nil {
			t.Fatalf("command %s: %d %s", id, st, body)
		}
		if v.Status == "applied" {
			log.add(ackedWrite{ID: v.Record.ID, Version: v.Record.Version, Writer: "320722", Via: "3207 (queued)"})
		}
	}

	// No version of a record acknowledged twice: one writer at a time.
	seen := map[string]ackedWrite{}
	maxVer := map[string]uint64{}
	byWriter := map[string]int{}
	for _, w := range log.writes {
		k := fmt.Sprintf("%s@%d", w.ID, w.Version)
		if prev, dup := seen[k]; dup {
			t.Errorf("version %d of %s acknowledged twice: by %s (via %s) and by %s (via %s)", w.Version, w.ID, prev.Writer, prev.Via, w.Writer, w.Via)
		}
		seen[k] = w
		maxVer[w.ID] = max(maxVer[w.ID], w.Version)
		byWriter[w.Writer+" via "+w.Via]++
	}
	t.Logf("acknowledged writes: %v; refused: %v", byWriter, log.refused)
	if byWriter["3207 via 3207"] == 0 && byWriter["320722 via 3207"] == 0 && byWriter["320722 via 3207 (queued)"] == 0 {
		t.Logf("note: this schedule gave the city no acknowledged write")
	}

	prog.enter("waiting for the city's replica of the county and the county's replicas to converge")
	h.WaitReplicated("320722", "3207", 60*time.Second)
	county.WaitConverged(30 * time.Second)
	prog.enter("reading the final versions")
	for _, id := range ids {
		_, v := customerAt(t, h, "320722", id)
		if v < maxVer[id] {
			t.Errorf("%s is at version %d but version %d was acknowledged", id, v, maxVer[id])
		}
	}
}
