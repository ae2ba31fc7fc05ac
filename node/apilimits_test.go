package node_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
)

// TestConfig_APILimits: the import limit and the public listener's
// timeouts default when unset and a value out of range stops the start,
// naming the setting.
func TestConfig_APILimits(t *testing.T) {
	cfg := loneNode(t, t.TempDir(), &logSink{})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.APILimits != node.DefaultAPILimits() {
		t.Errorf("unset limits: %+v; want the defaults %+v", cfg.APILimits, node.DefaultAPILimits())
	}
	for _, tc := range []struct {
		set  func(*node.APILimits)
		want string
	}{
		{func(l *node.APILimits) { l.MaxImports = -1 }, "max_imports -1"},
		{func(l *node.APILimits) { l.MaxImports = 65 }, "max_imports 65"},
		{func(l *node.APILimits) { l.ImportRetryAfter = 2 * time.Hour }, "import_retry_after 2h0m0s"},
		{func(l *node.APILimits) { l.APIReadHeaderTimeout = 10 }, "api_read_header_timeout 10ns"},
		{func(l *node.APILimits) { l.APIReadTimeout = -time.Second }, "api_read_timeout -1s"},
		{func(l *node.APILimits) { l.APIImportReadTimeout = 500 * time.Millisecond }, "api_import_read_timeout 500ms"},
		{func(l *node.APILimits) { l.APIWriteTimeout = 25 * time.Hour }, "api_write_timeout 25h0m0s"},
		{func(l *node.APILimits) { l.APIIdleTimeout = 1 }, "api_idle_timeout 1ns"},
	} {
		c := loneNode(t, t.TempDir(), &logSink{})
		tc.set(&c.APILimits)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
		if n, err := node.Start(c); err == nil {
			n.Close()
			t.Errorf("%s: the node started", tc.want)
		}
	}
}

// TestNode_APILimitsApplied: a node started with max_imports 1 answers a
// second concurrent import 429 with its import_retry_after, and a body
// slower than api_read_timeout 408.
func TestNode_APILimitsApplied(t *testing.T) {
	cfg := loneNode(t, t.TempDir(), &logSink{})
	cfg.AdminPassword = testcluster.AdminPassword
	cfg.MaxImports, cfg.ImportRetryAfter, cfg.APIReadTimeout = 1, 7*time.Second, time.Second
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	testcluster.WaitFor(t, 30*time.Second, "the node ready", func() bool { return n.Ready() == nil })
	admin := testcluster.Login(t, n.APIURL(), "admin", testcluster.AdminPassword)
	post := func(path string, body io.Reader) (*http.Response, error) {
		req, _ := http.NewRequest("POST", n.APIURL()+path, body)
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}

	// One import holds the only slot while its body trickles in: the
	// gauge of imports in flight says it has the slot before the second
	// is sent (else the second could take the slot first and the first be
	// the one refused).
	pr, pw := io.Pipe()
	first := make(chan *http.Response, 1)
	go func() {
		resp, _ := post("/api/v1/customers/import", pr)
		first <- resp
	}()
	_, _ = pw.Write([]byte("["))
	testcluster.WaitFor(t, 10*time.Second, "the first import holding the slot", func() bool {
		req, _ := http.NewRequest("GET", n.APIURL()+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "gridcrm_http_imports_in_flight") {
				return strings.HasSuffix(line, " 1")
			}
		}
		return false
	})
	resp, err := post("/api/v1/customers/import", strings.NewReader("[]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a second import while the first holds the only slot: %d; want 429", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "7" {
		t.Errorf("Retry-After %q; want 7 (import_retry_after)", ra)
	}
	pw.Close()
	if r := <-first; r != nil {
		r.Body.Close()
	}

	// A body slower than api_read_timeout.
	slow, sw := io.Pipe()
	defer sw.Close()
	go func() { _, _ = sw.Write([]byte(`{"name":`)) }()
	start := time.Now()
	r, err := post("/api/v1/customers", slow)
	if err == nil {
		defer r.Body.Close()
	}
	if took := time.Since(start); err != nil || r.StatusCode != http.StatusRequestTimeout || took > 10*time.Second {
		st := 0
		if r != nil {
			st = r.StatusCode
		}
		t.Errorf("a body slower than api_read_timeout 1s: %d after %s (%v); want 408 after about 1s", st, took, err)
	}
}
