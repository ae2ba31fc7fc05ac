package link

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// Applier applies the link's committed raft entries (EntryUplink,
// EntryDownlink, EntryPrune) on a region's replica. It is called by the FSM
// goroutine only and is deterministic. Content never stops it: an entry it
// cannot use is answered with an error and leaves nothing behind; a change
// it must not apply is rejected, counted and skipped. Only the store
// failing makes it panic (mustStore).
type Applier struct {
	region string // this region
	parent string // its parent region; "" for a province or a standalone region
	d      Domain
	m      *Metrics // nil: nothing counted (tests)
}

// NewApplier returns the applier of region (whose parent is parent, "" for
// none) over the domain d, counting on m (nil: nothing counted).
func NewApplier(region, parent string, d Domain, m *Metrics) *Applier {
	return &Applier{region: region, parent: parent, d: d, m: m}
}

// Apply applies one link entry of type kind (its first byte; body is the
// rest) on tx and answers the JSON of an Answer, the same on every replica.
func (a *Applier) Apply(tx *replication.Txn, kind byte, body []byte) []byte {
	switch kind {
	case EntryUplink, EntryDownlink:
		if len(body) < 8 {
			return mustJSON(Answer{Err: &Error{Code: CodeInvalid, Message: "short link entry"}})
		}
		var b Batch
		if err := json.Unmarshal(body[8:], &b); err != nil {
			return mustJSON(Answer{Err: &Error{Code: CodeInvalid, Message: fmt.Sprintf("undecodable link batch: %v", err)}})
		}
		b.At = int64(binary.BigEndian.Uint64(body[:8])) // the proposer's stamp
		dir := Up
		if kind == EntryDownlink {
			dir = Down
		}
		a.m.applied(peerLabel(a.region, a.parent, b.Link), dir.Label(), len(body), len(b.Changes))
		return mustJSON(a.applyBatch(tx, dir, &b))
	case EntryPrune:
		var p Prune
		if err := json.Unmarshal(body, &p); err != nil {
			return mustJSON(Answer{Err: &Error{Code: "internal", Message: err.Error()}})
		}
		mustStore("prune the feed", replication.PruneFeed(tx, p.Upto))
		return mustJSON(Answer{Acked: p.Upto})
	}
	return mustJSON(Answer{Err: &Error{Code: "internal", Message: fmt.Sprintf("unknown link entry type %d", kind)}})
}

// mustStore stops the node when its store fails: the batch the entry was
// being applied on is broken, and the replica would no longer be what its
// raft log says. It is the only reason the applier panics.
func mustStore(what string, err error) {
	if err != nil {
		panic(fmt.Sprintf("link: %s: the store failed: %v", what, err))
	}
}

