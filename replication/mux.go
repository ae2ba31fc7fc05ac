package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Connection kinds on the internal listener: the first byte a dialer sends.
const (
	KindRaft byte = 'R' // hashicorp/raft's network transport
	KindHTTP byte = 'H' // internal HTTP: forwarding, read index
)

// Mux splits one internal listener into one listener per connection kind,
// so that raft and the internal HTTP endpoints share an address (and, later,
// a tunnel port). It never touches the public API listener.
type Mux struct {
	ln  net.Listener
	sec *Security // nil: plaintext

	mu   sync.Mutex // guards subs
	subs map[byte]*subListener

	closeOnce sync.Once
	done      chan struct{}
}

// NewMux wraps ln. Call Handle for every kind, then Serve.
func NewMux(ln net.Listener) *Mux {
	return &Mux{ln: ln, subs: map[byte]*subListener{}, done: make(chan struct{})}
}

// Secure makes every connection complete a mutual-TLS handshake (and
// raft connections pass sec's region rule) before it is routed. Call it
// before Serve; a nil sec keeps the mux plaintext.
func (m *Mux) Secure(sec *Security) { m.sec = sec }

// Addr is the address of the shared listener.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Handle returns the listener for connections of kind k.
func (m *Mux) Handle(k byte) net.Listener {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &subListener{m: m, ch: make(chan net.Conn, 16), done: make(chan struct{})}
	m.subs[k] = s
	return s
}

// Serve accepts connections until Close, reading each one's kind byte with a
// deadline so that a silent peer cannot hold the accept loop.
func (m *Mux) Serve() error { return m.ServeListener(m.ln) }

// ServeListener routes the connections of another listener too (a tunnel's
// address serving the same internal endpoints). Close stops it; the caller
// closes ln.
func (m *Mux) ServeListener(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go m.route(c)
	}
}

func (m *Mux) route(c net.Conn) {
	var kind byte
	if m.sec != nil {
		tc, k, err := m.sec.accept(c)
		if err != nil {
			m.sec.refuse(c, err)
			return
		}
		c, kind = tc, k
	} else {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			c.Close()
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		kind = b[0]
	}
	m.mu.Lock()
	s := m.subs[kind]
	m.mu.Unlock()
	if s == nil {
		c.Close()
		return
	}
	select {
	case s.ch <- c:
	case <-s.done:
		c.Close()
	case <-m.done:
		c.Close()
	}
}

// Close stops the mux and every sub-listener.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		close(m.done)
		err = m.ln.Close()
	})
	return err
}

type subListener struct {
	m    *Mux
	ch   chan net.Conn
	once sync.Once
	done chan struct{} // closed by Close: this kind is no longer served
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.ch:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	case <-s.m.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; the Mux still owns the socket.
func (s *subListener) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
func (s *subListener) Addr() net.Addr { return s.m.ln.Addr() }

// Dialer opens connections to other nodes' internal listeners. The default
// dials TCP; tunnels replace it with one that dials through WireGuard.
type Dialer func(ctx context.Context, addr string) (net.Conn, error)

// DialKind dials addr and announces kind k.
func DialKind(ctx context.Context, d Dialer, addr string, k byte) (net.Conn, error) {
	c, err := d(ctx, addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{k}); err != nil {
		c.Close()
		return nil, fmt.Errorf("replication: announce connection to %s: %w", addr, err)
	}
	return c, nil
}

// TCPDialer dials plain TCP.
func TCPDialer(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
