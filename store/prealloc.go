package store

import (
	"github.com/cockroachdb/pebble/v2/vfs"
)

// maxPrealloc bounds one preallocation of a file Pebble writes.
//
// Pebble reserves a WAL's space in blocks of 110% of the memtable size
// (fallocate with KEEP_SIZE: the blocks are taken, the file's size is
// not), so with 128 MiB memtables every WAL holds 141 MiB of disk from its
// first byte. While memtables ramp up from 256 KiB, five to eight small
// ones are queued before the first flush, each with its own WAL: a fresh
// node of the demo took 705 MiB of disk for 30 MiB of writes, the nine
// nodes of `make demo` 6 GB. Capped, a WAL takes about what it holds.
//
// Pebble asks once per block, so a capped reservation covers the first
// MiB of each 141 MiB and the rest is allocated as it is written. The
// reservation bought nothing measurable here: the file's size grows with
// every append either way (KEEP_SIZE), and Pebble recycles old WAL files.
// node's BenchmarkPropose/clients=1, interleaved rounds of 3,000 synced
// creates on a 3-node region: 843 writes/s without the cap, 937 with it
// (medians of three), and 700 against 745 in three more on a busier
// machine.
const maxPrealloc = 1 << 20

// boundedFS is an FS whose files preallocate at most maxPrealloc bytes at
// a time.
type boundedFS struct{ vfs.FS }

func (b boundedFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return bounded(b.FS.Create(name, c))
}

func (b boundedFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return bounded(b.FS.OpenReadWrite(name, c, opts...))
}

func (b boundedFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return bounded(b.FS.ReuseForWrite(oldname, newname, c))
}

// Unwrap returns the wrapped filesystem, as vfs.Root expects of a wrapper.
func (b boundedFS) Unwrap() vfs.FS { return b.FS }

func bounded(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return f, err
	}
	return boundedFile{f}, nil
}

// boundedFile is a file whose Preallocate reserves at most maxPrealloc
// bytes; the rest of the block Pebble asked for is allocated as it is
// written.
type boundedFile struct{ vfs.File }

func (f boundedFile) Preallocate(offset, length int64) error {
	return f.File.Preallocate(offset, min(length, maxPrealloc))
}
