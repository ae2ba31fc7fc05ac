package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gridcrm/crm"
	"gridcrm/replication"
)

var recordPrefix = []byte("r/")

// changeTxn is the FSM's transaction as the domain sees it: every write of
// a record (r/…) is also appended to the region's change feed and folded
// into the per-region aggregates, in the same batch. Writes that change
// nothing leave no trace. Users are region-local (password hashes do not
// travel), so their changes are not fed.
type changeTxn struct {
	*replication.Txn
	origin string // region where the change was made
	oseq   uint64 // its sequence there; 0 for a change made here
	time   int64  // commit time at the origin, Unix ms
	now    int64  // when this region appends it, Unix ms (from the entry, not a clock)

	deltas map[[2]string]float64 // aggregate changes, summed; written by flush
}

// flush writes the summed aggregate changes (once per command or batch,
// not once per record).
func (t *changeTxn) flush() error {
	if len(t.deltas) == 0 {
		return nil
	}
	ds := make([]crm.Delta, 0, len(t.deltas))
	for k, v := range t.deltas {
		if v != 0 {
			ds = append(ds, crm.Delta{Region: k[0], Metric: k[1], Value: v})
		}
	}
	sort.Slice(ds, func(i, j int) bool { // deterministic write order
		return ds[i].Region < ds[j].Region || (ds[i].Region == ds[j].Region && ds[i].Metric < ds[j].Metric)
	})
	t.deltas = nil
	return crm.ApplyDeltas(t.Txn, ds)
}

func (t *changeTxn) Set(key, value []byte) error {
	if !bytes.HasPrefix(key, recordPrefix) {
		return t.Txn.Set(key, value)
	}
	return t.record(key, value)
}

func (t *changeTxn) Delete(key []byte) error {
	if !bytes.HasPrefix(key, recordPrefix) {
		return t.Txn.Delete(key)
	}
	return t.record(key, nil)
}

func (t *changeTxn) record(key, value []byte) error {
	old, err := t.Txn.Get(key)
	if err != nil {
		return err
	}
	if (value == nil && old == nil) || (value != nil && old != nil && bytes.Equal(old, value)) {
		return nil
	}
	if value == nil {
		err = t.Txn.Delete(key)
	} else {
		err = t.Txn.Set(key, value)
	}
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(key, []byte("r/users/")) {
		owner := value
		if owner == nil {
			owner = old
		}
		if _, err := replication.AppendChange(t.Txn, replication.Change{Origin: t.origin, OSeq: t.oseq, Key: string(key), Owner: crm.RecordOwner(owner), Value: value, Time: t.time, Appended: t.now}); err != nil {
			return err
		}
	}
	for _, d := range crm.AggregateDeltas(string(key), old, value) {
		if t.deltas == nil {
			t.deltas = map[[2]string]float64{}
		}
		t.deltas[[2]string{d.Region, d.Metric}] += d.Value
	}
	return nil
}

// linkBatch is a batch of changes crossing a link: an uplink batch from a
// child, or a downlink batch of directives from the parent. It covers the
// sender's feed sequences (From, To]; Changes are the ones in that range
// meant for the receiver (checkRange says how they must fit).
type linkBatch struct {
	Link    string               `json:"link"` // the sender's region
	From    uint64               `json:"from"`
	To      uint64               `json:"to"`
	Head    uint64               `json:"head,omitempty"` // the sender's feed head when it sent
	At      int64                `json:"-"`              // when the receiving node proposed it, Unix ms (carried before the JSON; see linkEntry)
	Changes []replication.Change `json:"changes,omitempty"`
	Resync  *resyncPart          `json:"resync,omitempty"`
	// DownAcked, on an uplink, is the sender's downlink cursor on the
	// receiver's feed: a middle tier keeps the entries its children have
	// not pulled yet, whatever its own parent has acknowledged.
	DownAcked uint64 `json:"down_acked,omitempty"`
}

