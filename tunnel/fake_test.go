package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func fakePair(t *testing.T) (a, b *Fake) {
	t.Helper()
	n := NewFakeNetwork()
	a = n.NewFake("a", netip.MustParseAddr("fd47:7269:6463::3207:0:1"))
	b = n.NewFake("b", netip.MustParseAddr("fd47:7269:6463::3207:22:1"))
	for _, f := range []*Fake{a, b} {
		if err := f.Up(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
	}
	return a, b
}

// echo accepts connections on l and echoes each until it closes.
func echo(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); io.Copy(c, c) }()
	}
}

// roundTrip writes size bytes on c and reads them back.
func roundTrip(t *testing.T, c net.Conn, size int) {
	t.Helper()
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	wrote := make(chan error, 1)
	go func() { _, err := c.Write(msg); wrote <- err }()
	got := make([]byte, size)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
	for i := range got {
		if got[i] != msg[i] {
			t.Fatalf("byte %d: %d, want %d", i, got[i], msg[i])
		}
	}
}

func TestFake_DialListenEcho(t *testing.T) {
	a, b := fakePair(t)
	l, err := b.Listen(7000)
	if err != nil {
		t.Fatal(err)
	}
	go echo(l)
	c, err := a.Dial(context.Background(), "[fd47:7269:6463::3207:22:1]:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddr().String(); got != "[fd47:7269:6463::3207:22:1]:7000" {
		t.Errorf("RemoteAddr %s", got)
	}
	roundTrip(t, c, 4096)
	ps, err := a.Peers()
	if err != nil || len(ps) != 1 {
		t.Fatalf("Peers: %v %v", ps, err)
	}
	if ps[0].PublicKey != "b" || ps[0].LastHandshake.IsZero() || ps[0].TxBytes != 4096 || ps[0].RxBytes != 4096 {
		t.Errorf("peer state %+v", ps[0])
	}
	if _, err := a.Dial(context.Background(), "[fd47:7269:6463::3207:22:1]:7001"); err == nil {
		t.Error("dial to a port nobody listens on succeeded")
	}
	if _, err := a.Dial(context.Background(), "[fd47:7269:6463::1:2:3]:7000"); !errors.Is(err, ErrNoRoute) {
		t.Errorf("dial to unknown address: %v, want ErrNoRoute", err)
	}
}

func TestFake_LinkDownStopsTrafficUntilUp(t *testing.T) {
	a, b := fakePair(t)
	l, _ := b.Listen(7000)
	go echo(l)
	addr := "[" + b.Addr().String() + "]:7000"
	c, err := a.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	b.SetLinkDown(true)
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("write on a connection over a downed link succeeded")
	}
	if _, err := a.Dial(context.Background(), addr); !errors.Is(err, ErrLinkDown) {
		t.Errorf("dial with the link down: %v, want ErrLinkDown", err)
	}
	b.SetLinkDown(false)
	c2, err := a.Dial(context.Background(), addr)
	if err != nil {
		t.Fatalf("dial after the link came back: %v", err)
	}
	defer c2.Close()
	roundTrip(t, c2, 100)
}

func TestFake_CloseAndNotUp(t *testing.T) {
	n := NewFakeNetwork()
	f := n.NewFake("x", netip.MustParseAddr("fd00::1"))
	if _, err := f.Listen(1); !errors.Is(err, ErrNotUp) {
		t.Errorf("Listen before Up: %v", err)
	}
	f.Up()
	l, _ := f.Listen(1)
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	f.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	if _, err := f.Dial(context.Background(), "[fd00::1]:1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Dial after Close: %v", err)
	}
}
