package slowfs

import (
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// FS is a vfs.FS whose files sleep Delay before each Sync, SyncData and
// SyncTo (time.Sleep: at least Delay, more under load).
type FS struct {
	vfs.FS
	Delay time.Duration
}

type file struct {
	vfs.File
	delay time.Duration
}

func (f FS) wrap(fl vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return file{fl, f.Delay}, nil
}

// Create implements vfs.FS.
func (f FS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return f.wrap(f.FS.Create(name, c))
}

// OpenReadWrite implements vfs.FS.
func (f FS) OpenReadWrite(name string, c vfs.DiskWriteCategory, o ...vfs.OpenOption) (vfs.File, error) {
	return f.wrap(f.FS.OpenReadWrite(name, c, o...))
}

// ReuseForWrite implements vfs.FS.
func (f FS) ReuseForWrite(old, new string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return f.wrap(f.FS.ReuseForWrite(old, new, c))
}

// Sync implements vfs.File.
func (f file) Sync() error {
	time.Sleep(f.delay)
	return f.File.Sync()
}

// SyncData implements vfs.File.
func (f file) SyncData() error {
	time.Sleep(f.delay)
	return f.File.SyncData()
}

// SyncTo implements vfs.File.
func (f file) SyncTo(n int64) (bool, error) {
	time.Sleep(f.delay)
	return f.File.SyncTo(n)
}
