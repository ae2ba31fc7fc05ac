package tunnel

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"gridcrm/tunnel/internal/netstack"
)

// Netstack is the netstack Tunnel: wireguard-go with a gVisor TCP/IP stack
// inside the process. It needs no privileges, except that exposing the UAPI
// socket under /var/run/wireguard needs write access there.
type Netstack struct {
	cfg  Config
	key  wgtypes.Key
	self netip.Addr

	mu        sync.Mutex // guards the fields below
	up        bool
	closed    bool
	dev       *device.Device
	tnet      *netstack.Net
	uapi      net.Listener
	listeners []net.Listener
}

var _ Tunnel = (*Netstack)(nil)

// newNetstack returns a netstack tunnel for a validated cfg.
func newNetstack(cfg Config) (*Netstack, error) {
	cfg, key, self, err := identity(cfg)
	if err != nil {
		return nil, err
	}
	return &Netstack{cfg: cfg, key: key, self: self}, nil
}

// identity loads a validated cfg's private key and overlay address, and
// answers cfg with a copy of its peers (the caller keeps its slice).
func identity(cfg Config) (Config, wgtypes.Key, netip.Addr, error) {
	key, err := LoadKey(cfg.PrivateKeyFile)
	if err != nil {
		return cfg, key, netip.Addr{}, err
	}
	self, err := cfg.Addr()
	if err != nil {
		return cfg, key, self, err
	}
	cfg.Peers = append([]PeerConfig(nil), cfg.Peers...)
	return cfg, key, self, nil
}

// NewNetstack validates cfg (whatever its Mode) and returns a netstack tunnel, not yet up.
func NewNetstack(cfg Config) (*Netstack, error) {
	cfg.Mode = ModeNetstack
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newNetstack(cfg)
}

func (n *Netstack) Addr() netip.Addr   { return n.self }
func (n *Netstack) DeviceName() string { return n.cfg.DeviceName }

// ipcConfig renders the device configuration in the UAPI text format (keys in hex).
func (n *Netstack) ipcConfig(port uint16) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%s\nlisten_port=%d\nreplace_peers=true\n", hex.EncodeToString(n.key[:]), port)
	for _, p := range n.cfg.Peers {
		k, err := ParsePublicKey(p.PublicKey)
		if err != nil {
			return "", err
		}
		a, err := OverlayAddr(n.cfg.Prefix, p.Region, p.Index)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "public_key=%s\n", hex.EncodeToString(k[:]))
		if p.Endpoint != "" {
			ua, err := net.ResolveUDPAddr("udp", p.Endpoint)
			if err != nil {
				return "", fmt.Errorf("tunnel: peer %s/%d endpoint %q: %w", p.Region, p.Index, p.Endpoint, err)
			}
			ap := ua.AddrPort()
			fmt.Fprintf(&b, "endpoint=%s\n", netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
		if n.cfg.Keepalive > 0 {
			fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", int(n.cfg.Keepalive/time.Second))
		}
		fmt.Fprintf(&b, "allowed_ip=%s\n", netip.PrefixFrom(a, 128))
	}
	return b.String(), nil
}

// Up creates the netstack device, binds the UDP endpoint to ListenAddr,
// configures keys and peers, brings the device up and exposes the UAPI
// socket (unless NoUAPI).
func (n *Netstack) Up() (err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.up:
		return ErrAlreadyUp
	}
	listen := netip.MustParseAddrPort(n.cfg.ListenAddr) // checked by Validate
	conf, err := n.ipcConfig(listen.Port())
	if err != nil {
		return err
	}
	tdev, tnet, err := netstack.CreateNetTUN([]netip.Addr{n.self}, nil, n.cfg.MTU)
	if err != nil {
		return fmt.Errorf("tunnel: create netstack: %w", err)
	}
	logger := device.NewLogger(device.LogLevelError, fmt.Sprintf("tunnel %s: ", n.cfg.DeviceName))
	dev := device.NewDevice(tdev, &addrBind{addr: listen.Addr().Unmap()}, logger)
	defer func() {
		if err != nil {
			dev.Close()
		}
	}()
	if err := dev.IpcSet(conf); err != nil {
		return fmt.Errorf("tunnel: configure device %s: %w", n.cfg.DeviceName, err)
	}
	if err := dev.Up(); err != nil {
		return fmt.Errorf("tunnel: bring up %s on udp %s: %w", n.cfg.DeviceName, n.cfg.ListenAddr, err)
	}
	if err := checkListenPort(dev, n.cfg.DeviceName, n.cfg.ListenAddr); err != nil {
		return err
	}
	if !n.cfg.NoUAPI {
		l, err := listenUAPI(n.cfg.DeviceName, dev)
		if err != nil {
			return err
		}
		n.uapi = l
	}
	n.dev, n.tnet, n.up = dev, tnet, true
	return nil
}