// resyncPart is one step of a snapshot resync: the sender's records in
// Keys order, and, on the last part, the feed sequence the snapshot is at.
type resyncPart struct {
	ID    string               `json:"id"`    // one resync, for idempotent parts
	Part  int                  `json:"part"`  // 0, 1, 2 … in order
	Last  bool                 `json:"last"`  // the final part: drop what was not sent, set the cursor
	Seq   uint64               `json:"seq"`   // the sender's feed sequence the snapshot reflects
	Items []replication.Change `json:"items"` // records (Key, Value, Origin)
}

// linkAnswer is the receiver's answer to a link batch.
type linkAnswer struct {
	Acked    uint64     `json:"acked"`              // the receiver's cursor for the link after the batch
	Rejected int        `json:"rejected,omitempty"` // changes rejected on apply: not written, the cursor moved past them
	Err      *crm.Error `json:"error,omitempty"`
}

// freshness is what a node knows of how current its copy of a region is.
type freshness struct {
	AppliedSeq uint64 `json:"applied_seq"` // the region's own feed sequence applied here
	Time       int64  `json:"time"`        // commit time of that change, Unix ms
}

func cursorKey(dir, region string) string { return "m/link/" + dir + "/" + region }

// downAckedPrefix holds each child's downlink cursor on this region's feed,
// as the child last reported it on its uplink.
const downAckedPrefix = "m/link/downacked/"

// applyLinkBatch applies an uplink (dir "up": from a child) or downlink
// (dir "down": from the parent) batch idempotently: changes at or below the
// link's cursor are skipped, a batch that starts past it is refused as a
// gap, and the cursor moves in the same batch as the changes. A change the
// rules refuse (linkcheck.go) is rejected: not written, counted, logged;
// the cursor moves past it, so the link goes on. A batch that does not fit
// its own range is refused whole.
func (a *applier) applyLinkBatch(tx *replication.Txn, dir string, b *linkBatch) linkAnswer {
	if rj := checkLink(a.region, a.parent, dir, b.Link); rj != nil {
		a.rejects.add(peerLabel(a.region, a.parent, b.Link), dir, b.To, "", rj, "apply")
		return linkAnswer{Err: rj.err}
	}
	ck := cursorKey(dir, b.Link)
	cur, err := replication.GetUint(tx, ck)
	mustStore("read the link cursor", err)
	if b.Resync != nil {
		return a.applyResync(tx, dir, b, cur)
	}
	if b.From > cur {
		return linkAnswer{Acked: cur, Err: &crm.Error{Code: "gap", Message: "the batch starts after what this side has applied; resend from the acknowledged sequence"}}
	}
	if b.To <= cur {
		return linkAnswer{Acked: cur} // a duplicate
	}
	if rj := checkRange(dir, b); rj != nil {
		a.rejects.add(b.Link, dir, b.To, "", rj, "apply")
		return linkAnswer{Acked: cur, Err: rj.err}
	}
	chk, err := newChangeCheck(tx, a.region, dir, b.Link)
	mustStore("read the management setting", err)
	fresh := map[string]freshness{}
	ct := &changeTxn{Txn: tx, now: b.At}
	st := &stage{base: ct}
	rejected := 0
	for i := range b.Changes {
		c := &b.Changes[i]
		if c.Seq <= cur {
			continue
		}
		ct.time = c.Time
		if rj := a.applyChecked(chk, st, dir, c); rj != nil {
			a.rejects.add(b.Link, dir, c.Seq, c.Key, rj, "apply")
			rejected++
			continue
		}
		fresh[c.Origin] = freshness{AppliedSeq: c.OSeq, Time: c.Time}
	}
	mustStore("aggregates", ct.flush())
	for origin, f := range fresh {
		raw, _ := json.Marshal(f)
		mustStore("freshness", tx.Set([]byte("m/fresh/"+origin), raw))
	}
	mustStore("link cursor", replication.PutUint(tx, ck, b.To))
	if b.Head > 0 {
		mustStore("link head", replication.PutUint(tx, "m/link/"+dir+"head/"+b.Link, b.Head))
	}
	if dir == "up" && b.DownAcked > 0 {
		_, head, err := replication.FeedBounds(tx.StateReader)
		mustStore("feed bounds", err)
		mustStore("child's downlink cursor", replication.PutUint(tx, downAckedPrefix+b.Link, min(b.DownAcked, head)))
	}
	return linkAnswer{Acked: b.To, Rejected: rejected}
}

