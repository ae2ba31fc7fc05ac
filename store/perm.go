package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// File modes of a data directory: the store holds every record of the
// region, the raft log and stable store, so nothing in it is readable by
// other local users.
const (
	privateDirMode  = 0o700
	privateFileMode = 0o600
)

// SecureDir makes dir a private directory: it is created (with missing
// parents) mode 0700 if missing; otherwise it must be owned by this
// process's effective user, and it is set to 0700, every directory below
// it to 0700 and every regular file to 0600, whatever their modes were.
// Symbolic links are neither followed nor changed. An entry owned by
// another user is refused with an error wrapping ErrUnsafeDir that names
// it (chmod would fail, or, run as root, silently take over another
// user's files). Open calls it for the OS filesystem; node may call it for
// its whole data directory.
func SecureDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("%w: no directory given", ErrUnsafeDir)
	}
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		return fmt.Errorf("store: create data directory %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("store: data directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeDir, dir)
	}
	if err := checkOwner(dir, st); err != nil {
		return err
	}
	if err := os.Chmod(dir, privateDirMode); err != nil {
		return fmt.Errorf("store: chmod 700 %s: %w", dir, err)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("store: data directory %s: %w", dir, err)
		}
		if p == dir {
			return nil
		}
		info, err := d.Info() // Lstat: a symlink is seen as itself
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walked
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", p, err)
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			return nil
		case info.IsDir():
			if err := checkOwner(p, info); err != nil {
				return err
			}
			if info.Mode().Perm() != privateDirMode {
				if err := os.Chmod(p, privateDirMode); err != nil {
					return fmt.Errorf("store: chmod 700 %s: %w", p, err)
				}
			}
		case info.Mode().IsRegular():
			if err := checkOwner(p, info); err != nil {
				return err
			}
			if info.Mode().Perm() != privateFileMode {
				if err := os.Chmod(p, privateFileMode); err != nil {
					return fmt.Errorf("store: chmod 600 %s: %w", p, err)
				}
			}
		}
		return nil
	})
}

// privateFS is the OS filesystem with every file Pebble creates made 0600
// and every directory 0700. Pebble's vfs.Default opens new files with mode
// 0666 (0644 after the usual umask) and has no option for it, so each call
// that may create a file chmods it right after; the file is new and empty
// then, and its directory is already 0700, so no other user can have
// opened it in between.
type privateFS struct{ vfs.FS }

func (p privateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.Create(name, c)
	return private(name, f, err)
}

func (p privateFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := p.FS.OpenReadWrite(name, c, opts...)
	return private(name, f, err)
}

func (p privateFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.ReuseForWrite(oldname, newname, c)
	return private(newname, f, err)
}

func (p privateFS) Lock(name string) (io.Closer, error) {
	l, err := p.FS.Lock(name)
	if err != nil {
		return l, err
	}
	if err := os.Chmod(name, privateFileMode); err != nil {
		l.Close()
		return nil, fmt.Errorf("store: chmod 600 %s: %w", name, err)
	}
	return l, nil
}

func (p privateFS) MkdirAll(dir string, _ os.FileMode) error {
	return p.FS.MkdirAll(dir, privateDirMode)
}

// Unwrap returns the OS filesystem, as vfs.Root expects of a wrapper.
func (p privateFS) Unwrap() vfs.FS { return p.FS }

func private(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return f, err
	}
	if err := os.Chmod(name, privateFileMode); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: chmod 600 %s: %w", name, err)
	}
	return f, nil
}