// listenUAPI exposes dev at /var/run/wireguard/NAME.sock until the returned
// listener is closed (which removes the file).
func listenUAPI(name string, dev *device.Device) (net.Listener, error) {
	f, err := ipc.UAPIOpen(name)
	if err != nil {
		return nil, fmt.Errorf("tunnel: UAPI socket /var/run/wireguard/%s.sock: %w (is another device named %s running? set NoUAPI to run without it)", name, err, name)
	}
	l, err := ipc.UAPIListen(name, f)
	f.Close()
	if err != nil {
		os.Remove("/var/run/wireguard/" + name + ".sock")
		return nil, fmt.Errorf("tunnel: UAPI socket /var/run/wireguard/%s.sock: %w", name, err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go dev.IpcHandle(c)
		}
	}()
	return l, nil
}

// state returns the netstack, or ErrClosed / ErrNotUp.
func (n *Netstack) state() (*netstack.Net, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return nil, ErrClosed
	case !n.up:
		return nil, ErrNotUp
	}
	return n.tnet, nil
}

func (n *Netstack) Dial(ctx context.Context, addr string) (net.Conn, error) {
	tnet, err := n.state()
	if err != nil {
		return nil, err
	}
	ap, err := parseOverlay(addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: dial %q: %w", addr, err)
	}
	c, err := tnet.DialContextTCPAddrPort(ctx, ap)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tunnel: dial %s: %w (no handshake with the peer? check its key and endpoint)", addr, ctx.Err())
		}
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, err)
	}
	return c, nil
}

func (n *Netstack) Listen(port int) (net.Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("tunnel: listen: port %d out of range", port)
	}
	tnet, err := n.state()
	if err != nil {
		return nil, err
	}
	l, err := tnet.ListenTCPAddrPort(netip.AddrPortFrom(n.self, uint16(port)))
	if err != nil {
		return nil, fmt.Errorf("tunnel: listen on [%s]:%d: %w", n.self, port, err)
	}
	n.mu.Lock()
	n.listeners = append(n.listeners, l)
	n.mu.Unlock()
	return l, nil
}

func (n *Netstack) Peers() ([]PeerState, error) {
	n.mu.Lock()
	dev, closed, up := n.dev, n.closed, n.up
	n.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case !up:
		return nil, ErrNotUp
	}
	text, err := dev.IpcGet()
	if err != nil {
		return nil, fmt.Errorf("tunnel: read device %s: %w", n.cfg.DeviceName, err)
	}
	got, err := parseIpcPeers(text)
	if err != nil {
		return nil, err
	}
	out := make([]PeerState, 0, len(n.cfg.Peers))
	for _, p := range n.cfg.Peers {
		k, _ := ParsePublicKey(p.PublicKey)
		st := got[k.String()]
		st.PublicKey = k.String()
		st.Addr, _ = OverlayAddr(n.cfg.Prefix, p.Region, p.Index)
		out = append(out, st)
	}
	return out, nil
}

// parseIpcPeers reads the peers from a UAPI "get" response, keyed by base64 public key.
func parseIpcPeers(text string) (map[string]PeerState, error) {
	out := map[string]PeerState{}
	var cur *PeerState
	var sec, nsec int64
	flush := func() {
		if cur != nil {
			if sec != 0 || nsec != 0 {
				cur.LastHandshake = time.Unix(sec, nsec)
			}
			out[cur.PublicKey] = *cur
		}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		if k == "public_key" {
			flush()
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != wgtypes.KeyLen {
				return nil, fmt.Errorf("tunnel: device reported a bad public key %q", v)
			}
			key, _ := wgtypes.NewKey(b)
			cur, sec, nsec = &PeerState{PublicKey: key.String()}, 0, 0
			continue
		}
		if cur == nil {
			continue
		}
		num := func() int64 { x, _ := strconv.ParseInt(v, 10, 64); return x }
		switch k {
		case "endpoint":
			cur.Endpoint = v
		case "last_handshake_time_sec":
			sec = num()
		case "last_handshake_time_nsec":
			nsec = num()
		case "rx_bytes":
			cur.RxBytes = num()
		case "tx_bytes":
			cur.TxBytes = num()
		}
	}
	flush()
	return out, sc.Err()
}

func (n *Netstack) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	dev, uapi, ls := n.dev, n.uapi, n.listeners
	n.listeners = nil
	n.mu.Unlock()
	var errs []error
	for _, l := range ls {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if uapi != nil {
		uapi.Close() // unlinks the socket file
		os.Remove("/var/run/wireguard/" + n.cfg.DeviceName + ".sock")
	}
	if dev != nil {
		dev.Close()
	}
	return errors.Join(errs...)
}

// SetDown takes the device down (true) or brings it back up (false): down,
// it sends and receives nothing, as if the underlay were cut, and open
// connections through it stall until it is up again or they time out. It is
// the operator's "ifdown" and the tests' way to cut a tunnel for real.
func (n *Netstack) SetDown(down bool) error {
	n.mu.Lock()
	dev, closed, up := n.dev, n.closed, n.up
	n.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !up:
		return ErrNotUp
	}
	if down {
		return dev.Down()
	}
	return dev.Up()
}
