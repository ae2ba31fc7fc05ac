package tunnel

import (
	"errors"
	"fmt"

	"github.com/mdlayher/genetlink"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// KernelAvailable returns nil if the kernel has WireGuard (its generic
// netlink family "wireguard" resolves), else an error wrapping
// ErrKernelUnavailable (which is returned as is when the family is missing).
func KernelAvailable() error {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return fmt.Errorf("%w (generic netlink: %w)", ErrKernelUnavailable, err)
	}
	defer c.Close()
	if _, err := c.GetFamily("wireguard"); err != nil {
		return ErrKernelUnavailable
	}
	return nil
}

// Kernel is the kernel Tunnel: a link of type wireguard created through
// rtnetlink and configured through wgctrl (generic netlink), with the
// overlay address, link up and the prefix's route like TUN. Dial and Listen
// are TUN's. wgctrl and `wg show` read it through generic netlink; there is
// no UAPI socket. The kernel binds the UDP port on every address of the
// network namespace: ListenAddr's IP is not enforced, only its port. It
// needs root (CAP_NET_ADMIN) and the wireguard module.
type Kernel struct {
	*hostNet
}

var _ Tunnel = (*Kernel)(nil)

// newKernel returns a kernel tunnel for a validated cfg.
func newKernel(cfg Config) (*Kernel, error) {
	if err := KernelAvailable(); err != nil {
		return nil, err
	}
	h, err := newHostNet(cfg)
	if err != nil {
		return nil, err
	}
	return &Kernel{hostNet: h}, nil
}

// NewKernel validates cfg (whatever its Mode) and returns a kernel tunnel,
// not yet up, or ErrKernelUnavailable where the module is missing.
func NewKernel(cfg Config) (*Kernel, error) {
	cfg.Mode = ModeKernel
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newKernel(cfg)
}

// Up creates the wireguard link, configures it through wgctrl and sets the
// overlay address, link up and route. On failure the link is gone again.
func (k *Kernel) Up() (err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.begin(); err != nil {
		return err
	}
	name := k.cfg.DeviceName
	link := &netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: k.cfg.MTU}}
	if err := netlink.LinkAdd(link); err != nil {
		switch {
		case errors.Is(err, unix.EEXIST):
			return fmt.Errorf("tunnel: create wireguard link %s: %w (an interface of that name exists; device names must be unique per machine)", name, err)
		case errors.Is(err, unix.EPERM):
			return fmt.Errorf("tunnel: create wireguard link %s: %w (needs root or CAP_NET_ADMIN)", name, err)
		case errors.Is(err, unix.EOPNOTSUPP):
			return fmt.Errorf("%w (create wireguard link %s: %w)", ErrKernelUnavailable, name, err)
		}
		return fmt.Errorf("tunnel: create wireguard link %s: %w", name, err)
	}
	teardown := func() { deleteLink(name) }
	defer func() {
		if err != nil {
			teardown()
		}
	}()
	wc, err := k.configure()
	if err != nil {
		return err
	}
	if err = k.setupLink(); err != nil {
		wc.Close()
		return err
	}
	k.wg, k.teardown, k.up = wc, teardown, true
	return nil
}
