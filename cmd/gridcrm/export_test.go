package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gridcrm/internal/testcluster"
	"gridcrm/warehouse"
)

// runExportCmd runs `gridcrm export args...`.
func runExportCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exportCmd()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestExportCmd_Flags: bad flags are refused before the node is asked,
// naming the flag.
func TestExportCmd_Flags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.parquet")
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--out", out}, "--collection"},
		{[]string{"--collection", "readings", "--out", out}, "--collection"},
		{[]string{"--collection", "bills"}, "--out"},
		{[]string{"--collection", "bills", "--out", out, "--scope", "all"}, "--scope"},
		{[]string{"--collection", "bills", "--out", out, "--format", "xlsx"}, "--format"},
	} {
		// --url names a port nothing listens on: a request would fail
		// otherwise than naming the flag.
		msg, err := runExportCmd(t, append(tc.args, "--url", "http://127.0.0.1:1")...)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%q: %v %s; want an error naming %s", tc.args, err, msg, tc.flag)
		}
	}
	o := exportOptions{collection: "bills", out: "b.CSV", scope: "subtree"}
	if err := o.check(); err != nil || o.format != "csv" {
		t.Errorf("--out b.CSV: format %q, %v", o.format, err)
	}
}

// exportFromNode (run by TestBackupRestore_RoundTrip on its node, once
// its writes stopped: a node costs seconds to start): `gridcrm export`
// of the region's customers, as Parquet and as CSV (the format from the
// file's name), logged in with the password or given a token, writes a
// file holding every customer the node stores, once each, which reads
// back; it prints the rows and bytes; a refusal of the
// node is the command's error; an interrupted export's leftover file
// stops the next.
func exportFromNode(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	stored := map[string]map[string]any{}
	for k, v := range testcluster.Records(t, c.Node(0), "320722") {
		if strings.HasPrefix(k, "r/customers/") {
			var m map[string]any
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				t.Fatal(err)
			}
			stored[m["id"].(string)] = m
		}
	}
	if len(stored) < 50 {
		t.Fatalf("%d customers stored", len(stored))
	}
	s, _ := warehouse.For("customers")
	dir := t.TempDir()
	for i, name := range []string{"customers.parquet", "customers.csv"} {
		if i == 1 { // the first logs in with the password, the others use a token
			t.Setenv("GRIDCRM_TOKEN", c.Client(0).Token)
		}
		file := filepath.Join(dir, name)
		msg, err := runExportCmd(t, "--node", c.Node(0).APIURL(), "--collection", "customers", "--region", "320722", "--out", file)
		if err != nil {
			t.Fatalf("export %s: %v\n%s", name, err, msg)
		}
		if !strings.Contains(msg, " rows of customers") || !strings.Contains(msg, " bytes ") {
			t.Errorf("export printed %q", msg)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		var ids []string
		check := func(row map[string]any) error {
			id, _ := row["id"].(string)
			want := stored[id]
			if want == nil || row["account_no"] != want["account_no"] || row["owner"] != "320722" || row["version"] != int64(want["version"].(float64)) {
				t.Errorf("%s: row %v; stored %v", name, row, want)
			}
			ids = append(ids, id)
			return nil
		}
		if strings.HasSuffix(name, ".csv") {
			err = warehouse.ReadCSV(f, s, check)
		} else {
			_, err = warehouse.ReadParquet(f, fi.Size(), check)
		}
		f.Close()
		if err != nil {
			t.Fatalf("read %s back: %v", name, err)
		}
		slices.Sort(ids)
		if len(ids) != len(stored) || len(slices.Compact(ids)) != len(stored) {
			t.Errorf("%s: %d rows (%d ids), %d customers stored", name, len(ids), len(slices.Compact(ids)), len(stored))
		}
		if _, err := os.Stat(file + ".tmp"); !os.IsNotExist(err) {
			t.Errorf("%s.tmp left behind: %v", name, err)
		}
	}

	// The node's refusal is the command's error.
	msg, err := runExportCmd(t, "--node", c.Node(0).APIURL(), "--collection", "customers", "--region", "320723", "--out", filepath.Join(dir, "other.csv"))
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "region") {
		t.Errorf("export of a region the node does not serve: %v %s", err, msg)
	}
	// A leftover of an interrupted export stops the next.
	next := filepath.Join(dir, "again.parquet")
	if err := os.WriteFile(next+".tmp", []byte("PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runExportCmd(t, "--node", c.Node(0).APIURL(), "--collection", "customers", "--out", next); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("export over a leftover .tmp: %v", err)
	}
}
