package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gridcrm/internal/demo"
)

// TestMonitorConfig: the config make monitor generates from demo.json
// scrapes every node and passes promtool check config (rules included).
func TestMonitorConfig(t *testing.T) {
	dir := t.TempDir()
	d := demo.File{Nodes: []demo.Node{
		{Name: "32-1", Region: "32", Tier: "province", API: "http://127.0.0.1:8401", Metrics: "127.0.0.1:9401"},
		{Name: "320722-1", Region: "320722", Tier: "county", API: "http://127.0.0.1:8404", Metrics: "127.0.0.1:9404"},
	}}
	raw, _ := json.Marshal(d)
	os.WriteFile(filepath.Join(dir, "demo.json"), raw, 0o600)
	out := filepath.Join(dir, "prometheus.yml")
	c := monitorConfigCmd()
	c.SetOut(&strings.Builder{})
	c.SetArgs([]string{"--demo-dir", dir, "--out", out, "--rules", "../../ops/alerts.yml"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(out)
	for _, want := range []string{"127.0.0.1:9401", "127.0.0.1:9404", "tier: county", "job_name: gridcrm", "ops/alerts.yml"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	// A demo.json from before metrics listeners is a clear error.
	d.Nodes[1].Metrics = ""
	raw, _ = json.Marshal(d)
	os.WriteFile(filepath.Join(dir, "demo.json"), raw, 0o600)
	c = monitorConfigCmd()
	c.SetArgs([]string{"--demo-dir", dir, "--out", out})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), "no metrics addresses") {
		t.Errorf("demo.json without metrics: %v", err)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus; make test-deps); config not checked by it")
	}
	if msg, err := exec.Command(promtool, "check", "config", out).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, msg)
	}
}
