package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// credentials are how the operations commands log in: --user, and the
// password from $GRIDCRM_PASSWORD or --password-file (never a flag, so it
// stays out of the process list and shell history).
type credentials struct {
	url, user, passwordFile string
}

func (c *credentials) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.url, "url", "http://127.0.0.1:8400", "API URL of the node")
	cmd.Flags().StringVar(&c.user, "user", "admin", "user to log in as")
	cmd.Flags().StringVar(&c.passwordFile, "password-file", "", "file holding the password (default: $GRIDCRM_PASSWORD)")
}

func (c *credentials) login(ctx context.Context) (*apiClient, error) {
	pw := os.Getenv("GRIDCRM_PASSWORD")
	if c.passwordFile != "" {
		raw, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		pw = strings.TrimSpace(string(raw))
	}
	if pw == "" {
		return nil, errors.New("no password: set GRIDCRM_PASSWORD or --password-file")
	}
	cl := &apiClient{base: strings.TrimRight(c.url, "/"), http: &http.Client{Timeout: 30 * time.Second}}
	var out struct{ Token string }
	if err := cl.do(ctx, "POST", "/api/v1/auth/login", map[string]string{"username": c.user, "password": pw}, &out); err != nil {
		return nil, fmt.Errorf("login at %s: %w", cl.base, err)
	}
	cl.token = out.Token
	return cl, nil
}

func backupCmd() *cobra.Command {
	var cr credentials
	var out string
	c := &cobra.Command{
		Use:   "backup",
		Short: "Write a consistent snapshot of a running node's store to a file",
		Long: `Ask a running node (as an admin of its region) for a consistent snapshot of
its state — records, indexes, aggregates, change feed, link cursors — and write
it to --out. The stream is the format of raft snapshots: a header, the key/value
pairs, a count and a CRC-32C; the file is checked before it is kept, so a
backup that was cut short never replaces a good one.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			cl, err := cr.login(ctx)
			if err != nil {
				return err
			}
			cl.http.Timeout = 0 // a large store takes a while; ctx bounds it
			pairs, size, err := backupTo(ctx, cl, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup: %s: %d pairs, %d bytes from %s\n", out, pairs, size, cl.base)
			return nil
		},
	}
	cr.flags(c)
	c.Flags().StringVar(&out, "out", "", "file to write (required; replaced only once the new backup checks out)")
	return c
}

// backupTo downloads the snapshot to path.tmp, verifies it and renames it.
func backupTo(ctx context.Context, cl *apiClient, path string) (pairs uint64, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", cl.base+"/api/v1/ops/backup", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, 0, fmt.Errorf("backup: %s answered %d: %s", cl.base, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // no-op after the rename
	size, err = io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("backup: writing %s: %w", tmp, err)
	}
	if pairs, err = verifyBackup(tmp); err != nil {
		return 0, 0, fmt.Errorf("backup: the node's stream did not check out, %s was not written: %w", path, err)
	}
	return pairs, size, os.Rename(tmp, path)
}

// verifyBackup reads the whole file and checks its count and checksum.
func verifyBackup(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return replication.ReadState(bufio.NewReader(f), func(_, _ []byte) error { return nil })
}

func restoreCmd() *cobra.Command {
	var in, dataDir, region string
	c := &cobra.Command{
		Use:   "restore",
		Short: "Build a node's data directory from a backup file",
		Long: `Check a backup file end to end (header, every pair, count, CRC-32C), then
build a fresh data directory from it. The restored state keeps everything the
region had at backup time, but not its raft membership: start every node of
the restored region with --bootstrap and the same --peers (restore the same
file into each node's data directory). A corrupt or truncated file is refused
before anything is written; a restore that fails while writing removes what it
created.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || dataDir == "" {
				return errors.New("--in and --data-dir are required")
			}
			res, err := restoreBackup(in, dataDir, region)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restore: %d pairs of region %s (regions held: %s) into %s\n", res.pairs, res.region, strings.Join(res.regions, ", "), dataDir)
			fmt.Fprintf(cmd.OutOrStdout(), "start it with: gridcrm node --region %s --data-dir %s --bootstrap --peers <id=internal-addr,...> ...\n", res.region, dataDir)
			return nil
		},
	}
	c.Flags().StringVar(&in, "in", "", "backup file (required)")
	c.Flags().StringVar(&dataDir, "data-dir", "", "new, empty data directory (required)")
	c.Flags().StringVar(&region, "region", "", "refuse unless the backup is of this region")
	return c
}

