package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadConfig_Analytics: the analytics block of the config file sets
// the monthly schedule; a day past 28 is refused naming it.
func TestLoadConfig_Analytics(t *testing.T) {
	dir := t.TempDir()
	write := func(name, analytics string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("node_id: dh1\nregion: \"320722\"\ndata_dir: "+dir+"\n"+analytics), 0o600)
		return p
	}
	cfg, err := loadConfig(write("on.yaml", "analytics:\n  day: 7\n  every: 30m\n"))
	if err != nil || cfg.Analytics.Disabled || cfg.Analytics.Day != 7 || cfg.Analytics.Every != 30*time.Minute {
		t.Fatalf("parsed %+v %v", cfg.Analytics, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg, err = loadConfig(write("off.yaml", "analytics: {disabled: true}\n")); err != nil || !cfg.Analytics.Disabled {
		t.Fatalf("disabled: %+v %v", cfg.Analytics, err)
	}
	cfg, err = loadConfig(write("bad.yaml", "analytics: {day: 31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "analytics") || !strings.Contains(err.Error(), "day 31") {
		t.Fatalf("day 31: %v", err)
	}
}
