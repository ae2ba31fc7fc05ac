package node

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"gridcrm/internal/stalledpeer"
)

// TestLinkClient_GivesUpOnAConnectionThatStopsTakingTheBody: a parent node
// that accepts a link batch's connection and then takes no more of its
// body (what a TCP connection stuck in retransmission backoff behind the
// tunnel looks like: the send buffer fills and stays full) fails the call
// after replication.WriteStall, not after the call's whole deadline, so the
// link goes on to the parent's next node or a fresh connection. Before,
// the first batch of a county's new leader once waited out its 30 s there
// while 30,670 changes queued behind it (tools/smoke, "not visible at the
// province after 10 s").
func TestLinkClient_GivesUpOnAConnectionThatStopsTakingTheBody(t *testing.T) {
	addr := stalledpeer.Listen(t)
	n := &Node{cfg: Config{LinkDialer: stalledpeer.Dial}}
	client := n.linkClient(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/internal/v1/uplink", bytes.NewReader(make([]byte, 64<<20)))
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a parent that took none of the body answered")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) || took > 10*time.Second {
		t.Fatalf("the call ended after %v with %v; want a write timeout soon after the stall bound", took, err)
	}
}
