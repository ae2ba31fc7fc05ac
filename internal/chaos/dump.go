package chaos

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/store"
)

// DumpStore reads the state keyspace of a stopped node. It never opens
// the node's own files for writing: it copies the Pebble directory
// (dataDir/pebble) to scratch, opens the copy with the store package,
// reads every state key and removes the copy.
func DumpStore(node, region, dataDir, scratch string) (Dump, error) {
	d := Dump{Node: node, Region: region, Keys: map[string][]byte{}}
	src := filepath.Join(dataDir, "pebble")
	dst := filepath.Join(scratch, node)
	if err := copyDir(src, dst); err != nil {
		return d, fmt.Errorf("chaos: copy %s: %w", src, err)
	}
	defer os.RemoveAll(dst)
	cfg := store.DefaultConfig()
	cfg.Dir, cfg.CacheSize = dst, 16<<20
	st, err := store.Open(cfg)
	if err != nil {
		return d, err
	}
	defer st.Close()
	it, err := st.DB().NewIter(&pebble.IterOptions{LowerBound: store.StatePrefix, UpperBound: store.StateUpper})
	if err != nil {
		return d, err
	}
	n := len(store.StatePrefix)
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return d, err
		}
		d.Keys[string(it.Key()[n:])] = bytes.Clone(v)
	}
	if err := it.Close(); err != nil {
		return d, err
	}
	return d, nil
}

// copyDir copies the regular files of src (recursively) into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
