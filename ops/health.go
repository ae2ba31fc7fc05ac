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

// Readyz answers 200 when ready() is nil, else 503 with the reason.
func Readyz(ready func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	}
}
