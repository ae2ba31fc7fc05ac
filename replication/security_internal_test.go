package replication

import (
	"errors"
	"log/slog"
	"net"
	"testing"
)

// noAddrConn is a connection whose peer address is gone, as a netstack
// tunnel connection's is once the peer has closed it.
type noAddrConn struct{ net.Conn }

func (noAddrConn) RemoteAddr() net.Addr { return nil }

// TestRefuse_ConnectionWithoutAddress: refusing a connection that has no
// peer address any more logs "unknown" instead of crashing the node (a
// plaintext dial through a tunnel to a TLS node did).
func TestRefuse_ConnectionWithoutAddress(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	s := &Security{log: slog.New(slog.DiscardHandler)}
	s.refuse(noAddrConn{a}, errors.New("TLS handshake: not TLS"))
	if s.Refused.Load() != 1 {
		t.Errorf("refused %d, want 1", s.Refused.Load())
	}
	if got := remoteOf(noAddrConn{a}); got != "unknown" {
		t.Errorf("remoteOf = %q", got)
	}
}
