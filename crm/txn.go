package crm

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"sort"
	"sync"

	"gridcrm/internal/jsoncodec"
	"gridcrm/internal/keysort"
	"gridcrm/store/keyspace"
)

// Reader is the read side of the state the domain needs. Keys are relative
// to the state keyspace; the implementation adds its own prefix.
//
// Get returns (nil, nil) for a missing key. The returned slice belongs to the
// caller. Iterate calls fn for every key in [lower, upper) in order; the
// slices passed to fn are valid only during the call. Implementations must be
// safe for use by one goroutine at a time.
type Reader interface {
	Get(key []byte) ([]byte, error)
	Iterate(lower, upper []byte, fn func(key, value []byte) bool) error
}

// Txn is a Reader that also writes. The replication FSM hands Apply a Txn
// over a Pebble batch; writes become visible to later Gets in the same Txn.
type Txn interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

// overlay buffers one Command's writes so that a Command that fails half-way
// leaves nothing behind: Apply flushes it only on success. Iterate passes
// through to the underlying Reader and does not see buffered writes; Apply
// code reads with Get only.
//
// The overlay owns the keys and values it is given (Apply builds them fresh
// for it, most in the overlay's arena), so it does not copy them; it hands
// them to the base on flush and never reuses their memory.
type overlay struct {
	base   Txn
	seed   maphash.Seed
	heads  map[uint64]int32 // hash of a key → 1 + index in writes of the last write with that hash
	writes []bufferedWrite
	arena  []byte // the current arena chunk: len is what was handed out
	chunk  int    // size of the next chunk
}

type bufferedWrite struct {
	key, value []byte // value nil = delete
	next       int32  // 1 + index of the previous write with the same key hash, or 0
}

func newOverlay(base Txn) *overlay {
	sp := overlaySpaces.Get().(*overlaySpace)
	return &overlay{base: base, seed: maphash.MakeSeed(), heads: sp.heads, writes: sp.writes, chunk: 2 << 10}
}

// overlaySpace is an overlay's bookkeeping (its map and write list, not
// the arena its keys and values are in), kept from one Command to the
// next: a customer create buffers ~75 writes, and growing the map and the
// list from 8 for each allocated ~10 KB a create, copied as they grew. It
// is empty when in overlaySpaces.
type overlaySpace struct {
	heads  map[uint64]int32
	writes []bufferedWrite
}

var overlaySpaces = sync.Pool{New: func() any {
	return &overlaySpace{heads: make(map[uint64]int32, 8), writes: make([]bufferedWrite, 0, 8)}
}}

// release empties o's bookkeeping into overlaySpaces once o is done with
// (flushed or dropped); o is not used after. The keys and values stay the
// base's: only the list that pointed at them is cleared and reused.
func (o *overlay) release() {
	if cap(o.writes) > maxSpaceWrites {
		return // an import's: left to the collector
	}
	clear(o.heads)
	clear(o.writes)
	overlaySpaces.Put(&overlaySpace{heads: o.heads, writes: o.writes[:0]})
	o.heads, o.writes = nil, nil
}

// maxSpaceWrites bounds the write lists kept in overlaySpaces.
const maxSpaceWrites = 1024

// reserve makes room for n more writes.
func (o *overlay) reserve(n int) {
	if len(o.writes) == 0 && n > cap(o.writes) {
		o.heads = make(map[uint64]int32, n)
		o.writes = make([]bufferedWrite, 0, n)
	}
}

// find answers the index in o.writes of key's write, or -1.
func (o *overlay) find(key []byte, h uint64) int {
	for i := o.heads[h] - 1; i >= 0; i = o.writes[i].next - 1 {
		if bytes.Equal(o.writes[i].key, key) {
			return int(i)
		}
	}
	return -1
}

func (o *overlay) Get(key []byte) ([]byte, error) {
	if i := o.find(key, maphash.Bytes(o.seed, key)); i >= 0 {
		v := o.writes[i].value
		if v == nil {
			return nil, nil
		}
		return bytes.Clone(v), nil
	}
	return o.base.Get(key)
}

func (o *overlay) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	return o.base.Iterate(lower, upper, fn)
}

// put buffers a write of value (nil = delete) to key. Both are the
// overlay's from now on.
func (o *overlay) put(key, value []byte) {
	h := maphash.Bytes(o.seed, key)
	if i := o.find(key, h); i >= 0 {
		o.writes[i].value = value
		return
	}
	o.writes = append(o.writes, bufferedWrite{key: key, value: value, next: o.heads[h]})
	o.heads[h] = int32(len(o.writes))
}

