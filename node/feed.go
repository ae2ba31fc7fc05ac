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
// meant for the receiver.
type linkBatch struct {
	Link    string               `json:"link"` // the sender's region
	From    uint64               `json:"from"`
	To      uint64               `json:"to"`
	Head    uint64               `json:"head,omitempty"` // the sender's feed head when it sent
	At      int64                `json:"-"`              // when the receiving node proposed it, Unix ms (carried before the JSON; see linkEntry)
	Changes []replication.Change `json:"changes,omitempty"`
	Resync  *resyncPart          `json:"resync,omitempty"`
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
	Acked uint64     `json:"acked"` // the receiver's cursor for the link after the batch
	Err   *crm.Error `json:"error,omitempty"`
}

// freshness is what a node knows of how current its copy of a region is.
type freshness struct {
	AppliedSeq uint64 `json:"applied_seq"` // the region's own feed sequence applied here
	Time       int64  `json:"time"`        // commit time of that change, Unix ms
}

func cursorKey(dir, region string) string { return "m/link/" + dir + "/" + region }

// applyLinkBatch applies an uplink (dir "up": from a child) or downlink
// (dir "down": from the parent) batch idempotently: changes at or below the
// link's cursor are skipped, a batch that starts past it is refused as a
// gap, and the cursor moves in the same batch as the changes.
func (a *applier) applyLinkBatch(tx *replication.Txn, dir string, b *linkBatch) linkAnswer {
	if e := a.checkLink(dir, b.Link); e != nil {
		return linkAnswer{Err: e}
	}
	ck := cursorKey(dir, b.Link)
	cur, err := replication.GetUint(tx, ck)
	if err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	if b.Resync != nil {
		return a.applyResync(tx, dir, b, cur)
	}
	if b.From > cur {
		return linkAnswer{Acked: cur, Err: &crm.Error{Code: "gap", Message: fmt.Sprintf("batch starts after %d but this side has applied through %d; resend from %d", b.From, cur, cur)}}
	}
	if b.To <= cur {
		return linkAnswer{Acked: cur} // a duplicate
	}
	// Check everything before writing anything: a refused batch leaves no trace.
	for i := range b.Changes {
		if e := a.checkChange(dir, b.Link, &b.Changes[i]); e != nil {
			return linkAnswer{Acked: cur, Err: e}
		}
	}
	fresh := map[string]freshness{}
	ct := &changeTxn{Txn: tx, now: b.At}
	for i := range b.Changes {
		c := &b.Changes[i]
		if c.Seq <= cur {
			continue
		}
		ct.origin, ct.oseq, ct.time = c.Origin, c.OSeq, c.Time
		if err := a.applyChange(ct, dir, b.Link, c); err != nil {
			panic(fmt.Sprintf("node: apply replica %s: %v", c.Key, err)) // checked above: only I/O fails here
		}
		fresh[c.Origin] = freshness{AppliedSeq: c.OSeq, Time: c.Time}
	}
	if err := ct.flush(); err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	for origin, f := range fresh {
		raw, _ := json.Marshal(f)
		if err := tx.Set([]byte("m/fresh/"+origin), raw); err != nil {
			return linkAnswer{Err: crm.AsError(err)}
		}
	}
	if err := replication.PutUint(tx, ck, b.To); err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	if b.Head > 0 {
		_ = replication.PutUint(tx, "m/link/"+dir+"head/"+b.Link, b.Head)
	}
	return linkAnswer{Acked: b.To}
}

