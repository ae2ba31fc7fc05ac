package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// runner holds one run's parts.
type runner struct {
	cfg       Config
	dir       string
	out       io.Writer
	net       Network
	cluster   *Cluster
	hist      *History
	anomalies *Anomalies
	t0        time.Time
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(r.out, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

// Run starts the hierarchy, drives the workload through the seeded
// schedule of faults, lets the replicas converge, stops the nodes, and
// checks what they hold against what the clients were told. Cancelling
// ctx ends the fault phase early; the run still settles and checks. The
// report is written into the run directory; an error means the run could
// not be carried out (the anomalies are in the report, not the error).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, hist: NewHistory(), anomalies: &Anomalies{}, t0: time.Now()}
	r.dir = filepath.Join(cfg.Dir, fmt.Sprintf("%s-seed%d", r.t0.Format("20060102-150405"), cfg.Seed))
	if abs, err := filepath.Abs(r.dir); err == nil {
		r.dir = abs
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	logFile, err := os.Create(filepath.Join(r.dir, "chaos.log"))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer logFile.Close()
	r.out = io.MultiWriter(cfg.Out, logFile)
	r.logf("chaos: seed %d, %d faults, run directory %s", cfg.Seed, cfg.Faults, r.dir)

	layout, err := r.setupNetwork()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := r.net.Close(); err != nil {
			r.logf("cleanup: %v", err)
		}
	}()
	api := NewAPI(r.net, layout, cfg.Password)
	defer api.Close()
	r.cluster = NewCluster(layout, r.net, api, cfg.Binary, cfg.Password, cfg.LogLevel)
	defer r.cluster.KillAll()
	return r.run(ctx)
}

// setupNetwork picks the network, places the nodes, writes their configs.
func (r *runner) setupNetwork() (Layout, error) {
	nodes := 5 + r.cfg.County2Nodes
	why := ""
	if r.cfg.Network != "loopback" {
		if why = NetnsMissing(); why == "" {
			r.net = NewNetns()
			l := NewLayout(r.dir, r.cfg.County2Nodes, r.net.Place)
			if err := r.net.Setup(l); err == nil {
				r.logf("network: %s", r.net.Describe())
				r.logf("network: if the harness is killed hard, remove the namespaces with: ip -all netns delete (or ip netns del each %s-*)", r.net.(*nsNet).prefix)
				return l, l.WriteConfigs()
			} else {
				why = err.Error()
				_ = r.net.Close()
			}
		}
		if r.cfg.Network == "netns" {
			return Layout{}, fmt.Errorf("chaos: network namespaces unavailable: %s", why)
		}
	} else {
		why = "loopback chosen"
	}
	nw, err := NewLoopback(nodes, why)
	if err != nil {
		return Layout{}, err
	}
	r.net = nw
	r.logf("network: %s", nw.Describe())
	r.logf("PARTITIONS DISABLED: %s; partition faults in the schedule will be skipped", why)
	l := NewLayout(r.dir, r.cfg.County2Nodes, nw.Place)
	return l, l.WriteConfigs()
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	cfg, c := r.cfg, r.cluster
	for _, n := range c.Layout.Nodes {
		r.logf("node %-6s region %-6s api %-21s internal %-21s log %s", n.ID, n.Region, n.APIAddr(), n.InternalAddr(), n.Log)
	}
	if err := c.StartAll(); err != nil {
		return nil, err
	}
	if late := c.WaitReady(context.Background(), c.Layout.Nodes, 90*time.Second); len(late) > 0 {
		return nil, fmt.Errorf("chaos: nodes %v not ready 90 s after start; see their logs in %s/logs", late, r.dir)
	}
	r.logf("all %d nodes ready", len(c.Layout.Nodes))
	wl := NewWorkload(cfg.Workload, c.API, c.Layout, r.hist)
	setupCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	err := wl.Setup(setupCtx)
	cancel()
	if err != nil {
		return nil, err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	wl.Start(workCtx)
	workStart := time.Now()
	r.logf("workload: %d writers, %d readers, %d registers per county; warm-up %v", cfg.Workload.Writers, max(cfg.Workload.Readers, 0), cfg.Workload.Registers, cfg.Warmup)
	sleep(ctx, cfg.Warmup)

	schedule := NewSchedule(ScheduleConfig{Seed: cfg.Seed, Faults: cfg.Faults, Kinds: cfg.Kinds, MinGap: cfg.MinGap, MaxGap: cfg.MaxGap})
	r.injectAll(ctx, schedule)

	settleStart := r.heal()
	r.hist.SetActive(settle)
	r.logf("settle: everything healed; workload goes on for %v", cfg.Settle)
	time.Sleep(cfg.Settle)
	stopWork()
	wl.Wait()
	end := time.Now()
	r.logf("workload stopped")

	r.converge()
	summaries := r.readSummaries()
	shutdowns := r.stopAll()
	r.noteCrashes()
	dumps := r.dumpAll()

	ev := Evidence{Layout: c.Layout, Creates: r.hist.Creates(), Ops: r.hist.Ops(), Dumps: dumps, Summaries: summaries, T0: r.t0,
		StoppedAt: time.Now(), Progress: r.logf}
	if err := writeHistory(r.dir, ev.Ops, ev.Creates); err != nil {
		r.logf("history: %v", err)
	}
	r.logf("checking %d operations, %d creates, %d replicas", len(ev.Ops), len(ev.Creates), len(dumps))
	checks := RunChecks(ev, r.anomalies, r.dir, cfg.LinTimeout)
	faults := r.hist.Faults()
	rep := &Report{Seed: cfg.Seed, Dir: r.dir, Network: r.net.Describe(), Started: r.t0, Finished: time.Now(), Replay: cfg.Replay(),
		Schedule: schedule, Faults: faults, FaultKinds: kindCounts(faults), Writes: countWrites(ev.Creates, ev.Ops),
		Available: MeasureAvailability(ev.Ops, ev.Creates, FaultWindows(c.Layout, faults, workStart, settleStart, end)),
		Checks:    checks, Shutdowns: shutdowns, Anomalies: r.anomalies.List()}
	if len(rep.Anomalies) == 0 && !cfg.KeepData {
		_ = os.RemoveAll(filepath.Join(r.dir, "data")) // hundreds of MB; nothing to look into
	}
	return rep, rep.Write()
}

// injectAll runs the schedule, one fault at a time, until it is done,
// cfg.Duration has passed or ctx ends.
func (r *runner) injectAll(ctx context.Context, schedule []Fault) {
	inj := NewInjector(r.cluster, r.hist, r.anomalies, r.out, r.cfg.Stall, r.cfg.ReadyWait)
	start := time.Now()
	for _, f := range schedule {
		if ctx.Err() != nil {
			r.logf("interrupted: no more faults")
			return
		}
		if r.cfg.Duration > 0 && time.Since(start) > r.cfg.Duration {
			r.logf("duration %v reached after %d faults", r.cfg.Duration, f.Seq-1)
			return
		}
		sleep(ctx, f.Gap)
		r.restartCrashed()
		r.hist.AddFault(inj.Run(ctx, f))
	}
}

// restartCrashed starts again any node that exited by itself (the crash
// is reported by noteCrashes).
func (r *runner) restartCrashed() {
	for _, n := range r.cluster.Layout.Nodes {
		p := r.cluster.Procs[n.ID]
		if !p.Running() {
			r.logf("%s is down although no fault holds it: restarting it", n.ID)
			p.Mark("down between faults: restarted by the harness")
			if err := p.Start(); err != nil {
				r.logf("%v", err)
			}
		}
	}
}

// heal removes every cut, continues paused nodes, starts stopped ones and
// waits for them to be ready. It answers when settling began.
func (r *runner) heal() time.Time {
	if err := r.net.HealAll(); err != nil {
		r.logf("heal: %v", err)
	}
	for _, p := range r.cluster.Procs {
		if p.Paused() {
			_ = p.Resume()
		}
	}
	r.restartCrashed()
	if late := r.cluster.WaitReady(context.Background(), r.cluster.Layout.Nodes, r.cfg.ReadyWait); len(late) > 0 {
		r.anomalies.Add(CheckNotReady, time.Now(), late[0], "at the start of the settle period %v not ready within %v", late, r.cfg.ReadyWait)
	}
	return time.Now()
}

// converge waits until, for every county, its replicas, the city and the
// province count the same customers, twice in a row a second apart.
func (r *runner) converge() {
	start := time.Now()
	deadline := start.Add(r.cfg.Converge)
	var prev map[string]int64
	stable := 0
	for time.Now().Before(deadline) {
		cur, agree := r.countAll()
		if agree && equalCounts(cur, prev) {
			stable++
		} else {
			stable = 0
		}
		if stable >= 2 {
			r.logf("converged after %v: %v", time.Since(start).Round(time.Millisecond), cur)
			return
		}
		prev = cur
		time.Sleep(time.Second)
	}
	r.anomalies.Add(CheckConvergence, time.Now(), "", "replicas did not agree within %v of the end of the workload; last counts %v", r.cfg.Converge, prev)
	r.logf("NOT converged after %v: %v", r.cfg.Converge, prev)
}

// countAll reads every holder's customer count of every county; agree
// says whether all holders of each county gave the same count.
func (r *runner) countAll() (map[string]int64, bool) {
	out := map[string]int64{}
	agree := true
	for _, region := range r.cluster.Layout.CountyRegions() {
		first := int64(-1)
		for _, n := range holders(r.cluster.Layout, region) {
			s, err := r.cluster.API.Summary(context.Background(), n, region)
			if err != nil {
				agree = false
				continue
			}
			out[n.ID+"/"+region] = s.Customers
			if first >= 0 && s.Customers != first {
				agree = false
			}
			first = s.Customers
		}
	}
	return out, agree
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// readSummaries reads each node's summary of every county it holds.
func (r *runner) readSummaries() map[string]map[string]Summary {
	out := map[string]map[string]Summary{}
	for _, region := range r.cluster.Layout.CountyRegions() {
		for _, n := range holders(r.cluster.Layout, region) {
			s, err := r.cluster.API.Summary(context.Background(), n, region)
			if err != nil {
				r.logf("summary: %v", err)
				continue
			}
			if out[n.ID] == nil {
				out[n.ID] = map[string]Summary{}
			}
			out[n.ID][region] = s
		}
	}
	return out
}

// stopAll sends SIGTERM to every node at once and times their exits.
func (r *runner) stopAll() map[string]time.Duration {
	out := map[string]time.Duration{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range r.cluster.Layout.Nodes {
		p := r.cluster.Procs[n.ID]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			took, stalled, err := p.Terminate(r.cfg.Stall)
			if err != nil {
				r.logf("stop %s: %v", n.ID, err)
				return
			}
			mu.Lock()
			out[n.ID] = took.Round(time.Millisecond)
			mu.Unlock()
			if stalled {
				r.anomalies.Add(CheckStall, sent, n.ID, "final SIGTERM at %s: not exited after %v; SIGQUIT sent (goroutine dump in %s)",
					sent.Format("15:04:05.000"), r.cfg.Stall, n.Log)
			}
		}()
	}
	wg.Wait()
	r.logf("all nodes stopped: %v", out)
	return out
}

// noteCrashes reports every exit the harness did not cause.
func (r *runner) noteCrashes() {
	for _, n := range r.cluster.Layout.Nodes {
		for _, cr := range r.cluster.Procs[n.ID].Crashes() {
			r.anomalies.Add(CheckCrash, cr.At, cr.Node, "exited by itself at %s (%s); see %s", cr.At.Format("15:04:05.000"), cr.Exit, n.Log)
		}
	}
}

// dumpAll reads every stopped node's state keyspace.
func (r *runner) dumpAll() map[string]Dump {
	scratch := filepath.Join(r.dir, "scratch")
	defer os.RemoveAll(scratch)
	out := map[string]Dump{}
	for _, n := range r.cluster.Layout.Nodes {
		d, err := DumpStore(n.ID, n.Region, n.DataDir, scratch)
		if err != nil {
			r.logf("dump %s: %v", n.ID, err)
			r.anomalies.Add(CheckDivergence, time.Now(), n.ID, "cannot read the store: %v", err)
			continue
		}
		out[n.ID] = d
	}
	return out
}
