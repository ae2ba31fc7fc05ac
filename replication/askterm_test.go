package replication

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAskTerm_BoundsDialsToAVoterThatDoesNotAnswer: read-index rounds run
// back to back, each asking every voter its term. To a voter whose dials
// hang (dead behind a tunnel), each round started a dial of its own that
// outlived the round (Go's transport finishes a dial for its pool); 50
// rounds made 50 dials at once. At most termConnsPerHost now.
func TestAskTerm_BoundsDialsToAVoterThatDoesNotAnswer(t *testing.T) {
	var now, most atomic.Int32
	release := make(chan struct{})
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release // hangs as a dial to a dead node behind a tunnel does
		return nil, context.DeadlineExceeded
	}
	g := &Group{terms: termClient(dial)}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if a := g.askTerm(ctx, "10.0.0.9:8500"); a.Term != 0 {
				t.Errorf("an answer from a node that does not answer: %+v", a)
			}
		}()
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // dials the transport started late
	close(release)
	if m := most.Load(); m > termConnsPerHost {
		t.Fatalf("%d dials at once to one voter; want at most %d", m, termConnsPerHost)
	}
	t.Logf("at most %d dials at once for 50 rounds", most.Load())
}
