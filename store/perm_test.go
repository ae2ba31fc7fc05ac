package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// modes returns the permission bits of everything under dir, dir included,
// by path relative to dir. Symbolic links are skipped.
func modes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walked: Pebble drops an obsolete OPTIONS file or WAL in the background
		}
		if err != nil {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = info.Mode()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantPrivate fails the test unless dir and every directory in it are
// 0700 and every regular file 0600. It returns the number of files seen.
func wantPrivate(t *testing.T, dir, when string) int {
	t.Helper()
	files := 0
	for p, m := range modes(t, dir) {
		switch {
		case m.IsDir() && m.Perm() != 0o700:
			t.Errorf("%s: directory %s is %04o; want 0700", when, p, m.Perm())
		case m.IsRegular():
			files++
			if m.Perm() != 0o600 {
				t.Errorf("%s: file %s is %04o; want 0600", when, p, m.Perm())
			}
		}
	}
	return files
}

// TestPerm_DataDirTightened: a data directory left 0755 with 0644 files (a
// Pebble database written with Pebble's defaults, plus stray files and a
// subdirectory) ends 0700 with every file 0600 at Open, and the WAL files,
// sstables, manifest and options files Pebble writes afterwards (flush,
// compaction, WAL rotation, reopen) are 0600 too, even with umask 0.
func TestPerm_DataDirTightened(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "pebble")

	// A database as plain Pebble leaves it: 0755 directory, 0666 files.
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("sx"), []byte("y"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "f"), []byte("x"), 0o644)
	os.Symlink("/etc/hostname", filepath.Join(dir, "link"))
	loose := 0
	for p, m := range modes(t, dir) {
		if m.IsRegular() && m.Perm()&0o077 != 0 {
			loose++
		} else if m.IsRegular() {
			t.Logf("%s already %04o", p, m.Perm())
		}
	}
	if loose < 4 { // the test means something only if Pebble's own files were loose
		t.Fatalf("only %d loose files before Open: %v", loose, modes(t, dir))
	}
	hostname, _ := os.Stat("/etc/hostname")

	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, dir, "after Open")
	// Write enough for flushes (new WAL and sstables) and compact.
	before := len(modes(t, dir))
	val := []byte(strings.Repeat("v", 1024))
	for round := 0; round < 3; round++ {
		b := s.DB().NewBatch()
		for i := 0; i < 500; i++ {
			b.Set([]byte(fmt.Sprintf("s%d-%05d", round, i)), val, nil)
		}
		if err := b.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DB().Compact(t.Context(), []byte("s"), []byte("t"), true); err != nil {
		t.Fatal(err)
	}
	var sst, wal int
	for p := range modes(t, dir) {
		switch filepath.Ext(p) {
		case ".sst":
			sst++
		case ".log":
			wal++
		}
	}
	if sst == 0 || wal == 0 {
		t.Fatalf("no sstable (%d) or WAL (%d) written: %v", sst, wal, modes(t, dir))
	}
	t.Logf("%d entries before writes, %d after; %d sstables, %d WAL files", before, len(modes(t, dir)), sst, wal)
	wantPrivate(t, dir, "after writes, flushes and a compaction, while open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	wantPrivate(t, dir, "after reopen")
	// The symlink's target was not touched.
	if after, _ := os.Stat("/etc/hostname"); hostname != nil && after.Mode() != hostname.Mode() {
		t.Errorf("followed a symlink: /etc/hostname went from %v to %v", hostname.Mode(), after.Mode())
	}
}

// TestPerm_NewDataDir: a missing data directory (and its missing parents)
// is created 0700.
func TestPerm_NewDataDir(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	parent := filepath.Join(t.TempDir(), "node")
	dir := filepath.Join(parent, "pebble")
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := wantPrivate(t, dir, "new"); n == 0 {
		t.Error("no files written")
	}
	if st, _ := os.Stat(parent); st.Mode().Perm() != 0o700 {
		t.Errorf("parent created %04o; want 0700", st.Mode().Perm())
	}
}

// TestPerm_OtherOwnerRefused: a data directory, or a file in it, owned by
// another user is refused with an error naming it, and nothing is changed.
func TestPerm_OtherOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		// Without root a test cannot make a directory another user owns;
		// the root directory is one, and is refused before any change.
		_, err := Open(Config{Dir: "/"})
		if !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "/ is owned by uid") {
			t.Fatalf("Open(/): %v", err)
		}
		return
	}
	const nobody = 65534
	dir := filepath.Join(t.TempDir(), "pebble")
	os.Mkdir(dir, 0o755)
	os.Chown(dir, nobody, nobody)
	_, err := Open(Config{Dir: dir})
	if !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), dir+" is owned by uid 65534") {
		t.Errorf("directory of another user: %v", err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
		t.Errorf("refused directory was changed to %04o", st.Mode().Perm())
	}
	os.Chown(dir, 0, 0)
	f := filepath.Join(dir, "OPTIONS-000001")
	os.WriteFile(f, nil, 0o644)
	os.Chown(f, nobody, nobody)
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), f) {
		t.Errorf("file of another user: %v", err)
	}
	if err := SecureDir(""); !errors.Is(err, ErrUnsafeDir) {
		t.Errorf("SecureDir(\"\"): %v", err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o600)
	if _, err := Open(Config{Dir: notDir}); err == nil {
		t.Error("opened a regular file as a data directory")
	}
}
