package tunnel_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"gridcrm/internal/netnstest"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

// nsNode is one tunnel brought up inside its own network namespace.
type nsNode struct {
	ns  *netnstest.NS
	tun tunnel.Tunnel
	pub string
}

// pairInNamespaces brings up a county (320722/1) and its city (3207/1) in
// two namespaces joined by a veth pair, in mode (tun or kernel).
func pairInNamespaces(t *testing.T, mode tunnel.Mode) (county, city nsNode) {
	t.Helper()
	a, b := netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, a, b, "10.98.0.1/24", "10.98.0.2/24")
	dir := t.TempDir()
	countyKey, cityKey := filepath.Join(dir, "county.key"), filepath.Join(dir, "city.key")
	countyPub, err := tunnel.GenerateKey(countyKey)
	if err != nil {
		t.Fatal(err)
	}
	cityPub, err := tunnel.GenerateKey(cityKey)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(ns *netnstest.NS, key, pub, listen, region string, peer tunnel.PeerConfig) nsNode {
		c := tunnel.DefaultConfig()
		c.Mode = mode
		c.DeviceName = netnstest.Unique("gct")
		c.PrivateKeyFile, c.ListenAddr = key, listen
		c.Region, c.Index = tiers.RegionCode(region), 1
		c.Keepalive = time.Second
		c.Peers = []tunnel.PeerConfig{peer}
		var tn tunnel.Tunnel
		err := ns.Do(func() error {
			var err error
			if tn, err = tunnel.New(c); err != nil {
				return err
			}
			return tn.Up()
		})
		if err != nil {
			t.Fatalf("%s tunnel of %s: %v", mode, region, err)
		}
		switch tn.(type) {
		case *tunnel.TUN, *tunnel.Kernel:
		default:
			t.Errorf("New in mode %s returned a %T", mode, tn)
		}
		t.Cleanup(func() { ns.Do(tn.Close) })
		return nsNode{ns: ns, tun: tn, pub: pub}
	}
	county = mk(a, countyKey, countyPub, "10.98.0.1:51820", "320722", tunnel.PeerConfig{PublicKey: cityPub, Endpoint: "10.98.0.2:51820", Region: "3207", Index: 1})
	city = mk(b, cityKey, cityPub, "10.98.0.2:51820", "3207", tunnel.PeerConfig{PublicKey: countyPub, Endpoint: "10.98.0.1:51820", Region: "320722", Index: 1})
	return county, city
}