// applyChecked checks change c and applies it on st; it answers why it was
// rejected, in which case nothing of it is written.
func (a *applier) applyChecked(chk *changeCheck, st *stage, dir string, c *replication.Change) *reject {
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
		return &reject{reason: rejectInvalid, err: crm.AsError(err)}
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
func (a *applier) applyChange(st *stage, dir string, c *replication.Change) error {
	coll, _, _ := crm.SplitRecordKey(c.Key)
	owner := c.Owner
	if owner == "" {
		owner = crm.StoredOwner(c.Key, c.Value)
	}
	if dir == "up" && crm.Kinds[coll] != nil && owner != "" {
		w, m, err := crm.WriterOf(st, owner)
		if err != nil {
			return err
		}
		if m != nil && m.Forced && w == a.region {
			if ack, err := crm.AckOf(st, owner); err != nil {
				return err
			} else if ack == nil || ack.Epoch < m.Epoch {
				st.origin, st.oseq = a.region, 0 // the conflict is this region's record; it rolls up for supervision
				return crm.RecordConflict(st, a.region, owner, m.Epoch, c.OSeq, c.Key, c.Value, c.Time)
			}
		}
	}
	if err := crm.ApplyReplica(st, c.Key, c.Value); err != nil {
		return err
	}
	if dir != "down" || c.Value == nil {
		return nil
	}
	switch {
	case c.Key == crm.MgmtKey(a.region):
		st.origin, st.oseq = a.region, 0
		return crm.AckManagement(st, a.region, c.Value)
	case coll == "_cmd":
		// A write the parent forwards under partial management: executed
		// here, as this region's own write, in the parent's order; its
		// outcome rolls up.
		st.origin, st.oseq = a.region, 0
		return crm.ExecuteForwarded(st, a.region, c.Value)
	}
	return nil
}

// stage holds the writes of one link change until it has been applied
// whole, so that a change the domain refuses half-way leaves nothing; it
// tells a failing store (failed) from refused content. Each write keeps the
// origin it is fed under (origin, oseq at the time of the write). Iterate
// reads the batch without the staged writes (the domain's replica and
// management code reads with Get).
type stage struct {
	base   *changeTxn
	origin string // the origin the next writes are fed under
	oseq   uint64
	failed error // the first error of the store

	writes []stagedWrite
	index  map[string]int // key → its write in writes
}

type stagedWrite struct {
	key, value []byte // value nil: delete
	origin     string
	oseq       uint64
}

func (s *stage) reset(origin string, oseq uint64) {
	s.origin, s.oseq, s.failed = origin, oseq, nil
	s.writes = s.writes[:0]
	clear(s.index)
}

func (s *stage) store(err error) error {
	if err != nil && s.failed == nil {
		s.failed = err
	}
	return err
}

func (s *stage) Get(key []byte) ([]byte, error) {
	if i, ok := s.index[string(key)]; ok {
		return bytes.Clone(s.writes[i].value), nil
	}
	v, err := s.base.Get(key)
	return v, s.store(err)
}

func (s *stage) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	return s.store(s.base.Iterate(lower, upper, fn))
}

