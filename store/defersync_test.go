package store

import (
	"errors"
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

// TestLogStore_DeferSyncDurableIndex: with DeferSync, whatever
// DurableIndex names before a crash (only synced data kept) is there
// after it, however the background fsyncs and the appends interleave; a
// truncated or overwritten tail lowers it until the next Sync.
func TestLogStore_DeferSyncDurableIndex(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openTest(t, Config{FS: fs, Dir: "db"})
	ls := s.LogStore()
	storeRange(t, ls, 1, 5) // synced: before DeferSync
	ls.DeferSync()
	if d := ls.DurableIndex(); d != 5 {
		t.Fatalf("DurableIndex after DeferSync = %d, want 5", d)
	}
	type crash struct {
		durable uint64
		fs      vfs.FS
	}
	var crashes []crash
	for i := uint64(6); i <= 400; i++ {
		storeRange(t, ls, i, i)
		if d, l := ls.DurableIndex(), ls.last.Load(); d > l {
			t.Fatalf("DurableIndex %d > last %d", d, l)
		}
		if i%50 == 0 {
			if err := ls.Sync(); err != nil {
				t.Fatal(err)
			}
			if d := ls.DurableIndex(); d != i {
				t.Fatalf("DurableIndex after Sync = %d, want %d", d, i)
			}
		}
		if i%7 == 0 {
			crashes = append(crashes, crash{ls.DurableIndex(), fs.CrashClone(vfs.CrashCloneCfg{})})
		}
	}
	for _, c := range crashes {
		s := openTest(t, Config{FS: c.fs, Dir: "db"})
		wantPresent(t, s.LogStore(), 1, c.durable, func(uint64) bool { return true })
		_ = s.Close()
	}
	if len(crashes) == 0 || crashes[len(crashes)-1].durable < 350 {
		t.Fatalf("crashes %d: too few durable entries to test", len(crashes))
	}

	// The tail truncated (a follower's conflict) and written again.
	if err := ls.DeleteRange(391, 400); err != nil {
		t.Fatal(err)
	}
	if d := ls.DurableIndex(); d > 390 {
		t.Fatalf("DurableIndex after truncating to 390 = %d", d)
	}
	// Written again in a later term, then 393 overwritten in place: what
	// DurableIndex names after each is the new entry in a crash.
	write := func(i, term uint64) {
		if err := ls.StoreLogs([]*raft.Log{{Index: i, Term: term}}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[uint64]uint64{} // index → term of its last write, above 390
	type crashAt struct {
		crash
		want map[uint64]uint64
	}
	var after []crashAt
	snap := func() {
		d := ls.DurableIndex()
		after = append(after, crashAt{crash{d, fs.CrashClone(vfs.CrashCloneCfg{})}, maps.Clone(want)})
	}
	for i := uint64(391); i <= 395; i++ {
		write(i, 2)
		want[i] = 2
		snap()
	}
	if err := ls.Sync(); err != nil {
		t.Fatal(err)
	}
	if d := ls.DurableIndex(); d != 395 {
		t.Fatalf("DurableIndex after Sync = %d, want 395", d)
	}
	write(393, 3)
	want[393] = 3
	snap()
	for _, c := range after {
		s := openTest(t, Config{FS: c.fs, Dir: "db"})
		for i := uint64(391); i <= c.durable; i++ {
			var l raft.Log
			if err := s.LogStore().GetLog(i, &l); err != nil || l.Term != c.want[i] {
				t.Fatalf("durable to %d, after a crash entry %d: term %d, %v; want term %d", c.durable, i, l.Term, err, c.want[i])
			}
		}
		_ = s.Close()
	}
	if err := s.Close(); err != nil { // stops the syncer
		t.Fatal(err)
	}

}

// TestLogStore_DeferSyncUnsyncedLost: an append without Sync is in Pebble
// but not durable (the test of the test above: a crash does drop it).
func TestLogStore_DeferSyncUnsyncedLost(t *testing.T) {
	lost := 0
	for try := 0; try < 20 && lost == 0; try++ {
		fs := vfs.NewCrashableMem()
		s := openTest(t, Config{FS: fs, Dir: "db"})
		ls := s.LogStore()
		ls.DeferSync()
		storeRange(t, ls, 1, 1)
		crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // the background fsync may or may not have run
		_ = s.Close()
		s2 := openTest(t, Config{FS: crashed, Dir: "db"})
		if l, _ := s2.LogStore().LastIndex(); l == 0 {
			lost++
		}
		_ = s2.Close()
	}
	if lost == 0 {
		t.Fatal("no crash ever lost an unsynced append: the crash model keeps unsynced data, so the test above proves nothing")
	}
}

// TestLogStore_DurableIndexWithoutDeferSync: appends synced on return.
func TestLogStore_DurableIndexWithoutDeferSync(t *testing.T) {
	s := newTestStore(t)
	ls := s.LogStore()
	storeRange(t, ls, 1, 9)
	if d := ls.DurableIndex(); d != 9 {
		t.Fatalf("DurableIndex = %d, want 9", d)
	}
	if err := ls.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestLogStore_SyncAfterClose: an answer's Sync that comes after the store
// closed (a node shutting down) fails with ErrClosed or finds nothing to
// do; it never reaches the closed database (which panics).
func TestLogStore_SyncAfterClose(t *testing.T) {
	closed := 0
	for range 100 {
		s := openTest(t, Config{FS: vfs.NewMem(), Dir: "db"})
		ls := s.LogStore()
		ls.DeferSync()
		storeRange(t, ls, 1, 1)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		switch err := ls.Sync(); {
		case errors.Is(err, ErrClosed):
			closed++
		case err != nil:
			t.Fatalf("Sync after Close: %v", err)
		}
	}
	t.Logf("%d of 100 Syncs after Close needed an fsync and were refused", closed)
}

// TestLogStore_DeferSyncGapAtTail: a tail deleted across a gap leaves
// the durable index above the new last; entries then stored in the gap
// are not counted durable before an fsync covers them.
func TestLogStore_DeferSyncGapAtTail(t *testing.T) {
	for range 20 {
		fs := vfs.NewCrashableMem()
		s := openTest(t, Config{FS: fs, Dir: "db"})
		ls := s.LogStore()
		storeRange(t, ls, 1, 5)
		storeRange(t, ls, 8, 10) // a gap at 6, 7; all synced
		ls.DeferSync()
		if err := ls.DeleteRange(8, 10); err != nil {
			t.Fatal(err)
		}
		storeRange(t, ls, 6, 7)
		d := ls.DurableIndex()
		crashed := fs.CrashClone(vfs.CrashCloneCfg{})
		_ = s.Close()
		s2 := openTest(t, Config{FS: crashed, Dir: "db"})
		wantPresent(t, s2.LogStore(), 1, d, func(uint64) bool { return true })
		_ = s2.Close()
	}
}
