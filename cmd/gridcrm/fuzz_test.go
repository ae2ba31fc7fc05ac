package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gridcrm/tunnel"
)

// Fuzz targets for the files an operator hands the gridcrm command: the
// tunnel topology (a backup to restore: ops.FuzzRestoreBackup). `go test` runs the seeds; `make
// fuzz` runs each target for FUZZTIME.

const (
	fuzzKeyA = "HyYtNDtCSVBXXmVsc3qBiI+WnaSrsrnAx87V3OPq8fg="
	fuzzKeyB = "PkVMU1phaG92fYSLkpmgp661vMPK0djf5u30+wIJEBc="
	fuzzKeyC = "XWRrcnmAh46VnKOqsbi/xs3U2+Lp8Pf+BQwTGiEoLzY="
)

var topologySeeds = []string{
	// valid
	"prefix: fd47:7269:6463::/48\nnodes:\n  - {region: \"32\", index: 1, public_key: " + fuzzKeyA + ", endpoint: \"127.0.0.1:51820\", port: 8600}\n  - {region: \"3207\", index: 1, public_key: " + fuzzKeyB + ", endpoint: \"[::1]:51821\"}\n  - {region: \"320722\", index: 2, public_key: " + fuzzKeyC + "}\n",
	"nodes:\n- region: \"3201\"\n  index: 3\n  public_key: " + fuzzKeyA + "\n",
	// refused
	"",
	"nodes: []\n",
	"nodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA + "}\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyB + "}\n",
	"nodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA + "}\n- {region: \"3202\", index: 1, public_key: " + fuzzKeyA + "}\n",
	"nodes:\n- {region: \"3201\", index: 0, public_key: " + fuzzKeyA + ", port: 70000}\n",
	"nodes:\n- {region: \"99\", index: 1, public_key: nope, endpoint: \"host\"}\n",
	"nodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA[:42] + "h=}\n",
	"prefix: 10.0.0.0/8\nnodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA + "}\n",
	"prefix: fd00::/120\nnodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA + "}\n",
	"nodes:\n- {region: \"3201\", index: 1, public_key: " + fuzzKeyA + ", colour: red}\n",
	"nodes: {region: 32}\n",
	"prefix: [1, 2]\n",
	"nodes:\n- &a {region: \"3201\", index: 1, public_key: " + fuzzKeyA + "}\n- *a\n",
	"nodes:\n- {region: \"3201\", index: 99999999999999999999, public_key: " + fuzzKeyA + "}\n",
	"\t- x",
}

// FuzzLoadTopology: any bytes as the topology file. It is refused with an
// error naming the file (and the YAML's line), or Validate refuses it with
// ErrInvalidConfig naming each bad node, or every node of it has a
// canonical key, an overlay address and a port, and the peers and parent
// addresses a node derives from it are its real neighbours.
func FuzzLoadTopology(f *testing.F) {
	for _, s := range topologySeeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(dir, "topology.yaml")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		top, err := loadTopology(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("refused with %v: the error does not name %s", err, path)
			}
			return
		}
		if err := top.Validate(); err != nil {
			if !errors.Is(err, tunnel.ErrInvalidConfig) {
				t.Fatalf("Validate: %v is not ErrInvalidConfig", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, "nodes") {
					t.Fatalf("Validate: %q names no node", line)
				}
			}
			return
		}
		for _, n := range top.Nodes {
			k, err := tunnel.ParsePublicKey(n.PublicKey)
			if err != nil || k.String() != n.PublicKey {
				t.Fatalf("valid, yet node %s/%d has the key %q (%v)", n.Region, n.Index, n.PublicKey, err)
			}
			port := top.Port(n.Region, n.Index)
			if port < 1 || port > 65535 {
				t.Fatalf("valid, yet node %s/%d has port %d", n.Region, n.Index, port)
			}
			for _, intra := range []bool{false, true} {
				for _, p := range top.Peers(n.Region, n.Index, intra) {
					if p.Region == n.Region && p.Index == n.Index || !tunnel.Adjacent(n.Region, p.Region, intra) {
						t.Fatalf("node %s/%d derives the peer %s/%d", n.Region, n.Index, p.Region, p.Index)
					}
				}
			}
			for _, a := range top.Addrs(n.Region) {
				host, ps, err := net.SplitHostPort(a)
				if err != nil || net.ParseIP(host) == nil {
					t.Fatalf("node %s/%d: address %q: %v", n.Region, n.Index, a, err)
				}
				if p, _ := strconv.Atoi(ps); p < 1 || p > 65535 {
					t.Fatalf("node %s/%d: address %q", n.Region, n.Index, a)
				}
			}
		}
	})
}
