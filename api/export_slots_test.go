package api

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestExport_Slots: with every export slot taken, one more export waits
// exportWait and answers 429 with Retry-After; a freed slot is taken.
func TestExport_Slots(t *testing.T) {
	defer func(w time.Duration) { exportWait = w }(exportWait)
	exportWait = 20 * time.Millisecond
	for range cap(exportSlots) {
		exportSlots <- struct{}{}
	}
	defer func() {
		for len(exportSlots) > 0 {
			<-exportSlots
		}
	}()
	s := &Server{}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/api/v1/export.xlsx?path=/api/v1/customers", nil)
	start := time.Now()
	s.export(c)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("an export with no slot free: %d %s (Retry-After %q), want 429", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	if waited := time.Since(start); waited < exportWait {
		t.Errorf("answered after %v, before the %v wait", waited, exportWait)
	}
	<-exportSlots
	select {
	case exportSlots <- struct{}{}: // the slot the refused export did not keep
		<-exportSlots
	default:
		t.Fatal("the refused export kept a slot")
	}
}

// SetExportOffsetPage makes exports ask n items a page of the routes that
// page by offset, until the returned func restores it (for api_test).
func SetExportOffsetPage(n int) (restore func()) {
	old := exportOffsetPage
	exportOffsetPage = n
	return func() { exportOffsetPage = old }
}

// SetAuditHooks turns the API's audit hooks on or off (BenchmarkAPI with
// GRIDCRM_BENCH_AUDIT=off measures the trail's cost) and answers the
// previous setting.
func SetAuditHooks(on bool) bool { old := auditHooks; auditHooks = on; return old }
