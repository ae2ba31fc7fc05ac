package tunnel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"

	"gridcrm/tunnel/internal/netstack"
)

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// uniqueName returns a device name no other test run uses.
func uniqueName(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "gct" + hex.EncodeToString(b)
}

// netstackPair brings up two netstack tunnels, a county (320722/1) and its
// city (3207/1), peered over 127.0.0.1. With wrongKey the city is told a
// key that is not the county's.
func netstackPair(t *testing.T, wrongKey bool) (county, city *Netstack) {
	t.Helper()
	dir := t.TempDir()
	countyKey, countyPub := testKey(t, dir, "county.key")
	cityKey, cityPub := testKey(t, dir, "city.key")
	if wrongKey {
		_, countyPub = testKey(t, dir, "other.key")
	}
	countyUDP, cityUDP := freeUDPPort(t), freeUDPPort(t)
	mk := func(key, listen, region string, peer PeerConfig) *Netstack {
		c := DefaultConfig()
		c.DeviceName = uniqueName(t)
		c.PrivateKeyFile = key
		c.ListenAddr = listen
		c.Region, c.Index = tiersCode(region), 1
		c.Peers = []PeerConfig{peer}
		n, err := NewNetstack(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Up(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	county = mk(countyKey, countyUDP, "320722", PeerConfig{PublicKey: cityPub, Endpoint: cityUDP, Region: "3207", Index: 1})
	city = mk(cityKey, cityUDP, "3207", PeerConfig{PublicKey: countyPub, Endpoint: countyUDP, Region: "320722", Index: 1})
	return county, city
}

func TestNetstack_EchoThroughTunnel(t *testing.T) {
	county, city := netstackPair(t, false)
	l, err := city.Listen(7000)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Addr().String(); got != "[fd47:7269:6463::3207:0:1]:7000" {
		t.Errorf("listener on %s, want the city's overlay address", got)
	}
	go echo(l)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := county.Dial(ctx, "[fd47:7269:6463::3207:0:1]:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, 16<<10)

	ps, err := county.Peers()
	if err != nil || len(ps) != 1 {
		t.Fatalf("Peers: %+v, %v", ps, err)
	}
	p := ps[0]
	if p.LastHandshake.IsZero() || p.RxBytes < 16<<10 || p.TxBytes < 16<<10 || p.Endpoint != city.cfg.ListenAddr {
		t.Errorf("county's view of the city: %+v (city listens on %s)", p, city.cfg.ListenAddr)
	}
	if p.Addr.String() != "fd47:7269:6463::3207:0:1" {
		t.Errorf("peer addr %s", p.Addr)
	}

	// The UDP endpoint is bound to 127.0.0.1 only, not to every address:
	// the same port on 127.0.0.2 is still free.
	other := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), netip.MustParseAddrPort(city.cfg.ListenAddr).Port())
	u, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(other))
	if err != nil {
		t.Errorf("port taken on other addresses too (not bound to 127.0.0.1 only): %v", err)
	} else {
		u.Close()
	}
}

func TestNetstack_WrongPeerKeyNoHandshake(t *testing.T) {
	county, city := netstackPair(t, true)
	l, err := county.Listen(7000)
	if err != nil {
		t.Fatal(err)
	}
	go echo(l)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := city.Dial(ctx, "["+county.Addr().String()+"]:7000")
	if err == nil {
		c.Close()
		t.Fatal("dial through a tunnel with the wrong peer key succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial error %v, want a timeout", err)
	}
	for _, n := range []*Netstack{county, city} {
		ps, err := n.Peers()
		if err != nil {
			t.Fatal(err)
		}
		if !ps[0].LastHandshake.IsZero() {
			t.Errorf("%s: handshake at %v with a wrong key", n.DeviceName(), ps[0].LastHandshake)
		}
	}
}

func TestNetstack_UAPIReadByWgctrlAndWg(t *testing.T) {
	county, city := netstackPair(t, false)
	sock := "/var/run/wireguard/" + county.DeviceName() + ".sock"
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("UAPI socket: %v", err)
	}
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	d, err := wc.Device(county.DeviceName())
	if err != nil {
		t.Fatalf("wgctrl Device(%s): %v", county.DeviceName(), err)
	}
	if len(d.Peers) != 1 || d.Peers[0].PublicKey.String() != mustPub(t, city) {
		t.Errorf("wgctrl peers %+v, want the city %s", d.Peers, mustPub(t, city))
	}
	if d.PublicKey.String() != mustPub(t, county) {
		t.Errorf("wgctrl device key %s, want %s", d.PublicKey, mustPub(t, county))
	}
	if want := int(netip.MustParseAddrPort(county.cfg.ListenAddr).Port()); d.ListenPort != want {
		t.Errorf("wgctrl listen port %d, want %d", d.ListenPort, want)
	}

	t.Run("wg show", func(t *testing.T) {
		wg, err := exec.LookPath("wg")
		if err != nil {
			t.Skip("no wg binary (install wireguard-tools: apt-get install wireguard-tools)")
		}
		out, err := exec.Command(wg, "show", county.DeviceName()).CombinedOutput()
		if err != nil {
			t.Fatalf("wg show: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "peer: "+mustPub(t, city)) || !strings.Contains(string(out), "fd47:7269:6463::3207:0:1/128") {
			t.Errorf("wg show lacks the city peer %s:\n%s", mustPub(t, city), out)
		}
	})

	county.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left after Close: %v", sock, err)
	}
}