// applyBatch applies an uplink (from a child) or downlink (from the parent)
// batch idempotently: changes at or below the link's cursor are skipped, a
// batch that starts past it is refused as a gap, and the cursor moves in
// the same batch as the changes. A change the rules refuse (rules.go) is
// rejected: not written, counted, logged; the cursor moves past it, so the
// link goes on. A batch that does not fit its own range is refused whole.
func (a *Applier) applyBatch(tx *replication.Txn, dir Direction, b *Batch) Answer {
	if rj := checkLink(a.region, a.parent, dir, b.Link); rj != nil {
		a.m.reject(peerLabel(a.region, a.parent, b.Link), dir, b.To, "", rj, "apply")
		return Answer{Err: rj.Err}
	}
	ck := cursorKey(dir, b.Link)
	cur, err := replication.GetUint(tx, ck)
	mustStore("read the link cursor", err)
	if b.Resync != nil {
		return a.applyResync(tx, dir, b, cur)
	}
	// The epoch is checked where the batch is proposed (epochRefusal), not
	// here: whether a replica has one kept depends on when it was upgraded,
	// and a refusal that depends on it would let replicas of one region
	// diverge. Here it is only kept, from the entry, alike everywhere.
	ek := keyspace.LinkEpoch(dir.String(), b.Link)
	epoch, err := tx.Get([]byte(ek))
	mustStore("read the link's epoch", err)
	if state, err := tx.Get([]byte(keyspace.Resync(dir.String(), b.Link))); err != nil {
		mustStore("resync progress", err)
	} else if strings.Contains(string(state), sweepState) {
		// Not on a half-swept copy: a change landing behind the sweep would stay
		// even if the snapshot no longer holds it. A late batch of a sender that
		// lost its leadership, say; the sender of the resync goes on with it.
		return Answer{Acked: cur, Sweeping: true, Err: &Error{Code: CodeGap, Message: "a resync of this link is sweeping; send its Sweep parts or start a resync again"}}
	}
	if b.From > cur {
		return Answer{Acked: cur, Err: &Error{Code: CodeGap, Message: "the batch starts after what this side has applied; resend from the acknowledged sequence"}}
	}
	if b.To <= cur {
		return Answer{Acked: cur, Epoch: string(epoch)} // a duplicate (or the sender asking for the cursor)
	}
	if rj := checkRange(dir, b); rj != nil {
		a.m.reject(b.Link, dir, b.To, "", rj, "apply")
		return Answer{Acked: cur, Err: rj.Err}
	}
	chk, err := newChangeCheck(a.d, tx, a.region, dir, b.Link)
	mustStore("read the management setting", err)
	fresh := map[string]Freshness{}
	ct := &FeedTxn{Txn: tx, d: a.d, now: b.At}
	st := &stage{base: ct}
	rejected := 0
	for i := range b.Changes {
		c := &b.Changes[i]
		if c.Seq <= cur {
			continue
		}
		ct.time = c.Time
		if rj := a.applyChecked(chk, st, dir, c); rj != nil {
			a.m.reject(b.Link, dir, c.Seq, c.Key, rj, "apply")
			rejected++
			continue
		}
		fresh[c.Origin] = Freshness{AppliedSeq: c.OSeq, Time: c.Time}
	}
	mustStore("aggregates", ct.Flush())
	for origin, f := range fresh {
		raw, _ := json.Marshal(f)
		mustStore("freshness", tx.Set([]byte(keyspace.Fresh(origin)), raw))
	}
	mustStore("link cursor", replication.PutUint(tx, ck, b.To))
	if validEpoch(b.Epoch) && b.Epoch != string(epoch) { // the cursor counts in this feed
		mustStore("link epoch", tx.Set([]byte(ek), []byte(b.Epoch)))
	}
	if b.Head > 0 {
		mustStore("link head", replication.PutUint(tx, headKey(dir, b.Link), b.Head))
	}
	if dir == Up && b.DownAcked > 0 {
		// A cursor past this feed's head is not of this feed (this region
		// restored or rebuilt; the child's downlink resyncs): it bounds
		// nothing here, or the feed would be pruned of what the child has
		// not pulled.
		_, head, err := replication.FeedBounds(tx.StateReader)
		mustStore("feed bounds", err)
		if b.DownAcked <= head {
			mustStore("child's downlink cursor", replication.PutUint(tx, keyspace.DownAcked(b.Link), b.DownAcked))
		}
	}
	return Answer{Acked: b.To, Rejected: rejected}
}

// applyChecked checks change c and applies it on st; it answers why it was
// rejected, in which case nothing of it is written.
func (a *Applier) applyChecked(chk *changeCheck, st *stage, dir Direction, c *Change) *Reject {
	rj, err := chk.check(c)
	mustStore("check a link change", err)
	if rj != nil {
		return rj
	}
	st.reset(c.Origin, c.OSeq)
	if err := a.applyChange(st, dir, c); err != nil {
		mustStore("apply "+c.Key, st.failed)
		// The checks missed what the domain refused: still content, so
		// still a rejection, with nothing of it written.
		return &Reject{Reason: ReasonInvalid, Err: &Error{Code: CodeInvalid, Message: errMessage(err)}}
	}
	mustStore("apply "+c.Key, st.flush())
	return nil
}

// applyChange applies one change of a link batch. Two cases differ from a
// plain replica write:
//   - down, this region's own management setting: applied, then
//     acknowledged in the same batch (the ack rolls up after every write
//     this region made before; from here on the setting holds here);
//   - up, a record of a child this region took over by force and whose
//     acknowledgement has not arrived: the child wrote it under the old
//     epoch, so it is kept as a conflict, not applied.
func (a *Applier) applyChange(st *stage, dir Direction, c *Change) error {
	coll, _, _ := splitKey(c.Key)
	owner := c.Owner
	if owner == "" {
		owner = a.d.StoredOwner(c.Key, c.Value)
	}
	if dir == Up && a.d.IsKind(coll) && owner != "" {
		epoch, open, err := a.d.OpenTakeover(st, a.region, owner)
		if err != nil {
			return err
		}
		if open {
			st.own(a.region) // the conflict is this region's record; it rolls up for supervision
			return a.d.RecordConflict(st, a.region, owner, epoch, c.OSeq, c.Key, c.Value, c.Time)
		}
	}
	if err := a.d.ApplyReplica(st, c.Key, c.Value); err != nil {
		return err
	}
	if dir != Down || c.Value == nil {
		return nil
	}
	switch {
	case c.Key == mgmtKey(a.region):
		st.own(a.region)
		return a.d.AckManagement(st, a.region, c.Value)
	case coll == collCmd:
		// A write the parent forwards under partial management: executed
		// here, as this region's own write, in the parent's order; its
		// outcome rolls up.
		st.own(a.region)
		return a.d.ExecuteForwarded(st, a.region, c.Value)
	case coll == collDirectives:
		// A directive from above: what it changes here (a calendar year
		// that restarts stopped clocks) is this region's write.
		st.own(a.region)
		return a.d.DirectiveArrived(st, a.region, c.Key, c.Value)
	}
	return nil
}

