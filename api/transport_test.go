package api_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/ops"
)

// served runs an API of node n with cfg's limits on its own http.Server
// (HTTPServer, as the node runs it) and answers its base URL and metrics.
func served(t *testing.T, n *node.Node, cfg api.Config) (string, *ops.Registry) {
	t.Helper()
	nc := n.Config()
	cfg.Region, cfg.Tier, cfg.NodeID = nc.Region, nc.Tier, nc.NodeID
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := ops.NewRegistry()
	srv := api.New(cfg, n, reg).HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), reg
}

// TestAPI_SlowBodyIsCutOff: a body trickling in (a byte every 200 ms) is
// answered 408 and its connection closed once the body deadline passes;
// before, a byte every 5 s kept a request open for as long as it went on.
func TestAPI_SlowBodyIsCutOff(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	base, _ := served(t, c.Node(0), api.Config{BodyTimeout: time.Second})

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := customerBody("SLOW-1").String()
	fmt.Fprintf(conn, "POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", admin.auth, len(body))
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(testcluster.RequestTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	out, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	wantError(t, resp.StatusCode, out, 408, "request_timeout", "")
	if took > 3*time.Second {
		t.Errorf("answered after %v; the body deadline is 1s", took)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the connection stays open after the slow body")
	}
	if n := admin.count("customers"); n != 0 {
		t.Errorf("%d customers written", n)
	}

	// The defaults: every timeout set.
	srv := api.New(api.Config{Region: region}, c.Node(0), ops.NewRegistry()).HTTPServer()
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout < 5*time.Minute || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("default server timeouts: header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}

// slowImport posts an import whose body sends its first row, then waits
// for release before the rest.
func slowImport(base, auth, prefix string, rows int, release <-chan struct{}) (*http.Response, error) {
	pr, pw := io.Pipe()
	go func() {
		all := importRows(prefix, rows, nil)
		fmt.Fprintf(pw, "[%s", all[0])
		<-release
		for _, r := range all[1:] {
			if _, err := fmt.Fprintf(pw, ",%s", r); err != nil {
				return
			}
		}
		fmt.Fprint(pw, "]")
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/api/v1/customers/import", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	return http.DefaultClient.Do(req)
}

// inFlight reads gridcrm_http_imports_in_flight.
func inFlight(t *testing.T, reg *ops.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := regexp.MustCompile(`(?m)^gridcrm_http_imports_in_flight\{[^}]*\} (\S+)$`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no gridcrm_http_imports_in_flight in\n%s", rec.Body)
	}
	return m[1]
}

// TestAPI_ImportsAreBounded: six imports at once on a node that runs two:
// four answer 429 too_many_imports with Retry-After at once, while the
// bodies of the two are still arriving; two are in flight, never more;
// both then import. Before, every import was read and parsed at once (six
// 31 MiB imports: 57 MB to 650 MB RSS).
func TestAPI_ImportsAreBounded(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	base, reg := served(t, c.Node(0), api.Config{MaxImports: 2, ImportRetryAfter: 3 * time.Second})

	release := make(chan struct{})
	type answer struct {
		st         int
		retryAfter string
		body       []byte
		err        error
	}
	answers := make(chan answer, 6)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := slowImport(base, admin.auth, fmt.Sprintf("CONC%d", i), 200, release)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), b, nil}
		}()
	}
	for range 4 {
		select {
		case a := <-answers:
			if a.err != nil {
				t.Fatal(a.err)
			}
			wantError(t, a.st, a.body, 429, "too_many_imports", "")
			if a.retryAfter != "3" || !strings.Contains(string(a.body), "at most 2 imports") {
				t.Errorf("Retry-After %q, answer %s", a.retryAfter, a.body)
			}
		case <-time.After(testcluster.RequestTimeout):
			t.Fatal("four imports beyond the limit were not refused while two ran")
		}
	}
	if n := inFlight(t, reg); n != "2" {
		t.Errorf("%s imports in flight; want 2", n)
	}
	close(release)
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil || a.st != 201 {
			t.Errorf("an import in flight answered %d %s %v", a.st, a.body, a.err)
		}
	}
	if n := inFlight(t, reg); n != "0" {
		t.Errorf("%s imports in flight after all answered", n)
	}
	if n := admin.count("customers"); n != 400 {
		t.Errorf("%d customers; want the 2 × 200 imported", n)
	}
}

