package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridcrm/node"
)

// TestBootstrap_AdminPasswordFlagRefused: --admin-password would put the
// password in /proc/<pid>/cmdline; it is refused, saying what to use.
func TestBootstrap_AdminPasswordFlagRefused(t *testing.T) {
	c := nodeCmd()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs([]string{"--node-id", "n1", "--region", "320722", "--data-dir", t.TempDir(), "--api-listen", "not-an-address",
		"--admin-password", "Harbour-lantern-8"})
	err := c.Execute()
	if err == nil || !strings.Contains(err.Error(), "--admin-password-file") || !strings.Contains(err.Error(), "GRIDCRM_ADMIN_PASSWORD") ||
		!strings.Contains(err.Error(), "/proc/<pid>/cmdline") {
		t.Fatalf("--admin-password: %v", err)
	}
	if strings.Contains(c.Flags().FlagUsages(), "admin-password ") {
		t.Errorf("--admin-password is still offered in the help:\n%s", c.Flags().FlagUsages())
	}
}

// TestBootstrap_AdminPasswordFileOrEnv: the admin password comes from a
// file only its owner may read, or from GRIDCRM_ADMIN_PASSWORD; a bad one
// is refused naming where it came from.
func TestBootstrap_AdminPasswordFileOrEnv(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := func() node.Config {
		cfg := node.DefaultConfig()
		cfg.NodeID, cfg.Region, cfg.DataDir = "n1", "320722", dir
		return cfg
	}
	t.Setenv("GRIDCRM_ADMIN_PASSWORD", "Env-lantern-7")

	cfg := base()
	cfg.AdminPasswordFile = file("good", "File-lantern-8\n", 0o600)
	if err := readAdminPassword(&cfg); err != nil || cfg.AdminPassword != "File-lantern-8" {
		t.Fatalf("a 0600 file: %v, password %q", err, cfg.AdminPassword)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}

	cfg = base()
	cfg.AdminPasswordFile = file("open", "File-lantern-8\n", 0o644)
	if err := readAdminPassword(&cfg); err == nil || !strings.Contains(err.Error(), "other users may read it") {
		t.Errorf("a world-readable file: %v", err)
	}

	cfg = base()
	cfg.AdminPassword, cfg.AdminPasswordFile = "Yaml-lantern-6", file("both", "File-lantern-8\n", 0o600)
	if err := readAdminPassword(&cfg); err == nil {
		t.Errorf("admin_password and admin_password_file both set: accepted")
	}

	cfg = base()
	if err := readAdminPassword(&cfg); err != nil || cfg.AdminPassword != "Env-lantern-7" {
		t.Fatalf("from the environment: %v, password %q", err, cfg.AdminPassword)
	}

	t.Setenv("GRIDCRM_ADMIN_PASSWORD", "admin123")
	cfg = base()
	if err := readAdminPassword(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "GRIDCRM_ADMIN_PASSWORD") {
		t.Errorf("a weak password from the environment: %v", err)
	}
	cfg = base()
	cfg.AdminPasswordFile = file("weak", "12345678", 0o600)
	if err := readAdminPassword(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "admin_password_file "+cfg.AdminPasswordFile) {
		t.Errorf("a weak password from a file: %v", err)
	}
}
