package replication

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"

	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// Applier is the domain side of the FSM.
//
// ApplyEntry executes one committed raft command on tx and answers the bytes
// handed back to the proposer (the same bytes on every replica). It must be
// deterministic: no clocks, no randomness, no I/O besides tx. It is called
// from the FSM goroutine only; data belongs to raft and must not be kept.
// An entry that is refused must leave tx untouched.
type Applier interface {
	ApplyEntry(tx *Txn, index uint64, data []byte) []byte
}

// Restorer is an Applier that derives state in a layout a restored
// snapshot (of a replica running an older version) may not have: Restored
// runs after a snapshot replaced the state, before the next entry is
// applied, and may rewrite what it derives. An error fails the restore.
type Restorer interface {
	Restored(st *store.Store) error
}

// appliedKey holds the last raft index the FSM applied, written in the same
// batch as the entries' effects.
var appliedKey = []byte(keyspace.AppliedKey)

// fsm is the thin raft FSM: it opens a batch, lets the Applier write the
// entries into it, records the applied index in the same batch and commits.
// After a restart it skips entries at or below the stored applied index, so
// a node does not restore a snapshot on every start.
type fsm struct {
	st  *store.Store
	app Applier

	applied atomic.Uint64
	entries atomic.Uint64 // entries handed to the Applier since start
	metrics *groupMetrics // set by New before raft starts; nil in bare tests

	mu     sync.Mutex    // guards notify
	notify chan struct{} // closed and replaced after every applied batch
}

func newFSM(st *store.Store, app Applier) (*fsm, error) {
	f := &fsm{st: st, app: app, notify: make(chan struct{})}
	v, err := StateReader{r: st.DB()}.Get(appliedKey)
	if err != nil {
		return nil, fmt.Errorf("replication: read applied index: %w", err)
	}
	if len(v) == 8 {
		f.applied.Store(binary.BigEndian.Uint64(v))
	}
	return f, nil
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM: one Pebble batch, one commit for
// every entry raft hands over at once (group commit on the state side).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	// An entry is applied only once this node's copy of it is durable
	// (store.LogStore.DeferSync): the applied state, written without
	// fsync, never runs ahead of the durable log, and a leader answers a
	// write only once its own copy is durable too (serialTransport).
	if err := f.st.LogStore().Sync(); err != nil {
		panic(fmt.Sprintf("replication: sync the log before applying: %v", err))
	}
	applied := f.applied.Load()
	tx := newTxn(f.st.DB())
	defer tx.close()
	last := applied
	for i, l := range logs {
		if l.Index <= applied {
			continue // applied before a restart
		}
		if l.Type == raft.LogCommand {
			out[i] = f.applyCommand(tx, l)
		}
		last = l.Index
	}
	if last == applied {
		return out
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], last)
	if err := tx.Set(appliedKey, v[:]); err != nil {
		panic(fmt.Sprintf("replication: write applied index: %v", err))
	}
	// No sync: the raft log, in the same Pebble WAL, was synced up to
	// these entries above, and Snapshot syncs before a snapshot can
	// truncate the log.
	if err := tx.commit(pebble.NoSync); err != nil {
		panic(fmt.Sprintf("replication: commit applied batch: %v", err))
	}
	f.applied.Store(last)
	f.mu.Lock()
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
	return out
}

// applyCommand applies one entry, or each proposal of a group-commit batch
// in order, and answers the Applier's response(s).
func (f *fsm) applyCommand(tx *Txn, l *raft.Log) []byte {
	if len(l.Data) == 0 || l.Data[0] != batchMarker {
		f.entries.Add(1)
		return f.app.ApplyEntry(tx, l.Index, l.Data)
	}
	parts, err := decodeBatch(l.Data)
	if err != nil {
		panic(fmt.Sprintf("replication: entry %d: %v", l.Index, err)) // the leader wrote it: a bug or corruption
	}
	resps := make([][]byte, len(parts))
	for i, p := range parts {
		resps[i] = f.app.ApplyEntry(tx, l.Index, p)
		f.entries.Add(1)
	}
	return encodeResponses(resps)
}

// Snapshot implements raft.FSM. It syncs the store first, so the state a
// snapshot describes is durable before raft may truncate the log behind it.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.st.Sync(); err != nil {
		return nil, fmt.Errorf("replication: sync before snapshot: %w", err)
	}
	if f.metrics != nil {
		f.metrics.snapshotsTaken.Add(1)
	}
	return &fsmSnapshot{snap: f.st.DB().NewSnapshot()}, nil
}

// Restore implements raft.FSM: it replaces the whole state keyspace with
// the snapshot's, including the applied index the snapshot carries.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := RestoreState(f.st, rc); err != nil {
		return err
	}
	if r, ok := f.app.(Restorer); ok {
		if err := r.Restored(f.st); err != nil {
			return fmt.Errorf("replication: after restore: %w", err)
		}
	}
	if f.metrics != nil {
		f.metrics.snapshotsRestored.Add(1)
	}
	v, err := StateReader{r: f.st.DB()}.Get(appliedKey)
	if err != nil {
		return err
	}
	if len(v) == 8 {
		f.applied.Store(binary.BigEndian.Uint64(v))
	}
	f.mu.Lock()
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
	return nil
}

type fsmSnapshot struct{ snap *pebble.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := WriteStateCompressed(sink, s.snap); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.snap.Close() }
