// Package hierarchy_test checks the example hierarchy's configuration
// files (the example itself is YAML and a shell script).
package hierarchy_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
)

// demoRanges are the ports make demo (internal/demo) binds from: APIs
// from 8401, internal listeners from 8501, overlay ports from 8600 and
// metrics listeners from 9401, one per node (a demo runs a few dozen at
// most; 99 each is kept clear).
var demoRanges = []struct {
	name     string
	from, to int
}{
	{"API", 8401, 8499}, {"internal", 8501, 8599}, {"overlay", 8600, 8699}, {"metrics", 9401, 9499},
}

// TestPortsClearOfTheDemo: the example's listeners can run beside make
// demo: none of their ports is one the demo binds, and no two of them
// share one.
func TestPortsClearOfTheDemo(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) != 5 {
		t.Fatalf("found %d example configs, want 5", len(files))
	}
	seen := map[int]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cfg map[string]any
		if err := yaml.Unmarshal(raw, &cfg); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, key := range []string{"api_listen", "internal_listen", "metrics_listen"} {
			addr, _ := cfg[key].(string)
			if addr == "" {
				continue
			}
			_, p, err := net.SplitHostPort(addr)
			port, err2 := strconv.Atoi(p)
			if err != nil || err2 != nil {
				t.Fatalf("%s: %s %q is not host:port", f, key, addr)
			}
			for _, r := range demoRanges {
				if port >= r.from && port <= r.to {
					t.Errorf("%s: %s %s is in the demo's %s ports (%d-%d)", f, key, addr, r.name, r.from, r.to)
				}
			}
			if other, dup := seen[port]; dup {
				t.Errorf("%s: %s %s is also %s", f, key, addr, other)
			}
			seen[port] = f + " " + key
		}
	}
}