// applyResync applies one part of a snapshot resync. Part 0 clears the
// marks of an earlier, unfinished resync; every part marks the keys it
// carries (items the rules refuse are rejected, as in a batch); the last
// part starts the sweep that deletes the replica's records of the sender's
// side that the snapshot did not carry, and the sweep moves the cursor to
// the snapshot's sequence when it ends. An uplink sweep looks at no more
// records an entry than the part's SweepMax: where it stops, the answer
// says Sweeping and the sender sends Sweep parts until it is done, so that
// the resync of a county at a city of tens of millions of records never
// holds the FSM for one long entry.
func (a *Applier) applyResync(tx *replication.Txn, dir Direction, b *Batch, cur uint64) Answer {
	r := b.Resync
	progress := keyspace.Resync(dir.String(), b.Link)
	state, err := tx.Get([]byte(progress))
	mustStore("resync progress", err)
	if from, ok := strings.CutPrefix(string(state), r.ID+sweepState); ok {
		if r.Sweep || r.Last { // a Sweep part, or the last part again (its answer was lost)
			return a.sweepResync(tx, dir, b, cur, from, 0)
		}
	}
	if string(state) == r.ID+":done" {
		return Answer{Acked: cur} // a duplicate part, or a sweep already over
	}
	if r.Sweep {
		return Answer{Acked: cur, Err: &Error{Code: CodeGap, Message: fmt.Sprintf("resync %s has no sweep in progress; start the resync again", r.ID)}}
	}
	want := fmt.Sprintf("%s:%d", r.ID, r.Part)
	if r.Part > 0 && string(state) != want {
		if string(state) == fmt.Sprintf("%s:%d", r.ID, r.Part+1) {
			return Answer{Acked: cur} // a duplicate part
		}
		return Answer{Acked: cur, Err: &Error{Code: CodeGap, Message: fmt.Sprintf("resync part %d of %s is out of order; start the resync again", r.Part, r.ID)}}
	}
	marks := keyspace.ResyncMarks(dir.String(), b.Link)
	if r.Part == 0 {
		mustStore("resync marks", tx.DeleteRange([]byte(marks), []byte(keyspace.End(marks))))
	}
	chk, err := newChangeCheck(a.d, tx, a.region, dir, b.Link)
	mustStore("read the management setting", err)
	ct := &FeedTxn{Txn: tx, d: a.d, now: b.At}
	st := &stage{base: ct}
	rejected := 0
	for i := range r.Items {
		c := &r.Items[i]
		ct.time = c.Time
		if rj := a.applyChecked(chk, st, dir, c); rj != nil {
			a.m.reject(b.Link, dir, c.Seq, c.Key, rj, "apply")
			rejected++
			continue
		}
		mustStore("resync mark", tx.Set([]byte(marks+c.Key), nil))
	}
	mustStore("aggregates", ct.Flush())
	if !r.Last {
		mustStore("resync progress", tx.Set([]byte(progress), []byte(fmt.Sprintf("%s:%d", r.ID, r.Part+1))))
		return Answer{Acked: cur, Rejected: rejected}
	}
	return a.sweepResync(tx, dir, b, cur, "", rejected)
}

// sweepState marks, in a link's resync progress, a sweep in progress:
// "<id>:sweep:<the next key to look at>".
const sweepState = ":sweep:"

// maxSweep is the SweepMax a resync's sender asks for: the records the
// receiver's sweep looks at in one entry (0.3 s of its FSM's time at 2.8 µs
// a record: BenchmarkResyncSweep, node/). The receiver takes it from the
// entry, never from its own code, so that replicas of different versions
// stop at the same key; tests make it small (SetMaxSweep).
var maxSweep atomic.Int64

