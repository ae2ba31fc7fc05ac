package tunnel

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// testKey writes a key file under dir and returns its path and public key.
func testKey(t *testing.T, dir, name string) (path, pub string) {
	t.Helper()
	path = filepath.Join(dir, name)
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, pub
}

func TestConfig_Validate(t *testing.T) {
	dir := t.TempDir()
	selfKey, selfPub := testKey(t, dir, "self.key")
	_, pubA := testKey(t, dir, "a.key")
	_, pubB := testKey(t, dir, "b.key")
	base := func() Config {
		c := DefaultConfig()
		c.PrivateKeyFile = selfKey
		c.Region, c.Index = "320722", 1
		c.Peers = []PeerConfig{
			{PublicKey: pubA, Endpoint: "10.0.0.1:51820", Region: "3207", Index: 1},
			{PublicKey: pubB, Endpoint: "city.example:51820", Region: "3207", Index: 2},
		}
		return c
	}
	if c := base(); c.Validate() != nil {
		t.Fatalf("valid config refused: %v", c.Validate())
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"unknown mode", func(c *Config) { c.Mode = "ipsec" }, `mode "ipsec" is not one of netstack, tun, kernel`},
		{"missing key file", func(c *Config) { c.PrivateKeyFile = filepath.Join(dir, "gone.key") }, "gone.key does not exist"},
		{"no key file", func(c *Config) { c.PrivateKeyFile = "" }, "no private key file given"},
		{"duplicate peer key", func(c *Config) { c.Peers[1].PublicKey = pubA }, "peer 2 (region 3207, index 2): public key " + pubA + " is also peer 1's"},
		{"overlapping addresses", func(c *Config) { c.Peers[1].Index = 1 }, "peer 2 (region 3207, index 1): overlay address fd47:7269:6463::3207:0:1 overlaps peer 1's"},
		{"peer with own key", func(c *Config) { c.Peers[0].PublicKey = selfPub }, "is this node's own key"},
		{"peer with own address", func(c *Config) { c.Peers[0].Region = "320722" }, "overlay address fd47:7269:6463::3207:22:1 is this node's own"},
		{"malformed peer key", func(c *Config) { c.Peers[0].PublicKey = "xyz" }, `peer 1 (region 3207, index 1): tunnel: public key "xyz": not base64`},
		{"bad peer region", func(c *Config) { c.Peers[0].Region = "3200" }, "peer 1 (region 3200, index 1)"},
		{"bad endpoint", func(c *Config) { c.Peers[0].Endpoint = "10.0.0.1" }, `peer 1 (region 3207, index 1): endpoint "10.0.0.1"`},
		{"listen host name", func(c *Config) { c.ListenAddr = "localhost:51820" }, `listen address "localhost:51820"`},
		{"listen no host", func(c *Config) { c.ListenAddr = ":51820" }, `listen address ":51820"`},
		{"bad self index", func(c *Config) { c.Index = 0 }, "this node (region 320722, index 0)"},
		{"bad device name", func(c *Config) { c.DeviceName = "a/b" }, `device name "a/b"`},
		{"long device name", func(c *Config) { c.DeviceName = "abcdefghijklmnop" }, "device name"},
		{"bad mtu", func(c *Config) { c.MTU = 500 }, "mtu 500"},
		{"unknown peer: the province", func(c *Config) { c.Peers[0].Region = "32" }, "peer 1 (region 32, index 1): unknown peer for region 320722: a node peers only with its parent region's and its child regions' nodes"},
		{"unknown peer: a cousin county", func(c *Config) { c.Peers[0].Region = "320803" }, "peer 1 (region 320803, index 1): unknown peer"},
		{"unknown peer: own region without intra_region", func(c *Config) { c.Peers[0].Region, c.Peers[0].Index = "320722", 2 }, "set intra_region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to wrap ErrInvalidConfig and contain %q", err, tc.want)
			}
		})
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	c := DefaultConfig()
	c.PrivateKeyFile = filepath.Join(t.TempDir(), "missing.key")
	c.Region, c.Index = "32", 1
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "missing.key does not exist") {
		t.Fatalf("New: %v", err)
	}
}

func TestConfig_IntraRegionPeersAllowed(t *testing.T) {
	dir := t.TempDir()
	key, _ := testKey(t, dir, "self.key")
	_, pub := testKey(t, dir, "sib.key")
	c := DefaultConfig()
	c.PrivateKeyFile, c.Region, c.Index, c.IntraRegion = key, "320722", 1, true
	c.Peers = []PeerConfig{{PublicKey: pub, Region: "320722", Index: 2}}
	if err := c.Validate(); err != nil {
		t.Fatalf("a sibling peer with intra_region refused: %v", err)
	}
}

func TestConfig_FillDefaults(t *testing.T) {
	c := Config{Region: "320722", Index: 3}
	c.FillDefaults()
	if c.Mode != ModeNetstack || c.DeviceName != "gc320722-3" || c.ListenAddr != "0.0.0.0:51820" ||
		c.Prefix != DefaultPrefix || c.MTU != 1420 || c.Keepalive != DefaultConfig().Keepalive {
		t.Errorf("defaults not filled: %+v", c)
	}
	off := Config{Region: "32", Index: 1, NoKeepalive: true, Keepalive: 7e9}
	off.FillDefaults()
	if off.Keepalive != 0 {
		t.Errorf("no_keepalive left keepalive %s", off.Keepalive)
	}
}
