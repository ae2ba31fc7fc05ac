package replication

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/store"
)

// txnBuffer holds a Txn's writes until commit: in a map for the reads that
// follow them, then written to Pebble as one plain batch, in key order and
// each key once. An indexed batch would insert every write into the batch's
// own skiplist (comparing long keys that share long prefixes) only for the
// few that are read back, and then into the memtable in the order they were
// made; here a write costs an append and a map insert, keys written again by
// later commands of the same batch (feed head, aggregates, applied index)
// reach Pebble once, and the memtable takes the keys in order (its inserter
// reuses the previous key's position). The state after commit is the same
// as with an indexed batch written in order: same keys, same values.
//
// An iterator (Iterate, GetSorted) whose span holds no buffered write reads
// Pebble directly; the first one whose span does needs the writes merged
// into Pebble's view: it turns the buffer into an indexed batch holding
// them, which takes every later write directly (materialize). So does the
// write beyond maxBuffered.
type txnBuffer struct {
	db *pebble.DB
	b  *pebble.Batch // the indexed batch once materialized; nil before

	index  map[string]int32 // full key → its write in writes
	writes []bufferedWrite
	sorted []string    // keys of writes in order, but those in tail
	tail   []string    // keys written since sorted was last merged
	spare  []string    // the other buffer of mergeTail
	ranges [][2][]byte // deleted [lower, upper) spans of full keys
	arena  []byte      // keys and values are copied here, never overwritten
	size   int         // bytes of keys and values, for the batch's size

	// reads remembers what Pebble (the store, or the indexed batch once
	// materialized) answered for keys this Txn read and has not written
	// since: one change of a link batch reads its record three times (the
	// link's screening, the domain's replica apply, the feed's old value)
	// and every change of it the owner's management record, each a Pebble
	// Get through the memtables and L0 tables otherwise. A write of the key
	// forgets it, a deleted span forgets all.
	reads     map[string]cachedRead
	readBytes int // of the values in reads
}

// cachedRead is one remembered answer: the value (the Txn's own copy) or
// none.
type cachedRead struct {
	v     []byte
	found bool
}

// maxCachedReads and maxCachedBytes bound reads (a link batch of 2,000
// changes reads ~16,000 keys, ~5 MB of values); past either, the map
// starts again.
const (
	maxCachedReads = 1 << 15
	maxCachedBytes = 16 << 20
)

// maxCachedValue: larger values are not remembered (records are ~0.3–2 KB).
const maxCachedValue = 8 << 10

type bufferedWrite struct {
	key   string // full key (store.StatePrefix + state key), in the arena
	value []byte // in the arena; nil for a delete
	del   bool
	gone  bool // removed by a later DeleteRange
}

func newTxnBuffer(db *pebble.DB) *txnBuffer {
	sp := spaces.Get().(*bufSpace)
	return &txnBuffer{db: db, index: sp.index, writes: sp.writes, sorted: sp.sorted, tail: sp.tail, spare: sp.spare}
}

// bufSpace is a txnBuffer's bookkeeping (its map and slices, not the arena
// the keys and values are in), kept from one Txn to the next: the FSM's
// batch of 32 creates buffers ~2,400 writes, and growing the map and the
// slices from nothing for each batch allocated ~18 KB a create, copied as
// they grew and collected after. It is empty when in spaces, and holds at
// most maxBuffered writes' worth.
type bufSpace struct {
	index               map[string]int32
	writes              []bufferedWrite
	sorted, tail, spare []string
}

var spaces = sync.Pool{New: func() any { return &bufSpace{index: make(map[string]int32, 64)} }}

// release empties t's bookkeeping into spaces (after fill: the batch holds
// copies of the writes) and leaves t with none.
func (t *txnBuffer) release() {
	clear(t.index)
	clear(t.writes)                 // no key or value of this Txn stays reachable from the pool
	clear(t.sorted[:cap(t.sorted)]) // merges leave keys past len
	clear(t.tail[:cap(t.tail)])
	clear(t.spare[:cap(t.spare)])
	spaces.Put(&bufSpace{index: t.index, writes: t.writes[:0], sorted: t.sorted[:0], tail: t.tail[:0], spare: t.spare[:0]})
	t.index, t.writes, t.ranges, t.sorted, t.tail, t.spare = nil, nil, nil, nil, nil, nil
}

// copyIn answers a copy of p in the arena (the caller keeps p).
func (t *txnBuffer) copyIn(p []byte) []byte {
	if cap(t.arena)-len(t.arena) < len(p) {
		t.grow(len(p))
	}
	l := len(t.arena)
	t.arena = append(t.arena, p...)
	return t.arena[l:len(t.arena):len(t.arena)]
}

