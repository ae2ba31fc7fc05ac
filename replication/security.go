package replication

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"gridcrm/pki"
)

// Security is mutual TLS 1.3 on every node-to-node connection: the internal
// listener's mux completes a TLS handshake before it reads a connection's
// kind byte, and every dial to another node (raft, internal HTTP, the links
// to the parent) completes one before it sends its kind byte. Both sides
// present node certificates from the province's root (package pki), and
// both decide by identity, never by address:
//
//   - a raft connection is admitted only from a node of this region
//     (pki.Authorize(ServiceRaft)); a dial for raft or the region's internal
//     HTTP accepts only a node of this region as the answerer;
//   - each internal HTTP route checks its own service (Require): propose,
//     read index and membership from this region's nodes only; the links'
//     routes check that the caller is a node of the child region it speaks
//     for (node's wiring);
//   - a link's dial accepts only a node of the parent region
//     (pki.AuthorizeDial(ServiceUplink)).
//
// A nil *Security is plaintext: every method passes through. The node
// refuses that on a listener other than loopback unless configured
// insecure on purpose.
type Security struct {
	trust *pki.Trust
	kp    *pki.Keypair
	self  pki.Identity
	log   *slog.Logger

	server *tls.Config
	dial   map[pki.Service]*tls.Config

	// Refused counts handshakes refused on the internal listener and
	// connections of a kind the peer may not open; RefusedCalls counts HTTP
	// calls Require refused.
	Refused      atomic.Uint64
	RefusedCalls atomic.Uint64
}

// handshakeTimeout bounds a TLS handshake and the kind byte after it, so
// that a silent peer cannot hold a goroutine.
const handshakeTimeout = 5 * time.Second

// NewSecurity builds the TLS configurations of a node holding kp, trusting
// t. It fails if kp's own certificate does not verify against t.
func NewSecurity(t *pki.Trust, kp *pki.Keypair, log *slog.Logger) (*Security, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Security{trust: t, kp: kp, self: kp.Identity(), log: log, dial: map[pki.Service]*tls.Config{}}
	var err error
	if s.server, err = pki.ServerConfig(t, kp, nil); err != nil {
		return nil, fmt.Errorf("replication: %w", err)
	}
	for _, svc := range []pki.Service{pki.ServiceRaft, pki.ServicePropose, pki.ServiceUplink} {
		svc := svc
		c, err := pki.DialConfig(t, kp, func(peer pki.Identity) error { return pki.AuthorizeDial(svc, s.self, peer) })
		if err != nil {
			return nil, fmt.Errorf("replication: %w", err)
		}
		s.dial[svc] = c
	}
	return s, nil
}

// Self is this node's identity (region and node id).
func (s *Security) Self() pki.Identity { return s.self }

// Trust is what this node trusts; Keypair what it presents. Both may be
// refreshed in place (revocation lists, renewed certificates).
func (s *Security) Trust() *pki.Trust     { return s.trust }
func (s *Security) Keypair() *pki.Keypair { return s.kp }

// Dialer returns a dialer that dials with d and completes a TLS handshake
// accepting only the peers svc may be sent to: pki.ServiceRaft and
// pki.ServicePropose want a node of this region, pki.ServiceUplink (and
// ServiceDownlink) a node of the parent region. A nil Security returns d.
func (s *Security) Dialer(d Dialer, svc pki.Service) Dialer {
	if s == nil {
		return d
	}
	switch svc {
	case pki.ServiceReadIndex, pki.ServiceMembership, pki.ServiceSnapshot:
		svc = pki.ServicePropose // the same rule: this region's nodes
	case pki.ServiceDownlink:
		svc = pki.ServiceUplink
	}
	cfg := s.dial[svc]
	if cfg == nil {
		return func(context.Context, string) (net.Conn, error) {
			return nil, fmt.Errorf("replication: no dial rule for service %q", svc)
		}
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := d(ctx, addr)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, cfg)
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("replication: TLS to %s (%s): %w", addr, svc, err)
		}
		return tc, nil
	}
}

// accept completes the server side of the handshake on c and reads the
// kind byte; it refuses raft from a node of another region. It answers the
// connection to route, or an error (the connection is closed).
func (s *Security) accept(c net.Conn) (net.Conn, byte, error) {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	tc := tls.Server(c, s.server)
	if err := tc.Handshake(); err != nil {
		return nil, 0, fmt.Errorf("TLS handshake: %w", err)
	}
	var b [1]byte
	if _, err := io.ReadFull(tc, b[:]); err != nil {
		return nil, 0, fmt.Errorf("read connection kind: %w", err)
	}
	_ = c.SetDeadline(time.Time{})
	if b[0] == KindRaft {
		peer, err := pki.PeerIdentity(tc.ConnectionState())
		if err == nil {
			err = pki.Authorize(pki.ServiceRaft, s.self, peer)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return tc, b[0], nil
}

// refuse logs and counts a refused connection.
func (s *Security) refuse(c net.Conn, err error) {
	s.Refused.Add(1)
	s.log.Warn("replication: internal connection refused", "remote", remoteOf(c), "err", err)
	c.Close()
}

// remoteOf names a connection's peer address; a tunnel's connection that
// its peer has already closed may have none (netstack answers nil).
func remoteOf(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return "unknown"
}

// PeerOf returns the verified identity of the node that made r; ok is false
// when r did not come over mutual TLS (a plaintext node).
func PeerOf(r *http.Request) (pki.Identity, bool, error) {
	if r.TLS == nil {
		return pki.Identity{}, false, nil
	}
	id, err := pki.PeerIdentity(*r.TLS)
	return id, true, err
}

// ErrForbidden is what Require answers a caller that may not call a route.
var ErrForbidden = errors.New("replication: forbidden")

// Authorize decides whether the node that made r may call svc here. A nil
// Security admits every caller (plaintext); otherwise r must have come over
// mutual TLS and pki.Authorize decides.
func (s *Security) Authorize(svc pki.Service, r *http.Request) error {
	if s == nil {
		return nil
	}
	peer, ok, err := PeerOf(r)
	if !ok {
		return fmt.Errorf("%w: %s needs a mutual-TLS connection", ErrForbidden, svc)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	if err := pki.Authorize(svc, s.self, peer); err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return nil
}

// Require wraps h so that only callers Authorize admits for svc reach it;
// others get 403 with the rule (which names identities, never state).
func (s *Security) Require(svc pki.Service, h http.Handler) http.Handler {
	if s == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Authorize(svc, r); err != nil {
			s.RefusedCalls.Add(1)
			s.log.Warn("replication: internal call refused", "service", string(svc), "remote", r.RemoteAddr, "err", err)
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
