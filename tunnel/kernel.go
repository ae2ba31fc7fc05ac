package tunnel

import (
	"fmt"

	"github.com/mdlayher/genetlink"
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
