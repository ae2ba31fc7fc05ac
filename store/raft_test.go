package store

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// countFSM counts applied commands.
type countFSM struct {
	mu sync.Mutex
	n  int // guarded by mu
}

func (f *countFSM) Apply(*raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return nil
}
func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) { return nopSnapshot{}, nil }
func (f *countFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type nopSnapshot struct{}

func (nopSnapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (nopSnapshot) Release()                             {}

// startRaft runs a single-node raft group on s.
func startRaft(t *testing.T, s *Store, snaps raft.SnapshotStore, bootstrap bool) (*raft.Raft, *countFSM) {
	t.Helper()
	conf := raft.DefaultConfig()
	conf.LocalID = "n1"
	conf.HeartbeatTimeout = 50 * time.Millisecond
	conf.ElectionTimeout = 50 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.Logger = hclog.NewNullLogger()
	addr, trans := raft.NewInmemTransport("n1")
	if bootstrap {
		cfg := raft.Configuration{Servers: []raft.Server{{ID: "n1", Address: addr}}}
		if err := raft.BootstrapCluster(conf, s.LogStore(), s.StableStore(), snaps, trans, cfg); err != nil {
			t.Fatalf("BootstrapCluster: %v", err)
		}
	}
	fsm := &countFSM{}
	r, err := raft.NewRaft(conf, fsm, s.LogStore(), s.StableStore(), snaps, trans)
	if err != nil {
		t.Fatalf("NewRaft: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.State() != raft.Leader {
		if time.Now().After(deadline) {
			t.Fatal("no leader within 5s")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	return r, fsm
}

// TestRaft_SingleNodeRestart runs hashicorp/raft on the store, restarts it,
// and checks the log and term survived.
func TestRaft_SingleNodeRestart(t *testing.T) {
	dir := t.TempDir()
	snaps := raft.NewInmemSnapshotStore()
	s := openTest(t, Config{Dir: dir})
	r, _ := startRaft(t, s, snaps, true)
	for i := range 100 {
		if err := r.Apply(fmt.Appendf(nil, "cmd-%d", i), time.Second).Error(); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	if err := r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	term, err := s.StableStore().GetUint64([]byte("CurrentTerm"))
	if err != nil || term == 0 {
		t.Fatalf("CurrentTerm = %d, %v", term, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Dir: dir})
	defer s.Close()
	if last, _ := s.LogStore().LastIndex(); last < 100 {
		t.Fatalf("LastIndex after reopen = %d, want >= 100", last)
	}
	r, fsm := startRaft(t, s, snaps, false)
	defer r.Shutdown()
	if err := r.Barrier(5 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	fsm.mu.Lock()
	n := fsm.n
	fsm.mu.Unlock()
	if n != 100 {
		t.Fatalf("replayed %d commands after restart, want 100", n)
	}
	if t2, _ := s.StableStore().GetUint64([]byte("CurrentTerm")); t2 <= term {
		t.Fatalf("term after restart = %d, want > %d", t2, term)
	}
}
