package ops

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gridcrm/replication"
	"gridcrm/store"
)

// The restore engine's tests (gridcrm restore calls RestoreBackup; its
// round trip through a running node is cmd/gridcrm's
// TestBackupRestore_RoundTrip). `go test` runs FuzzRestoreBackup's seeds;
// `make fuzz` runs it for FUZZTIME.

// openStopped opens the store of a stopped node's data directory; the
// test closes it.
func openStopped(t *testing.T, dataDir string) *store.Store {
	t.Helper()
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dataDir, "pebble")
	st, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recordsIn reads the records of a stopped node's data directory.
func recordsIn(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	st := openStopped(t, dataDir)
	out := map[string]string{}
	if err := replication.StateReaderOf(st).Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// smallBackup writes the backup of a small county store (a heartbeat and
// 200 customers) and answers its path and bytes.
func smallBackup(t *testing.T) (path string, raw []byte) {
	t.Helper()
	path = writeBackup(t, func(tx *replication.Txn) {
		for i := 0; i < 200; i++ {
			_ = tx.Set([]byte(fmt.Sprintf("r/customers/%04d", i)), []byte(strings.Repeat("x", 100)))
		}
	})
	raw, _ = os.ReadFile(path)
	return path, raw
}

// writeBackup writes the backup of a county store holding a heartbeat and
// what fill writes, and answers its path.
func writeBackup(t *testing.T, fill func(tx *replication.Txn)) string {
	t.Helper()
	sc := store.DefaultConfig()
	sc.Dir = t.TempDir()
	st, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, commit := replication.NewBatchTxn(st)
	_ = tx.Set([]byte("r/_canary/320722"), []byte(`{"region":"320722","at":1}`))
	fill(tx)
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "good.snap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replication.WriteState(f, st.DB()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRestore_RefusesDamagedBackups: a truncated file, a flipped byte, and
// something that is no backup at all are refused with a clear message, and
// nothing is written to the data directory.
func TestRestore_RefusesDamagedBackups(t *testing.T) {
	good, raw := smallBackup(t)

	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x40
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", raw[:len(raw)-100], "corrupt or truncated"},
		{"cut before the checksum", raw[:len(raw)-2], "missing checksum"},
		{"one byte flipped", flipped, "corrupt or truncated"},
		{"not a backup", []byte("hello, this is a text file\n"), "not a gridcrm state stream"},
		{"empty", nil, "not a gridcrm state stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in.snap")
			os.WriteFile(in, c.data, 0o600)
			dir := filepath.Join(t.TempDir(), "data")
			_, err := RestoreBackup(in, dir, "")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("restore of a %s backup: %v; want %q and 'nothing was written'", c.name, err, c.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
	// The good one restores.
	if _, err := RestoreBackup(good, filepath.Join(t.TempDir(), "ok"), ""); err != nil {
		t.Fatalf("restore of the intact backup: %v", err)
	}
}

// TestRestore_FailureMidwayLeavesNothing: a restore that fails after it
// began writing (here: the backup file changes under it, so the second
// read breaks off) removes what it created, says so, and a retry into the
// same directory succeeds instead of finding "already holds a node".
func TestRestore_FailureMidwayLeavesNothing(t *testing.T) {
	good, raw := smallBackup(t)

	orig := restoreState
	t.Cleanup(func() { restoreState = orig })

	existing := t.TempDir() // a data directory that exists and holds something else
	if err := os.WriteFile(filepath.Join(existing, "node.key"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(existing, "raft"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"new directory (and parent)": filepath.Join(t.TempDir(), "a", "data"),
		"existing directory":         existing,
	} {
		t.Run(name, func(t *testing.T) {
			// The second read of the file (the restore proper) sees it cut short.
			restoreState = func(st *store.Store, r io.Reader) error {
				return orig(st, io.LimitReader(r, int64(len(raw)/2)))
			}
			_, err := RestoreBackup(good, dir, "")
			if err == nil || !strings.Contains(err.Error(), "what it wrote was removed") {
				t.Fatalf("restore failing midway: %v; want an error saying what it wrote was removed", err)
			}
			if dir == existing {
				if b, err := os.ReadFile(filepath.Join(dir, "node.key")); err != nil || string(b) != "keep me" {
					t.Errorf("a file that was there before is gone or changed: %q %v", b, err)
				}
				if _, err := os.Stat(filepath.Join(dir, "raft")); err != nil {
					t.Errorf("a directory that was there before is gone: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, "pebble")); !os.IsNotExist(err) {
					t.Errorf("pebble/ is left behind (%v)", err)
				}
			} else if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
				t.Errorf("the directories restore created are left behind (%v)", err)
			}
			// The retry into the same directory succeeds.
			restoreState = orig
			if _, err := RestoreBackup(good, dir, ""); err != nil {
				t.Fatalf("retry after the failed restore: %v", err)
			}
			if got := recordsIn(t, dir); len(got) != 201 {
				t.Errorf("the retried restore holds %d records, want 201", len(got))
			}
		})
	}
}

// backupSeeds are a valid backup of region 3207 and broken ones.
func backupSeeds() [][]byte {
	enc := func(pairs ...string) []byte {
		var b bytes.Buffer
		b.WriteString("GRIDSNAP\x01")
		for _, s := range pairs {
			b.Write(binary.AppendUvarint(nil, uint64(len(s))))
			b.WriteString(s)
		}
		b.WriteByte(0)
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(pairs)/2)))
		return binary.BigEndian.AppendUint32(b.Bytes(), crc32.Checksum(b.Bytes(), crc32.MakeTable(crc32.Castagnoli)))
	}
	good := enc("m/applied", "\x00\x00\x00\x00\x00\x00\x00\x09",
		"r/_canary/3207", `{"region":"3207","at":1}`,
		"r/users/usr_01KAQ0000000000000000000A1", `{"id":"usr_01KAQ0000000000000000000A1","owner":"3207","version":1,"username":"admin"}`)
	flip := bytes.Clone(good)
	flip[15] ^= 0x40
	return [][]byte{
		good,
		enc("r/_canary/320722", `{"region":"320722","at":1}`),
		enc(),
		good[:len(good)-1], good[:len(good)/2], good[:9], nil, flip,
		append(bytes.Clone(good), '\n'),
		enc("r/users/a", `{"owner":"3207"}`, "r/users/b", `{"owner":"3201"}`),
	}
}

// FuzzRestoreBackup: any bytes as the backup file given to `gridcrm
// restore` (RestoreBackup). A file that does not check out is refused with an error
// saying nothing was written, and the data directory stays as it was; one
// that is accepted is the stream ReadState accepts, restored whole.
func FuzzRestoreBackup(f *testing.F) {
	for _, s := range backupSeeds() {
		f.Add(s)
	}
	root := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, raw []byte) {
		n++
		in := filepath.Join(root, "backup")
		if err := os.WriteFile(in, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		dataDir := filepath.Join(root, "data"+strconv.Itoa(n))
		defer os.RemoveAll(dataDir)
		var pairs uint64
		_, rerr := replication.ReadState(bytes.NewReader(raw), func(k, v []byte) error { pairs++; return nil })
		res, err := RestoreBackup(in, dataDir, "")
		if err != nil {
			if _, serr := os.Stat(dataDir); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("refused (%v), yet %s was created", err, dataDir)
			}
			if rerr != nil && !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("refused a corrupt file with %v: want it to say nothing was written", err)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("restored %d pairs from a stream ReadState refuses: %v", res.Pairs, rerr)
		}
		if res.Pairs != pairs || res.Region == "" {
			t.Fatalf("restored %d pairs of region %q; the stream holds %d", res.Pairs, res.Region, pairs)
		}
		if _, serr := os.Stat(filepath.Join(dataDir, "pebble")); serr != nil {
			t.Fatalf("restored, yet: %v", serr)
		}
	})
}

// TestRestore_RenewsFeedEpoch: a restored region's feed goes on after the
// backup with entries its peers never saw, so it gets a new epoch (and its
// peers' links resync); every voter restored from one file gets the same
// one, another file another.
func TestRestore_RenewsFeedEpoch(t *testing.T) {
	epochIn := func(dataDir string) string {
		e, err := replication.FeedEpoch(replication.StateReaderOf(openStopped(t, dataDir)))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	backup := func(extra string) string {
		return writeBackup(t, func(tx *replication.Txn) {
			_ = tx.Set([]byte("m/feed/epoch"), []byte("e1"))
			_ = tx.Set([]byte("r/customers/"+extra), []byte(`{"id":"`+extra+`"}`))
		})
	}
	restore := func(in string) string {
		dir := filepath.Join(t.TempDir(), "node")
		if _, err := RestoreBackup(in, dir, ""); err != nil {
			t.Fatal(err)
		}
		return epochIn(dir)
	}
	a := backup("a")
	e1, e2, other := restore(a), restore(a), restore(backup("b"))
	if e1 == "" || e1 == "e1" || e1 != e2 || other == e1 {
		t.Errorf("restored epochs: %q and %q from one file, %q from another; want a new one, the same from one file", e1, e2, other)
	}
}
