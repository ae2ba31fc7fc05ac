package process

import (
	"encoding/json"
	"hash/maphash"
	"sync"
)

// liteCache remembers the small structs (superProject, woLite) decoded
// from records' bytes, by the bytes' content (length and two 64-bit
// hashes), so the supervision lists and the work-order KPIs, which read
// the same open and recent records on every request, decode a record
// again only when its bytes changed. A decoded value depends on the bytes
// alone, so one cache serves every store of the process. Callers must
// not change what it answers.
type liteCache[T any] struct {
	mu   sync.Mutex
	m    map[liteKey]*T
	s, t maphash.Seed
}

type liteKey struct {
	n    int
	h, g uint64
}

// liteCacheMax bounds the entries of a cache; beyond it the cache starts
// again empty.
const liteCacheMax = 1 << 17

func newLiteCache[T any]() *liteCache[T] {
	return &liteCache[T]{m: map[liteKey]*T{}, s: maphash.MakeSeed(), t: maphash.MakeSeed()}
}

// decode answers raw decoded into a T, from the cache when the same bytes
// were decoded before.
func (c *liteCache[T]) decode(raw []byte) (*T, error) {
	k := liteKey{len(raw), maphash.Bytes(c.s, raw), maphash.Bytes(c.t, raw)}
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v = new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return v, err // not remembered: decoded again, failing again
	}
	c.mu.Lock()
	if len(c.m) >= liteCacheMax {
		c.m = map[liteKey]*T{}
	}
	c.m[k] = v
	c.mu.Unlock()
	return v, nil
}

var (
	projectLites = newLiteCache[superProject]()
	woLites      = newLiteCache[woLite]()
)
