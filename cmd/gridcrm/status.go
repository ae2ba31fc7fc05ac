package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/api"
)

func statusCmd() *cobra.Command {
	var cr credentials
	c := &cobra.Command{
		Use:   "status",
		Short: "Print the hierarchy as one node sees it: regions, leaders, modes, link lags, tunnels",
		Long: `Log in at any node and print the regions it holds data of as a tree — its
own region and, at a city or the province, every region below — with each
region's leader and term (carried up by its heartbeat), management mode, the
age of its newest heartbeat here, the lag of this node's links, the raft
members of its own region and its WireGuard peers. Read from GET
/api/v1/cluster, /api/v1/sync/status and /api/v1/ops/regions.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cl, err := cr.login(ctx)
			if err != nil {
				return err
			}
			var v statusView
			if err := cl.do(ctx, "GET", "/api/v1/cluster", nil, &v.Cluster); err != nil {
				return err
			}
			if err := cl.do(ctx, "GET", "/api/v1/sync/status", nil, &v.Sync); err != nil {
				return err
			}
			if err := cl.do(ctx, "GET", "/api/v1/ops/regions", nil, &v.Regions); err != nil {
				return err
			}
			renderStatus(cmd.OutOrStdout(), v)
			return nil
		},
	}
	cr.flags(c)
	return c
}

// statusView is what status reads from one node.
type statusView struct {
	Cluster api.ClusterInfo
	Sync    struct {
		Links       []api.LinkStatus `json:"links"`
		TunnelPeers []api.TunnelPeer `json:"tunnel_peers"`
	}
	Regions struct {
		Regions []api.RegionStatus `json:"regions"`
	}
}

var tierOf = map[int]string{2: "province", 4: "city", 6: "county"}

// renderStatus prints v as a tree rooted at the shortest region held.
func renderStatus(w io.Writer, v statusView) {
	ci := v.Cluster
	fmt.Fprintf(w, "seen from node %s of region %s (%s), %s\n", ci.Node, ci.Region, ci.Tier, strings.ToLower(ci.State))
	regions := map[string]api.RegionStatus{}
	var codes []string
	for _, r := range v.Regions.Regions {
		regions[r.Region] = r
		codes = append(codes, r.Region)
	}
	if _, ok := regions[ci.Region]; !ok {
		regions[ci.Region] = api.RegionStatus{Region: ci.Region, Leader: ci.LeaderID, Mode: "autonomous"}
		codes = append(codes, ci.Region)
	}
	sort.Strings(codes)
	// A region's parent in the tree: the longest other held code that is a prefix of it.
	children := map[string][]string{}
	var roots []string
	for _, c := range codes {
		parent := ""
		for _, p := range codes {
			if p != c && strings.HasPrefix(c, p) && len(p) > len(parent) {
				parent = p
			}
		}
		if parent == "" {
			roots = append(roots, c)
		} else {
			children[parent] = append(children[parent], c)
		}
	}
	links := map[string][]api.LinkStatus{} // region → this node's links that concern it
	for _, l := range v.Sync.Links {
		key := l.Peer
		if l.Direction == "up" || l.Direction == "down" {
			key = ci.Region // the links to the parent are this region's
		}
		links[key] = append(links[key], l)
	}
	var walk func(code, indent string, last, root bool)
	walk = func(code, indent string, last, root bool) {
		r := regions[code]
		branch, next := "├── ", indent+"│   "
		if last {
			branch, next = "└── ", indent+"    "
		}
		if root {
			branch, next = "", indent
		}
		leader := r.Leader
		if leader == "" {
			leader = "unknown"
		}
		mode := r.Mode
		if mode == "" {
			mode = "autonomous"
		}
		line := fmt.Sprintf("%s%s%s %s  leader %s", indent, branch, code, tierOf[len(code)], leader)
		if r.Term > 0 {
			line += fmt.Sprintf(" (term %d)", r.Term)
		}
		line += "  mode " + mode
		if r.Epoch > 0 {
			line += fmt.Sprintf(" (epoch %d", r.Epoch)
			if r.Writer != code {
				w := r.Writer
				if w == "" {
					w = "nobody: handover"
				}
				line += ", written by " + w
			}
			line += ")"
		}
		if r.PendingCommands > 0 {
			line += fmt.Sprintf("  %d forwarded writes pending", r.PendingCommands)
		}
		if r.OpenConflicts > 0 {
			line += fmt.Sprintf("  %d open conflicts", r.OpenConflicts)
		}
		if r.HeartbeatAgeSeconds != nil && code != ci.Region {
			line += "  heartbeat " + ago(*r.HeartbeatAgeSeconds)
		}
		fmt.Fprintln(w, line)
		detail := next
		if len(children[code]) > 0 {
			detail += "│ "
		} else {
			detail += "  "
		}
		if code == ci.Region {
			var ms []string
			for _, m := range ci.Members {
				s := m.ID
				if m.Leader {
					s += "*"
				}
				ms = append(ms, s)
			}
			fmt.Fprintf(w, "%smembers %s (applied %d)\n", detail, strings.Join(ms, " "), ci.Applied)
		}
		for _, l := range links[code] {
			if l.State == "idle" && strings.ToLower(ci.State) != "leader" {
				fmt.Fprintf(w, "%slink %-10s idle here: links run on the leader %s (ask it for lags)\n", detail, l.Direction, ci.LeaderID)
				continue
			}
			fmt.Fprintf(w, "%slink %-10s %-4s lag %d entries, %s  acked %d/%d  resyncs %d", detail, l.Direction, l.State, l.LagEntries, secs(l.LagSeconds), l.AckedSeq, l.HeadSeq, l.Resyncs)
			if l.LastError != "" {
				fmt.Fprintf(w, "  error: %s", l.LastError)
			}
			fmt.Fprintln(w)
		}
		if code == ci.Region {
			for _, p := range v.Sync.TunnelPeers {
				hs := "never"
				if p.HandshakeAgeSeconds != nil {
					hs = ago(*p.HandshakeAgeSeconds)
				}
				fmt.Fprintf(w, "%stunnel peer %s %s  handshake %s  rx %d B  tx %d B\n", detail, p.Addr, shortKey(p.PublicKey), hs, p.RxBytes, p.TxBytes)
			}
		}
		for i, c := range children[code] {
			walk(c, next, i == len(children[code])-1, false)
		}
	}
	for _, r := range roots {
		walk(r, "", true, true)
	}
}

func ago(s float64) string { return secs(s) + " ago" }

func secs(s float64) string {
	switch {
	case s < 0:
		return "never"
	case s < 10:
		return fmt.Sprintf("%.1fs", s)
	}
	return (time.Duration(s) * time.Second).String()
}

func shortKey(k string) string {
	if len(k) > 8 {
		return k[:8] + "…"
	}
	return k
}
