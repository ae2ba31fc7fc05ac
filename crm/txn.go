package crm

import (
	"bytes"
	"sort"
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
type overlay struct {
	base   Txn
	writes map[string][]byte // nil value = delete
	order  []string
}

func newOverlay(base Txn) *overlay { return &overlay{base: base, writes: map[string][]byte{}} }

func (o *overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
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

func (o *overlay) Set(key, value []byte) error {
	k := string(key)
	if _, ok := o.writes[k]; !ok {
		o.order = append(o.order, k)
	}
	o.writes[k] = bytes.Clone(value)
	if o.writes[k] == nil {
		o.writes[k] = []byte{}
	}
	return nil
}

func (o *overlay) Delete(key []byte) error {
	k := string(key)
	if _, ok := o.writes[k]; !ok {
		o.order = append(o.order, k)
	}
	o.writes[k] = nil
	return nil
}

// flush writes the buffered mutations to the base in key order.
func (o *overlay) flush() error {
	sort.Strings(o.order)
	for _, k := range o.order {
		v := o.writes[k]
		var err error
		if v == nil {
			err = o.base.Delete([]byte(k))
		} else {
			err = o.base.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MemTxn is an in-memory Txn for tests and tools. Not safe for concurrent use.
type MemTxn struct{ m map[string][]byte }

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

// Iterate implements Reader.
func (t *MemTxn) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	keys := make([]string, 0)
	for k := range t.m {
		if k >= string(lower) && (upper == nil || k < string(upper)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn([]byte(k), t.m[k]) {
			break
		}
	}
	return nil
}

// Set implements Txn.
func (t *MemTxn) Set(key, value []byte) error { t.m[string(key)] = bytes.Clone(value); return nil }

// Delete implements Txn.
func (t *MemTxn) Delete(key []byte) error { delete(t.m, string(key)); return nil }

// Len is the number of keys held.
func (t *MemTxn) Len() int { return len(t.m) }