type restored struct {
	pairs   uint64
	region  string
	regions []string
}

// restoreBackup verifies in, then writes dataDir/pebble from it with the
// applied raft index cleared, so a freshly bootstrapped raft log applies
// from its first entry on top of the restored state.
func restoreBackup(in, dataDir, wantRegion string) (restored, error) {
	var res restored
	if _, err := os.Stat(in); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	regions := map[string]bool{}
	f, err := os.Open(in)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	userRegion := map[string]bool{} // users are region-local: their owner is the node's region
	res.pairs, err = replication.ReadState(bufio.NewReader(f), func(k, v []byte) error {
		if r, ok := strings.CutPrefix(string(k), keyspace.CanaryPrefix); ok {
			regions[r] = true
		}
		if strings.HasPrefix(string(k), keyspace.UsersPrefix) {
			if o := crm.RecordOwner(v); o != "" {
				userRegion[o] = true
				regions[o] = true
			}
		}
		return nil
	})
	f.Close()
	if err != nil {
		return res, fmt.Errorf("restore: %s is not a usable backup, nothing was written: %w", in, err)
	}
	for r := range regions {
		res.regions = append(res.regions, r)
	}
	sort.Slice(res.regions, func(i, j int) bool {
		a, b := res.regions[i], res.regions[j]
		return len(a) < len(b) || (len(a) == len(b) && a < b)
	})
	switch {
	case len(userRegion) == 1:
		for r := range userRegion {
			res.region = r
		}
	case len(res.regions) > 0:
		res.region = res.regions[0] // a node holds its own region and the subtree below it
	case wantRegion != "":
		res.region = wantRegion
	default:
		return res, fmt.Errorf("restore: %s holds no users and no heartbeat, so its region is unknown (pass --region); nothing was written", in)
	}
	if wantRegion != "" && wantRegion != res.region {
		return res, fmt.Errorf("restore: %s is a backup of region %s, not %s; nothing was written", in, res.region, wantRegion)
	}
	for _, sub := range []string{"pebble", "raft"} {
		if entries, err := os.ReadDir(filepath.Join(dataDir, sub)); err == nil && len(entries) > 0 {
			return res, fmt.Errorf("restore: %s already holds a node (%s/ is not empty); restore into a new directory", dataDir, sub)
		}
	}
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dataDir, "pebble")
	undo := undoCreate(sc.Dir)
	if err := os.MkdirAll(sc.Dir, 0o700); err != nil {
		undo()
		return res, fmt.Errorf("restore: %w", err)
	}
	res, err = restoreInto(sc, in, res)
	if err != nil {
		if uerr := undo(); uerr != nil {
			return res, fmt.Errorf("%w (and removing what it wrote failed: %v; remove %s by hand)", err, uerr, sc.Dir)
		}
		return res, fmt.Errorf("%w; what it wrote was removed", err)
	}
	return res, nil
}

// restoreState is replication.RestoreState (a seam for the test of a
// restore that fails midway).
var restoreState = replication.RestoreState

// restoreInto writes the verified backup in into a new store at sc.Dir.
func restoreInto(sc store.Config, in string, res restored) (restored, error) {
	st, err := store.Open(sc)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	f, err := os.Open(in)
	if err != nil {
		st.Close()
		return res, fmt.Errorf("restore: %w", err)
	}
	err = restoreState(st, bufio.NewReader(f))
	f.Close()
	if err == nil {
		tx, commit := replication.NewBatchTxn(st)
		if err = tx.Delete([]byte(keyspace.AppliedKey)); err == nil {
			err = commit()
		}
	}
	if err == nil {
		err = st.Sync()
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

// undoCreate notes which of dir and its parents do not exist yet and
// answers a function that removes what a failed restore created there:
// the topmost directory it created, or, when dir already existed (empty,
// as restore checks), only what was written inside it. Nothing that
// existed before is removed.
func undoCreate(dir string) func() error {
	top := ""
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		top = d
		if filepath.Dir(d) == d {
			break
		}
	}
	return func() error {
		if top != "" {
			return os.RemoveAll(top)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
}