func (s *stage) put(key, value []byte) {
	w := stagedWrite{key: bytes.Clone(key), value: value, origin: s.origin, oseq: s.oseq}
	if i, ok := s.index[string(key)]; ok {
		s.writes[i] = w
		return
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[string(key)] = len(s.writes)
	s.writes = append(s.writes, w)
}

func (s *stage) Set(key, value []byte) error {
	s.put(key, append([]byte{}, value...))
	return nil
}

func (s *stage) Delete(key []byte) error {
	s.put(key, nil)
	return nil
}

// flush writes the staged writes to the batch, in the order they were made.
func (s *stage) flush() error {
	ct := s.base
	origin, oseq := ct.origin, ct.oseq
	defer func() { ct.origin, ct.oseq = origin, oseq }()
	for _, w := range s.writes {
		ct.origin, ct.oseq = w.origin, w.oseq
		var err error
		if w.value == nil {
			err = ct.Delete(w.key)
		} else {
			err = ct.Set(w.key, w.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// applyResync applies one part of a snapshot resync. Part 0 clears the
// marks of an earlier, unfinished resync; every part marks the keys it
// carries (items the rules refuse are rejected, as in a batch); the last
// part deletes the replica's records of the sender's side that the
// snapshot did not carry, and moves the cursor to the snapshot's sequence.
func (a *applier) applyResync(tx *replication.Txn, dir string, b *linkBatch, cur uint64) linkAnswer {
	r := b.Resync
	progress := "m/resync/" + dir + "/" + b.Link
	state, err := tx.Get([]byte(progress))
	mustStore("resync progress", err)
	want := fmt.Sprintf("%s:%d", r.ID, r.Part)
	if r.Part > 0 && string(state) != want {
		if string(state) == fmt.Sprintf("%s:%d", r.ID, r.Part+1) || string(state) == r.ID+":done" {
			return linkAnswer{Acked: cur} // a duplicate part
		}
		return linkAnswer{Acked: cur, Err: &crm.Error{Code: "gap", Message: fmt.Sprintf("resync part %d of %s is out of order; start the resync again", r.Part, r.ID)}}
	}
	marks := "m/rsmark/" + dir + "/" + b.Link + "/"
	if r.Part == 0 {
		mustStore("resync marks", deletePrefix(tx, marks))
	}
	chk, err := newChangeCheck(tx, a.region, dir, b.Link)
	mustStore("read the management setting", err)
	ct := &changeTxn{Txn: tx, now: b.At}
	st := &stage{base: ct}
	rejected := 0
	for i := range r.Items {
		c := &r.Items[i]
		ct.time = c.Time
		if rj := a.applyChecked(chk, st, dir, c); rj != nil {
			a.rejects.add(b.Link, dir, c.Seq, c.Key, rj, "apply")
			rejected++
			continue
		}
		mustStore("resync mark", tx.Set([]byte(marks+c.Key), nil))
	}
	if !r.Last {
		mustStore("aggregates", ct.flush())
		mustStore("resync progress", tx.Set([]byte(progress), []byte(fmt.Sprintf("%s:%d", r.ID, r.Part+1))))
		return linkAnswer{Acked: cur, Rejected: rejected}
	}
	// Drop the records of the sender's side that the snapshot did not carry.
	var stale []string
	err = tx.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		coll, _, _ := crm.SplitRecordKey(string(k))
		if coll == "users" {
			return true
		}
		owner := crm.StoredOwner(string(k), v)
		var mine bool
		switch dir {
		case "up":
			// Not the records this region writes for a child it manages.
			w, _, _ := crm.WriterOf(tx, owner)
			mine = crm.InRegion(owner, b.Link) && !strings.HasPrefix(string(k), "r/_conflict/") && w != a.region
		case "down":
			mine = (coll == "directives" && !crm.InRegion(owner, a.region)) || string(k) == crm.MgmtKey(a.region)
		}
		if mine {
			if m, _ := tx.Get([]byte(marks + string(k))); m == nil {
				stale = append(stale, string(k))
			}
		}
		return true
	})
	mustStore("resync scan", err)
	for _, k := range stale {
		raw, err := tx.Get([]byte(k))
		mustStore("resync scan", err)
		ct.origin, ct.oseq = crm.StoredOwner(k, raw), 0
		mustStore("resync delete "+k, crm.ApplyReplica(ct, k, nil))
	}
	mustStore("aggregates", ct.flush())
	mustStore("resync marks", deletePrefix(tx, marks))
	mustStore("resync progress", tx.Set([]byte(progress), []byte(r.ID+":done")))
	n, err := replication.GetUint(tx, "m/resyncs/"+dir+"/"+b.Link)
	mustStore("resync count", err)
	mustStore("resync count", replication.PutUint(tx, "m/resyncs/"+dir+"/"+b.Link, n+1))
	mustStore("link cursor", replication.PutUint(tx, cursorKey(dir, b.Link), r.Seq))
	return linkAnswer{Acked: r.Seq, Rejected: rejected}
}

func deletePrefix(tx *replication.Txn, prefix string) error {
	var keys [][]byte
	end := []byte(prefix)
	end[len(end)-1]++
	if err := tx.Iterate([]byte(prefix), end, func(k, _ []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return true
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
