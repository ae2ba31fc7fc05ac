package main

import (
	"encoding/json"
	"fmt"
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
	"gridcrm/store/keyspace"
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
	exportFromNode(t, c) // export_test.go: gridcrm export, on this node

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
	// Audit entries aside: the login above appends to the chain, as a
	// running region must (the restored entries are compared with the
	// backup pair for pair above).
	if d := testcluster.Diff(withoutAudit(testcluster.Records(t, n, "320722")), withoutAudit(recordsOwned(got, "320722"))); d != "" {
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

func withoutAudit(recs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range recs {
		if !strings.HasPrefix(k, keyspace.AuditPrefix) {
			out[k] = v
		}
	}
	return out
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
