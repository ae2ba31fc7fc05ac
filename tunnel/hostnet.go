package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"gridcrm/internal/connset"
)

// hostNet is what the TUN and kernel modes share: a WireGuard interface in
// the host's (the network namespace's) TCP/IP stack, configured through
// wgctrl, with the overlay address on it, and Dial/Listen through the
// kernel's TCP bound to that address and that interface. TUN and Kernel
// differ only in how the interface is created and removed (their Up).
type hostNet struct {
	cfg  Config
	key  wgtypes.Key
	self netip.Addr

	mu        sync.Mutex // guards the fields below
	up        bool
	closed    bool
	wg        *wgctrl.Client // open while up
	teardown  func()         // removes the device; set by Up
	listeners map[net.Listener]bool
	conns     connset.Set // dialed and accepted through the tunnel, until closed
}

// newHostNet checks what both host-stack modes need of a validated cfg.
func newHostNet(cfg Config) (*hostNet, error) {
	cfg, key, self, err := identity(cfg)
	if err != nil {
		return nil, err
	}
	return &hostNet{cfg: cfg, key: key, self: self, listeners: map[net.Listener]bool{}}, nil
}

func (h *hostNet) Addr() netip.Addr   { return h.self }
func (h *hostNet) DeviceName() string { return h.cfg.DeviceName }

// begin is called at the start of Up with h.mu held.
func (h *hostNet) begin() error {
	switch {
	case h.closed:
		return ErrClosed
	case h.up:
		return ErrAlreadyUp
	}
	return nil
}

// wgConfig is the device configuration for wgctrl: the private key, the
// listen port, and every peer with its overlay address as the only allowed
// IP (/128), its endpoint and the keepalive.
func (h *hostNet) wgConfig() (wgtypes.Config, error) {
	port := int(netip.MustParseAddrPort(h.cfg.ListenAddr).Port()) // checked by Validate
	key := h.key
	out := wgtypes.Config{PrivateKey: &key, ListenPort: &port, ReplacePeers: true}
	for _, p := range h.cfg.Peers {
		k, err := ParsePublicKey(p.PublicKey)
		if err != nil {
			return out, err
		}
		a, err := OverlayAddr(h.cfg.Prefix, p.Region, p.Index)
		if err != nil {
			return out, err
		}
		pc := wgtypes.PeerConfig{PublicKey: k, ReplaceAllowedIPs: true,
			AllowedIPs: []net.IPNet{{IP: a.AsSlice(), Mask: net.CIDRMask(128, 128)}}}
		if p.Endpoint != "" {
			ua, err := net.ResolveUDPAddr("udp", p.Endpoint)
			if err != nil {
				return out, fmt.Errorf("tunnel: peer %s/%d endpoint %q: %w", p.Region, p.Index, p.Endpoint, err)
			}
			ap := ua.AddrPort()
			pc.Endpoint = net.UDPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
		if h.cfg.Keepalive > 0 {
			ka := h.cfg.Keepalive
			pc.PersistentKeepaliveInterval = &ka
		}
		out.Peers = append(out.Peers, pc)
	}
	return out, nil
}

// configure opens a wgctrl client and configures the device with it; the
// client stays open for Peers.
func (h *hostNet) configure() (*wgctrl.Client, error) {
	conf, err := h.wgConfig()
	if err != nil {
		return nil, err
	}
	c, err := wgctrl.New()
	if err != nil {
		return nil, fmt.Errorf("tunnel: wgctrl: %w", err)
	}
	if err := c.ConfigureDevice(h.cfg.DeviceName, conf); err != nil {
		c.Close()
		hint := ""
		// The UAPI protocol answers only an errno; wgctrl's error carries it.
		if errors.Is(err, unix.EADDRINUSE) || strings.Contains(err.Error(), fmt.Sprintf("errno=-%d", int(unix.EADDRINUSE))) {
			hint = fmt.Sprintf(": udp %s is in use (another device or process has the port)", h.cfg.ListenAddr)
		}
		return nil, fmt.Errorf("tunnel: configure %s through wgctrl: %w%s", h.cfg.DeviceName, err, hint)
	}
	return c, nil
}

// setupLink gives the interface its overlay address (/128, without
// duplicate address detection, so that it is usable at once), brings it up
// and routes the overlay prefix through it. Where another interface in this
// network namespace already routes the prefix (two nodes on one host), it
// routes each peer's /128 instead.
func (h *hostNet) setupLink() error {
	name := h.cfg.DeviceName
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("tunnel: find interface %s: %w", name, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: h.self.AsSlice(), Mask: net.CIDRMask(128, 128)}, Flags: unix.IFA_F_NODAD}
	if err := netlink.AddrAdd(link, addr); err != nil {
		hint := ""
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			hint = " (is IPv6 disabled? check net.ipv6.conf.all.disable_ipv6)"
		}
		return fmt.Errorf("tunnel: add overlay address %s/128 to %s: %w%s", h.self, name, err, hint)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("tunnel: bring %s up: %w", name, err)
	}
	route := func(p netip.Prefix) error {
		return netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)}})
	}
	err = route(h.cfg.Prefix.Masked())
	if errors.Is(err, unix.EEXIST) {
		err = nil
		for _, p := range h.cfg.Peers {
			a, _ := OverlayAddr(h.cfg.Prefix, p.Region, p.Index)
			if e := route(netip.PrefixFrom(a, 128)); e != nil {
				err = fmt.Errorf("tunnel: route %s/128 through %s (the prefix %s is routed elsewhere): %w", a, name, h.cfg.Prefix, e)
				break
			}
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("tunnel: route %s through %s: %w", h.cfg.Prefix, name, err)
	}
	return nil
}

