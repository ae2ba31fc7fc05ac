package chaos

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Cluster is the running hierarchy: one Proc per node, the network they
// sit in and an API client.
type Cluster struct {
	Layout Layout
	Net    Network
	API    *API
	Procs  map[string]*Proc
}

// NewCluster prepares a Proc for every node of l.
func NewCluster(l Layout, nw Network, api *API, bin, password, logLevel string) *Cluster {
	c := &Cluster{Layout: l, Net: nw, API: api, Procs: map[string]*Proc{}}
	env := []string{"GRIDCRM_ADMIN_PASSWORD=" + password}
	for _, n := range l.Nodes {
		c.Procs[n.ID] = NewProc(n, nw, bin, env, []string{"--log-level", logLevel})
	}
	return c
}

// StartAll starts every node.
func (c *Cluster) StartAll() error {
	for _, n := range c.Layout.Nodes {
		if err := c.Procs[n.ID].Start(); err != nil {
			return err
		}
	}
	return nil
}

// WaitReady waits until every node in nodes answers /readyz with 200, or
// timeout; it answers the nodes that were not ready.
func (c *Cluster) WaitReady(ctx context.Context, nodes []NodeSpec, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	pending := slices.Clone(nodes)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		var still []NodeSpec
		for _, n := range pending {
			if !c.API.Ready(ctx, n) {
				still = append(still, n)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	var ids []string
	for _, n := range pending {
		ids = append(ids, n.ID)
	}
	return ids
}

// Leader finds the leader of region: a node that says it leads and that
// most of the others name. Paused and stopped nodes are not asked.
func (c *Cluster) Leader(ctx context.Context, region string) (NodeSpec, bool) {
	nodes := c.Layout.Region(region)
	type view struct {
		n  NodeSpec
		ci ClusterInfo
	}
	var mu sync.Mutex
	var views []view
	var wg sync.WaitGroup
	for _, n := range nodes {
		if p := c.Procs[n.ID]; !p.Running() || p.Paused() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ci, err := c.API.Cluster(ctx, n); err == nil {
				mu.Lock()
				views = append(views, view{n, ci})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	votes := map[string]int{}
	for _, v := range views {
		if v.ci.LeaderID != "" {
			votes[v.ci.LeaderID]++
		}
	}
	var best NodeSpec
	found := false
	for _, v := range views {
		if v.ci.State == "Leader" && (!found || votes[v.n.ID] > votes[best.ID]) {
			best, found = v.n, true
		}
	}
	return best, found
}

// LeaderOrPick answers the region's leader, polling up to 5 s; failing
// that, the region's node chosen by pick, with a note saying so.
func (c *Cluster) LeaderOrPick(ctx context.Context, region string, pick int) (NodeSpec, string) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if l, ok := c.Leader(ctx, region); ok {
			return l, ""
		}
		time.Sleep(200 * time.Millisecond)
	}
	nodes := c.Layout.Region(region)
	n := nodes[pick%len(nodes)]
	return n, fmt.Sprintf("no leader of %s found within 5 s: took %s instead", region, n.ID)
}

// Followers answers the running nodes of region other than leader.
func (c *Cluster) Followers(region string, leader NodeSpec) []NodeSpec {
	var out []NodeSpec
	for _, n := range c.Layout.Region(region) {
		if n.ID != leader.ID && c.Procs[n.ID].Running() {
			out = append(out, n)
		}
	}
	return out
}

// KillAll kills every running node (cleanup).
func (c *Cluster) KillAll() {
	for _, p := range c.Procs {
		if p.Running() {
			_ = p.Kill()
		}
	}
}
