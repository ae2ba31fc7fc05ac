package replication

import (
	"net"
	"time"
)

// WriteStall bounds how long one piece of a request body may wait for the
// peer to take it. A TCP connection whose peer stops acknowledging (a
// userspace TCP stack stuck in retransmission backoff behind a tunnel, a
// peer that stopped reading) blocks its writer once the send buffer is
// full; without a bound that costs the caller its whole deadline (30 s for
// a link batch) while a fresh connection, or the region's next node, would
// have taken the bytes at once. It measures progress, not size: a slow but
// moving link never trips it.
const WriteStall = 10 * time.Second

// writeChunk is how much one bounded write hands the connection: small
// enough that a healthy link takes it well within WriteStall.
const writeChunk = 64 << 10

// GuardWrites wraps c so that each write of at most writeChunk bytes must
// finish within d, or the connection fails with a timeout (and its owner,
// an HTTP transport, drops it). Only for connections whose users set no
// write deadlines of their own: raft's transport sets its own, and would
// lose them.
func GuardWrites(c net.Conn, d time.Duration) net.Conn {
	return &guardedConn{Conn: c, d: d}
}

type guardedConn struct {
	net.Conn
	d time.Duration
}

func (c *guardedConn) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.d)); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	// No deadline left behind: what the TLS layer writes from inside a
	// read on an idle pooled connection (an alert, a key update's answer)
	// must not fail on the last request's.
	_ = c.Conn.SetWriteDeadline(time.Time{})
	return n, nil
}