// bindControl pins a socket to the WireGuard interface (SO_BINDTODEVICE),
// so that it never sends or receives on the underlay.
func (h *hostNet) bindControl(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) { err = unix.BindToDevice(int(fd), h.cfg.DeviceName) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("tunnel: bind socket to %s: %w", h.cfg.DeviceName, err)
	}
	return nil
}

// started returns ErrClosed or ErrNotUp, or nil.
func (h *hostNet) started() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrClosed
	case !h.up:
		return ErrNotUp
	}
	return nil
}

func (h *hostNet) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := h.started(); err != nil {
		return nil, err
	}
	ap, err := parseOverlay(addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: dial %q: %w", addr, err)
	}
	if !h.cfg.Prefix.Contains(ap.Addr()) {
		return nil, fmt.Errorf("tunnel: dial %s: %w: not in the overlay prefix %s", addr, ErrNoRoute, h.cfg.Prefix)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: h.self.AsSlice()}, Control: h.bindControl}
	c, err := d.DialContext(ctx, "tcp6", ap.String())
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tunnel: dial %s: %w (no handshake with the peer? check its key and endpoint)", addr, ctx.Err())
		}
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, err)
	}
	return h.track(c)
}

func (h *hostNet) Listen(port int) (net.Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("tunnel: listen: port %d out of range", port)
	}
	if err := h.started(); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: h.bindControl}
	l, err := lc.Listen(context.Background(), "tcp6", netip.AddrPortFrom(h.self, uint16(port)).String())
	if err != nil {
		return nil, fmt.Errorf("tunnel: listen on [%s]:%d: %w", h.self, port, err)
	}
	tl := &trackedListener{Listener: l, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		l.Close()
		return nil, ErrClosed
	}
	h.listeners[tl] = true
	return tl, nil
}

// track registers c so that Close closes it; it closes c if the tunnel
// closed meanwhile.
func (h *hostNet) track(c net.Conn) (net.Conn, error) {
	tc, err := h.conns.Track(c)
	if err != nil {
		return nil, ErrClosed
	}
	return tc, nil
}

type trackedListener struct {
	net.Listener
	h    *hostNet
	once sync.Once
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.h.track(c)
}

func (l *trackedListener) Close() error {
	l.once.Do(func() {
		l.h.mu.Lock()
		delete(l.h.listeners, l)
		l.h.mu.Unlock()
	})
	return l.Listener.Close()
}

// Peers reads the device through wgctrl and answers the configured peers
// in configuration order.
func (h *hostNet) Peers() ([]PeerState, error) {
	h.mu.Lock()
	wc, closed, up := h.wg, h.closed, h.up
	h.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case !up:
		return nil, ErrNotUp
	}
	d, err := wc.Device(h.cfg.DeviceName)
	if err != nil {
		return nil, fmt.Errorf("tunnel: read device %s through wgctrl: %w", h.cfg.DeviceName, err)
	}
	got := make(map[wgtypes.Key]wgtypes.Peer, len(d.Peers))
	for _, p := range d.Peers {
		got[p.PublicKey] = p
	}
	out := make([]PeerState, 0, len(h.cfg.Peers))
	for _, p := range h.cfg.Peers {
		k, _ := ParsePublicKey(p.PublicKey)
		st := PeerState{PublicKey: k.String()}
		st.Addr, _ = OverlayAddr(h.cfg.Prefix, p.Region, p.Index)
		if wp, ok := got[k]; ok {
			if wp.Endpoint != nil {
				ap := wp.Endpoint.AddrPort()
				st.Endpoint = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
			}
			if !wp.LastHandshakeTime.IsZero() && wp.LastHandshakeTime.After(time.Unix(0, 0)) {
				st.LastHandshake = wp.LastHandshakeTime
			}
			st.RxBytes, st.TxBytes = wp.ReceiveBytes, wp.TransmitBytes
		}
		out = append(out, st)
	}
	return out, nil
}

// Close closes the listeners and connections made through the tunnel, the
// wgctrl client and the device (teardown removes the interface and, for
// TUN, the UAPI socket). It is idempotent.
func (h *hostNet) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	ls := h.listeners
	h.listeners = map[net.Listener]bool{}
	wc, teardown := h.wg, h.teardown
	h.mu.Unlock()
	var errs []error
	for l := range ls {
		if err := l.(*trackedListener).Listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	h.conns.CloseAll()
	if wc != nil {
		wc.Close()
	}
	if teardown != nil {
		teardown()
	}
	return errors.Join(errs...)
}

// deleteLink removes the interface name if it still exists.
func deleteLink(name string) {
	if l, err := netlink.LinkByName(name); err == nil {
		_ = netlink.LinkDel(l)
	}
}

// removeSocket removes a UAPI socket file left behind.
func removeSocket(name string) { os.Remove("/var/run/wireguard/" + name + ".sock") }
