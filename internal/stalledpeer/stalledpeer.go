package stalledpeer

import (
	"context"
	"net"
	"sync"
	"testing"
)

// buffer is the socket buffer of both ends: small, so that a body stops
// moving after a few kilobytes rather than after the kernel's megabytes.
const buffer = 4 << 10

// Listen starts the peer on loopback and answers its address; it stops,
// and closes what it accepted, when t ends.
func Listen(t testing.TB) string {
	t.Helper()
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
			_ = c.(*net.TCPConn).SetReadBuffer(buffer)
			mu.Lock()
			held = append(held, c) // never read
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepted
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Dial dials addr over plain TCP with a small send buffer.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		_ = c.(*net.TCPConn).SetWriteBuffer(buffer)
	}
	return c, err
}
