package netstack

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// KeepAlive is the TCP keep-alive of every connection dialed or accepted
// through the tunnel: Go's net package turns it on for every TCP
// connection (15 s idle, then a probe every 15 s, 9 unanswered probes), but
// gVisor's endpoints have it off, and accepted ones do not take it from
// their listener. Without it a peer that vanishes behind the tunnel
// (powered off: its packets are dropped, nothing answers with a reset) is
// never noticed by a connection waiting to read from it: a raft follower
// installing a snapshot from a leader that died mid-stream kept its raft
// loop in that read, and with it the region's election. With it, such a
// read fails after about 2.5 minutes, as on plain TCP.
//
// Tests shorten it; it must not change while connections are made.
var KeepAlive = struct {
	Idle, Interval time.Duration
	Count          int
}{15 * time.Second, 15 * time.Second, 9}

// keepAlive turns KeepAlive on for ep.
func keepAlive(ep tcpip.Endpoint) {
	idle := tcpip.KeepaliveIdleOption(KeepAlive.Idle)
	interval := tcpip.KeepaliveIntervalOption(KeepAlive.Interval)
	_ = ep.SetSockOpt(&idle)
	_ = ep.SetSockOpt(&interval)
	_ = ep.SetSockOptInt(tcpip.KeepaliveCountOption, KeepAlive.Count)
	ep.SocketOptions().SetKeepAlive(true)
}

// dialTCP is gonet.DialContextTCP with keep-alive on the endpoint.
func dialTCP(ctx context.Context, s *stack.Stack, addr tcpip.FullAddress, network tcpip.NetworkProtocolNumber) (*gonet.TCPConn, error) {
	var wq waiter.Queue
	ep, err := s.NewEndpoint(tcp.ProtocolNumber, network, &wq)
	if err != nil {
		return nil, errors.New(err.String())
	}
	keepAlive(ep) // the options; the timer starts once connected (below)
	waitEntry, notifyCh := waiter.NewChannelEntry(waiter.WritableEvents)
	wq.EventRegister(&waitEntry)
	defer wq.EventUnregister(&waitEntry)
	select {
	case <-ctx.Done():
		ep.Close()
		return nil, ctx.Err()
	default:
	}
	err = ep.Connect(addr)
	if _, ok := err.(*tcpip.ErrConnectStarted); ok {
		select {
		case <-ctx.Done():
			ep.Close()
			return nil, ctx.Err()
		case <-notifyCh:
		}
		err = ep.LastError()
	}
	if err != nil {
		ep.Close()
		return nil, &net.OpError{Op: "connect", Net: "tcp", Addr: tcpAddr(addr), Err: errors.New(err.String())}
	}
	keepAlive(ep) // again: its timer only starts on a connected endpoint
	return gonet.NewTCPConn(&wq, ep), nil
}

// tcpListener is gonet.TCPListener with keep-alive on every connection it
// accepts.
type tcpListener struct {
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	once   sync.Once
	cancel chan struct{}
}

// listenTCP is gonet.ListenTCP, its connections with keep-alive.
func listenTCP(s *stack.Stack, addr tcpip.FullAddress, network tcpip.NetworkProtocolNumber) (*tcpListener, error) {
	var wq waiter.Queue
	ep, err := s.NewEndpoint(tcp.ProtocolNumber, network, &wq)
	if err != nil {
		return nil, errors.New(err.String())
	}
	if err := ep.Bind(addr); err != nil {
		ep.Close()
		return nil, &net.OpError{Op: "bind", Net: "tcp", Addr: tcpAddr(addr), Err: errors.New(err.String())}
	}
	if err := ep.Listen(4096); err != nil { // gonet's backlog
		ep.Close()
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: tcpAddr(addr), Err: errors.New(err.String())}
	}
	return &tcpListener{ep: ep, wq: &wq, cancel: make(chan struct{})}, nil
}

var errAcceptCanceled = errors.New("operation canceled")

// Accept implements net.Listener.
func (l *tcpListener) Accept() (net.Conn, error) {
	n, wq, err := l.ep.Accept(nil)
	if _, ok := err.(*tcpip.ErrWouldBlock); ok {
		waitEntry, notifyCh := waiter.NewChannelEntry(waiter.ReadableEvents)
		l.wq.EventRegister(&waitEntry)
		defer l.wq.EventUnregister(&waitEntry)
		for {
			if n, wq, err = l.ep.Accept(nil); err == nil {
				break
			}
			if _, ok := err.(*tcpip.ErrWouldBlock); !ok {
				break
			}
			select {
			case <-l.cancel:
				return nil, errAcceptCanceled
			case <-notifyCh:
			}
		}
	}
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: errors.New(err.String())}
	}
	keepAlive(n)
	return gonet.NewTCPConn(wq, n), nil
}

// Close implements net.Listener: it ends the listening endpoint and any
// Accept waiting on it.
func (l *tcpListener) Close() error {
	l.ep.Close()
	l.once.Do(func() { close(l.cancel) })
	return nil
}

// Addr implements net.Listener.
func (l *tcpListener) Addr() net.Addr {
	a, err := l.ep.GetLocalAddress()
	if err != nil {
		return nil
	}
	return tcpAddr(a)
}

// tcpAddr is gonet's fullToTCPAddr.
func tcpAddr(a tcpip.FullAddress) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IP(a.Addr.AsSlice()), Port: int(a.Port)}
}
