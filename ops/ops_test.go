package ops_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"gridcrm/ops"
	"gridcrm/store"
)

func TestHealthAndReady(t *testing.T) {
	rec := httptest.NewRecorder()
	ops.Healthz(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Fatalf("healthz: %d", rec.Code)
	}
	var ready error = errors.New("replication: no leader")
	h := ops.Readyz(func() error { return ready })
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no leader") {
		t.Fatalf("readyz while not ready: %d %s", rec.Code, rec.Body)
	}
	ready = nil
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Fatalf("readyz when ready: %d %s", rec.Code, rec.Body)
	}
}

// TestStoreCollector: a real store's metrics are exported and follow the
// Prometheus naming conventions (client_golang's linter, as promtool's).
func TestStoreCollector(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := ops.NewRegistry()
	reg.MustRegister(ops.NewStoreCollector("320722", "n1", st))
	problems, err := testutil.GatherAndLint(reg.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gridcrm_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, name := range []string{"gridcrm_store_disk_usage_bytes", "gridcrm_store_read_amplification", "gridcrm_store_compactions_total", "go_goroutines"} {
		if !strings.Contains(rec.Body.String(), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
