package replication

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/store"
)

// TestGetSorted: GetSorted answers what Get answers for each key, present,
// empty or missing, in the keys' order, and stops at fn's error.
func TestGetSorted(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for k, v := range map[string]string{"r/a/1": "one", "r/a/10": "", "r/a/3": "three", "r/a/30": "thirty", "r/b/1": "b"} {
		if err := st.DB().Set(stateKey([]byte(k)), []byte(v), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	r := StateReaderOf(st)
	keys := [][]byte{[]byte("r/a/0"), []byte("r/a/1"), []byte("r/a/10"), []byte("r/a/2"), []byte("r/a/3"), []byte("r/a/3"), []byte("r/a/30"), []byte("r/a/4"), []byte("r/b/1")}
	n := 0
	err = r.GetSorted(keys, func(i int, v []byte) error {
		if i != n {
			t.Fatalf("key %d answered as %d", n, i)
		}
		n++
		want, err := r.Get(keys[i])
		if err != nil {
			t.Fatal(err)
		}
		if (v == nil) != (want == nil) || !bytes.Equal(v, want) {
			t.Fatalf("%s: %q (nil %v), want %q (nil %v)", keys[i], v, v == nil, want, want == nil)
		}
		return nil
	})
	if err != nil || n != len(keys) {
		t.Fatalf("%d of %d keys, %v", n, len(keys), err)
	}
	stop := errors.New("stop")
	n = 0
	if err := r.GetSorted(keys, func(int, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("after an error: %d calls, %v", n, err)
	}
}
