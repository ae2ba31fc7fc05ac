package connset

import (
	"errors"
	"net"
	"testing"
)

func TestSet_CloseAllEndsTrackedConnections(t *testing.T) {
	var s Set
	a, b := net.Pipe()
	defer b.Close()
	tc, err := s.Track(a)
	if err != nil {
		t.Fatal(err)
	}
	c, d := net.Pipe()
	defer d.Close()
	closed, _ := s.Track(c)
	closed.Close()
	if s.Len() != 1 {
		t.Fatalf("%d tracked, want 1 (a closed connection leaves the set)", s.Len())
	}
	done := make(chan error, 1)
	go func() { _, err := tc.Read(make([]byte, 1)); done <- err }()
	s.CloseAll()
	if err := <-done; err == nil {
		t.Fatal("a read on a tracked connection went on after CloseAll")
	}
	e, f := net.Pipe()
	defer f.Close()
	if _, err := s.Track(e); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Track after CloseAll: %v, want net.ErrClosed", err)
	}
}
