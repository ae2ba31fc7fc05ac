package node

import (
	"encoding/json"
	"strings"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/replication/link"
	"gridcrm/store/keyspace"
)

// SyncStatus implements api.Backend: this region's links to its parent,
// then one entry per child region this region has received changes from
// (link.Service.Status), with what the domain knows of each child: the age
// of its newest heartbeat held here, its management setting and the writes
// forwarded to it still pending. A node that does not lead lists the links
// to the parent as idle and not running, without figures.
func (n *Node) SyncStatus() []api.LinkStatus {
	r := n.group.Reader()
	var out []api.LinkStatus
	for _, s := range n.linkStatus() {
		st := api.LinkStatus{Peer: s.Peer, Direction: s.Direction, State: s.State, Running: s.Running, AckedSeq: s.AckedSeq, HeadSeq: s.HeadSeq,
			LagEntries: s.LagEntries, LagSeconds: s.LagSeconds, LastContact: s.LastContact, Resyncs: s.Resyncs, LastError: s.LastError,
			QueuedCommands: s.QueuedCommands, Rejected: s.Rejected}
		for _, rj := range s.Rejections {
			st.Rejections = append(st.Rejections, api.LinkRejection{Seq: rj.Seq, Key: rj.Key, Reason: string(rj.Reason), Message: rj.Message, Stage: rj.Stage, At: rj.At})
		}
		if s.Direction == "from-child" {
			ms, _ := crm.RegionStateOf(r, s.Peer)
			st.Mode, st.Epoch = ms.Mode, ms.Epoch
		}
		out = append(out, st)
	}
	return out
}

// linkStatus is the links' status with the domain's figures of each child
// (link.Status leaves them to the wiring): the age of its newest heartbeat
// held here and the writes forwarded to it still pending.
func (n *Node) linkStatus() []link.Status {
	out := n.links.svc.Status()
	r := n.group.Reader()
	now := time.Now()
	for i := range out {
		s := &out[i]
		if s.Direction != "from-child" {
			continue
		}
		ms, _ := crm.RegionStateOf(r, s.Peer)
		s.QueuedCommands = ms.PendingCommands
		if at := canaryAt(r, s.Peer); at > 0 {
			s.LagSeconds = seconds(now, at)
			s.LastContact = time.UnixMilli(at)
		}
	}
	return out
}

func seconds(now time.Time, ms int64) float64 { return link.Seconds(now, ms) }

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
			f.AppliedSeq = link.FreshnessOf(r, reg).AppliedSeq
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
	p := keyspace.Canary(region)
	_ = r.Iterate([]byte(p), []byte(keyspace.End(keyspace.CanaryPrefix)), func(k, _ []byte) bool {
		reg := strings.TrimPrefix(string(k), keyspace.CanaryPrefix)
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
