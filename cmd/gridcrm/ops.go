package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/ops"
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
	if size, err = writeSynced(tmp, resp.Body); err != nil {
		return 0, 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // no-op after the rename
	if pairs, err = ops.VerifyBackup(tmp); err != nil {
		return 0, 0, fmt.Errorf("backup: the node's stream did not check out, %s was not written: %w", path, err)
	}
	return pairs, size, os.Rename(tmp, path)
}

// createExclusive creates path for writing, private to the user (0600),
// only if nothing is there: never through a symbolic link someone planted
// (O_EXCL does not follow one), never into an existing file (whose mode
// and readers would stay).
// writeSynced copies r into a new file at path (createExclusive) and
// fsyncs it, answering the bytes written; it removes the file it made if
// that fails, and the caller removes it when it does not keep it.
func writeSynced(path string, r io.Reader) (size int64, err error) {
	f, err := createExclusive(path)
	if err != nil {
		return 0, err
	}
	size, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return size, fmt.Errorf("writing %s after %d bytes: %w", path, size, err)
	}
	return size, nil
}

func createExclusive(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link: refusing to write through it (remove it and retry)", path)
		}
		return nil, fmt.Errorf("%s exists (another backup writing it, or one that was interrupted): remove it and retry", path)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil { // whatever the umask
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
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
			res, err := ops.RestoreBackup(in, dataDir, region)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restore: %d pairs of region %s (regions held: %s) into %s\n", res.Pairs, res.Region, strings.Join(res.Regions, ", "), dataDir)
			fmt.Fprintf(cmd.OutOrStdout(), "start it with: gridcrm node --region %s --data-dir %s --bootstrap --peers <id=internal-addr,...> ...\n", res.Region, dataDir)
			return nil
		},
	}
	c.Flags().StringVar(&in, "in", "", "backup file (required)")
	c.Flags().StringVar(&dataDir, "data-dir", "", "new, empty data directory (required)")
	c.Flags().StringVar(&region, "region", "", "refuse unless the backup is of this region")
	return c
}
