package replication

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/store"
)

// TestTxn_SameAsIndexedBatch: a Txn (its writes buffered, then one plain
// batch in key order) reads and commits what an indexed Pebble batch does
// under the same random sets, deletes, range deletes (the feed's prune),
// point reads and iterations, over a state that already holds keys; the
// iterations cover spans with buffered writes (the Txn turns into an
// indexed batch then) and without (Pebble's own iterator). Keys are read
// again after reads, writes and deleted spans, before and after the Txn
// turns into an indexed batch (its remembered reads).
func TestTxn_SameAsIndexedBatch(t *testing.T) {
	open := func() *store.Store {
		st, err := store.Open(store.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	got, want := open(), open()
	for round := 0; round < 90; round++ {
		r := rand.New(rand.NewSource(int64(round)))
		// Keys of two families. A third of the rounds write only j/, so
		// that iterations of k/ find no buffered write in their span;
		// another third write k/ in their first half only, so that its
		// writes are found among the buffer's merged keys, not its tail.
		op := 0
		key := func(r *rand.Rand) []byte {
			if round%3 == 0 || (round%3 == 1 && op >= 250) || r.Intn(2) == 0 {
				return []byte(fmt.Sprintf("j/%02d", r.Intn(150)))
			}
			return []byte(fmt.Sprintf("k/%02d", r.Intn(150)))
		}
		fam := func(r *rand.Rand) string { return []string{"j/", "k/"}[r.Intn(2)] }
		tx := newTxn(got.DB())
		ref := want.DB().NewIndexedBatch()
		refTx := &Txn{StateReader: StateReader{r: ref}}
		for ; op < 500; op++ {
			switch n := r.Intn(100); {
			case n < 45:
				k, v := key(r), []byte(fmt.Sprintf("v%d.%d", round, op))
				if r.Intn(10) == 0 {
					v = []byte{} // an empty value is a value
				}
				if err := tx.Set(k, v); err != nil {
					t.Fatal(err)
				}
				if err := ref.Set(stateKey(k), v, nil); err != nil {
					t.Fatal(err)
				}
				for i := range v { // the caller's bytes stay the caller's: both copied them
					v[i] = 'X'
				}
			case n < 60:
				k := key(r)
				_ = tx.Delete(k)
				_ = ref.Delete(stateKey(k), nil)
			case n < 63:
				lo, hi := key(r), key(r)
				if round%3 != 2 { // as the writes above (and k/'s check finds its writes, not a span)
					lo[0], hi[0] = 'j', 'j'
				}
				if bytes.Compare(lo, hi) > 0 {
					lo, hi = hi, lo
				}
				if err := tx.b.deleteRange(stateKey(lo), stateKey(hi)); err != nil {
					t.Fatal(err)
				}
				_ = ref.DeleteRange(stateKey(lo), stateKey(hi), nil)
			case n < 97:
				k := key(r)
				g, err1 := tx.Get(k)
				w, err2 := refTx.Get(k)
				if err1 != nil || err2 != nil || !bytes.Equal(g, w) || (g == nil) != (w == nil) {
					t.Fatalf("round %d op %d: Get(%s) = %q (%v), indexed batch %q (%v)", round, op, k, g, err1, w, err2)
				}
				for i := range g { // a value read is the caller's: the Txn's remembered reads keep their own
					g[i] = 'Y'
				}
			default:
				f := fam(r)
				switch round % 3 {
				case 0: // k/ holds no buffered write: Pebble's iterator
					f = "k/"
				case 1: // k/'s writes are among the merged keys: the indexed batch
					if f = "k/"; op < 250 {
						continue
					}
				}
				{
					if g, w := scan(t, tx.StateReader, f), scan(t, refTx.StateReader, f); g != w {
						t.Fatalf("round %d op %d: Iterate\n got %s\nwant %s", round, op, g, w)
					}
				}
			}
		}
		if err := tx.commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		tx.close()
		if err := ref.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		ref.Close()
		if g, w := scan(t, StateReaderOf(got), "j/")+scan(t, StateReaderOf(got), "k/"), scan(t, StateReaderOf(want), "j/")+scan(t, StateReaderOf(want), "k/"); g != w {
			t.Fatalf("round %d: committed state\n got %s\nwant %s", round, g, w)
		}
	}
}

func scan(t *testing.T, r StateReader, prefix string) string {
	var b bytes.Buffer
	if err := r.Iterate([]byte(prefix), []byte(prefix[:1]+"0"), func(k, v []byte) bool {
		fmt.Fprintf(&b, "%s=%s ", k, v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTxn_RemembersReadsUntilWritten: a key read, then written, reads the
// write, before the Txn turns into an indexed batch, across the turn and
// after it; a deleted span forgets what was read in it.
func TestTxn_RemembersReadsUntilWritten(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pre := newTxn(st.DB())
	for _, k := range []string{"a/held", "a/gone", "b/held", "c/held"} {
		pre.Set([]byte(k), []byte("old"))
	}
	if err := pre.commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	pre.close()

	tx := newTxn(st.DB())
	defer tx.close()
	want := func(k, v string) {
		t.Helper()
		got, err := tx.Get([]byte(k))
		if err != nil || string(got) != v || (got == nil) != (v == "") {
			t.Fatalf("Get(%s) = %q, %v; want %q", k, got, err, v)
		}
	}
	want("a/new", "")
	want("a/held", "old")
	want("a/gone", "old")
	tx.Set([]byte("a/new"), []byte("new"))  // buffered
	tx.Set([]byte("a/held"), []byte("new")) // buffered
	tx.Delete([]byte("a/gone"))             // buffered
	want("a/new", "new")
	if tx.b.b != nil {
		t.Fatal("the Txn is an indexed batch already")
	}
	if err := tx.Iterate([]byte("a/"), []byte("a0"), func(_, _ []byte) bool { return true }); err != nil { // turns it into one
		t.Fatal(err)
	}
	if tx.b.b == nil {
		t.Fatal("the Txn is not an indexed batch after an iteration over its writes")
	}
	want("a/new", "new")
	want("a/held", "new")
	want("a/gone", "")
	want("b/held", "old") // read from the batch and remembered
	tx.Set([]byte("b/held"), []byte("newer"))
	want("b/held", "newer")
	want("c/held", "old")
	if err := tx.b.deleteRange(stateKey([]byte("c/")), stateKey([]byte("c0"))); err != nil {
		t.Fatal(err)
	}
	want("c/held", "")
}
