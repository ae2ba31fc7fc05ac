package tunnel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// Tunnel is one node's WireGuard device and the overlay network behind it.
// Every implementation (netstack, TUN, kernel, fake) keeps these
// contracts. All methods are safe for concurrent use.
type Tunnel interface {
	// Up creates and configures the device and starts its UDP endpoint. It is
	// called once, before Dial, Listen or Peers; a second call returns an
	// error. On failure nothing is left behind (no socket file, no port).
	Up() error

	// Dial opens a TCP connection through the tunnel to addr, an overlay
	// address "[ip6]:port". It never falls back to the underlay network. It
	// returns when the connection is established, ctx is done (the error then
	// wraps ctx.Err() or a timeout), or the tunnel is closed. A peer whose
	// handshake fails (wrong key, endpoint down) shows up as a timeout.
	Dial(ctx context.Context, addr string) (net.Conn, error)

	// Listen listens for TCP on port of this node's overlay address (Addr)
	// only; nothing outside the tunnel can reach it. port 0 picks a free
	// port. The caller closes the listener; Close closes it too.
	Listen(port int) (net.Listener, error)

	// Peers returns the state of every configured peer, in configuration
	// order. The returned slice is the caller's.
	Peers() ([]PeerState, error)

	// Addr returns this node's overlay address. It is fixed by the
	// configuration and valid before Up.
	Addr() netip.Addr

	// Close tears the device down: it closes listeners and connections made
	// through the tunnel, the UDP endpoint and the UAPI socket (removing its
	// file). It is idempotent.
	Close() error

	// DeviceName returns the device's name: the interface name, and the
	// name that wgctrl and `wg show` use (/var/run/wireguard/NAME.sock for
	// userspace devices).
	DeviceName() string
}

// PeerState is what the device knows about one peer.
type PeerState struct {
	PublicKey     string     // base64, as `wg` prints it
	Addr          netip.Addr // the peer's overlay address (its allowed IP); zero if unknown
	Endpoint      string     // the peer's UDP endpoint "ip:port" as last seen; "" if none
	LastHandshake time.Time  // zero if no handshake has completed
	RxBytes       int64      // bytes received from the peer
	TxBytes       int64      // bytes sent to the peer
}

// HandshakeAge returns how long ago the last handshake completed, or -1 if
// none has.
func (p PeerState) HandshakeAge(now time.Time) time.Duration {
	if p.LastHandshake.IsZero() {
		return -1
	}
	return now.Sub(p.LastHandshake)
}

var (
	// ErrInvalidConfig is wrapped by every error Config.Validate returns.
	ErrInvalidConfig = errors.New("tunnel: invalid config")
	// ErrKeyFile is wrapped by errors about a key file: missing, unreadable,
	// readable by others, or malformed.
	ErrKeyFile = errors.New("tunnel: bad key file")
	// ErrKernelUnavailable means kernel mode was asked for on a machine
	// whose kernel has no WireGuard module.
	ErrKernelUnavailable = errors.New("tunnel: kernel WireGuard is not available on this machine (no wireguard module); use mode netstack or tun")
	// ErrTUNUnavailable means tun mode cannot run here: /dev/net/tun is
	// missing or the process lacks root (CAP_NET_ADMIN). The error that
	// wraps it says which.
	ErrTUNUnavailable = errors.New("tunnel: tun mode is not available")
	// ErrNotUp is returned by Dial, Listen and Peers before Up.
	ErrNotUp = errors.New("tunnel: not up")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("tunnel: closed")
	// ErrAlreadyUp is returned by a second Up.
	ErrAlreadyUp = errors.New("tunnel: already up")
	// ErrLinkDown is returned by a Fake whose link is switched off, or
	// whose destination's link is.
	ErrLinkDown = errors.New("tunnel: link down")
	// ErrNoRoute means no peer (or, for a Fake, no node) has the address.
	ErrNoRoute = errors.New("tunnel: no route to overlay address")
)

// New validates cfg and returns the Tunnel for cfg.Mode, not yet up.
func New(cfg Config) (Tunnel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Mode {
	case ModeNetstack:
		return newNetstack(cfg)
	case ModeKernel:
		return newKernel(cfg)
	default: // ModeTUN
		return newTUN(cfg)
	}
}

// parseOverlay parses an overlay "[ip6]:port" address.
func parseOverlay(addr string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}, errors.Join(ErrNoRoute, err)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// Switch is implemented by tunnels that can be taken down and brought back
// up without losing their configuration (Netstack, Fake).
type Switch interface {
	// SetDown(true) stops all traffic through the device; SetDown(false)
	// resumes it. Connections opened before may stall or fail meanwhile.
	SetDown(down bool) error
}
