package replication

import (
	"bytes"
	"io"
	"testing"

	"gridcrm/store"
)

// restoringApp is an Applier that records what Restored found.
type restoringApp struct{ found []byte }

func (a *restoringApp) ApplyEntry(*Txn, uint64, []byte) []byte { return nil }

func (a *restoringApp) Restored(st *store.Store) error {
	v, err := StateReaderOf(st).Get([]byte("x/k"))
	a.found = v
	return err
}

// TestFSM_RestoreRunsRestorer: after a snapshot replaced the state, an
// Applier that is a Restorer sees the restored state before any entry.
func TestFSM_RestoreRunsRestorer(t *testing.T) {
	from, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	tx, commit := NewBatchTxn(from)
	if err := tx.Set([]byte("x/k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	s := from.DB().NewSnapshot()
	if _, err := WriteState(&snap, s); err != nil {
		t.Fatal(err)
	}
	s.Close()

	to, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	app := &restoringApp{}
	f, err := newFSM(to, app)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(io.NopCloser(&snap)); err != nil {
		t.Fatal(err)
	}
	if string(app.found) != "v" {
		t.Errorf("Restored read %q; want the restored state's %q", app.found, "v")
	}
}
