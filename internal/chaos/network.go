package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// ErrNoPartitions is returned by Cut where links cannot be cut.
var ErrNoPartitions = errors.New("chaos: this network cannot cut links")

// Network places the nodes (address, ports, namespace), runs their
// processes where they belong, carries the clients' connections to them
// and cuts links between them.
type Network interface {
	// Place gives the node at layout index i its host, ports and
	// namespace. Called once per node before Setup.
	Place(i int) (host string, apiPort, internalPort int, ns string)
	// Setup makes what the nodes need (namespaces, links) for l.
	Setup(l Layout) error
	// Command answers name with args, to be run as node n.
	Command(n NodeSpec, name string, args ...string) *exec.Cmd
	// DialContext opens a client connection to a node's API (for
	// http.Transport).
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// NoPartitions says why links cannot be cut here; "" when they can.
	NoPartitions() string
	// Cut drops all traffic between a and b, both ways, until Heal.
	Cut(a, b NodeSpec) error
	// Heal restores the link Cut dropped.
	Heal(a, b NodeSpec) error
	// HealAll restores every cut link.
	HealAll() error
	// Close removes what Setup made. The nodes must have exited.
	Close() error
	// Describe says what the network is, for the report.
	Describe() string
}

// loopback runs every node on 127.0.0.1 with free ports; it cannot cut
// links.
type loopback struct {
	ports []int
	why   string // why partitions are not available
}

// NewLoopback reserves two free ports for each of n nodes. why says why
// the harness is not using namespaces (printed with skipped partitions).
func NewLoopback(n int, why string) (Network, error) {
	lb := &loopback{why: why}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := 0; i < 2*n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chaos: free port: %w", err)
		}
		lns = append(lns, ln)
		lb.ports = append(lb.ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return lb, nil
}

func (lb *loopback) Place(i int) (string, int, int, string) {
	return "127.0.0.1", lb.ports[2*i], lb.ports[2*i+1], ""
}

func (lb *loopback) Setup(Layout) error { return nil }

func (lb *loopback) Command(_ NodeSpec, name string, args ...string) *exec.Cmd {
	return exec.Command(name, args...)
}

func (lb *loopback) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (lb *loopback) NoPartitions() string { return lb.why }

func (lb *loopback) Cut(a, b NodeSpec) error  { return ErrNoPartitions }
func (lb *loopback) Heal(a, b NodeSpec) error { return ErrNoPartitions }
func (lb *loopback) HealAll() error           { return nil }
func (lb *loopback) Close() error             { return nil }

func (lb *loopback) Describe() string {
	return "loopback 127.0.0.1, free ports (no partitions: " + lb.why + ")"
}

// NetnsMissing says why network namespaces cannot be used here, or "".
func NetnsMissing() string {
	if os.Geteuid() != 0 {
		return "not root: `ip netns add` needs root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no `ip` command (install iproute2)"
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		return fmt.Sprintf("`ip netns` does not work here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}
