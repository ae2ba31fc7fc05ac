package replication

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"gridcrm/store"
)

// TestPropose_NoLeaderAnswersNotAppliedAfterLeaderWait: a node that cannot
// reach a leader answers "not applied" once LeaderWait has passed, not at
// the end of ApplyTimeout, when a client has long given up and could not
// tell whether its write went in.
func TestPropose_NoLeaderAnswersNotAppliedAfterLeaderWait(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	addr := ln.Addr().String()
	peers := []Peer{{ID: "a", Addr: addr}, {ID: "b", Addr: "127.0.0.1:1"}, {ID: "c", Addr: "127.0.0.1:2"}}
	mux := NewMux(ln)
	g, err := New(Config{NodeID: "a", Advertise: addr, Dir: t.TempDir(), Bootstrap: true, Peers: peers,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: 50 * time.Millisecond,
		ApplyTimeout: 10 * time.Minute, LeaderWait: 300 * time.Millisecond}, st, mux, TCPDialer, kvApplier{})
	if err != nil {
		t.Fatal(err)
	}
	defer mux.Close()
	defer g.Close()
	go mux.Serve()

	for _, op := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"write", func(ctx context.Context) error { _, err := g.Propose(ctx, []byte("put k v")); return err }},
		{"read", g.ReadBarrier},
	} {
		done := make(chan error, 1)
		go func() { done <- op.do(context.Background()) }()
		select {
		case err := <-done:
			if !NotApplied(err) || !errors.Is(err, ErrNoLeader) {
				t.Errorf("%s without a leader: %v, want a not-applied ErrNoLeader", op.name, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s without a leader still waiting after a minute (LeaderWait 300ms, ApplyTimeout 10m)", op.name)
		}
	}
}
