package connset

import (
	"net"
	"sync"
)

// Set is a set of open connections. The zero value is ready to use.
type Set struct {
	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
}

// Track returns c wrapped so that closing it removes it from the set. After
// CloseAll it closes c and answers net.ErrClosed.
func (s *Set) Track(c net.Conn) (net.Conn, error) {
	tc := &conn{Conn: c, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[tc] = struct{}{}
	return tc, nil
}

// CloseAll closes every tracked connection and refuses new ones.
func (s *Set) CloseAll() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// Len is the number of tracked connections.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

type conn struct {
	net.Conn
	s    *Set
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}
