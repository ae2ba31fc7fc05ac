package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// CSP is the Content Security Policy of every console response: scripts,
// styles, data and fonts from the node only; no inline script, no plugin,
// no framing. Inline styles are allowed because ECharts positions its
// tooltips with style attributes.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console's files under Prefix: Prefix itself is the
// page (index.html); the rest are its script, stylesheet and vendored
// libraries. Responses carry CSP and are gzipped when the client accepts it.
func Handler() http.Handler { return handler{} }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	if name == "" {
		name = "index.html"
	}
	name = path.Clean("/" + name)[1:]
	f, err := file(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", f.ctype)
	if name == "index.html" {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.raw
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// asset is one embedded file, read and compressed once.
type asset struct {
	raw, gz []byte
	ctype   string
	etag    string
}

var (
	assetsMu sync.Mutex // guards assets
	assets   = map[string]*asset{}
)

func file(name string) (*asset, error) {
	assetsMu.Lock()
	defer assetsMu.Unlock()
	if a, ok := assets[name]; ok {
		return a, nil
	}
	raw, err := fs.ReadFile(static, "static/"+name)
	if err != nil {
		return nil, err
	}
	a := &asset{raw: raw, ctype: mime.TypeByExtension(path.Ext(name))}
	if a.ctype == "" {
		a.ctype = "application/octet-stream"
	}
	switch path.Ext(name) {
	case ".html", ".js", ".css", ".json", ".svg":
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(raw)
		zw.Close()
		a.gz = b.Bytes()
	}
	a.etag = etagOf(raw)
	assets[name] = a
	return a, nil
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}