// checkEcho sends 64 KiB from the county to an echo server on the city's
// overlay address and checks the peers' state and the device through
// wgctrl-backed Peers and `wg show`.
func checkEcho(t *testing.T, county, city nsNode) {
	var l net.Listener
	if err := city.ns.Do(func() error {
		var err error
		l, err = city.tun.Listen(7000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Addr().String(), "[fd47:7269:6463::3207:0:1]:7000"; got != want {
		t.Errorf("listener on %s, want %s", got, want)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c net.Conn
	if err := county.ns.Do(func() error {
		var err error
		c, err = county.tun.Dial(ctx, "[fd47:7269:6463::3207:0:1]:7000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != county.tun.Addr().String() {
		t.Errorf("dialled from %s, want the county's overlay address %s", got, county.tun.Addr())
	}
	msg := make([]byte, 64<<10)
	rand.Read(msg)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through the tunnel: %v (equal %v)", err, bytes.Equal(got, msg))
	}

	ps, err := county.tun.Peers()
	if err != nil || len(ps) != 1 {
		t.Fatalf("Peers: %+v, %v", ps, err)
	}
	p := ps[0]
	if p.PublicKey != city.pub || p.LastHandshake.IsZero() || p.RxBytes < 64<<10 || p.TxBytes < 64<<10 || p.Endpoint != "10.98.0.2:51820" || p.Addr.String() != "fd47:7269:6463::3207:0:1" {
		t.Errorf("county's view of the city: %+v", p)
	}

	// Nothing outside the overlay prefix is dialled through the tunnel.
	if _, err := county.tun.Dial(ctx, "10.98.0.2:7000"); !errors.Is(err, tunnel.ErrNoRoute) {
		t.Errorf("dial to an underlay address: %v, want ErrNoRoute", err)
	}

	t.Run("wg show", func(t *testing.T) {
		wg, err := exec.LookPath("wg")
		if err != nil {
			t.Skip("no wg binary (install wireguard-tools: apt-get install wireguard-tools)")
		}
		out, err := county.ns.Command(ctx, wg, "show", county.tun.DeviceName()).CombinedOutput()
		if err != nil {
			t.Fatalf("wg show: %v\n%s", err, out)
		}
		for _, want := range []string{"peer: " + city.pub, "allowed ips: fd47:7269:6463::3207:0:1/128", "latest handshake:", "endpoint: 10.98.0.2:51820"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("wg show lacks %q:\n%s", want, out)
			}
		}
	})
}

// checkGone closes the county's tunnel and checks that its interface (and
// UAPI socket) are gone.
func checkGone(t *testing.T, county nsNode) {
	name := county.tun.DeviceName()
	if err := county.ns.Do(county.tun.Close); err != nil {
		t.Fatal(err)
	}
	county.ns.Do(func() error {
		if _, err := netlink.LinkByName(name); err == nil {
			t.Errorf("interface %s still exists after Close", name)
		}
		return nil
	})
	if _, err := os.Stat("/var/run/wireguard/" + name + ".sock"); !os.IsNotExist(err) {
		t.Errorf("UAPI socket of %s left after Close: %v", name, err)
	}
	if _, err := county.tun.Listen(0); err != tunnel.ErrClosed {
		t.Errorf("Listen after Close: %v", err)
	}
}

func TestTUN_EchoBetweenNamespaces(t *testing.T) {
	netnstest.Require(t)
	county, city := pairInNamespaces(t, tunnel.ModeTUN)
	if _, err := os.Stat("/var/run/wireguard/" + county.tun.DeviceName() + ".sock"); err != nil {
		t.Errorf("UAPI socket: %v", err)
	}
	checkEcho(t, county, city)
	checkGone(t, county)
}

func TestKernel_EchoBetweenNamespaces(t *testing.T) {
	netnstest.Require(t)
	if err := tunnel.KernelAvailable(); err != nil {
		t.Skipf("kernel mode: %v", err)
	}
	county, city := pairInNamespaces(t, tunnel.ModeKernel)
	checkEcho(t, county, city)
	checkGone(t, county)
}

func TestTUN_Refusals(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if _, err := tunnel.GenerateKey(key); err != nil {
		t.Fatal(err)
	}
	c := tunnel.DefaultConfig()
	c.Mode, c.PrivateKeyFile, c.Region, c.Index = tunnel.ModeTUN, key, "32", 1
	c.NoUAPI = true
	if _, err := tunnel.New(c); !errors.Is(err, tunnel.ErrInvalidConfig) || !strings.Contains(err.Error(), "no_uapi") {
		t.Errorf("tun mode with no_uapi: %v, want a config error naming no_uapi", err)
	}
	c.NoUAPI = false
	err := tunnel.TUNAvailable()
	_, statErr := os.Stat("/dev/net/tun")
	switch {
	case os.Geteuid() != 0 || statErr != nil:
		if !errors.Is(err, tunnel.ErrTUNUnavailable) {
			t.Fatalf("TUNAvailable without root or /dev/net/tun: %v", err)
		}
		if _, nerr := tunnel.New(c); !errors.Is(nerr, tunnel.ErrTUNUnavailable) {
			t.Errorf("New in tun mode without root or /dev/net/tun: %v", nerr)
		}
	case err != nil:
		t.Fatalf("TUNAvailable as root with /dev/net/tun: %v", err)
	default:
		t.Log("root with /dev/net/tun: the refusal without them is not exercised here")
	}
}

// A tun-mode Up that fails (its UDP port is taken) leaves no interface
// and no UAPI socket behind, and says which port.
func TestTUN_UpFailureLeavesNothing(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if _, err := tunnel.GenerateKey(key); err != nil {
		t.Fatal(err)
	}
	c := tunnel.DefaultConfig()
	c.Mode, c.PrivateKeyFile, c.Region, c.Index = tunnel.ModeTUN, key, "32", 1
	// The port is taken in the host's namespace too: wireguard-go may bind
	// from a goroutine outside ns when its TUN reports "up" (an artefact of
	// running two namespaces in one process).
	hostBusy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostBusy.Close()
	c.DeviceName, c.ListenAddr = netnstest.Unique("gct"), hostBusy.LocalAddr().String()
	_, port, _ := net.SplitHostPort(c.ListenAddr)
	var busy net.PacketConn
	var upErr error
	err = ns.Do(func() error {
		var err error
		if busy, err = net.ListenPacket("udp4", c.ListenAddr); err != nil {
			return err
		}
		tn, err := tunnel.New(c)
		if err != nil {
			return err
		}
		if _, ok := tn.(*tunnel.TUN); !ok {
			t.Errorf("New in tun mode returned a %T", tn)
		}
		upErr = tn.Up()
		if upErr == nil {
			tn.Close()
		}
		if _, err := netlink.LinkByName(c.DeviceName); err == nil {
			t.Errorf("interface %s left behind by a failed Up", c.DeviceName)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if upErr == nil || !strings.Contains(upErr.Error(), port) {
		t.Errorf("Up with its UDP port taken: %v, want an error naming the port", upErr)
	}
	if _, err := os.Stat("/var/run/wireguard/" + c.DeviceName + ".sock"); !os.IsNotExist(err) {
		t.Errorf("UAPI socket left behind by a failed Up: %v", err)
	}
}

// Device names are unique per machine, not per namespace: the UAPI
// socket directory is shared. A second device of the same name, in
// another namespace, is refused, and the first keeps its socket.
func TestTUN_SameNameInAnotherNamespaceRefused(t *testing.T) {
	netnstest.Require(t)
	a, b := netnstest.New(t), netnstest.New(t)
	dir := t.TempDir()
	name := netnstest.Unique("gct")
	up := func(ns *netnstest.NS, keyName string) (tunnel.Tunnel, error) {
		key := filepath.Join(dir, keyName)
		if _, err := tunnel.GenerateKey(key); err != nil {
			t.Fatal(err)
		}
		c := tunnel.DefaultConfig()
		c.Mode, c.PrivateKeyFile, c.Region, c.Index = tunnel.ModeTUN, key, "32", 1
		c.DeviceName, c.ListenAddr = name, "127.0.0.1:0"
		var tn tunnel.Tunnel
		err := ns.Do(func() error {
			var err error
			if tn, err = tunnel.New(c); err != nil {
				return err
			}
			return tn.Up()
		})
		return tn, err
	}
	first, err := up(a, "a")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Do(first.Close) })
	second, err := up(b, "b")
	if err == nil {
		b.Do(second.Close)
		t.Fatal("a second device named like a running one came up")
	}
	if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "UAPI socket") {
		t.Errorf("second device: %v, want an error naming the device and its UAPI socket", err)
	}
	if _, err := os.Stat("/var/run/wireguard/" + name + ".sock"); err != nil {
		t.Errorf("the first device's socket is gone: %v", err)
	}
	if _, err := first.Peers(); err != nil {
		t.Errorf("first device unreadable after the refusal: %v", err)
	}
}
