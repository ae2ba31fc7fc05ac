package replication

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestForward_GivesUpOnALeaderConnectionThatStopsTakingTheBody: a proposal
// forwarded to a leader whose connection takes none of its body (a TCP
// connection stuck behind a tunnel) fails after the stall bound as an
// unknown outcome, which its caller sends again, instead of waiting out
// the caller's whole deadline.
func TestForward_GivesUpOnALeaderConnectionThatStopsTakingTheBody(t *testing.T) {
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
			held = append(held, c) // never read
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
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := TCPDialer(ctx, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetWriteBuffer(4 << 10)
		}
		return c, err
	}
	g := &Group{http: &http.Client{Transport: &http.Transport{DialContext: internalDialer(dial, time.Second, 200*time.Millisecond)}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = g.forward(ctx, ln.Addr().String(), "/internal/v1/propose", make([]byte, 64<<20))
	if took := time.Since(start); !errors.Is(err, ErrUnknownOutcome) || took > 10*time.Second {
		t.Fatalf("the forward ended after %v with %v; want an unknown outcome soon after the stall bound", took, err)
	}
}
