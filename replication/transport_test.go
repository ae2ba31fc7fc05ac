package replication

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestPipeline_UnreadAnswersDoNotWedgeTheSender: raft stops reading a
// pipeline's answers at the first failure and may send more before closing
// it. With the NetworkTransport's own pipeline the sender then blocks for
// ever once a few hundred requests are in flight (a replication goroutine
// stuck for good, and raft.Shutdown with it); the drained pipeline keeps
// taking answers off the connection.
func TestPipeline_UnreadAnswersDoNotWedgeTheSender(t *testing.T) {
	follower, err := raft.NewTCPTransport("127.0.0.1:0", nil, 4, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Close()
	go func() { // a follower that refuses every append
		for rpc := range follower.Consumer() {
			rpc.Respond(&raft.AppendEntriesResponse{Term: 1, Success: false}, nil)
		}
	}()
	leader, err := raft.NewTCPTransport("127.0.0.1:0", nil, 4, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer leader.Close()
	p, err := newSerialTransport(leader, nil).AppendEntriesPipeline("f", follower.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	// raft reads the first answer, sees the failure and stops reading.
	req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax}, Term: 1, PrevLogEntry: 1, PrevLogTerm: 1, LeaderCommitIndex: 1}
	if _, err := p.AppendEntries(req, new(raft.AppendEntriesResponse)); err != nil {
		t.Fatal(err)
	}
	<-p.Consumer()
	sent := make(chan int)
	go func() {
		for i := range 600 {
			if _, err := p.AppendEntries(req, new(raft.AppendEntriesResponse)); err != nil {
				sent <- i
				return
			}
		}
		sent <- 600
	}()
	select {
	case n := <-sent:
		if n != 600 {
			t.Fatalf("the pipeline failed after %d sends", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("the pipeline's sender is wedged: answers nobody reads filled its queues")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// fakeDurableLog is a durableLog whose Sync waits for release.
type fakeDurableLog struct {
	durable uint64
	syncs   chan struct{} // a Sync started
	release chan struct{} // closed: Syncs return
}

func (f *fakeDurableLog) Sync() error {
	f.syncs <- struct{}{}
	<-f.release
	return nil
}

func (f *fakeDurableLog) DurableIndex() uint64 { return f.durable }

// TestSerialTransport_DeferredSync: with the log's fsync deferred, a
// follower's answer leaves only after the log's Sync returns, and a
// leader's appends (direct and pipelined) carry a commit index no higher
// than its durable index.
func TestSerialTransport_DeferredSync(t *testing.T) {
	fLog := &fakeDurableLog{syncs: make(chan struct{}, 16), release: make(chan struct{})}
	ft, err := raft.NewTCPTransport("127.0.0.1:0", nil, 4, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	follower := newSerialTransport(ft, fLog)
	defer follower.Close()
	got := make(chan uint64, 16) // the commit indexes the follower's raft sees
	go func() {
		for rpc := range follower.Consumer() {
			got <- rpc.Command.(*raft.AppendEntriesRequest).LeaderCommitIndex
			rpc.Respond(&raft.AppendEntriesResponse{Term: 1, Success: true}, nil)
		}
	}()
	lt, err := raft.NewTCPTransport("127.0.0.1:0", nil, 4, 5*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	leader := newSerialTransport(lt, &fakeDurableLog{durable: 7})
	defer leader.Close()

	req := func(commit uint64) *raft.AppendEntriesRequest {
		return &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax}, Term: 1,
			PrevLogEntry: 9, PrevLogTerm: 1, LeaderCommitIndex: commit, Entries: []*raft.Log{{Index: 10, Term: 1, Data: []byte("x")}}}
	}
	answered := make(chan error, 1)
	go func() { answered <- leader.AppendEntries("f", ft.LocalAddr(), req(9), new(raft.AppendEntriesResponse)) }()
	if c := <-got; c != 7 {
		t.Fatalf("the follower was told commit index %d; the leader's log is durable to 7", c)
	}
	select { // the follower's raft answered; the transport syncs first
	case <-fLog.syncs:
	case err := <-answered:
		t.Fatalf("the answer left without a Sync of the follower's log (err %v)", err)
	case <-time.After(time.Minute):
		t.Fatal("no Sync and no answer")
	}
	select {
	case err := <-answered:
		t.Fatalf("the answer left before the follower's log was synced (err %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(fLog.release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}

	p, err := leader.AppendEntriesPipeline("f", ft.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, commit := range []uint64{3, 12} {
		if _, err := p.AppendEntries(req(commit), new(raft.AppendEntriesResponse)); err != nil {
			t.Fatal(err)
		}
		if c, want := <-got, min(commit, 7); c != want {
			t.Fatalf("pipelined commit index %d sent as %d, want %d", commit, c, want)
		}
		<-p.Consumer()
	}
}
