package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/node"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`node_id: dh1
region: "320722"
data_dir: /var/lib/gridcrm/dh1
api_listen: 127.0.0.1:8401
internal_listen: 127.0.0.1:8501
bootstrap: true
peers:
  - {id: dh1, addr: 127.0.0.1:8501}
  - {id: dh2, addr: 127.0.0.1:8502}
  - {id: dh3, addr: 127.0.0.1:8503}
token_ttl: 8h
`), 0o600)
	cfg, err := loadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NodeID != "dh1" || cfg.Region != "320722" || len(cfg.Peers) != 3 || cfg.Peers[2].Addr != "127.0.0.1:8503" || cfg.TokenTTL.Hours() != 8 || !cfg.Bootstrap {
		t.Fatalf("parsed %+v", cfg)
	}
	if err := cfg.Validate(); err != nil || cfg.Tier != "county" {
		t.Fatalf("validate: %v (tier %q)", err, cfg.Tier)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("node_id: x\nregoin: \"32\"\n"), 0o600)
	if _, err := loadConfig(bad); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Fatalf("unknown key: %v", err)
	}
	for _, c := range []struct{ region, tier, want string }{
		{"3207", "county", "does not fit"}, {"32072", "", "has 5 digits"}, {"", "", "region is empty"},
	} {
		cfg := cfg
		cfg.Region, cfg.Tier = c.region, c.tier
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("region %q tier %q: %v; want %q", c.region, c.tier, err, c.want)
		}
	}
}

func TestParsePeers(t *testing.T) {
	ps, err := parsePeers("a=127.0.0.1:1, b=127.0.0.1:2")
	if err != nil || len(ps) != 2 || ps[1].ID != "b" {
		t.Fatalf("%v %v", ps, err)
	}
	if _, err := parsePeers("a127.0.0.1:1"); err == nil {
		t.Fatal("accepted a peer without '='")
	}
}

// TestExampleConfigs: the README's example hierarchy parses and validates.
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../examples/hierarchy/*.yaml")
	if len(files) != 5 {
		t.Fatalf("found %d example configs, want 5", len(files))
	}
	for _, f := range files {
		cfg, err := loadConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.key")
	c := keygenCmd()
	var out strings.Builder
	c.SetOut(&out)
	c.SetArgs([]string{"--out", path})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || len(strings.TrimSpace(out.String())) != 44 {
		t.Fatalf("key file %v (mode %v), public key %q", err, fi.Mode(), out.String())
	}
	c = keygenCmd()
	c.SetArgs([]string{"--out", path})
	if err := c.Execute(); err == nil {
		t.Fatal("keygen overwrote an existing key file")
	}
}

// TestLoadConfig_APILimits: the import limit and the public listener's
// timeouts come from the YAML file at the top level, and flags win.
func TestLoadConfig_APILimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.yaml")
	os.WriteFile(path, []byte("node_id: dh1\nregion: \"320722\"\ndata_dir: /tmp/x\nmax_imports: 4\nimport_retry_after: 9s\napi_read_timeout: 45s\napi_import_read_timeout: 10m\napi_write_timeout: 3m\napi_idle_timeout: 90s\napi_read_header_timeout: 5s\n"), 0o600)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.APILimits
	if l.MaxImports != 4 || l.ImportRetryAfter != 9*time.Second || l.APIReadTimeout != 45*time.Second || l.APIImportReadTimeout != 10*time.Minute ||
		l.APIWriteTimeout != 3*time.Minute || l.APIIdleTimeout != 90*time.Second || l.APIReadHeaderTimeout != 5*time.Second {
		t.Fatalf("parsed %+v", l)
	}
	c := nodeCmd()
	if err := c.ParseFlags([]string{"--max-imports", "6", "--api-write-timeout", "1m"}); err != nil {
		t.Fatal(err)
	}
	var flags node.Config
	flags.APILimits = node.APILimits{MaxImports: 6, APIWriteTimeout: time.Minute}
	mergeFlags(c, &cfg, flags)
	if cfg.MaxImports != 6 || cfg.APIWriteTimeout != time.Minute || cfg.APIReadTimeout != 45*time.Second {
		t.Errorf("after flags: %+v", cfg.APILimits)
	}
	os.WriteFile(path, []byte("node_id: dh1\nregion: \"320722\"\ndata_dir: /tmp/x\nmax_imports: 100\n"), 0o600)
	if cfg, err = loadConfig(path); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "max_imports 100") {
		t.Errorf("max_imports 100: %v", err)
	}
}
