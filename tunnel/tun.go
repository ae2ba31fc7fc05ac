package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
)

// TUN is the userspace TUN Tunnel: wireguard-go on a TUN device
// (/dev/net/tun) in the host's network stack. The device is exposed at
// /var/run/wireguard/NAME.sock and configured through wgctrl over that
// socket; the interface gets its overlay address and the prefix's route
// through rtnetlink. Dial and Listen use the kernel's TCP, bound to the
// overlay address and to the interface. It needs root (CAP_NET_ADMIN).
type TUN struct {
	*hostNet
}

var _ Tunnel = (*TUN)(nil)

// newTUN returns a TUN tunnel for a validated cfg.
func newTUN(cfg Config) (*TUN, error) {
	if cfg.NoUAPI {
		return nil, fmt.Errorf("%w: no_uapi: tun mode is configured through its UAPI socket and cannot run without it (no_uapi is for netstack)", ErrInvalidConfig)
	}
	if err := TUNAvailable(); err != nil {
		return nil, err
	}
	h, err := newHostNet(cfg)
	if err != nil {
		return nil, err
	}
	return &TUN{hostNet: h}, nil
}

// NewTUN validates cfg (whatever its Mode) and returns a TUN tunnel, not yet up.
func NewTUN(cfg Config) (*TUN, error) {
	cfg.Mode = ModeTUN
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newTUN(cfg)
}

// TUNAvailable returns nil if this process can probably create TUN
// devices (/dev/net/tun exists and the process is root), else an error
// wrapping ErrTUNUnavailable that says what is missing.
func TUNAvailable() error {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("%w: /dev/net/tun: %w (load the tun module, or in a container pass --device /dev/net/tun)", ErrTUNUnavailable, err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: it needs root (CAP_NET_ADMIN) to create the device and set its address; run as root or use mode netstack", ErrTUNUnavailable)
	}
	return nil
}

// Up creates the TUN device, starts wireguard-go on it with its UDP
// endpoint bound to ListenAddr, exposes the UAPI socket, configures the
// device through wgctrl, and sets the overlay address, link up and route.
// On failure the device, socket and port are gone again.
func (t *TUN) Up() (err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.begin(); err != nil {
		return err
	}
	if err := TUNAvailable(); err != nil {
		return err
	}
	name := t.cfg.DeviceName
	tdev, err := tun.CreateTUN(name, t.cfg.MTU)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return fmt.Errorf("%w: create TUN %s: %w (needs root or CAP_NET_ADMIN)", ErrTUNUnavailable, name, err)
		}
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("tunnel: create TUN %s: %w (an interface of that name exists; device names must be unique per machine)", name, err)
		}
		return fmt.Errorf("tunnel: create TUN %s: %w", name, err)
	}
	listen := netip.MustParseAddrPort(t.cfg.ListenAddr) // checked by Validate
	logger := device.NewLogger(device.LogLevelError, fmt.Sprintf("tunnel %s: ", name))
	dev := device.NewDevice(tdev, &addrBind{addr: listen.Addr().Unmap()}, logger)
	var uapi net.Listener
	teardown := func() {
		if uapi != nil { // never another live device's socket
			uapi.Close()
			removeSocket(name)
		}
		dev.Close() // closes the TUN file; the kernel removes the interface
		deleteLink(name)
	}
	defer func() {
		if err != nil {
			teardown()
		}
	}()
	if uapi, err = listenUAPI(name, dev); err != nil {
		return err
	}
	wc, err := t.configure()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			wc.Close()
		}
	}()
	if err = dev.Up(); err != nil {
		return fmt.Errorf("tunnel: bring up %s on udp %s: %w", name, t.cfg.ListenAddr, err)
	}
	if err = checkListenPort(dev, name, t.cfg.ListenAddr); err != nil {
		return err
	}
	if err = t.setupLink(); err != nil {
		return err
	}
	t.wg, t.teardown, t.up = wc, teardown, true
	return nil
}

// checkListenPort returns an error if dev did not get the UDP port of
// listen ("ip:port"; port 0 is not checked). wireguard-go comes up on its
// own when its TUN reports "up" (netstack does at once), possibly before
// it is configured; when a bind fails it forgets the port, and the next Up
// binds a random one without an error.
func checkListenPort(dev *device.Device, name, listen string) error {
	want := netip.MustParseAddrPort(listen).Port()
	if want == 0 {
		return nil
	}
	text, err := dev.IpcGet()
	if err != nil {
		return fmt.Errorf("tunnel: read back %s: %w", name, err)
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "listen_port="); ok && v == strconv.Itoa(int(want)) {
			return nil
		}
	}
	return fmt.Errorf("tunnel: bring up %s: udp %s is in use (another device or process has the port)", name, listen)
}
