package link

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// Link states, as the status shows them.
const (
	StateUp        = "up"        // the last exchange succeeded
	StateDown      = "down"      // the last exchange failed (LastError says why)
	StateResyncing = "resyncing" // a snapshot resync is under way
	StateIdle      = "idle"      // this node does not run the link (it does not lead)
)

// Status is one link as this node sees it. The wiring adds the domain's
// figures (a from-child link's heartbeat age and contact, its management
// setting, QueuedCommands) before it shows or exports it.
type Status struct {
	Peer        string    // the region at the other end
	Direction   string    // "up" (to the parent), "down" (from the parent), "from-child"
	State       string    // StateUp, StateDown, StateResyncing, StateIdle
	Running     bool      // this node runs the link (up, down: the region's leader; from-child: every node); false: no figures here
	AckedSeq    uint64    // the receiver's cursor on the sender's feed
	HeadSeq     uint64    // the sender's feed head, as last known
	LagEntries  uint64    // HeadSeq - AckedSeq
	LagSeconds  float64   // up: age of the oldest change not shipped; down: since the last exchange (-1: none yet); from-child: filled by the wiring
	LastContact time.Time // last successful exchange
	Resyncs     uint64
	LastError   string
	// QueuedCommands, filled by the wiring on a from-child link: writes
	// forwarded to the child still waiting for their outcome.
	QueuedCommands int
	// Rejected counts the link's batches and changes this node refused
	// since it started; Rejections are the latest.
	Rejected   uint64
	Rejections []Rejection
}

// Status answers this region's links to its parent (up, then down), then
// one entry per child region this region has received changes from. The
// links to the parent run on the region's leader; another node lists them
// as idle and not running, without figures (they would be stale). Every
// entry carries the rejections this node counted on that link.
func (s *Service) Status() []Status {
	var out []Status
	s.mu.Lock()
	if s.cfg.Parent != "" {
		out = []Status{s.up, s.down}
	}
	s.mu.Unlock()
	now := time.Now()
	r := s.cfg.Group.Reader()
	if len(out) > 0 && !s.cfg.Group.IsLeader() {
		for i := range out {
			out[i] = Status{Peer: out[i].Peer, Direction: out[i].Direction, State: StateIdle}
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
				if cs, _, err := replication.ReadFeed(r, up.AckedSeq, 1, 1<<20, s.upFilter); err == nil && len(cs) > 0 {
					at := cs[0].Appended
					if at == 0 {
						at = cs[0].Time
					}
					up.LagSeconds = Seconds(now, at)
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
	prefix := keyspace.LinkCursorsOf(Up.String())
	_ = r.Iterate([]byte(prefix), []byte(keyspace.End(prefix)), func(k, v []byte) bool {
		child := strings.TrimPrefix(string(k), prefix)
		if strings.Contains(child, "/") {
			return true
		}
		acked, _ := replication.GetUint(r, string(k))
		head, _ := replication.GetUint(r, headKey(Up, child))
		resyncs, _ := replication.GetUint(r, resyncsKey(Up, child))
		st := Status{Peer: child, Direction: Up.Label(), State: StateUp, Running: true, AckedSeq: acked, HeadSeq: max(head, acked), Resyncs: resyncs}
		st.LagEntries = st.HeadSeq - acked
		out = append(out, st)
		return true
	})
	for i := range out {
		out[i].Rejected, out[i].Rejections = s.m.Rejections(out[i].Peer, out[i].Direction)
	}
	return out
}

// Seconds is how long before now the Unix-ms time ms was, never negative.
func Seconds(now time.Time, ms int64) float64 {
	return math.Max(0, float64(now.UnixMilli()-ms)/1000)
}

// FreshnessOf reads what r holds of how current its copy of region is
// (zero when nothing of it arrived over a link).
func FreshnessOf(r Reader, region string) Freshness {
	var f Freshness
	if raw, _ := r.Get([]byte(keyspace.Fresh(region))); raw != nil {
		_ = json.Unmarshal(raw, &f)
	}
	return f
}
