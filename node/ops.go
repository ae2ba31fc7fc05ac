package node

import (
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/ops"
	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// registerOps adds the collectors that need the raft group and the data
// directory: the group's own metrics, the filesystem, the domain gauges.
func (n *Node) registerOps() {
	n.raftp.Store(n.group.Raft())
	n.ops.RegisterLabelled(n.cfg.Region, n.cfg.NodeID, n.group)
	n.ops.MustRegister(ops.NewDiskCollector(n.cfg.Region, n.cfg.NodeID, n.cfg.DataDir))
	n.ops.MustRegister(ops.NewDomainCollector(n.cfg.Region, n.cfg.NodeID, func() crm.Reader { return n.group.Reader() }))
	n.ops.MustRegister(newSecurityCollector(n)) // security.go
}

// management fills in what the management setting says of rs.Region.
func management(r crm.Reader, rs *api.RegionStatus) {
	st, _ := crm.RegionStateOf(r, rs.Region)
	rs.Mode, rs.Epoch, rs.Writer = st.Mode, st.Epoch, st.Writer
	rs.PendingCommands, rs.OpenConflicts = st.PendingCommands, st.OpenConflicts
}

// Backup implements api.OpsBackend: it streams a consistent snapshot of
// the node's state keyspace (records, indexes, aggregates, feed, cursors,
// the applied index) in the checksummed state format.
func (n *Node) Backup(w io.Writer) (uint64, error) {
	snap := n.st.DB().NewSnapshot()
	defer snap.Close()
	return replication.WriteState(w, snap)
}

// Regions implements api.OpsBackend: every region this node holds data of
// (its own and, at an upper tier, the replicas below it), with the leader
// and age of the newest heartbeat.
func (n *Node) Regions() []api.RegionStatus {
	r := n.group.Reader()
	now := time.Now()
	var out []api.RegionStatus
	_ = r.Iterate([]byte(keyspace.CanaryPrefix), []byte(keyspace.End(keyspace.CanaryPrefix)), func(k, v []byte) bool {
		var c crm.Canary
		if json.Unmarshal(v, &c) != nil {
			return true
		}
		rs := api.RegionStatus{Region: strings.TrimPrefix(string(k), keyspace.CanaryPrefix), Leader: c.Leader, Term: c.Term, Mode: "autonomous"}
		if c.At > 0 {
			age := seconds(now, c.At)
			rs.HeartbeatAgeSeconds = &age
		}
		out = append(out, rs)
		return true
	})
	own := false
	for i := range out {
		if out[i].Region == n.cfg.Region {
			own = true
			id, _ := n.group.Leader()
			out[i].Leader, out[i].Term = id, n.group.Raft().CurrentTerm()
		}
	}
	if !own {
		id, _ := n.group.Leader()
		out = append(out, api.RegionStatus{Region: n.cfg.Region, Leader: id, Term: n.group.Raft().CurrentTerm(), Mode: "autonomous"})
	}
	for i := range out {
		management(r, &out[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// contextLogger adds region and node to every line, and the raft term once
// the group runs. Links add peer and direction where they log.
func (n *Node) contextLogger(base *slog.Logger) *slog.Logger {
	h := ops.WithAttr(base.Handler(), "term", func() slog.Value {
		if r := n.raftp.Load(); r != nil {
			return slog.Uint64Value(r.CurrentTerm())
		}
		return slog.Value{}
	})
	return slog.New(h).With("region", n.cfg.Region, "node", n.cfg.NodeID)
}
