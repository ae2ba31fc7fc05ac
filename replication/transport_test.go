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
	p, err := serialTransport{leader}.AppendEntriesPipeline("f", follower.LocalAddr())
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
