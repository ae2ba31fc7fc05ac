package api_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"gridcrm/ops"
)

// TestAPI_LogLevel: an admin reads and changes the process's log level at
// runtime; a bad level is refused naming the field and changes nothing.
func TestAPI_LogLevel(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	old := ops.Level.Level()
	t.Cleanup(func() { ops.Level.Set(old) })
	ops.Level.Set(slog.LevelInfo)
	if ans := admin.must(200, "GET", "/api/v1/ops/log-level", nil); ans["level"] != "info" {
		t.Fatalf("level %v, want info", ans["level"])
	}
	if ans := admin.must(200, "PUT", "/api/v1/ops/log-level", obj{"level": "DEBUG"}); ans["level"] != "debug" || ops.Level.Level() != slog.LevelDebug {
		t.Fatalf("after PUT debug: %v, process level %v", ans, ops.Level.Level())
	}
	for _, body := range []any{obj{"level": "verbose"}, obj{"level": ""}, obj{"lvl": "info"}} {
		st, raw := admin.do("PUT", "/api/v1/ops/log-level", body)
		if st != 400 || !strings.Contains(string(raw), `"field":"level"`) && !strings.Contains(string(raw), `"field":"lvl"`) {
			t.Errorf("PUT %v: %d %s", body, st, raw)
		}
	}
	if ops.Level.Level() != slog.LevelDebug {
		t.Errorf("a refused PUT changed the level to %v", ops.Level.Level())
	}
}

// TestAPI_OpsRegions: the node lists its own region with its leader.
func TestAPI_OpsRegions(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	st, raw := admin.do("GET", "/api/v1/ops/regions", nil)
	var ans struct {
		Region  string
		Regions []struct {
			Region, Leader, Mode string
			Term                 uint64
		}
	}
	if st != 200 || json.Unmarshal(raw, &ans) != nil || len(ans.Regions) != 1 {
		t.Fatalf("%d %s", st, raw)
	}
	r := ans.Regions[0]
	if r.Region != region || r.Leader != "n1" || r.Mode != "autonomous" || r.Term == 0 {
		t.Errorf("regions: %s", raw)
	}
}
