package store

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s := openTest(t, Config{FS: vfs.NewMem(), Dir: "db"})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func storeRange(t testing.TB, ls *LogStore, lo, hi uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := lo; i <= hi; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1, Data: []byte{byte(i)}})
	}
	if err := ls.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs(%d-%d): %v", lo, hi, err)
	}
}

func wantBounds(t testing.TB, ls *LogStore, first, last uint64) {
	t.Helper()
	f, _ := ls.FirstIndex()
	l, _ := ls.LastIndex()
	if f != first || l != last {
		t.Fatalf("first, last = %d, %d; want %d, %d", f, l, first, last)
	}
}

// wantPresent checks exactly which indexes in [lo, hi] have an entry.
func wantPresent(t testing.TB, ls *LogStore, lo, hi uint64, present func(uint64) bool) {
	t.Helper()
	for i := lo; i <= hi; i++ {
		var l raft.Log
		err := ls.GetLog(i, &l)
		switch {
		case present(i) && err != nil:
			t.Fatalf("GetLog(%d): %v", i, err)
		case present(i) && (l.Index != i || !bytes.Equal(l.Data, []byte{byte(i)})):
			t.Fatalf("GetLog(%d) = index %d data %v", i, l.Index, l.Data)
		case !present(i) && !errors.Is(err, raft.ErrLogNotFound):
			t.Fatalf("GetLog(%d) err = %v, want ErrLogNotFound", i, err)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"dir", Config{Dir: "x"}, true},
		{"fs only", Config{FS: vfs.NewMem()}, true},
		{"default with dir", func() Config { c := DefaultConfig(); c.Dir = "x"; return c }(), true},
		{"no dir no fs", DefaultConfig(), false},
		{"negative cache", Config{Dir: "x", CacheSize: -1}, false},
		{"huge memtable", Config{Dir: "x", MemTableSize: 4 << 30}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "store: ")) {
				t.Fatalf("Validate() = %v, want wrapped ErrInvalidConfig", err)
			}
		})
	}
	if _, err := Open(DefaultConfig()); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Open(no dir) = %v, want ErrInvalidConfig", err)
	}
}

func TestLogStore_Empty(t *testing.T) {
	ls := newTestStore(t).LogStore()
	wantBounds(t, ls, 0, 0)
	if err := ls.GetLog(1, new(raft.Log)); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog on empty = %v", err)
	}
	if err := ls.DeleteRange(1, 100); err != nil {
		t.Fatalf("DeleteRange on empty: %v", err)
	}
	if err := ls.StoreLogs(nil); err != nil {
		t.Fatalf("StoreLogs(nil): %v", err)
	}
	wantBounds(t, ls, 0, 0)
}

func TestLogStore_StoreAndGaps(t *testing.T) {
	ls := newTestStore(t).LogStore()
	if err := ls.StoreLog(&raft.Log{Index: 5, Data: []byte{5}}); err != nil {
		t.Fatal(err)
	}
	wantBounds(t, ls, 5, 5)
	storeRange(t, ls, 1, 10)
	wantBounds(t, ls, 1, 10)
	storeRange(t, ls, 20, 30)
	wantBounds(t, ls, 1, 30)
	in := func(i uint64) bool { return i <= 10 || i >= 20 && i <= 30 }
	wantPresent(t, ls, 0, 35, func(i uint64) bool { return i >= 1 && in(i) })
	if err := ls.GetLog(15, new(raft.Log)); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog(15) = %v, want ErrLogNotFound", err)
	}
}

func TestLogStore_DeleteRange(t *testing.T) {
	tests := []struct {
		name        string
		lo, hi      uint64
		first, last uint64
		present     func(uint64) bool
	}{
		{"head", 1, 5, 6, 30, func(i uint64) bool { return i >= 6 && (i <= 10 || i >= 20) }},
		{"head into gap", 1, 15, 20, 30, func(i uint64) bool { return i >= 20 }},
		{"head beyond start", 0, 3, 4, 30, func(i uint64) bool { return i >= 4 && (i <= 10 || i >= 20) }},
		{"tail", 25, 30, 1, 24, func(i uint64) bool { return i <= 10 || i >= 20 && i <= 24 }},
		{"tail into gap", 15, 30, 1, 10, func(i uint64) bool { return i >= 1 && i <= 10 }},
		{"tail beyond end", 28, 1 << 62, 1, 27, func(i uint64) bool { return i <= 10 || i >= 20 && i <= 27 }},
		{"tail to max uint64", 28, ^uint64(0), 1, 27, func(i uint64) bool { return i <= 10 || i >= 20 && i <= 27 }},
		{"middle", 5, 25, 1, 30, func(i uint64) bool { return i < 5 || i > 25 }},
		{"gap only", 12, 18, 1, 30, func(i uint64) bool { return i <= 10 || i >= 20 }},
		{"all", 1, 30, 0, 0, func(uint64) bool { return false }},
		{"beyond both ends", 0, ^uint64(0), 0, 0, func(uint64) bool { return false }},
		{"above end", 31, 100, 1, 30, func(i uint64) bool { return i <= 10 || i >= 20 }},
		{"inverted", 9, 3, 1, 30, func(i uint64) bool { return i <= 10 || i >= 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := newTestStore(t).LogStore()
			storeRange(t, ls, 1, 10)
			storeRange(t, ls, 20, 30)
			if err := ls.DeleteRange(tt.lo, tt.hi); err != nil {
				t.Fatalf("DeleteRange(%d, %d): %v", tt.lo, tt.hi, err)
			}
			wantBounds(t, ls, tt.first, tt.last)
			wantPresent(t, ls, 1, 35, func(i uint64) bool { return i >= 1 && i <= 30 && tt.present(i) })
		})
	}
}