func init() { maxSweep.Store(100_000) }

// SetMaxSweep sets the SweepMax this process's resyncs ask for and answers
// the one before (tests).
func SetMaxSweep(n int) (old int) { return int(maxSweep.Swap(int64(n))) }

// sweepResync goes on with a resync's sweep from key from (the start of the
// records when empty): it deletes the records of the sender's side that
// no part carried (not marked), then, when it reached the end, drops the
// marks and moves the cursor to the snapshot's sequence. Down, the sender's
// side is the directives from above and this region's management setting:
// the directives are read, not every record, and in one entry (a downlink
// resync comes in a single part).
func (a *Applier) sweepResync(tx *replication.Txn, dir Direction, b *Batch, cur uint64, from string, rejected int) Answer {
	r := b.Resync
	progress := keyspace.Resync(dir.String(), b.Link)
	marks := keyspace.ResyncMarks(dir.String(), b.Link)
	lower, limit := keyspace.RecordPrefix, r.SweepMax
	if limit <= 0 { // an older sender: the whole sweep in this entry
		limit = -1
	}
	if dir == Down {
		lower, limit = keyspace.Collection(collDirectives), -1
	}
	upper := keyspace.End(lower)
	if from != "" {
		lower = from
	}
	var stale []string
	next, n := "", 0
	marked := func(k string) bool {
		m, err := tx.Get([]byte(marks + k))
		mustStore("resync mark", err)
		return m != nil
	}
	err := tx.Iterate([]byte(lower), []byte(upper), func(k, v []byte) bool {
		if n == limit {
			next = string(k)
			return false
		}
		n++
		coll, _, _ := splitKey(string(k))
		if coll == collUsers {
			return true
		}
		owner := a.d.StoredOwner(string(k), v)
		var mine bool
		switch dir {
		case Up:
			// Not the records this region writes for a child it manages.
			w, _ := a.d.WriterOf(tx, owner)
			mine = inRegion(owner, b.Link) && !strings.HasPrefix(string(k), keyspace.ConflictPrefix) && w != a.region
		case Down:
			mine = coll == collDirectives && !inRegion(owner, a.region)
		}
		if mine && !marked(string(k)) {
			stale = append(stale, string(k))
		}
		return true
	})
	mustStore("resync scan", err)
	if dir == Down {
		if raw, err := tx.Get([]byte(mgmtKey(a.region))); err != nil {
			mustStore("resync scan", err)
		} else if raw != nil && !marked(mgmtKey(a.region)) {
			stale = append(stale, mgmtKey(a.region))
		}
	}
	ct := &FeedTxn{Txn: tx, d: a.d, now: b.At}
	for _, k := range stale {
		raw, err := tx.Get([]byte(k))
		mustStore("resync scan", err)
		ct.origin, ct.oseq = a.d.StoredOwner(k, raw), 0
		mustStore("resync delete "+k, a.d.ApplyReplica(ct, k, nil))
	}
	mustStore("aggregates", ct.Flush())
	if next != "" {
		mustStore("resync progress", tx.Set([]byte(progress), []byte(r.ID+sweepState+next)))
		return Answer{Acked: cur, Rejected: rejected, Sweeping: true}
	}
	mustStore("resync marks", tx.DeleteRange([]byte(marks), []byte(keyspace.End(marks))))
	mustStore("resync progress", tx.Set([]byte(progress), []byte(r.ID+":done")))
	n0, err := replication.GetUint(tx, resyncsKey(dir, b.Link))
	mustStore("resync count", err)
	mustStore("resync count", replication.PutUint(tx, resyncsKey(dir, b.Link), n0+1))
	mustStore("link cursor", replication.PutUint(tx, cursorKey(dir, b.Link), r.Seq))
	ek := keyspace.LinkEpoch(dir.String(), b.Link)
	if validEpoch(b.Epoch) { // the cursor now counts in the sender's feed as it is
		mustStore("link epoch", tx.Set([]byte(ek), []byte(b.Epoch)))
	} else {
		mustStore("link epoch", tx.Delete([]byte(ek)))
	}
	return Answer{Acked: r.Seq, Rejected: rejected, Epoch: b.Epoch}
}

// resyncsKey counts the resyncs a link applied (keyspace.ResyncCount).
func resyncsKey(dir Direction, peer string) string { return keyspace.ResyncCount(dir.String(), peer) }
