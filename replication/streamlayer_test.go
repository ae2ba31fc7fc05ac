package replication

import (
	"net"
	"testing"
	"time"
)

// TestStreamLayer_CloseEndsAcceptedConnections: a connection a peer dialed
// here, its reader waiting (a follower's raft loop reading a snapshot from
// a leader that stalled), ends when the layer's connections are closed at
// shutdown, as the dialed ones do; later connections are closed as they
// come.
func TestStreamLayer_CloseEndsAcceptedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &streamLayer{Listener: ln, dial: TCPDialer, advertise: ln.Addr().String()}
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c, err := s.Accept()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); read <- err }()
	select {
	case err := <-read:
		t.Fatalf("read ended before the layer closed: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	s.closeConns()
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("read a byte nobody sent")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the accepted connection's read still waits after closeConns")
	}

	late, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	accepted := make(chan struct{})
	go func() { _, _ = s.Accept(); close(accepted) }()
	late.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := late.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection after closeConns was served")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a connection after closeConns was left open")
	}
	ln.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return once the listener closed")
	}
}