// TestLogStore_DeleteRangeWide covers the range tombstone path (wider than
// pointDeleteMax) and appends after it.
func TestLogStore_DeleteRangeWide(t *testing.T) {
	ls := newTestStore(t).LogStore()
	storeRange(t, ls, 1, 1000)
	if err := ls.DeleteRange(0, 700); err != nil {
		t.Fatal(err)
	}
	wantBounds(t, ls, 701, 1000)
	if err := ls.DeleteRange(900, 2000); err != nil {
		t.Fatal(err)
	}
	wantBounds(t, ls, 701, 899)
	storeRange(t, ls, 900, 1100)
	wantBounds(t, ls, 701, 1100)
	wantPresent(t, ls, 690, 1110, func(i uint64) bool { return i >= 701 && i <= 1100 })
	if err := ls.DeleteRange(0, 5000); err != nil {
		t.Fatal(err)
	}
	wantBounds(t, ls, 0, 0)
	storeRange(t, ls, 5001, 5002)
	wantBounds(t, ls, 5001, 5002)
}

func TestLogStore_RoundTrip(t *testing.T) {
	ls := newTestStore(t).LogStore()
	at := time.Date(2026, 11, 25, 15, 4, 5, 123456789, time.UTC)
	logs := []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogCommand, Data: []byte("data"), Extensions: []byte("ext"), AppendedAt: at},
		{Index: 2, Term: 1 << 40, Type: raft.LogConfiguration, Data: bytes.Repeat([]byte{0xff}, 100000)},
		{Index: 3, Term: ^uint64(0), Type: raft.LogBarrier, Extensions: []byte{0}},
		{Index: 4, Term: 7, Type: raft.LogNoop, AppendedAt: time.Unix(-1e10, 1)},
		{Index: 5},
	}
	if err := ls.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range logs {
		got := raft.Log{Data: []byte("stale"), Extensions: []byte("stale"), AppendedAt: time.Now()}
		if err := ls.GetLog(want.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", want.Index, err)
		}
		if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
			!got.AppendedAt.Equal(want.AppendedAt) {
			t.Fatalf("GetLog(%d) = %+v\nwant %+v", want.Index, got, *want)
		}
		// Appending to Data must not clobber Extensions (shared allocation).
		if len(got.Extensions) > 0 {
			_ = append(got.Data, 'x')
			if !bytes.Equal(got.Extensions, want.Extensions) {
				t.Fatalf("append to Data changed Extensions of log %d", want.Index)
			}
		}
	}
}

