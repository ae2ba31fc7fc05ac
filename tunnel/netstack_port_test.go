package tunnel

import (
	"net"
	"strings"
	"testing"
)

// An Up whose UDP port is taken fails naming the port (wireguard-go may
// otherwise come up on a random port: see checkListenPort).
func TestNetstack_UpWithPortTaken(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	key, _ := testKey(t, t.TempDir(), "k")
	c := DefaultConfig()
	c.DeviceName = uniqueName(t)
	c.PrivateKeyFile, c.ListenAddr = key, busy.LocalAddr().String()
	c.Region, c.Index = "32", 1
	for i := 0; i < 20; i++ {
		n, err := NewNetstack(c)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Up()
		n.Close()
		_, port, _ := net.SplitHostPort(c.ListenAddr)
		if err == nil || !strings.Contains(err.Error(), port) {
			t.Fatalf("attempt %d: Up with udp %s taken: %v, want an error naming the port", i, c.ListenAddr, err)
		}
	}
}
