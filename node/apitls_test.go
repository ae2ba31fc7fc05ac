package node_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/node"
)

// TestAPITLS_ServesHTTPSOnly: with api_tls the public listener answers
// HTTPS (TLS 1.2 at least) and a plaintext request to it gets no API
// answer; files that do not load stop the start naming api_tls.
func TestAPITLS_ServesHTTPSOnly(t *testing.T) {
	dir := t.TempDir()
	files := &node.APITLS{Cert: filepath.Join(dir, "api.crt"), Key: filepath.Join(dir, "api.key")}
	root := node.WriteAPICert(t, files.Cert, files.Key, 7)
	cfg := loneNode(t, dir, &logSink{})
	cfg.APITLS = files
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	url := n.APIURL()
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("APIURL %s; want https", url)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	get := func(c *http.Client, u string) (int, string, error) {
		resp, err := c.Get(u + "/healthz")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	https := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if st, body, err := get(https, url); err != nil || st != 200 {
		t.Fatalf("HTTPS: %d %s %v", st, body, err)
	}
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, _, err := get(old, url); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if st, body, err := get(plain, "http://"+strings.TrimPrefix(url, "https://")); err == nil && (st == 200 || strings.Contains(body, "ok")) {
		t.Errorf("plaintext HTTP to the TLS port answered %d %s", st, body)
	}

	bad := loneNode(t, t.TempDir(), &logSink{})
	bad.APITLS = &node.APITLS{Cert: files.Cert, Key: filepath.Join(dir, "missing.key")}
	if n, err := node.Start(bad); err == nil {
		n.Close()
		t.Error("started with a missing api_tls key")
	} else if !strings.Contains(err.Error(), "api_tls") {
		t.Errorf("a missing key: %v; want it to name api_tls", err)
	}
	bad.APITLS = &node.APITLS{Cert: files.Cert}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "api_tls") {
		t.Errorf("api_tls without a key: %v", err)
	}
}
