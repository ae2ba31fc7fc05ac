package tunnel

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// FakeNetwork joins Fakes in memory. Connections are net.Pipe pairs; no
// packets, keys or handshakes are involved.
type FakeNetwork struct {
	mu    sync.Mutex           // guards nodes
	nodes map[netip.Addr]*Fake // by overlay address
}

// NewFakeNetwork returns an empty fake network.
func NewFakeNetwork() *FakeNetwork { return &FakeNetwork{nodes: map[netip.Addr]*Fake{}} }

// Fake is an in-memory Tunnel for unit tests (like tailscale's
// router.NewFake). Dial reaches a Listen of another Fake on the same
// FakeNetwork; SetLinkDown cuts this node off: its Dials and Dials to it
// fail with ErrLinkDown and its open connections are closed, until the link
// comes back up. Peers lists every other Fake on the network, ordered by
// address, with PublicKey set to its device name and LastHandshake to the
// last Dial between the two.
type Fake struct {
	network *FakeNetwork
	addr    netip.Addr
	name    string
	down    atomic.Bool

	mu        sync.Mutex // guards the fields below
	up        bool
	closed    bool
	listeners map[uint16]*fakeListener
	conns     map[*fakeConn]struct{}
	stats     map[netip.Addr]*fakeStats // per remote address
}

type fakeStats struct {
	handshake time.Time
	rx, tx    atomic.Int64
}

var _ Tunnel = (*Fake)(nil)

// NewFake returns a Fake with overlay address addr, registered on network.
// It panics if addr is taken: that is a bug in the test.
func (fn *FakeNetwork) NewFake(name string, addr netip.Addr) *Fake {
	f := &Fake{network: fn, addr: addr, name: name,
		listeners: map[uint16]*fakeListener{}, conns: map[*fakeConn]struct{}{}, stats: map[netip.Addr]*fakeStats{}}
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if _, ok := fn.nodes[addr]; ok {
		panic(fmt.Sprintf("tunnel: fake address %s registered twice", addr))
	}
	fn.nodes[addr] = f
	return f
}

func (f *Fake) Addr() netip.Addr   { return f.addr }
func (f *Fake) DeviceName() string { return f.name }

func (f *Fake) Up() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return ErrClosed
	case f.up:
		return ErrAlreadyUp
	}
	f.up = true
	return nil
}

// SetLinkDown switches this node's link off (true) or on (false).
func (f *Fake) SetLinkDown(down bool) {
	f.down.Store(down)
	if down {
		f.mu.Lock()
		conns := f.conns
		f.conns = map[*fakeConn]struct{}{}
		f.mu.Unlock()
		for c := range conns {
			c.Close()
		}
	}
}

func (f *Fake) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return ErrClosed
	case !f.up:
		return ErrNotUp
	}
	return nil
}

func (f *Fake) statsFor(a netip.Addr) *fakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats[a]
	if s == nil {
		s = &fakeStats{}
		f.stats[a] = s
	}
	return s
}

func (f *Fake) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	ap, err := parseOverlay(addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: dial %q: %w", addr, err)
	}
	f.network.mu.Lock()
	to := f.network.nodes[ap.Addr()]
	f.network.mu.Unlock()
	if to == nil {
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, ErrNoRoute)
	}
	if f.down.Load() || to.down.Load() {
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, ErrLinkDown)
	}
	if err := to.check(); err != nil {
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, ErrLinkDown)
	}
	to.mu.Lock()
	l := to.listeners[ap.Port()]
	to.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("tunnel: dial %s: connection refused", addr)
	}
	a, b := net.Pipe()
	now := time.Now()
	mine, theirs := f.statsFor(to.addr), to.statsFor(f.addr)
	f.mu.Lock()
	mine.handshake = now
	f.mu.Unlock()
	to.mu.Lock()
	theirs.handshake = now
	to.mu.Unlock()
	local := &net.TCPAddr{IP: f.addr.AsSlice(), Port: 0}
	remote := &net.TCPAddr{IP: to.addr.AsSlice(), Port: int(ap.Port())}
	client := &fakeConn{Conn: a, local: local, remote: remote, stats: mine}
	server := &fakeConn{Conn: b, local: remote, remote: local, stats: theirs}
	select {
	case l.ch <- server:
	case <-l.done:
		return nil, fmt.Errorf("tunnel: dial %s: connection refused", addr)
	case <-ctx.Done():
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, ctx.Err())
	}
	f.track(client)
	to.track(server)
	return client, nil
}

func (f *Fake) track(c *fakeConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[c] = struct{}{}
}

func (f *Fake) Listen(port int) (net.Listener, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("tunnel: listen: port %d out of range", port)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if port == 0 {
		for p := 40000; p < 65536; p++ {
			if f.listeners[uint16(p)] == nil {
				port = p
				break
			}
		}
	}
	if f.listeners[uint16(port)] != nil {
		return nil, fmt.Errorf("tunnel: listen on [%s]:%d: address in use", f.addr, port)
	}
	l := &fakeListener{f: f, port: uint16(port), ch: make(chan net.Conn), done: make(chan struct{})}
	f.listeners[uint16(port)] = l
	return l, nil
}

func (f *Fake) Peers() ([]PeerState, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	f.network.mu.Lock()
	var others []*Fake
	for a, o := range f.network.nodes {
		if a != f.addr {
			others = append(others, o)
		}
	}
	f.network.mu.Unlock()
	slices.SortFunc(others, func(a, b *Fake) int { return a.addr.Compare(b.addr) })
	out := make([]PeerState, 0, len(others))
	for _, o := range others {
		s := f.statsFor(o.addr)
		f.mu.Lock()
		hs := s.handshake
		f.mu.Unlock()
		out = append(out, PeerState{PublicKey: o.name, Addr: o.addr, LastHandshake: hs, RxBytes: s.rx.Load(), TxBytes: s.tx.Load()})
	}
	return out, nil
}

func (f *Fake) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	ls, conns := f.listeners, f.conns
	f.listeners, f.conns = map[uint16]*fakeListener{}, map[*fakeConn]struct{}{}
	f.mu.Unlock()
	for _, l := range ls {
		l.close()
	}
	for c := range conns {
		c.Close()
	}
	f.network.mu.Lock()
	delete(f.network.nodes, f.addr)
	f.network.mu.Unlock()
	return nil
}

type fakeListener struct {
	f    *Fake
	port uint16
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *fakeListener) close() { l.once.Do(func() { close(l.done) }) }

func (l *fakeListener) Close() error {
	l.close()
	l.f.mu.Lock()
	if l.f.listeners[l.port] == l {
		delete(l.f.listeners, l.port)
	}
	l.f.mu.Unlock()
	return nil
}

func (l *fakeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: l.f.addr.AsSlice(), Port: int(l.port)}
}

// fakeConn is one end of a pipe with TCP-like addresses and byte counts.
type fakeConn struct {
	net.Conn
	local, remote net.Addr
	stats         *fakeStats
}

func (c *fakeConn) LocalAddr() net.Addr  { return c.local }
func (c *fakeConn) RemoteAddr() net.Addr { return c.remote }
func (c *fakeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.stats.rx.Add(int64(n))
	return n, err
}
func (c *fakeConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.stats.tx.Add(int64(n))
	return n, err
}

// SetDown implements Switch.
func (f *Fake) SetDown(down bool) error {
	f.SetLinkDown(down)
	return nil
}