// TestAPI_ImportTooManyRowsEarly: the row after crm.MaxImportRows is
// refused as it arrives, naming the limit, while the client is still
// sending (before, the whole body was read and parsed first), in both
// encodings.
func TestAPI_ImportTooManyRowsEarly(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			stop := make(chan struct{})
			go func() {
				rows := importRows("EARLY", crm.MaxImportRows+1, nil)
				body := enc.encode(rows)
				if enc.name == "json" {
					body = body[:len(body)-1] + "," // no ]
				}
				body += `{"account_no":` // a row that never ends
				if _, err := io.WriteString(pw, body); err != nil {
					return
				}
				<-stop // the body stays open
				pw.Close()
			}()
			defer close(stop)
			req, _ := http.NewRequest("POST", admin.base+"/api/v1/customers/import", pr)
			req.Header.Set("Content-Type", enc.ctype)
			req.Header.Set("Authorization", admin.auth)
			cl := &http.Client{Timeout: testcluster.RequestTimeout}
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			e := wantError(t, resp.StatusCode, out, 413, crm.CodeTooLarge, "rows")
			if !strings.Contains(e.Message, fmt.Sprint(crm.MaxImportRows)) {
				t.Errorf("the message does not name the limit: %s", e.Message)
			}
			if n := admin.count("customers"); n != 0 {
				t.Errorf("%d customers written", n)
			}
		})
	}
}

// TestAPI_InputRules: what encoding/json let through is refused at the API
// with 400 (415 for the media type) naming the field, on a create, an
// update and an import row; nothing is written.
func TestAPI_InputRules(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	id := admin.create("customers", customerBody("IN-0"))
	cus := customerBody("IN-1").String()
	dupName := strings.Replace(cus, "{", `{"name":"Mallory",`, 1)
	tags := make([]string, api.MaxArrayLen+1)
	for i := range tags {
		tags[i] = "t"
	}
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      any
		status                    int
		code, field               string
	}{
		{"invalid UTF-8", "POST", "/api/v1/customers", "application/json", strings.Replace(cus, "IN-1", "IN-\xff", 1), 400, "invalid", "account_no"},
		{"duplicate key", "POST", "/api/v1/customers", "application/json", dupName, 400, "invalid", "name"},
		{"control character", "POST", "/api/v1/customers", "application/json", customerBody("IN-2").with("address", "a\x1bb"), 400, "invalid", "address"},
		{"line break in a name", "POST", "/api/v1/customers", "application/json", customerBody("IN-3").with("name", "a\nb"), 400, "invalid", "name"},
		{"bidi override in a name", "POST", "/api/v1/customers", "application/json", customerBody("IN-4").with("name", "abc\u202eexe.pdf"), 400, "invalid", "name"},
		{"100,000 tags", "POST", "/api/v1/customers", "application/json", customerBody("IN-5").with("tags", tags), 400, "invalid", "tags"},
		{"text/plain", "POST", "/api/v1/customers", "text/plain", cus, 415, "unsupported_media_type", "Content-Type"},
		{"a form", "POST", "/api/v1/customers", "application/x-www-form-urlencoded", cus, 415, "unsupported_media_type", "Content-Type"},
		{"no Content-Type", "POST", "/api/v1/customers", "", cus, 415, "unsupported_media_type", "Content-Type"},
		{"update: isolate in a name", "PATCH", "/api/v1/customers/" + id, "application/json", obj{"version": 1, "name": "x\u2066y"}, 400, "invalid", "name"},
		{"login: duplicate key", "POST", "/api/v1/auth/login", "application/json", `{"username":"nobody","username":"admin","password":"x"}`, 400, "invalid", "username"},
		{"import row: duplicate key", "POST", "/api/v1/customers/import", "application/json", "[" + cus + "," + dupName + "]", 400, "invalid", "rows[1].name"},
		{"import row: bidi", "POST", "/api/v1/customers/import", "application/x-ndjson", cus + "\n" + customerBody("IN-6").with("name", "\u202bx").String(), 400, "invalid", "rows[1].name"},
		{"import: text/plain", "POST", "/api/v1/customers/import", "text/plain", "[" + cus + "]", 415, "unsupported_media_type", "Content-Type"},
		{"import: no Content-Type", "POST", "/api/v1/customers/import", "", "[" + cus + "]", 415, "unsupported_media_type", "Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := admin.count("customers")
			st, out := admin.on(t).send(tc.method, tc.path, tc.ctype, tc.body)
			e := wantError(t, st, out, tc.status, tc.code, tc.field)
			if e.Message == "" {
				t.Error("no message")
			}
			if tc.status == 415 && !strings.Contains(e.Message, "application/json") {
				t.Errorf("415 does not name the expected type: %s", e.Message)
			}
			if n := admin.count("customers"); n != before {
				t.Errorf("written: %d customers before, %d after", before, n)
			}
		})
	}
	// Tabs and line breaks are text where text is free.
	st, out := admin.do("POST", "/api/v1/customers", customerBody("IN-7").with("address", "1 Road\nBuilding\t2"))
	if st != 201 {
		t.Errorf("an address on two lines: %d %s", st, out)
	}
}
