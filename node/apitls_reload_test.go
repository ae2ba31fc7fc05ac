package node

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestAPICert_ReloadsChangedFiles: a renewed pair is served at the next
// look at the files, without a restart or a signal; a pair that does not
// load leaves the one before in place.
func TestAPICert_ReloadsChangedFiles(t *testing.T) {
	dir := t.TempDir()
	files := APITLS{Cert: filepath.Join(dir, "api.crt"), Key: filepath.Join(dir, "api.key")}
	WriteAPICert(t, files.Cert, files.Key, 1)
	c, err := newAPICert(files, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.every = 0 // look at every handshake
	serial := func() int64 {
		t.Helper()
		tc, err := c.getCertificate(nil)
		if err != nil || tc.Leaf == nil {
			t.Fatalf("certificate: %v", err)
		}
		return tc.Leaf.SerialNumber.Int64()
	}
	if s := serial(); s != 1 {
		t.Fatalf("serving serial %d, want 1", s)
	}
	WriteAPICert(t, files.Cert, files.Key, 2)
	if s := serial(); s != 2 {
		t.Fatalf("after renewal serving serial %d, want 2", s)
	}
	if err := os.WriteFile(files.Key, []byte("not a key, and of another length"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s := serial(); s != 2 {
		t.Fatalf("after a broken key serving serial %d, want 2 kept", s)
	}
}
