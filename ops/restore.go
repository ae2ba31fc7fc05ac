package ops

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// Restoring a backup: `gridcrm restore` turns its flags into a call of
// RestoreBackup; `gridcrm backup` checks what it downloaded with
// VerifyBackup. A backup is the replication state stream (a header, the
// key/value pairs, a count and a CRC-32C) that the node serves at
// GET /api/v1/ops/backup.

// VerifyBackup reads the whole file and checks its count and checksum.
func VerifyBackup(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return replication.ReadState(bufio.NewReader(f), func(_, _ []byte) error { return nil })
}

// Restored is what RestoreBackup found in the backup and wrote: the pairs,
// the region the backup is of, and every region it holds data of (its own
// and the subtree below it), shortest code first.
type Restored struct {
	Pairs   uint64
	Region  string
	Regions []string
}

// RestoreBackup verifies in, then writes dataDir/pebble from it with the
// applied raft index cleared, so a freshly bootstrapped raft log applies
// from its first entry on top of the restored state.
func RestoreBackup(in, dataDir, wantRegion string) (Restored, error) {
	var res Restored
	if _, err := os.Stat(in); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	regions := map[string]bool{}
	f, err := os.Open(in)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	userRegion := map[string]bool{} // users are region-local: their owner is the node's region
	res.Pairs, err = replication.ReadState(bufio.NewReader(f), func(k, v []byte) error {
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
		res.Regions = append(res.Regions, r)
	}
	sort.Slice(res.Regions, func(i, j int) bool {
		a, b := res.Regions[i], res.Regions[j]
		return len(a) < len(b) || (len(a) == len(b) && a < b)
	})
	switch {
	case len(userRegion) == 1:
		for r := range userRegion {
			res.Region = r
		}
	case len(res.Regions) > 0:
		res.Region = res.Regions[0] // a node holds its own region and the subtree below it
	case wantRegion != "":
		res.Region = wantRegion
	default:
		return res, fmt.Errorf("restore: %s holds no users and no heartbeat, so its region is unknown (pass --region); nothing was written", in)
	}
	if wantRegion != "" && wantRegion != res.Region {
		return res, fmt.Errorf("restore: %s is a backup of region %s, not %s; nothing was written", in, res.Region, wantRegion)
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
func restoreInto(sc store.Config, in string, res Restored) (Restored, error) {
	st, err := store.Open(sc)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	f, err := os.Open(in)
	if err != nil {
		st.Close()
		return res, fmt.Errorf("restore: %w", err)
	}
	sum := sha256.New() // the file's checksum: the restored feed's new epoch
	err = restoreState(st, bufio.NewReader(io.TeeReader(f, sum)))
	if err == nil {
		_, err = io.Copy(sum, f)
	}
	f.Close()
	if err == nil {
		// A new raft group on the restored state, whose feed is no longer
		// the one the region's peers last saw: after the backup it goes on
		// with entries they never had. A new epoch tells their links to
		// resync (replication.FeedEpoch); every voter restored from this
		// file gets the same one.
		tx, commit := replication.NewBatchTxn(st)
		if err = tx.Delete([]byte(keyspace.AppliedKey)); err == nil {
			if err = replication.RenewFeedEpoch(tx, sum.Sum(nil)); err == nil {
				err = commit()
			}
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
