package ops_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"gridcrm/ops"
)

// TestLogging: JSON lines carry the context attributes and the term as it
// is when each line is logged; the level changes at runtime.
func TestLogging(t *testing.T) {
	old := ops.Level.Level()
	t.Cleanup(func() { ops.Level.Set(old) })
	ops.Level.Set(slog.LevelInfo)
	var buf bytes.Buffer
	var term atomic.Uint64
	base := ops.NewLogger(&buf, true)
	log := slog.New(ops.WithAttr(base.Handler(), "term", func() slog.Value {
		if v := term.Load(); v > 0 {
			return slog.Uint64Value(v)
		}
		return slog.Value{}
	})).With("region", "320722", "node", "n1")
	log.Info("before raft")
	term.Store(3)
	log.With("peer", "3207", "direction", "up").Info("link")
	log.Debug("hidden")
	ops.Level.Set(slog.LevelDebug)
	log.Debug("shown")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	var recs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		recs = append(recs, m)
	}
	if _, ok := recs[0]["term"]; ok || recs[0]["region"] != "320722" || recs[0]["node"] != "n1" {
		t.Errorf("first line: %v", recs[0])
	}
	if recs[1]["term"] != 3.0 || recs[1]["peer"] != "3207" || recs[1]["direction"] != "up" {
		t.Errorf("link line: %v", recs[1])
	}
	if recs[2]["msg"] != "shown" {
		t.Errorf("after the level change: %v", recs[2])
	}
	for _, bad := range []string{"verbose", ""} {
		if _, err := ops.ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) accepted", bad)
		}
	}
}