// grow starts a new arena chunk with room for n bytes: 8 KiB first (a
// single create writes about 6 KiB), twice the last one after, at most
// 256 KiB; the old chunk stays where it is.
func (t *txnBuffer) grow(n int) {
	c := min(max(2*cap(t.arena), 8<<10), 256<<10)
	t.arena = make([]byte, 0, max(n, c))
}

// put buffers a write of value (del: a delete) to the state key (without
// store.StatePrefix).
func (t *txnBuffer) put(key, value []byte, del bool) error {
	if t.b != nil {
		if len(t.reads) > 0 {
			delete(t.reads, string(stateKey(key)))
		}
		if del {
			return t.b.Delete(stateKey(key), nil)
		}
		return t.b.Set(stateKey(key), value, nil)
	}
	// The full key, built in the arena (a few bytes lost when it is there).
	if cap(t.arena)-len(t.arena) < len(store.StatePrefix)+len(key) {
		t.grow(len(store.StatePrefix) + len(key))
	}
	l := len(t.arena)
	t.arena = append(append(t.arena, store.StatePrefix...), key...)
	k := t.arena[l:len(t.arena):len(t.arena)]
	if len(t.reads) > 0 { // the buffered write answers from now on; materialize drops the index
		delete(t.reads, string(k))
	}
	if i, ok := t.index[string(k)]; ok {
		t.arena = t.arena[:l]
		w := &t.writes[i]
		w.del, w.value = del, nil
		if !del {
			w.value = t.copyIn(value)
			t.size += len(value)
		}
		return nil
	}
	w := bufferedWrite{key: unsafe.String(unsafe.SliceData(k), len(k)), del: del}
	if !del {
		w.value = t.copyIn(value)
	}
	t.size += len(key) + len(value) + 8
	t.index[w.key] = int32(len(t.writes))
	t.writes = append(t.writes, w)
	if t.tail = append(t.tail, w.key); len(t.tail) > 64+len(t.sorted)/8 {
		t.mergeTail()
	}
	if len(t.writes) >= maxBuffered {
		t.materialize()
	}
	return nil
}

// maxBuffered is the most writes a txnBuffer holds before it becomes an
// indexed batch: beyond (a large import) the map, the merges and the
// garbage cost more than the batch's index saves (measured: an import of
// 100 rows, ~7,500 writes, took 19% more CPU buffered whole).
const maxBuffered = 2048

// mergeTail merges the keys written lately into sorted.
func (t *txnBuffer) mergeTail() {
	slices.Sort(t.tail)
	out := t.spare[:0]
	if cap(out) < len(t.sorted)+len(t.tail) {
		out = make([]string, 0, 2*(len(t.sorted)+len(t.tail)))
	}
	i, j := 0, 0
	for i < len(t.sorted) && j < len(t.tail) {
		if t.sorted[i] < t.tail[j] {
			out = append(out, t.sorted[i])
			i++
		} else {
			out = append(out, t.tail[j])
			j++
		}
	}
	out = append(append(out, t.sorted[i:]...), t.tail[j:]...)
	t.sorted, t.spare, t.tail = out, t.sorted, t.tail[:0]
}

// touches reports whether a buffered write or deleted span may lie in
// [lower, upper) (a nil upper: no end).
func (t *txnBuffer) touches(lower, upper []byte) bool {
	in := func(k string) bool { return k >= string(lower) && (upper == nil || k < string(upper)) }
	for _, r := range t.ranges {
		if (upper == nil || bytes.Compare(r[0], upper) < 0) && bytes.Compare(lower, r[1]) < 0 {
			return true
		}
	}
	if i, _ := slices.BinarySearch(t.sorted, string(lower)); i < len(t.sorted) && in(t.sorted[i]) {
		return true
	}
	return slices.ContainsFunc(t.tail, in)
}

