package node

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/replication"
)

// SyncStatus implements api.Backend: this region's links to its parent,
// then one entry per child region this region has received changes from.
// The links to the parent run on the region's leader; another node lists
// them as idle and not running, without figures (they would be stale).
// Every entry carries the rejections this node counted on that link.
func (n *Node) SyncStatus() []api.LinkStatus {
	out := n.links.status()
	now := time.Now()
	r := n.group.Reader()
	if len(out) > 0 && !n.group.IsLeader() {
		for i := range out {
			out[i] = api.LinkStatus{Peer: out[i].Peer, Direction: out[i].Direction, State: "idle"}
		}
	} else if len(out) > 0 {
		// The uplink's figures come from this region's feed, whatever the
		// link's state (a cut link still lags): its head, what the parent
		// has acknowledged (at least what the feed no longer keeps), and
		// how long ago the oldest change not shipped was appended.
		up := &out[0]
		up.Running = true
		if first, head, err := replication.FeedBounds(r); err == nil {
			up.HeadSeq = head
			up.AckedSeq = min(head, max(up.AckedSeq, first-1))
			up.LagEntries, up.LagSeconds = head-up.AckedSeq, 0
			if up.LagEntries > 0 {
				if cs, _, err := replication.ReadFeed(r, up.AckedSeq, 1, 1<<20, n.keepUp); err == nil && len(cs) > 0 {
					at := cs[0].Appended
					if at == 0 {
						at = cs[0].Time
					}
					up.LagSeconds = seconds(now, at)
				}
			}
		}
		down := &out[1]
		down.Running = true
		if down.LastContact.IsZero() {
			down.LagSeconds = -1
		} else {
			down.LagSeconds = now.Sub(down.LastContact).Seconds()
		}
	}
	prefix := "m/link/up/"
	_ = r.Iterate([]byte(prefix), []byte("m/link/up0"), func(k, v []byte) bool {
		child := strings.TrimPrefix(string(k), prefix)
		if strings.Contains(child, "/") {
			return true
		}
		acked, _ := replication.GetUint(r, string(k))
		head, _ := replication.GetUint(r, "m/link/uphead/"+child)
		resyncs, _ := replication.GetUint(r, "m/resyncs/up/"+child)
		ms, _ := crm.RegionStateOf(r, child)
		st := api.LinkStatus{Peer: child, Direction: "from-child", State: "up", Running: true, AckedSeq: acked, HeadSeq: max(head, acked), Resyncs: resyncs,
			Mode: ms.Mode, Epoch: ms.Epoch, QueuedCommands: ms.PendingCommands}
		st.LagEntries = st.HeadSeq - acked
		if at := canaryAt(r, child); at > 0 {
			st.LagSeconds = seconds(now, at)
			st.LastContact = time.UnixMilli(at)
		}
		out = append(out, st)
		return true
	})
	for i := range out {
		out[i].Rejected, out[i].Rejections = n.rejects.of(out[i].Peer, out[i].Direction)
	}
	return out
}

func seconds(now time.Time, ms int64) float64 {
	return math.Max(0, float64(now.UnixMilli()-ms)/1000)
}

// canaryAt is the time of the newest heartbeat of region held here (Unix
// ms), 0 if none.
func canaryAt(r crm.Reader, region string) int64 {
	raw, err := r.Get([]byte(crm.CanaryKey(region)))
	if err != nil || raw == nil {
		return 0
	}
	var c crm.Canary
	_ = json.Unmarshal(raw, &c)
	return c.At
}

// Freshness implements api.Backend.
func (n *Node) Freshness(region string, subtree bool) map[string]api.Freshness {
	r := n.group.Reader()
	now := time.Now()
	out := map[string]api.Freshness{}
	add := func(reg string) {
		var f api.Freshness
		if reg == n.cfg.Region {
			_, head, _ := replication.FeedBounds(r)
			zero := 0.0
			f = api.Freshness{AppliedSeq: head, AgeSeconds: &zero}
		} else {
			var fr freshness
			if raw, _ := r.Get([]byte("m/fresh/" + reg)); raw != nil {
				_ = json.Unmarshal(raw, &fr)
			}
			f.AppliedSeq = fr.AppliedSeq
			if at := canaryAt(r, reg); at > 0 {
				age := seconds(now, at)
				f.AgeSeconds = &age
			}
		}
		out[reg] = f
	}
	if !subtree {
		add(region)
		return out
	}
	p := "r/_canary/" + region
	_ = r.Iterate([]byte(p), []byte("r/_canary0"), func(k, _ []byte) bool {
		reg := strings.TrimPrefix(string(k), "r/_canary/")
		if !strings.HasPrefix(reg, region) {
			return false
		}
		add(reg)
		return true
	})
	if _, ok := out[region]; !ok && crm.InRegion(region, n.cfg.Region) {
		add(region)
	}
	return out
}
