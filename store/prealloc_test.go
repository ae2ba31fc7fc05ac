package store

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// TestOpen_WALTakesAboutWhatItHolds: with the default 128 MiB memtable,
// Pebble alone reserves 141 MiB of disk for a WAL from its first byte.
// Through Open, the WALs holding 6 MiB of synced raft entries take at most
// maxPrealloc more each.
func TestOpen_WALTakesAboutWhatItHolds(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	defer s.Close()
	data := []byte(strings.Repeat("x", 4096))
	for i := uint64(1); i <= 1536; i++ { // 6 MiB: past the first 4 MiB reserved
		if err := s.LogStore().StoreLog(&raft.Log{Index: i, Term: 1, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var size, taken int64
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, name := range logs {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
		taken += fi.Sys().(*syscall.Stat_t).Blocks * 512
	}
	if size < 6<<20 {
		t.Fatalf("the WALs hold %d bytes, want at least 6 MiB", size)
	}
	if taken > size+int64(len(logs))*(maxPrealloc+4096) {
		t.Fatalf("the WALs take %d bytes of disk for %d written (%d files): preallocation not bounded", taken, size, len(logs))
	}
	t.Logf("%d WAL files: %d bytes written, %d taken", len(logs), size, taken)
}
