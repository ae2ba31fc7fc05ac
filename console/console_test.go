package console

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, req)
	return w.Result()
}

// The page, its script and the vendored library are served with the
// policy; /console redirects; an unknown file is a 404; gzip when asked.
func TestHandler_ServesPageWithPolicy(t *testing.T) {
	for _, tc := range []struct {
		path, ctype string
		status      int
	}{
		{"/console/", "text/html; charset=utf-8", 200},
		{"/console/core.js", "text/javascript; charset=utf-8", 200},
		{"/console/app.css", "text/css; charset=utf-8", 200},
		{"/console/vendor/echarts/echarts.min.js", "text/javascript; charset=utf-8", 200},
		{"/console/../api/v1/cluster", "", 404},
		{"/console/nothing.js", "", 404},
		{"/console", "", 302},
	} {
		resp := get(t, tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("GET %s: CSP %q", tc.path, got)
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
	}
	resp := get(t, "/console/vendor/echarts/echarts.min.js", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("echarts.min.js is not gzipped for a client that accepts it")
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, zr)
	raw, _ := fs.ReadFile(static, "static/vendor/echarts/echarts.min.js")
	if n != int64(len(raw)) {
		t.Errorf("gzipped echarts.min.js inflates to %d bytes, want %d", n, len(raw))
	}
	if resp := get(t, "/console/core.js", "If-None-Match", get(t, "/console/core.js").Header.Get("ETag")); resp.StatusCode != 304 {
		t.Errorf("a matching ETag: %d, want 304", resp.StatusCode)
	}
}

// The policy forbids inline scripts, so the page must have none; the
// script never turns a string into HTML.
func TestStatic_NoInlineScriptNoHTMLSinks(t *testing.T) {
	page, _ := fs.ReadFile(static, "static/index.html")
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(string(page), -1) {
		if !strings.Contains(m, " src=") {
			t.Errorf("index.html has an inline script: %s", m)
		}
	}
	if regexp.MustCompile(`\son[a-z]+=`).Match(page) {
		t.Error("index.html has an inline event handler")
	}
	// Every script of the console's own (not the vendored libraries).
	err := fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".js") || strings.Contains(name, "/vendor/") {
			return err
		}
		js, _ := fs.ReadFile(static, name)
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "javascript:"} {
			if strings.Contains(string(js), sink) {
				t.Errorf("%s uses %s", name, sink)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The vendored files are the pinned ones (scripts/console-assets.sh).
func TestVendor_MatchesChecksums(t *testing.T) {
	sums, err := fs.ReadFile(static, "static/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(sums)))
	n := 0
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			continue
		}
		raw, err := fs.ReadFile(static, "static/vendor/"+name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s (run scripts/console-assets.sh)", name, got, want)
		}
		n++
	}
	if n < 3 {
		t.Errorf("SHA256SUMS lists %d files, want echarts.min.js, LICENSE and NOTICE", n)
	}
}