func TestStableStore(t *testing.T) {
	ss := newTestStore(t).StableStore()
	if _, err := ss.Get([]byte("missing")); err == nil || err.Error() != "not found" {
		t.Fatalf("Get(missing) = %v, want error text \"not found\"", err)
	}
	if _, err := ss.GetUint64([]byte("missing")); err == nil || err.Error() != "not found" {
		t.Fatalf("GetUint64(missing) = %v, want error text \"not found\"", err)
	}
	val := []byte("hello")
	if err := ss.Set([]byte("k"), val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'j' // the store must have copied it
	got, err := ss.Get([]byte("k"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("Get(k) = %q, %v", got, err)
	}
	if err := ss.Set([]byte("k"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Get([]byte("k")); err != nil || len(got) != 0 {
		t.Fatalf("Get(k) after empty Set = %q, %v", got, err)
	}
	for _, v := range []uint64{0, 1, 1 << 63, ^uint64(0)} {
		if err := ss.SetUint64([]byte("CurrentTerm"), v); err != nil {
			t.Fatal(err)
		}
		if got, err := ss.GetUint64([]byte("CurrentTerm")); err != nil || got != v {
			t.Fatalf("GetUint64 = %d, %v; want %d", got, err, v)
		}
	}
	if _, err := ss.GetUint64([]byte("k")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("GetUint64 of a non-uint64 value = %v, want ErrCorrupt", err)
	}
}

func TestStore_ReopenAfterClose(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	storeRange(t, s.LogStore(), 1, 10)
	storeRange(t, s.LogStore(), 20, 30)
	if err := s.LogStore().DeleteRange(1, 4); err != nil {
		t.Fatal(err)
	}
	if err := s.StableStore().SetUint64([]byte("term"), 42); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = openTest(t, Config{Dir: dir})
	defer s.Close()
	ls := s.LogStore()
	wantBounds(t, ls, 5, 30)
	wantPresent(t, ls, 1, 31, func(i uint64) bool { return i >= 5 && i <= 10 || i >= 20 && i <= 30 })
	if v, err := s.StableStore().GetUint64([]byte("term")); err != nil || v != 42 {
		t.Fatalf("GetUint64(term) = %d, %v", v, err)
	}
	if s.DiskUsage() == 0 || s.Metrics() == nil {
		t.Fatal("DiskUsage or Metrics empty")
	}
}

// TestStore_ReopenAfterCrash keeps only what was synced and checks that
// every acknowledged write survives and the cached bounds are right.
func TestStore_ReopenAfterCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openTest(t, Config{FS: fs, Dir: "db"})
	ls, ss := s.LogStore(), s.StableStore()
	storeRange(t, ls, 1, 100)
	if err := ls.DeleteRange(1, 9); err != nil {
		t.Fatal(err)
	}
	if err := ss.Set([]byte("vote"), []byte("n1")); err != nil {
		t.Fatal(err)
	}
	if err := ss.SetUint64([]byte("term"), 7); err != nil {
		t.Fatal(err)
	}
	// An unsynced state write, and one made durable by Sync.
	db := s.DB()
	if err := db.Set(append(StatePrefix, "lost"...), []byte("x"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	if err := db.Set(append(StatePrefix, "kept"...), []byte("y"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	crashedAfterSync := fs.CrashClone(vfs.CrashCloneCfg{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		fs   vfs.FS
		kept bool
	}{{"before Sync", crashed, false}, {"after Sync", crashedAfterSync, true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Config{FS: tc.fs, Dir: "db"})
			defer s.Close()
			wantBounds(t, s.LogStore(), 10, 100)
			wantPresent(t, s.LogStore(), 1, 101, func(i uint64) bool { return i >= 10 && i <= 100 })
			if v, err := s.StableStore().Get([]byte("vote")); err != nil || string(v) != "n1" {
				t.Fatalf("Get(vote) = %q, %v", v, err)
			}
			if v, err := s.StableStore().GetUint64([]byte("term")); err != nil || v != 7 {
				t.Fatalf("GetUint64(term) = %d, %v", v, err)
			}
			for _, key := range []string{"lost", "kept"} {
				_, closer, err := s.DB().Get(append(StatePrefix, key...))
				if err == nil {
					_ = closer.Close()
				}
				if tc.kept != (err == nil) {
					t.Fatalf("unsynced state key %q: Get err = %v, want present=%v", key, err, tc.kept)
				}
			}
		})
	}
}

// TestStore_ConcurrentAppendAndCompact mimics raft: one goroutine appends
// while another deletes the head, as raft's snapshot goroutine does.
func TestStore_ConcurrentAppendAndCompact(t *testing.T) {
	ls := newTestStore(t).LogStore()
	const n = 400
	done := make(chan error, 1)
	go func() {
		for i := uint64(1); i <= n; i++ {
			if err := ls.StoreLog(&raft.Log{Index: i, Data: []byte{byte(i)}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var deleted uint64
	for deleted < n/2 {
		last, _ := ls.LastIndex()
		if last > deleted+10 {
			if err := ls.DeleteRange(0, last-10); err != nil {
				t.Fatal(err)
			}
			deleted = last - 10
		}
		if f, _ := ls.FirstIndex(); f != 0 && f <= deleted {
			t.Fatalf("first = %d after deleting up to %d", f, deleted)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantBounds(t, ls, deleted+1, n)
	wantPresent(t, ls, 1, n, func(i uint64) bool { return i > deleted })
}

// TestPackageDoc enforces exactly one package comment, in doc.go.
func TestPackageDoc(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if hasDoc := f.Doc != nil; hasDoc != (name == "doc.go") {
			t.Errorf("%s: package comment present = %v; want it in doc.go only", name, hasDoc)
		}
	}
}
