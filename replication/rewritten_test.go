package replication

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gridcrm/store"
)

// TestIterateRewritten_SameAsIterate: over keys rewritten by many batches
// (many versions in the memtable), deleted, deleted by range and written
// again, IterateRewritten visits exactly what Iterate visits, with the same
// values, for every bound and early stop; again after a flush, through a
// snapshot and through a Txn's indexed batch holding writes of its own.
func TestIterateRewritten_SameAsIterate(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	key := func(i int) []byte { return fmt.Appendf(nil, "a/32%02d/m.%03d", i%7, i) }
	for range 300 { // batches: each rewrites some counters, deletes a few
		tx, commit := NewBatchTxn(st)
		for range 20 {
			i := rng.IntN(60)
			if rng.IntN(10) == 0 {
				tx.Delete(key(i))
			} else {
				tx.Set(key(i), fmt.Appendf(nil, "%d", rng.IntN(1000)))
			}
		}
		if rng.IntN(50) == 0 {
			tx.DeleteRange(key(10), key(20))
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	type kv struct{ k, v string }
	walk := func(it func(lower, upper []byte, fn func(k, v []byte) bool) error, lower, upper []byte, stop int) []kv {
		var out []kv
		if err := it(lower, upper, func(k, v []byte) bool {
			out = append(out, kv{string(k), string(v)})
			return len(out) != stop
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(name string, r StateReader) {
		t.Helper()
		bounds := [][2][]byte{{[]byte("a/"), []byte("a0")}, {key(5), key(40)}, {[]byte("a/3203"), []byte("a/3204")}, {key(59), nil}}
		for _, b := range bounds {
			for _, stop := range []int{-1, 1, 7} {
				want := walk(r.Iterate, b[0], b[1], stop)
				if got := walk(r.IterateRewritten, b[0], b[1], stop); !slices.Equal(got, want) {
					t.Fatalf("%s [%q, %q) stop %d: %v; Iterate %v", name, b[0], b[1], stop, got, want)
				}
			}
		}
	}
	check("memtable", StateReaderOf(st))
	snap := st.DB().NewSnapshot()
	defer snap.Close()
	tx, _ := NewBatchTxn(st)
	defer tx.close()
	tx.Set(key(3), []byte("mine"))
	tx.Delete(key(4))
	tx.b.materialize()
	check("txn", tx.StateReader)
	if err := st.DB().Flush(); err != nil {
		t.Fatal(err)
	}
	check("flushed", StateReaderOf(st))
	check("snapshot", SnapshotReader(snap))
	if err := st.DB().Compact(t.Context(), []byte("s"), []byte("t"), true); err != nil {
		t.Fatal(err)
	}
	check("compacted", StateReaderOf(st))
}
