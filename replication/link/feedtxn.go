package link

import (
	"bytes"
	"sort"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

var recordPrefix = []byte(keyspace.RecordPrefix)

// auditPrefix: audit entries are never rewritten nor deleted, so the feed
// refers to them instead of holding a copy (Change.Ref).
var auditPrefix = []byte(keyspace.AuditPrefix)

// usersPrefix: users are region-local (password hashes do not travel);
// their changes are neither fed nor sent.
const usersPrefix = keyspace.UsersPrefix

// FeedTxn is the FSM's transaction as the domain sees it: every write of a
// record (r/…) is also appended to the region's change feed and folded into
// the per-region aggregates, in the same batch. Writes that change nothing
// leave no trace. Users are not fed. It is used on the FSM goroutine only.
type FeedTxn struct {
	*replication.Txn
	d      Domain
	origin string // region where the change was made
	oseq   uint64 // its sequence there; 0 for a change made here
	time   int64  // commit time at the origin, Unix ms
	now    int64  // when this region appends it, Unix ms (from the entry, not a clock)

	deltas map[[2]string]float64 // aggregate changes, summed; written by Flush
	users  bool                  // a user's record or unique key was written (UsersWritten)
}

// usersUnique starts the users' unique keys (their usernames).
var usersUnique = []byte(keyspace.UniquePrefix + "users/")

// UsersWritten reports whether a write through t touched a user's record
// or unique key, so that what a caller keeps of the users (the applier's
// active actors) is dropped.
func (t *FeedTxn) UsersWritten() bool { return t.users }

func (t *FeedTxn) noteUsers(key []byte) {
	if !t.users && (bytes.HasPrefix(key, []byte(usersPrefix)) || bytes.HasPrefix(key, usersUnique)) {
		t.users = true
	}
}

// NewFeedTxn wraps tx for writes made in origin (this region for a command
// applied here) at commit time at (Unix ms), appended to the feed at now.
func NewFeedTxn(tx *replication.Txn, d Domain, origin string, at, now int64) *FeedTxn {
	return &FeedTxn{Txn: tx, d: d, origin: origin, time: at, now: now}
}

// Flush writes the summed aggregate changes (once per command or batch,
// not once per record). Its error is the store's.
func (t *FeedTxn) Flush() error {
	if len(t.deltas) == 0 {
		return nil
	}
	ds := make([]Delta, 0, len(t.deltas))
	for k, v := range t.deltas {
		if v != 0 {
			ds = append(ds, Delta{Region: k[0], Metric: k[1], Value: v})
		}
	}
	sort.Slice(ds, func(i, j int) bool { // deterministic write order
		return ds[i].Region < ds[j].Region || (ds[i].Region == ds[j].Region && ds[i].Metric < ds[j].Metric)
	})
	t.deltas = nil
	return t.d.ApplyDeltas(t.Txn, ds)
}

// Set writes key; a record write is fed.
func (t *FeedTxn) Set(key, value []byte) error {
	t.noteUsers(key)
	if !bytes.HasPrefix(key, recordPrefix) {
		return t.Txn.Set(key, value)
	}
	return t.record(key, value)
}

// Delete removes key; a record delete is fed.
func (t *FeedTxn) Delete(key []byte) error {
	t.noteUsers(key)
	if !bytes.HasPrefix(key, recordPrefix) {
		return t.Txn.Delete(key)
	}
	return t.record(key, nil)
}

func (t *FeedTxn) record(key, value []byte) error {
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
	if !bytes.HasPrefix(key, []byte(usersPrefix)) {
		owner := value
		if owner == nil {
			owner = old
		}
		c := Change{Origin: t.origin, OSeq: t.oseq, Key: string(key), Owner: t.d.RecordOwner(owner), Value: value, Time: t.time, Appended: t.now}
		if value != nil && bytes.HasPrefix(key, auditPrefix) {
			c.Value, c.Ref = nil, true // append-only: ReadFeed reads it at its key (no second copy in the feed)
		}
		if _, err := replication.AppendChange(t.Txn, c); err != nil {
			return err
		}
	}
	for _, d := range t.d.Deltas(string(key), old, value) {
		if t.deltas == nil {
			t.deltas = map[[2]string]float64{}
		}
		t.deltas[[2]string{d.Region, d.Metric}] += d.Value
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
	base   *FeedTxn
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

// own feeds the next writes as this region's own (region, no origin sequence).
func (s *stage) own(region string) { s.origin, s.oseq = region, 0 }

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
