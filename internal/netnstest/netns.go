package netnstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Require skips t unless network namespaces can be made here (see Missing).
func Require(t testing.TB) {
	t.Helper()
	if why := Missing(); why != "" {
		t.Skip(why)
	}
}

// Missing says why network namespaces with TUN devices cannot be made
// here, or returns "": it needs root, the `ip` command (iproute2) with
// netns support, and /dev/net/tun.
func Missing() string {
	if os.Geteuid() != 0 {
		return "netnstest: needs root to create network namespaces and TUN devices (run the tests as root)"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "netnstest: no `ip` command (install iproute2)"
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		return fmt.Sprintf("netnstest: `ip netns` does not work here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Sprintf("netnstest: no /dev/net/tun (%v): load the tun module or pass the device into the container", err)
	}
	return ""
}

// Unique returns prefix followed by 8 random hex digits (names of
// namespaces, links and devices shared by every process on the machine).
func Unique(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NS is a named network namespace (`ip netns`), deleted in t.Cleanup.
type NS struct {
	Name string
}

// New creates a namespace with a unique name and its loopback up.
func New(t testing.TB) *NS {
	t.Helper()
	ns := &NS{Name: Unique("gcns")}
	Run(t, "ip", "netns", "add", ns.Name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.Name).Run() })
	Run(t, "ip", "-n", ns.Name, "link", "set", "lo", "up")
	return ns
}

// Run runs a command and fails t with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("netnstest: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Veth joins a and b with a veth pair whose ends get the IPv4 addresses
// addrA and addrB (CIDR, e.g. 10.99.0.1/24) and come up.
func Veth(t testing.TB, a, b *NS, addrA, addrB string) {
	t.Helper()
	ea, eb := Unique("gva"), Unique("gvb")
	Run(t, "ip", "link", "add", ea, "type", "veth", "peer", "name", eb)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", ea).Run() }) // if still in the host namespace
	Run(t, "ip", "link", "set", ea, "netns", a.Name)
	Run(t, "ip", "link", "set", eb, "netns", b.Name)
	Run(t, "ip", "-n", a.Name, "addr", "add", addrA, "dev", ea)
	Run(t, "ip", "-n", b.Name, "addr", "add", addrB, "dev", eb)
	Run(t, "ip", "-n", a.Name, "link", "set", ea, "up")
	Run(t, "ip", "-n", b.Name, "link", "set", eb, "up")
}

// Do runs f on an OS thread switched into the namespace. Sockets, TUN
// devices and netlink handles made inside f stay in the namespace; they
// can be used from any goroutine afterwards.
func (ns *NS) Do(f func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: current namespace: %w", err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: namespace %s: %w", ns.Name, err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: enter %s: %w", ns.Name, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: it is in the wrong namespace, and the
		// runtime ends a locked thread when its goroutine exits rather
		// than give it to another goroutine.
		return fmt.Errorf("netnstest: leave %s: %w", ns.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// DialContext dials from inside the namespace (for http.Transport).
func (ns *NS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Command returns cmd run inside the namespace (`ip netns exec`).
func (ns *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}
