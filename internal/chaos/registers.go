package chaos

import (
	"sort"
	"time"
)

// ackedWrite is an update of a register the server acknowledged.
type ackedWrite struct {
	end     time.Time
	version uint64
	value   string
	node    string
}

// ackedWrites indexes one register's acknowledged writes by the time
// their answers came, so that a read can ask in O(log n) which version
// was the newest acknowledged before it began.
type ackedWrites struct {
	byEnd  []ackedWrite // sorted by end
	newest []int        // newest[i]: index in byEnd of the highest version among byEnd[:i+1]
}

func newAckedWrites(ws []ackedWrite) ackedWrites {
	sort.Slice(ws, func(i, j int) bool { return ws[i].end.Before(ws[j].end) })
	a := ackedWrites{byEnd: ws, newest: make([]int, len(ws))}
	for i := range ws {
		a.newest[i] = i
		if i > 0 && ws[a.newest[i-1]].version >= ws[i].version {
			a.newest[i] = a.newest[i-1]
		}
	}
	return a
}

// newestBefore answers the acknowledged write with the highest version
// among those answered before t.
func (a ackedWrites) newestBefore(t time.Time) (ackedWrite, bool) {
	n := sort.Search(len(a.byEnd), func(i int) bool { return !a.byEnd[i].end.Before(t) })
	if n == 0 {
		return ackedWrite{}, false
	}
	return a.byEnd[a.newest[n-1]], true
}

// checkRegisterReads gives the linearizability verdict timestamped
// evidence: two writes acknowledged as the same version (a lost update), a
// read older than a version acknowledged before it began (a stale read), a
// read of a version with another value than the one acknowledged for it,
// and a read or final value written by an update answered "not applied"
// or refused.
func checkRegisterReads(e Evidence, c *capped) {
	writes := map[string][]ackedWrite{}     // key → acknowledged writes
	byVersion := map[string]map[uint64]Op{} // key → version → the write acknowledged as it
	possible := map[string]map[string]Op{}  // key → value → the update that wrote it
	for _, op := range e.Ops {
		if op.Kind != OpUpdate {
			continue
		}
		if possible[op.Key] == nil {
			possible[op.Key], byVersion[op.Key] = map[string]Op{}, map[uint64]Op{}
		}
		possible[op.Key][op.Value] = op
		if op.Outcome != Applied {
			continue
		}
		if prev, ok := byVersion[op.Key][op.NewVersion]; ok {
			c.add(CheckLinearizable, op.End, op.Node, "lost update of %s: %q (%s on %s) and %q (%s on %s) were both acknowledged as v%d",
				op.Key, prev.Value, prev.End.Format("15:04:05.000"), prev.Node, op.Value, op.End.Format("15:04:05.000"), op.Node, op.NewVersion)
		}
		byVersion[op.Key][op.NewVersion] = op
		writes[op.Key] = append(writes[op.Key], ackedWrite{op.End, op.NewVersion, op.Value, op.Node})
	}
	index := map[string]ackedWrites{}
	for k, ws := range writes {
		index[k] = newAckedWrites(ws)
	}
	for _, op := range e.Ops {
		if op.Kind != OpRead || op.Outcome != Applied {
			continue
		}
		if w, ok := index[op.Key].newestBefore(op.Start); ok && w.version > op.Version {
			c.add(CheckLinearizable, op.Start, op.Node, "stale read of %s at %s on %s: v%d %q, but v%d (%q) was acknowledged at %s by %s",
				op.Key, op.Start.Format("15:04:05.000"), op.Node, op.Version, op.Value, w.version, w.value, w.end.Format("15:04:05.000"), w.node)
		}
		if w, ok := byVersion[op.Key][op.Version]; ok && w.Value != op.Value {
			c.add(CheckLinearizable, op.Start, op.Node, "read of %s at %s on %s: v%d is %q, but v%d was acknowledged as %q",
				op.Key, op.Start.Format("15:04:05.000"), op.Node, op.Version, op.Value, op.Version, w.Value)
		}
		if w, ok := possible[op.Key][op.Value]; ok && w.Outcome.Definite() {
			c.add(CheckPhantom, op.Start, op.Node, "read of %s at %s on %s shows %q, written by an update answered %s (%s)",
				op.Key, op.Start.Format("15:04:05.000"), op.Node, op.Value, w.Outcome, describeAttempt(w))
		}
	}
	for _, node := range sortedDumpNodes(e.Dumps) {
		for _, r := range e.customers[node] {
			if w, ok := possible[r.ID][r.Name]; ok && w.Outcome.Definite() {
				c.add(CheckPhantom, w.Start, node, "%s ends with %q at %s, written by an update answered %s (%s)",
					r.ID, r.Name, node, w.Outcome, describeAttempt(w))
			}
		}
	}
}