func (o *overlay) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	o.put(key, value)
	return nil
}

func (o *overlay) Delete(key []byte) error {
	o.put(key, nil)
	return nil
}

// flush writes the buffered mutations to the base in key order.
func (o *overlay) flush() error {
	order := keysort.Order(nil, func(i int32) []byte { return o.writes[i].key }, len(o.writes))
	for _, i := range order {
		w := &o.writes[i]
		var err error
		if w.value == nil {
			err = o.base.Delete(w.key)
		} else {
			err = o.base.Set(w.key, w.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// alloc answers n bytes of the arena: memory the overlay hands out once and
// never reuses.
func (o *overlay) alloc(n int) []byte {
	o.room(n)
	l := len(o.arena)
	o.arena = o.arena[:l+n]
	return o.arena[l : l+n : l+n]
}

// room makes sure that the arena has n bytes free.
func (o *overlay) room(n int) {
	if cap(o.arena)-len(o.arena) < n {
		o.arena = make([]byte, 0, max(n, o.chunk))
		o.chunk = min(2*o.chunk, 64<<10)
	}
}

// cat answers the concatenation of parts in the arena.
func (o *overlay) cat(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := o.alloc(n)[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// catBytes answers a copy of b in the arena.
func (o *overlay) catBytes(b []byte) []byte {
	return append(o.alloc(len(b))[:0], b...)
}

// marshal is json.Marshal(rec), in the arena when it fits.
func (o *overlay) marshal(rec Record) ([]byte, error) {
	if jsoncodec.Handles(rec) {
		o.room(1 << 10) // most records fit
		l := len(o.arena)
		if b, ok := jsoncodec.Append(o.arena[l:l], rec); ok {
			if len(b) > cap(o.arena)-l {
				return b, nil // append moved it out of the arena
			}
			o.arena = o.arena[:l+len(b)]
			return b[:len(b):len(b)], nil
		}
	}
	return json.Marshal(rec)
}

// The keys of keys.go, built in the arena.

func (o *overlay) recordKey(coll, id string) []byte {
	return o.cat(keyspace.RecordPrefix, coll, "/", id)
}

func (o *overlay) uniqueKey(coll, name, scope, value string) []byte {
	return o.cat(keyspace.UniquePrefix, coll, "/", name, "/", scope, "\x00", value)
}

func (o *overlay) indexKey(coll, field, value, id string) []byte {
	return o.cat(keyspace.IndexPrefix, coll, "/", field, "/", cleanNUL(value), "\x00", id)
}

// MemTxn is an in-memory Txn for tests and tools. Not safe for concurrent use.
type MemTxn struct {
	m      map[string][]byte
	sorted []string // the keys of m in order, when !dirty
	dirty  bool
}

// NewMemTxn returns an empty in-memory Txn.
func NewMemTxn() *MemTxn { return &MemTxn{m: map[string][]byte{}} }

// Get implements Reader.
func (t *MemTxn) Get(key []byte) ([]byte, error) {
	v, ok := t.m[string(key)]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

// Iterate implements Reader. The keys are sorted once and again only after
// a key was added or removed, so that a range read costs its range, not
// the whole map (the benchmarks read ranges of stores of 10,000 records).
func (t *MemTxn) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	if t.dirty || len(t.sorted) != len(t.m) {
		t.sorted = make([]string, 0, len(t.m)) // never the slice an Iterate in progress walks
		for k := range t.m {
			t.sorted = append(t.sorted, k)
		}
		sort.Strings(t.sorted)
		t.dirty = false
	}
	keys := t.sorted // a write made by fn sorts a new slice; this one stays
	for i := sort.SearchStrings(keys, string(lower)); i < len(keys); i++ {
		k := keys[i]
		if upper != nil && k >= string(upper) {
			break
		}
		v, ok := t.m[k]
		if !ok {
			continue // deleted by fn
		}
		if !fn([]byte(k), v) {
			break
		}
	}
	return nil
}

// Set implements Txn.
func (t *MemTxn) Set(key, value []byte) error {
	if _, ok := t.m[string(key)]; !ok {
		t.dirty = true
	}
	t.m[string(key)] = bytes.Clone(value)
	return nil
}

// Delete implements Txn.
func (t *MemTxn) Delete(key []byte) error {
	if _, ok := t.m[string(key)]; ok {
		t.dirty = true
		delete(t.m, string(key))
	}
	return nil
}

// Len is the number of keys held.
func (t *MemTxn) Len() int { return len(t.m) }