// applyChange applies one change of a link batch. Two cases differ from a
// plain replica write:
//   - down, this region's own management setting: applied, then
//     acknowledged in the same batch (the ack rolls up after every write
//     this region made before; from here on the setting holds here);
//   - up, a record of a child this region took over by force and whose
//     acknowledgement has not arrived: the child wrote it under the old
//     epoch, so it is kept as a conflict, not applied.
func (a *applier) applyChange(ct *changeTxn, dir, link string, c *replication.Change) error {
	coll, _, _ := crm.SplitRecordKey(c.Key)
	if dir == "up" && crm.Kinds[coll] != nil && c.Owner != "" {
		w, m, err := crm.WriterOf(ct, c.Owner)
		if err != nil {
			return err
		}
		if m != nil && m.Forced && w == a.region {
			if ack, err := crm.AckOf(ct, c.Owner); err != nil {
				return err
			} else if ack == nil || ack.Epoch < m.Epoch {
				origin, oseq := ct.origin, ct.oseq
				ct.origin, ct.oseq = a.region, 0 // the conflict is this region's record; it rolls up for supervision
				defer func() { ct.origin, ct.oseq = origin, oseq }()
				return crm.RecordConflict(ct, a.region, c.Owner, m.Epoch, c.OSeq, c.Key, c.Value, c.Time)
			}
		}
	}
	if err := crm.ApplyReplica(ct, c.Key, c.Value); err != nil {
		return err
	}
	if dir != "down" || c.Value == nil {
		return nil
	}
	switch {
	case c.Key == crm.MgmtKey(a.region):
		origin, oseq := ct.origin, ct.oseq
		ct.origin, ct.oseq = a.region, 0
		defer func() { ct.origin, ct.oseq = origin, oseq }()
		return crm.AckManagement(ct, a.region, c.Value)
	case coll == "_cmd":
		// A write the parent forwards under partial management: executed
		// here, as this region's own write, in the parent's order; its
		// outcome rolls up.
		origin, oseq := ct.origin, ct.oseq
		ct.origin, ct.oseq = a.region, 0
		defer func() { ct.origin, ct.oseq = origin, oseq }()
		return crm.ExecuteForwarded(ct, a.region, c.Value)
	}
	return nil
}

// checkLink: uplinks come from this region's children, downlinks from its parent.
func (a *applier) checkLink(dir, link string) *crm.Error {
	switch dir {
	case "up":
		if len(link) <= len(a.region) || !crm.InRegion(link, a.region) || len(link) != len(a.region)+2 {
			return &crm.Error{Code: "forbidden", Field: "link", Message: fmt.Sprintf("region %s is not a child of %s", link, a.region)}
		}
	case "down":
		if link != a.parent {
			return &crm.Error{Code: "forbidden", Field: "link", Message: fmt.Sprintf("region %s is not the parent of %s (%s is)", link, a.region, a.parent)}
		}
	}
	return nil
}

// checkChange: an uplink may only carry records of the child's subtree; a
// downlink only directives from above addressed to this region's branch.
// Every value must be a record of its collection.
func (a *applier) checkChange(dir, link string, c *replication.Change) *crm.Error {
	coll, _, ok := crm.SplitRecordKey(c.Key)
	if !ok {
		return &crm.Error{Code: crm.CodeInvalid, Field: "key", Message: fmt.Sprintf("%q is not a record key", c.Key)}
	}
	switch dir {
	case "up":
		if !crm.InRegion(c.Origin, link) {
			return &crm.Error{Code: "forbidden", Field: "origin", Message: fmt.Sprintf("child %s may not send changes of region %s", link, c.Origin)}
		}
		if coll == "users" {
			return &crm.Error{Code: "forbidden", Field: "key", Message: "users do not roll up"}
		}
	case "down":
		above := !crm.InRegion(c.Origin, a.region)
		ok := above && (coll == "directives" ||
			(coll == "_mgmt" && crm.InRegion(strings.TrimPrefix(c.Key, "r/_mgmt/"), a.region)) ||
			(coll == "_cmd" && c.Value != nil && crm.InRegion(crm.ForwardedRegion(c.Value), a.region)) ||
			(crm.Kinds[coll] != nil && coll != "users" && crm.InRegion(c.Owner, a.region)))
		if !ok {
			return &crm.Error{Code: "forbidden", Field: "key", Message: fmt.Sprintf("a downlink carries only directives, management settings and records of this branch written above it, not %s from %s", c.Key, c.Origin)}
		}
	}
	if c.Value != nil {
		if err := crm.ValidRecord(coll, c.Value); err != nil {
			return &crm.Error{Code: crm.CodeInvalid, Field: "value", Message: fmt.Sprintf("%s is not a valid %s record: %v", c.Key, coll, err)}
		}
	}
	return nil
}

