package chaos

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Injector runs the faults of a schedule against a cluster, one at a time.
type Injector struct {
	c         *Cluster
	hist      *History
	anomalies *Anomalies
	out       io.Writer
	stall     time.Duration // SIGTERM exit longer than this is an anomaly (default 15s)
	readyWait time.Duration // a node not ready this long after a fault healed is an anomaly
}

// NewInjector prepares the fault injector.
func NewInjector(c *Cluster, h *History, a *Anomalies, out io.Writer, stall, readyWait time.Duration) *Injector {
	return &Injector{c: c, hist: h, anomalies: a, out: out, stall: stall, readyWait: readyWait}
}

// logf prints a progress line with the time.
func (in *Injector) logf(format string, a ...any) {
	fmt.Fprintf(in.out, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

// Run runs one fault: it starts it, holds it, heals it and waits until
// the nodes it touched are ready again.
func (in *Injector) Run(ctx context.Context, f Fault) FaultEvent {
	ev := FaultEvent{Fault: f, Start: time.Now()}
	if f.Kind.IsPartition() {
		if why := in.c.Net.NoPartitions(); why != "" {
			ev.Skipped = "partitions unavailable: " + why
			ev.Healed = ev.Start
			in.logf("fault %s skipped: %s", f, ev.Skipped)
			return ev
		}
	}
	in.hist.SetActive(f.Kind)
	var touched []NodeSpec
	switch f.Kind {
	case KillNode:
		county := in.c.Layout.CountyNodes()
		touched = []NodeSpec{county[f.Pick%len(county)]}
		in.down(ctx, &ev, touched, f.Hold, false)
	case KillLeader:
		touched = []NodeSpec{in.leader(ctx, &ev, f.Pick)}
		in.down(ctx, &ev, touched, f.Hold, false)
	case TermNode:
		county := in.c.Layout.CountyNodes()
		touched = []NodeSpec{county[f.Pick%len(county)]}
		in.down(ctx, &ev, touched, f.Hold, true)
	case KillCity:
		touched = in.c.Layout.Region(City)
		in.down(ctx, &ev, touched, f.Hold, false)
	case KillProvince:
		touched = in.c.Layout.Region(Province)
		in.down(ctx, &ev, touched, f.Hold, false)
	case RestartCounty:
		touched = in.c.Layout.Region(County)
		in.down(ctx, &ev, touched, f.Hold, true)
	case CrashCounty:
		touched = in.c.Layout.Region(County)
		in.down(ctx, &ev, touched, f.Hold, false)
	case PauseLeader:
		touched = []NodeSpec{in.leader(ctx, &ev, f.Pick)}
		in.pause(ctx, &ev, touched[0], f.Hold)
	case PauseFollower:
		l := in.leader(ctx, &ev, f.Pick)
		fs := in.c.Followers(County, l)
		if len(fs) == 0 {
			fs = []NodeSpec{l}
			ev.Notes = append(ev.Notes, "no follower running: paused "+l.ID)
		}
		touched = []NodeSpec{fs[f.Pick%len(fs)]}
		in.pause(ctx, &ev, touched[0], f.Hold)
	case PartitionNode:
		nodes := in.c.Layout.Region(County)
		touched = []NodeSpec{nodes[f.Pick%len(nodes)]}
		in.isolate(ctx, &ev, touched[0], f.Hold)
	case PartitionLeader:
		touched = []NodeSpec{in.leader(ctx, &ev, f.Pick)}
		in.isolate(ctx, &ev, touched[0], f.Hold)
	case PartitionCounty:
		touched = in.c.Layout.Region(County)
		in.cutCounty(ctx, &ev, f.Hold)
	default:
		ev.Skipped = "unknown kind"
	}
	in.waitReady(ctx, &ev, touched)
	ev.Healed = time.Now()
	in.hist.SetActive(none)
	in.logf("fault %s healed after %v %v", f, ev.Healed.Sub(ev.Start).Round(time.Millisecond), ev.Notes)
	return ev
}

// leader answers the county's leader (or a pick, noted, without one).
func (in *Injector) leader(ctx context.Context, ev *FaultEvent, pick int) NodeSpec {
	n, note := in.c.LeaderOrPick(ctx, County, pick)
	if note != "" {
		ev.Notes = append(ev.Notes, note)
	}
	return n
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// down takes nodes down together (SIGTERM, timed, or kill -9), waits
// hold, and starts them again.
func (in *Injector) down(ctx context.Context, ev *FaultEvent, nodes []NodeSpec, hold time.Duration, term bool) {
	sig := "kill -9"
	if term {
		sig = "SIGTERM"
		ev.ExitTimes = map[string]time.Duration{}
	}
	in.logf("fault %s: %s %v", ev.Fault, sig, ids(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		ev.Targets = append(ev.Targets, n.ID)
		p := in.c.Procs[n.ID]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !term {
				if err := p.Kill(); err != nil {
					mu.Lock()
					ev.Notes = append(ev.Notes, n.ID+": "+err.Error())
					mu.Unlock()
				}
				return
			}
			sent := time.Now()
			took, stalled, err := p.Terminate(in.stall)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ev.Notes = append(ev.Notes, n.ID+": "+err.Error())
				return
			}
			ev.ExitTimes[n.ID] = took
			if stalled {
				in.anomalies.Add(CheckStall, sent, n.ID, "SIGTERM at %s: not exited after %v; SIGQUIT sent (goroutine dump in %s), then SIGKILL; gone after %v",
					sent.Format("15:04:05.000"), in.stall, n.Log, took.Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
	if term {
		in.logf("fault %s: exit times %v", ev.Fault, ev.ExitTimes)
	}
	sleep(ctx, hold)
	for _, n := range nodes {
		if err := in.c.Procs[n.ID].Start(); err != nil {
			ev.Notes = append(ev.Notes, err.Error())
		}
	}
}

// pause stops n for hold, then continues it.
func (in *Injector) pause(ctx context.Context, ev *FaultEvent, n NodeSpec, hold time.Duration) {
	ev.Targets = []string{n.ID}
	in.logf("fault %s: SIGSTOP %s", ev.Fault, n.ID)
	p := in.c.Procs[n.ID]
	if err := p.Pause(); err != nil {
		ev.Notes = append(ev.Notes, err.Error())
		return
	}
	sleep(ctx, hold)
	if err := p.Resume(); err != nil {
		ev.Notes = append(ev.Notes, err.Error())
	}
}

// isolate cuts n off from the other nodes of its region for hold.
func (in *Injector) isolate(ctx context.Context, ev *FaultEvent, n NodeSpec, hold time.Duration) {
	ev.Targets = []string{n.ID}
	in.logf("fault %s: cut %s off from the rest of %s", ev.Fault, n.ID, n.Region)
	in.c.Procs[n.ID].Mark("partition: cut off from its region")
	var cut [][2]NodeSpec
	for _, o := range in.c.Layout.Region(n.Region) {
		if o.ID == n.ID {
			continue
		}
		if err := in.c.Net.Cut(n, o); err != nil {
			ev.Notes = append(ev.Notes, err.Error())
			continue
		}
		cut = append(cut, [2]NodeSpec{n, o})
	}
	sleep(ctx, hold)
	in.heal(ev, cut)
	in.c.Procs[n.ID].Mark("partition healed")
}

// cutCounty cuts every node of the county off from the city for hold.
func (in *Injector) cutCounty(ctx context.Context, ev *FaultEvent, hold time.Duration) {
	in.logf("fault %s: cut %s off from %s", ev.Fault, County, City)
	var cut [][2]NodeSpec
	for _, c := range in.c.Layout.Region(County) {
		ev.Targets = append(ev.Targets, c.ID)
		for _, p := range in.c.Layout.Region(City) {
			if err := in.c.Net.Cut(c, p); err != nil {
				ev.Notes = append(ev.Notes, err.Error())
				continue
			}
			cut = append(cut, [2]NodeSpec{c, p})
		}
	}
	sleep(ctx, hold)
	in.heal(ev, cut)
}

func (in *Injector) heal(ev *FaultEvent, cut [][2]NodeSpec) {
	for _, p := range cut {
		if err := in.c.Net.Heal(p[0], p[1]); err != nil {
			ev.Notes = append(ev.Notes, err.Error())
		}
	}
}

// waitReady waits until the touched nodes answer /readyz; a node still not
// ready after readyWait is an anomaly.
func (in *Injector) waitReady(ctx context.Context, ev *FaultEvent, nodes []NodeSpec) {
	if len(nodes) == 0 {
		return
	}
	from := time.Now()
	if late := in.c.WaitReady(ctx, nodes, in.readyWait); len(late) > 0 && ctx.Err() == nil {
		in.anomalies.Add(CheckNotReady, from, late[0], "after fault %s healed at %s, %v not ready within %v",
			ev.Fault, from.Format("15:04:05.000"), late, in.readyWait)
		ev.Notes = append(ev.Notes, fmt.Sprintf("not ready within %v: %v", in.readyWait, late))
	}
}

func ids(nodes []NodeSpec) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}
