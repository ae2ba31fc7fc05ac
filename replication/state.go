package replication

import (
	"bytes"
	"errors"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/store"
)

// pebbleGetIter is what both *pebble.DB, *pebble.Snapshot and an indexed
// *pebble.Batch offer.
type pebbleGetIter interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// StateReader reads the state keyspace (keys relative to store.StatePrefix)
// from a DB, snapshot or batch. It satisfies crm.Reader.
type StateReader struct{ r pebbleGetIter }

func stateKey(k []byte) []byte {
	out := make([]byte, 0, len(store.StatePrefix)+len(k))
	return append(append(out, store.StatePrefix...), k...)
}

// Get returns a copy of the value, or (nil, nil) when the key is missing.
func (s StateReader) Get(key []byte) ([]byte, error) {
	v, closer, err := s.r.Get(stateKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, closer.Close()
}

// GetSorted calls fn with the index and a copy of the value of each of
// keys, which must be in ascending order (nil when a key is missing), through
// one iterator that seeks forward from key to key instead of one point Get
// each. It stops at fn's first error.
func (s StateReader) GetSorted(keys [][]byte, fn func(i int, v []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	it, err := s.r.NewIter(&pebble.IterOptions{LowerBound: stateKey(keys[0]), UpperBound: stateKey(append(bytes.Clone(keys[len(keys)-1]), 0))})
	if err != nil {
		return err
	}
	for i, k := range keys {
		sk := stateKey(k)
		var out []byte
		if it.SeekGE(sk) && bytes.Equal(it.Key(), sk) {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return err
			}
			if out = bytes.Clone(v); out == nil {
				out = []byte{}
			}
		}
		if err := fn(i, out); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// Iterate visits [lower, upper) in key order; a nil upper means the end of
// the state keyspace. Slices passed to fn are valid only during the call.
func (s StateReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	return s.iterate(lower, upper, fn, false)
}

// iterate is Iterate, stepping with NextPrefix when rewritten
// (IterateRewritten).
func (s StateReader) iterate(lower, upper []byte, fn func(k, v []byte) bool, rewritten bool) error {
	ub := store.StateUpper
	if upper != nil {
		ub = stateKey(upper)
	}
	it, err := s.r.NewIter(&pebble.IterOptions{LowerBound: stateKey(lower), UpperBound: ub})
	if err != nil {
		return err
	}
	n := len(store.StatePrefix)
	for ok := it.First(); ok; {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Key()[n:], v) {
			break
		}
		if rewritten {
			ok = it.NextPrefix()
		} else {
			ok = it.Next()
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// IterateRewritten is Iterate for keys most batches rewrite (the
// aggregate counters and their subtree totals: every roll-up batch moves
// them). It steps from one key to the next with Pebble's NextPrefix, a seek
// past the key's older versions, where Next walks every version the
// memtable still holds: a province total has one a batch until a flush
// drops them. BenchmarkAnalytics_ProvinceReads (api/): 4–5× faster reads
// in the memtable, 20–40% slower over keys written once (compacted), hence
// not Iterate's way. Implements crm.RewrittenIterator.
func (s StateReader) IterateRewritten(lower, upper []byte, fn func(k, v []byte) bool) error {
	return s.iterate(lower, upper, fn, true)
}

// Txn writes the state keyspace through a buffer of its writes (txnBuffer)
// that commits as one Pebble batch, so that reads see earlier writes of the
// same Txn. It satisfies crm.Txn. It is used by the FSM goroutine only.
type Txn struct {
	StateReader
	b *txnBuffer

	feedHead  uint64 // cached feed head; valid when feedKnown
	feedKnown bool
}

func newTxn(db *pebble.DB) *Txn {
	b := newTxnBuffer(db)
	return &Txn{StateReader: StateReader{r: b}, b: b}
}

// Set writes key; the Txn copies the bytes.
func (t *Txn) Set(key, value []byte) error { return t.b.put(key, value, false) }

// Delete removes key.
func (t *Txn) Delete(key []byte) error { return t.b.put(key, nil, true) }

// DeleteRange removes the keys in [lower, upper) in one range deletion
// (the resync marks of a county: up to millions of keys).
func (t *Txn) DeleteRange(lower, upper []byte) error {
	return t.b.deleteRange(stateKey(lower), stateKey(upper))
}

// commit writes the Txn's writes to the store as one batch, and close
// releases what it holds; a Txn is not used after close.
func (t *Txn) commit(o *pebble.WriteOptions) error { return t.b.commit(o) }
func (t *Txn) close()                              { t.b.close() }

// SnapshotReader reads the state keyspace of a consistent Pebble snapshot.
func SnapshotReader(s *pebble.Snapshot) StateReader { return StateReader{r: s} }

// NewBatchTxn opens a Txn on st, as the FSM does, for bulk loading outside
// raft (benchmarks, restore tools). commit writes it without sync.
func NewBatchTxn(st *store.Store) (tx *Txn, commit func() error) {
	tx = newTxn(st.DB())
	return tx, func() error { defer tx.close(); return tx.commit(pebble.NoSync) }
}

// StateReaderOf reads st's state keyspace as it is now.
func StateReaderOf(st *store.Store) StateReader { return StateReader{r: st.DB()} }
