package node

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"gridcrm/replication"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
			mu.Lock()
			held = append(held, c) // never read: the body stops moving once the buffers are full
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		<-accepted
		for _, c := range held {
			c.Close()
		}
	}()
	n := &Node{cfg: Config{LinkDialer: func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := replication.TCPDialer(ctx, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetWriteBuffer(4 << 10)
		}
		return c, err
	}}}
	client := n.linkClient(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ln.Addr().String()+"/internal/v1/uplink", bytes.NewReader(make([]byte, 64<<20)))
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
