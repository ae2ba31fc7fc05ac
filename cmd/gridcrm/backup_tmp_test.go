package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupTo_TempFileIsExclusive: the backup is written to <out>.tmp
// created exclusively and private (0600): a symbolic link planted there is
// refused and its target left alone, an existing file is refused and kept,
// and a fresh temporary file is 0600 whatever the umask allowed.
func TestBackupTo_TempFileIsExclusive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not a gridcrm state stream, but bytes all the same"))
	}))
	defer srv.Close()
	cl := &apiClient{base: srv.URL, token: "t", http: srv.Client()}
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.snap")

	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, out+".tmp"); err != nil {
		t.Fatal(err)
	}
	_, _, err := backupTo(context.Background(), cl, out)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("backup through a symlink at %s.tmp: %v; want a refusal naming the symbolic link", out, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the link's target now holds %q", b)
	}
	if _, err := os.Lstat(out + ".tmp"); err != nil {
		t.Errorf("the planted link was removed: %v", err)
	}

	os.Remove(out + ".tmp")
	if err := os.WriteFile(out+".tmp", []byte("someone's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := backupTo(context.Background(), cl, out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing %s.tmp: %v; want a refusal", out, err)
	}
	if b, _ := os.ReadFile(out + ".tmp"); string(b) != "someone's" {
		t.Errorf("the existing file now holds %q", b)
	}

	os.Remove(out + ".tmp")
	f, err := createExclusive(out + ".tmp")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(out + ".tmp"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the temporary file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}
