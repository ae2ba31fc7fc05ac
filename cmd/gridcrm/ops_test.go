package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/store"
)

func customer(acc string) map[string]any {
	return map[string]any{"account_no": acc, "name": "客户" + acc, "category": "commercial", "voltage_kv": 0.4, "capacity_kva": 50, "region": "320722"}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := map[string]*cobra.Command{"backup": backupCmd(), "restore": restoreCmd(), "status": statusCmd()}[args[0]]
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args[1:])
	err := cmd.Execute()
	return out.String(), err
}

// recordsIn reads the records of a stopped node's data directory.
func recordsIn(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dataDir, "pebble")
	st, err := store.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]string{}
	if err := replication.StateReaderOf(st).Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackupRestore_RoundTrip: a backup taken while writes go on restores
// into a region whose records equal the source's at the snapshot, record
// for record, whose aggregates agree with its records (the snapshot is
// consistent), whose admin can log in, and which accepts new writes.
func TestBackupRestore_RoundTrip(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 1})
	cl := c.Client(0)
	for i := 0; i < 50; i++ {
		if st, body := cl.Do("POST", "/api/v1/customers", customer(fmt.Sprintf("BK-%d", i))); st != 201 {
			t.Fatalf("%d %s", st, body)
		}
	}
	// Writes keep going while the backup streams.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			cl.Do("POST", "/api/v1/customers", customer(fmt.Sprintf("LIVE-%d", i)))
		}
	}()
	t.Setenv("GRIDCRM_PASSWORD", testcluster.AdminPassword)
	file := filepath.Join(t.TempDir(), "320722.snap")
	out, err := run(t, "backup", "--url", c.Node(0).APIURL(), "--out", file)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "pairs") {
		t.Errorf("backup printed %q", out)
	}

	dir := filepath.Join(t.TempDir(), "restored")
	out, err = run(t, "restore", "--in", file, "--data-dir", dir, "--region", "320722")
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if !strings.Contains(out, "region 320722") {
		t.Errorf("restore printed %q", out)
	}
	// The restored records are the backup's, pair for pair.
	want := map[string]string{}
	f, _ := os.Open(file)
	if _, err := replication.ReadState(f, func(k, v []byte) error {
		if strings.HasPrefix(string(k), "r/") {
			want[string(k)] = string(v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := recordsIn(t, dir)
	if d := testcluster.Diff(want, got); d != "" {
		t.Fatalf("restored records differ from the backup: %s", d)
	}
	customers := 0
	for k := range got {
		if strings.HasPrefix(k, "r/customers/") {
			customers++
		}
	}
	if customers < 50 {
		t.Fatalf("restored %d customers, want at least the 50 written before the backup", customers)
	}

	// Start a region on it: bootstrap a fresh raft group over the restored state.
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.Region, cfg.DataDir = "r1", "320722", dir
	cfg.APIListen, cfg.InternalListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Bootstrap = true
	cfg.CanaryInterval = time.Hour
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	testcluster.WaitFor(t, 30*time.Second, "the restored node ready", func() bool { return n.Ready() == nil })
	rc := testcluster.Login(t, n.APIURL(), "admin", testcluster.AdminPassword)
	if d := testcluster.Diff(testcluster.Records(t, n, "320722"), recordsOwned(got, "320722")); d != "" {
		t.Fatalf("the running restored node's records differ: %s", d)
	}
	sum, err := crm.Summarize(n.Reader(), "320722", false)
	if err != nil || sum.Customers != int64(customers) {
		t.Fatalf("aggregates say %d customers, records %d (%v): the snapshot was not consistent", sum.Customers, customers, err)
	}
	st, body := rc.Do("POST", "/api/v1/customers", customer("AFTER-RESTORE"))
	if st != 201 {
		t.Fatalf("write on the restored region: %d %s", st, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(body, &created)
	if st, _ := rc.Do("GET", "/api/v1/customers/"+created.ID, nil); st != 200 {
		t.Fatalf("read back the new customer: %d", st)
	}

	// Restoring over a node's directory is refused.
	if _, err := run(t, "restore", "--in", file, "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "already holds a node") {
		t.Errorf("restore over an existing node: %v", err)
	}
	if _, err := run(t, "restore", "--in", file, "--data-dir", t.TempDir(), "--region", "320723"); err == nil || !strings.Contains(err.Error(), "backup of region 320722, not 320723") {
		t.Errorf("restore of the wrong region: %v", err)
	}
}

func recordsOwned(all map[string]string, region string) map[string]string {
	out := map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, "r/users/") || strings.HasPrefix(k, "r/_canary/") {
			continue
		}
		if crm.InRegion(crm.RecordOwner([]byte(v)), region) {
			out[k] = v
		}
	}
	return out
}

// smallBackup writes the backup of a small county store (a heartbeat and
// 200 customers) and answers its path and bytes.
func smallBackup(t *testing.T) (path string, raw []byte) {
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
	for i := 0; i < 200; i++ {
		_ = tx.Set([]byte(fmt.Sprintf("r/customers/%04d", i)), []byte(strings.Repeat("x", 100)))
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "good.snap")
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
	raw, _ = os.ReadFile(path)
	return path, raw
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
			_, err := run(t, "restore", "--in", in, "--data-dir", dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("restore of a %s backup: %v; want %q and 'nothing was written'", c.name, err, c.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
	// The good one restores.
	if _, err := run(t, "restore", "--in", good, "--data-dir", filepath.Join(t.TempDir(), "ok")); err != nil {
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
			_, err := run(t, "restore", "--in", good, "--data-dir", dir)
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
			if _, err := run(t, "restore", "--in", good, "--data-dir", dir); err != nil {
				t.Fatalf("retry after the failed restore: %v", err)
			}
			if got := recordsIn(t, dir); len(got) != 201 {
				t.Errorf("the retried restore holds %d records, want 201", len(got))
			}
		})
	}
}
