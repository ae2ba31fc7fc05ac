package tunnel

import (
	"errors"
	"os"
	"testing"
)

// This machine has no wireguard module; where one exists the test skips.
func TestKernel_UnavailableSaysSo(t *testing.T) {
	if _, err := os.Stat("/sys/module/wireguard"); err == nil {
		t.Skip("this kernel has the wireguard module loaded")
	}
	err := KernelAvailable()
	if err == nil {
		t.Skip("the kernel resolves the wireguard netlink family (module present)")
	}
	const want = "tunnel: kernel WireGuard is not available on this machine (no wireguard module); use mode netstack or tun"
	if err.Error() != want || !errors.Is(err, ErrKernelUnavailable) {
		t.Fatalf("KernelAvailable: %q, want %q", err, want)
	}
	c := DefaultConfig()
	c.Mode = ModeKernel
	c.PrivateKeyFile, _ = testKey(t, t.TempDir(), "k")
	c.Region, c.Index = "32", 1
	if _, err := New(c); !errors.Is(err, ErrKernelUnavailable) {
		t.Fatalf("New in kernel mode: %v, want ErrKernelUnavailable", err)
	}
}
