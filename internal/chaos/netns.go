package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/vishvananda/netns"
)

// nsNet puts every node in a network namespace of its own, joined to a
// bridge that lives in a hub namespace; the clients dial from the hub.
// Every address exists only inside these namespaces: nothing is added to
// the host's. A link is cut with a blackhole route for the peer's address
// in each of the two namespaces.
type nsNet struct {
	prefix string // unique per run: namespace names start with it
	hub    string // the hub namespace (bridge, clients)
	subnet string // e.g. "10.213.0"

	mu     sync.Mutex                // guards the fields below
	spaces []string                  // namespaces made, hub first
	cuts   map[[2]string][2]NodeSpec // cut links by node ids (sorted)
	hubNS  netns.NsHandle            // open handle on the hub (after Setup)
}

const (
	nsAPIPort      = 8400
	nsInternalPort = 8500
)

// NewNetns prepares a namespace network; nothing is made before Setup.
func NewNetns() Network {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	p := "gcx" + hex.EncodeToString(b)
	return &nsNet{prefix: p, hub: p + "-hub", subnet: "10.213.0", cuts: map[[2]string][2]NodeSpec{}, hubNS: -1}
}

func (n *nsNet) Place(i int) (string, int, int, string) {
	return fmt.Sprintf("%s.%d", n.subnet, i+1), nsAPIPort, nsInternalPort, fmt.Sprintf("%s-n%d", n.prefix, i+1)
}

func (n *nsNet) Describe() string {
	return fmt.Sprintf("network namespaces %s-* (hub %s, bridge br0, %s.0/24); partitions by blackhole routes", n.prefix, n.hub, n.subnet)
}

func (n *nsNet) NoPartitions() string { return "" }

// ip runs the ip command and answers its error with the output.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chaos: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (n *nsNet) addNS(name string) error {
	if err := ip("netns", "add", name); err != nil {
		return err
	}
	n.mu.Lock()
	n.spaces = append(n.spaces, name)
	n.mu.Unlock()
	return ip("-n", name, "link", "set", "lo", "up")
}

func (n *nsNet) Setup(l Layout) error {
	if err := n.addNS(n.hub); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", n.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", n.hub, "addr", "add", n.subnet + ".254/24", "dev", "br0"},
		{"-n", n.hub, "link", "set", "br0", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	for i, node := range l.Nodes {
		if err := n.addNS(node.NS); err != nil {
			return err
		}
		veth := fmt.Sprintf("v%d", i+1)
		steps := [][]string{
			{"-n", n.hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", node.NS},
			{"-n", n.hub, "link", "set", veth, "master", "br0"},
			{"-n", n.hub, "link", "set", veth, "up"},
			{"-n", node.NS, "addr", "add", node.Host + "/24", "dev", "eth0"},
			{"-n", node.NS, "link", "set", "eth0", "up"},
		}
		for _, s := range steps {
			if err := ip(s...); err != nil {
				return err
			}
		}
	}
	h, err := netns.GetFromName(n.hub)
	if err != nil {
		return fmt.Errorf("chaos: open namespace %s: %w", n.hub, err)
	}
	n.mu.Lock()
	n.hubNS = h
	n.mu.Unlock()
	return nil
}

func (n *nsNet) Command(node NodeSpec, name string, args ...string) *exec.Cmd {
	// `ip netns exec` execs the command in place: the pid is the node's.
	return exec.Command("ip", append([]string{"netns", "exec", node.NS, name}, args...)...)
}

// DialContext dials from the hub namespace: the socket is made on an OS
// thread switched into it, and works from any thread afterwards.
func (n *nsNet) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("chaos: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(n.hubNS); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("chaos: enter %s: %w", n.hub, err)
	}
	c, derr := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime ends a locked thread
		// whose goroutine exits instead of reusing it in the wrong place.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("chaos: leave %s: %w", n.hub, err)
	}
	runtime.UnlockOSThread()
	return c, derr
}

func pairKey(a, b NodeSpec) [2]string {
	k := [2]string{a.ID, b.ID}
	if k[1] < k[0] {
		k[0], k[1] = k[1], k[0]
	}
	return k
}

func (n *nsNet) Cut(a, b NodeSpec) error {
	if err := ip("-n", a.NS, "route", "add", "blackhole", b.Host+"/32"); err != nil {
		return err
	}
	n.mu.Lock()
	n.cuts[pairKey(a, b)] = [2]NodeSpec{a, b}
	n.mu.Unlock()
	return ip("-n", b.NS, "route", "add", "blackhole", a.Host+"/32")
}

func (n *nsNet) Heal(a, b NodeSpec) error {
	e1 := ip("-n", a.NS, "route", "del", "blackhole", b.Host+"/32")
	e2 := ip("-n", b.NS, "route", "del", "blackhole", a.Host+"/32")
	n.mu.Lock()
	delete(n.cuts, pairKey(a, b))
	n.mu.Unlock()
	return errors.Join(e1, e2)
}

func (n *nsNet) HealAll() error {
	n.mu.Lock()
	var pairs [][2]NodeSpec
	for _, p := range n.cuts {
		pairs = append(pairs, p)
	}
	n.mu.Unlock()
	var first error
	for _, p := range pairs {
		if err := n.Heal(p[0], p[1]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (n *nsNet) Close() error {
	n.mu.Lock()
	spaces := slices.Clone(n.spaces)
	if n.hubNS >= 0 {
		n.hubNS.Close()
		n.hubNS = -1
	}
	n.spaces = nil
	n.mu.Unlock()
	var first error
	for i := len(spaces) - 1; i >= 0; i-- {
		if err := ip("netns", "del", spaces[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}