// applyResync applies one part of a snapshot resync. Part 0 clears the
// marks of an earlier, unfinished resync; every part marks the keys it
// carries; the last part deletes the replica's records of the sender's
// subtree that the snapshot did not carry, and moves the cursor to the
// snapshot's sequence.
func (a *applier) applyResync(tx *replication.Txn, dir string, b *linkBatch, cur uint64) linkAnswer {
	r := b.Resync
	progress := "m/resync/" + dir + "/" + b.Link
	state, _ := tx.Get([]byte(progress))
	want := fmt.Sprintf("%s:%d", r.ID, r.Part)
	if r.Part > 0 && string(state) != want {
		if string(state) == fmt.Sprintf("%s:%d", r.ID, r.Part+1) || string(state) == r.ID+":done" {
			return linkAnswer{Acked: cur} // a duplicate part
		}
		return linkAnswer{Acked: cur, Err: &crm.Error{Code: "gap", Message: fmt.Sprintf("resync part %d of %s out of order (have %q)", r.Part, r.ID, state)}}
	}
	marks := "m/rsmark/" + dir + "/" + b.Link + "/"
	if r.Part == 0 {
		if err := deletePrefix(tx, marks); err != nil {
			return linkAnswer{Err: crm.AsError(err)}
		}
	}
	for i := range r.Items {
		if e := a.checkChange(dir, b.Link, &r.Items[i]); e != nil {
			return linkAnswer{Acked: cur, Err: e}
		}
	}
	ct := &changeTxn{Txn: tx, now: b.At}
	defer func() {
		if err := ct.flush(); err != nil {
			panic(fmt.Sprintf("node: resync aggregates: %v", err))
		}
	}()
	for i := range r.Items {
		c := &r.Items[i]
		ct.origin, ct.oseq, ct.time = c.Origin, c.OSeq, c.Time
		if c.Owner == "" {
			c.Owner = crm.RecordOwner(c.Value)
		}
		if err := a.applyChange(ct, dir, b.Link, c); err != nil {
			panic(fmt.Sprintf("node: resync %s: %v", c.Key, err))
		}
		if err := tx.Set([]byte(marks+c.Key), nil); err != nil {
			return linkAnswer{Err: crm.AsError(err)}
		}
	}
	if !r.Last {
		_ = tx.Set([]byte(progress), []byte(fmt.Sprintf("%s:%d", r.ID, r.Part+1)))
		return linkAnswer{Acked: cur}
	}
	// Drop the records of the sender's side that the snapshot did not carry.
	var stale []string
	err := tx.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		coll, _, _ := crm.SplitRecordKey(string(k))
		if coll == "users" {
			return true
		}
		owner := crm.RecordOwner(v)
		if strings.HasPrefix(string(k), "r/_canary/") {
			owner = strings.TrimPrefix(string(k), "r/_canary/")
		}
		var mine bool
		switch dir {
		case "up":
			// Not the records this region writes for a child it manages.
			w, _, _ := crm.WriterOf(tx, owner)
			mine = crm.InRegion(owner, b.Link) && !strings.HasPrefix(string(k), "r/_conflict/") && w != a.region
		case "down":
			mine = (coll == "directives" && !crm.InRegion(owner, a.region)) ||
				(coll == "_mgmt" && crm.InRegion(strings.TrimPrefix(string(k), "r/_mgmt/"), a.region))
		}
		if mine {
			if m, _ := tx.Get([]byte(marks + string(k))); m == nil {
				stale = append(stale, string(k))
			}
		}
		return true
	})
	if err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	for _, k := range stale {
		if raw, _ := tx.Get([]byte(k)); raw != nil {
			ct.origin = crm.RecordOwner(raw)
		}
		if err := crm.ApplyReplica(ct, k, nil); err != nil {
			panic(fmt.Sprintf("node: resync delete %s: %v", k, err))
		}
	}
	if err := deletePrefix(tx, marks); err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	_ = tx.Set([]byte(progress), []byte(r.ID+":done"))
	n, _ := replication.GetUint(tx, "m/resyncs/"+dir+"/"+b.Link)
	_ = replication.PutUint(tx, "m/resyncs/"+dir+"/"+b.Link, n+1)
	if err := replication.PutUint(tx, cursorKey(dir, b.Link), r.Seq); err != nil {
		return linkAnswer{Err: crm.AsError(err)}
	}
	return linkAnswer{Acked: r.Seq}
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