// deleteRange deletes the full keys in [lower, upper): the writes buffered
// there are dropped and the span is remembered for reads and the commit.
func (t *txnBuffer) deleteRange(lower, upper []byte) error {
	clear(t.reads)
	t.readBytes = 0
	if t.b != nil {
		return t.b.DeleteRange(lower, upper, nil)
	}
	for i := range t.writes {
		w := &t.writes[i]
		if !w.gone && w.key >= string(lower) && w.key < string(upper) {
			w.gone = true
			delete(t.index, w.key)
		}
	}
	t.ranges = append(t.ranges, [2][]byte{bytes.Clone(lower), bytes.Clone(upper)})
	t.size += len(lower) + len(upper) + 8
	return nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// Get implements pebbleGetIter: the buffered write of key, else Pebble's
// value (none inside a deleted span). The slice is valid until the closer
// is closed.
func (t *txnBuffer) Get(key []byte) ([]byte, io.Closer, error) {
	if t.b != nil {
		if v, closer, err, ok := t.cached(key); ok {
			return v, closer, err
		}
		return t.remember(key, t.b)
	}
	if i, ok := t.index[string(key)]; ok {
		if w := &t.writes[i]; !w.del {
			return w.value, nopCloser{}, nil
		}
		return nil, nil, pebble.ErrNotFound
	}
	for _, r := range t.ranges {
		if bytes.Compare(key, r[0]) >= 0 && bytes.Compare(key, r[1]) < 0 {
			return nil, nil, pebble.ErrNotFound
		}
	}
	if v, closer, err, ok := t.cached(key); ok {
		return v, closer, err
	}
	return t.remember(key, t.db)
}

// cached answers a remembered read of key (ok false: none).
func (t *txnBuffer) cached(key []byte) ([]byte, io.Closer, error, bool) {
	c, ok := t.reads[string(key)]
	switch {
	case !ok:
		return nil, nil, nil, false
	case !c.found:
		return nil, nil, pebble.ErrNotFound, true
	}
	return c.v, nopCloser{}, nil, true
}

// remember reads key from g (the store or the indexed batch) and keeps the
// answer in reads; a failing read is not kept.
func (t *txnBuffer) remember(key []byte, g pebbleGetIter) ([]byte, io.Closer, error) {
	v, closer, err := g.Get(key)
	if err != nil && err != pebble.ErrNotFound || len(v) > maxCachedValue {
		return v, closer, err
	}
	if t.reads == nil {
		t.reads = make(map[string]cachedRead, 256)
	} else if len(t.reads) >= maxCachedReads || t.readBytes >= maxCachedBytes {
		clear(t.reads)
		t.readBytes = 0
	}
	if err == pebble.ErrNotFound {
		t.reads[string(key)] = cachedRead{}
		return nil, nil, err
	}
	c := cachedRead{v: bytes.Clone(v), found: true}
	closer.Close()
	t.reads[string(key)] = c
	t.readBytes += len(c.v)
	return c.v, nopCloser{}, nil
}

// NewIter implements pebbleGetIter: Pebble's iterator when no buffered
// write lies within o's bounds (a create reads other collections' indexes
// by range), else the indexed batch's (materialize).
func (t *txnBuffer) NewIter(o *pebble.IterOptions) (*pebble.Iterator, error) {
	if t.b == nil && o != nil && o.LowerBound != nil && !t.touches(o.LowerBound, o.UpperBound) {
		return t.db.NewIter(o)
	}
	t.materialize()
	return t.b.NewIter(o)
}

// fill writes the buffer into b: the deleted spans first (a write buffered
// after a span's delete is still buffered; those before it were dropped),
// then each key's last write, in key order.
func (t *txnBuffer) fill(b *pebble.Batch) error {
	for _, r := range t.ranges {
		if err := b.DeleteRange(r[0], r[1], nil); err != nil {
			return err
		}
	}
	if len(t.tail) > 0 {
		t.mergeTail()
	}
	for n, k := range t.sorted { // each key once, in order
		i, ok := t.index[k]
		if !ok || (n > 0 && t.sorted[n-1] == k) {
			continue // dropped by a DeleteRange, or written again after it
		}
		w := &t.writes[i]
		k := unsafe.Slice(unsafe.StringData(w.key), len(w.key))
		var err error
		if w.del {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, w.value, nil)
		}
		if err != nil {
			return err
		}
	}
	t.release()
	return nil
}

// materialize moves the buffer into an indexed batch, which from now on
// takes the writes and answers the reads.
func (t *txnBuffer) materialize() {
	if t.b != nil {
		return
	}
	b := t.db.NewIndexedBatch()
	if err := t.fill(b); err != nil {
		// Only a closed or corrupt batch fails a Set; the state would no
		// longer be what the writes say.
		panic("replication: buffered writes into a batch: " + err.Error())
	}
	t.b = b
}

// commit writes the buffer to Pebble as one batch.
func (t *txnBuffer) commit(o *pebble.WriteOptions) error {
	if t.b != nil {
		return t.b.Commit(o)
	}
	if len(t.writes) == 0 && len(t.ranges) == 0 {
		return nil
	}
	b := t.db.NewBatchWithSize(t.size + 64)
	defer b.Close()
	if err := t.fill(b); err != nil {
		return err
	}
	return b.Commit(o)
}

// close releases the indexed batch, if any.
func (t *txnBuffer) close() {
	if t.b != nil {
		t.b.Close()
		t.b = nil
	}
}
