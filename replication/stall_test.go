package replication

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"gridcrm/internal/stalledpeer"
)

// TestForward_GivesUpOnALeaderConnectionThatStopsTakingTheBody: a proposal
// forwarded to a leader whose connection takes none of its body (a TCP
// connection stuck behind a tunnel) fails after the stall bound as an
// unknown outcome, which its caller sends again, instead of waiting out
// the caller's whole deadline.
func TestForward_GivesUpOnALeaderConnectionThatStopsTakingTheBody(t *testing.T) {
	addr := stalledpeer.Listen(t)
	g := &Group{http: &http.Client{Transport: &http.Transport{DialContext: internalDialer(stalledpeer.Dial, time.Second, 200*time.Millisecond)}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := g.forward(ctx, addr, "/internal/v1/propose", make([]byte, 64<<20))
	if took := time.Since(start); !errors.Is(err, ErrUnknownOutcome) || took > 10*time.Second {
		t.Fatalf("the forward ended after %v with %v; want an unknown outcome soon after the stall bound", took, err)
	}
}
