package ops

import (
	"encoding/json"
	"net/http"
	"time"
)

func timeSince(t time.Time) float64 { return time.Since(t).Seconds() }

// Healthz answers 200 while the process serves HTTP at all.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}`))
}

// Readyz answers 200 when ready() is nil, else 503 with the reason. Either
// way it lists warnings, standing conditions an operator must see though
// they do not stop the node serving (a plaintext internal listener).
func Readyz(ready func() error, warnings ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		out := map[string]any{"status": "ready"}
		if len(warnings) > 0 {
			out["warnings"] = warnings
		}
		if err := ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			out["status"], out["reason"] = "not ready", err.Error()
		}
		json.NewEncoder(w).Encode(out)
	}
}