// mustPub returns n's public key in base64.
func mustPub(t *testing.T, n *Netstack) string { return n.key.PublicKey().String() }

func TestNetstack_DialBeforeUpAndAfterClose(t *testing.T) {
	dir := t.TempDir()
	key, _ := testKey(t, dir, "k")
	c := DefaultConfig()
	c.DeviceName = uniqueName(t)
	c.PrivateKeyFile, c.ListenAddr = key, "127.0.0.1:0"
	c.Region, c.Index = "32", 1
	n, err := NewNetstack(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(1); err != ErrNotUp {
		t.Errorf("Listen before Up: %v", err)
	}
	if err := n.Up(); err != nil {
		t.Fatal(err)
	}
	if err := n.Up(); err != ErrAlreadyUp {
		t.Errorf("second Up: %v", err)
	}
	n.Close()
	if _, err := n.Dial(context.Background(), "[fd00::1]:1"); err != ErrClosed {
		t.Errorf("Dial after Close: %v", err)
	}
}

// TestNetstack_SetDownStopsTrafficUntilUp: a device taken down carries
// nothing (a dial times out); brought back up, with the same keys and port,
// traffic flows again.
func TestNetstack_SetDownStopsTrafficUntilUp(t *testing.T) {
	county, city := netstackPair(t, false)
	l, err := city.Listen(7001)
	if err != nil {
		t.Fatal(err)
	}
	go echo(l)
	dial := func(d time.Duration) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return county.Dial(ctx, "[fd47:7269:6463::3207:0:1]:7001")
	}
	c, err := dial(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, 1<<10)
	c.Close()

	if err := city.SetDown(true); err != nil {
		t.Fatal(err)
	}
	if c, err := dial(1500 * time.Millisecond); err == nil {
		c.Close()
		t.Fatal("dialled the city through a tunnel that is down")
	}
	if err := city.SetDown(false); err != nil {
		t.Fatal(err)
	}
	c, err = dial(10 * time.Second)
	if err != nil {
		t.Fatalf("after SetDown(false): %v", err)
	}
	defer c.Close()
	roundTrip(t, c, 1<<10)
}

// TestNetstack_KeepAliveEndsReadsFromAVanishedPeer: a peer that vanishes
// behind the tunnel (its device down: nothing answers, nothing resets) is
// noticed by the connections waiting to read from it, accepted and dialled
// alike, once its keep-alive probes go unanswered (shortened here). Without
// keep-alive the reads wait forever: a raft follower installing a snapshot
// from a leader that died mid-stream kept its raft loop in such a read.
func TestNetstack_KeepAliveEndsReadsFromAVanishedPeer(t *testing.T) {
	saved := netstack.KeepAlive
	netstack.KeepAlive.Idle, netstack.KeepAlive.Interval, netstack.KeepAlive.Count = 300*time.Millisecond, 200*time.Millisecond, 3
	t.Cleanup(func() { netstack.KeepAlive = saved })
	county, city := netstackPair(t, false)
	l, err := city.Listen(7002)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// connect answers a connection from the county to the city, both ends.
	connect := func() (dialled, accepted net.Conn) {
		t.Helper()
		got := make(chan net.Conn, 1)
		go func() {
			if c, err := l.Accept(); err == nil {
				got <- c
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dialled, err := county.Dial(ctx, "[fd47:7269:6463::3207:0:1]:7002")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dialled.Close() })
		select {
		case accepted = <-got:
			t.Cleanup(func() { accepted.Close() })
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
		}
		return dialled, accepted
	}
	// readEnds waits for c's read to fail once the peer on side vanished.
	readEnds := func(c net.Conn, side string) {
		t.Helper()
		done := make(chan error, 1)
		go func() { _, err := c.Read(make([]byte, 1)); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("read a byte from a peer that is down")
			}
			t.Logf("the read from the vanished %s ended: %v", side, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("the read from the vanished %s still waits after 10 s: no keep-alive on that connection", side)
		}
	}

	dialled, accepted := connect()
	if _, err := dialled.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(accepted, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := county.SetDown(true); err != nil { // the county vanishes: the city's accepted connection
		t.Fatal(err)
	}
	readEnds(accepted, "county")

	if err := county.SetDown(false); err != nil { // and the other way: the county's dialled one
		t.Fatal(err)
	}
	dialled, _ = connect()
	if err := city.SetDown(true); err != nil {
		t.Fatal(err)
	}
	readEnds(dialled, "city")
}
