package store

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Keyspace prefixes. Every key in the database starts with one of them.
var (
	// LogPrefix starts every raft log key: LogPrefix + 8-byte big-endian index.
	LogPrefix = []byte{'l'}
	// LogUpper is the exclusive upper bound of the raft log keyspace.
	LogUpper = []byte{'l' + 1}
	// StatePrefix starts every key of the state machine keyspace, which other
	// packages own. Iterate or DeleteRange [StatePrefix, StateUpper) to cover
	// all of it.
	StatePrefix = []byte{'s'}
	// StateUpper is the exclusive upper bound of the state machine keyspace.
	StateUpper = []byte{'t'}
	// StablePrefix starts every raft stable store key: StablePrefix + key.
	StablePrefix = []byte{'t'}
)

// Errors returned by this package.
var (
	// ErrNotFound is returned by StableStore.Get and GetUint64 for a missing
	// key. Its text is exactly "not found", without the package prefix,
	// because hashicorp/raft compares the error text.
	ErrNotFound = errors.New("not found")
	// ErrInvalidConfig is wrapped by Config.Validate and Open for a bad Config.
	ErrInvalidConfig = errors.New("store: invalid config")
	// ErrCorrupt is wrapped when a stored log entry or stable value cannot be
	// decoded: the database holds bytes this package did not write.
	ErrCorrupt = errors.New("store: corrupt value")
	// ErrClosed is returned by a LogStore.Sync that needs an fsync after
	// the store began to close.
	ErrClosed = errors.New("store: closed")
	// ErrUnsafeDir is wrapped by Open and SecureDir when the data directory,
	// or something in it, is owned by another user (or is not a directory).
	ErrUnsafeDir = errors.New("store: unsafe data directory")
)

const (
	defaultCacheSize = 512 << 20
	// defaultMemTableSize is 128 MiB, not 32: a customer's ~55 search
	// grams land all over the keyspace, so every flush overlaps most of
	// Lbase and each L0 -> Lbase compaction rewrites it; a memtable four
	// times larger flushes a quarter as often and each compaction merges
	// more into the same rewrite. BenchmarkApplyUplink and
	// BenchmarkApplyFill (node/): 23% and 25% less CPU per change, the
	// table bytes written 905 MB instead of 1.3 GB for 160,000 creates
	// (README, Performance). The cost is memory: up to about two
	// memtables (256 MiB) per store under sustained writes, and a longer
	// WAL to replay at Open.
	defaultMemTableSize = 128 << 20
	// maxMemTableSize is Pebble's limit (4 GiB - 1).
	maxMemTableSize = 4<<30 - 1
)

// Config configures Open. The zero value of a field selects its default.
type Config struct {
	// Dir is the directory Pebble keeps its files in; it is created if
	// missing. Required unless FS is set (then it defaults to the FS root).
	Dir string
	// CacheSize is the block cache size in bytes. Default 512 MiB.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes. Default 128 MiB;
	// at most 4 GiB - 1. Pebble grows its memtables from 256 KiB to this
	// size and queues up to two before it stalls writes.
	MemTableSize uint64
	// FS is the filesystem Pebble uses. Default nil: the OS filesystem, with
	// Dir made private at Open (SecureDir: 0700, files 0600, another
	// user's directory refused) and every file Pebble creates made 0600.
	// Tests pass vfs.NewMem(), or vfs.NewCrashableMem() and its CrashClone
	// to simulate a crash; a given FS is used as it is.
	FS vfs.FS
	// Logger receives Pebble's log lines. Default: a quiet logger that drops
	// informational lines and prints errors with the standard log package.
	Logger pebble.Logger
}

// DefaultConfig returns a Config with every default filled in except Dir,
// which the caller must set.
func DefaultConfig() Config {
	return Config{
		CacheSize:    defaultCacheSize,
		MemTableSize: defaultMemTableSize,
	}
}

// Validate reports whether c can be opened. It wraps ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.Dir == "" && c.FS == nil:
		return fmt.Errorf("%w: Dir is required (or set FS)", ErrInvalidConfig)
	case c.CacheSize < 0:
		return fmt.Errorf("%w: CacheSize %d is negative", ErrInvalidConfig, c.CacheSize)
	case c.MemTableSize > maxMemTableSize:
		return fmt.Errorf("%w: MemTableSize %d exceeds %d", ErrInvalidConfig, c.MemTableSize, uint64(maxMemTableSize))
	}
	return nil
}

// Store is a node's Pebble database. Its methods are safe for concurrent use.
type Store struct {
	db     *pebble.DB
	log    LogStore
	stable StableStore
	closed atomic.Bool
}

// Open opens (creating if needed) the database described by cfg and loads
// the raft log's first and last index. On the OS filesystem (cfg.FS nil) it
// first makes cfg.Dir private (SecureDir), Pebble's files are created
// 0600, and they reserve disk 1 MiB at a time at most (maxPrealloc).
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FS == nil {
		if err := SecureDir(cfg.Dir); err != nil {
			return nil, err
		}
		cfg.FS = boundedFS{privateFS{vfs.Default}}
	}
	db, err := pebble.Open(cfg.Dir, pebbleOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", cfg.Dir, err)
	}
	s := &Store{db: db}
	s.log.db = db
	s.stable.db = db
	if err := s.log.loadBounds(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// pebbleOptions tunes Pebble for this workload: small synced appends at the
// tail of the log, bulk deletes at its head, and point reads of state
// machine records.
func pebbleOptions(cfg Config) *pebble.Options {
	if cfg.CacheSize == 0 {
		cfg.CacheSize = defaultCacheSize
	}
	if cfg.MemTableSize == 0 {
		cfg.MemTableSize = defaultMemTableSize
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger{}
	}
	opts := &pebble.Options{
		CacheSize:          cfg.CacheSize,
		MemTableSize:       cfg.MemTableSize,
		FS:                 cfg.FS,
		Logger:             cfg.Logger,
		FormatMajorVersion: pebble.FormatNewest,
		// Two background compactions at most: this is a small machine,
		// and raft log deletes make compactions frequent.
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
	}
	// Bloom filters pay off for point reads of state machine records in
	// older levels; raft log reads hit the memtable or recent L0 tables.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return opts
}

// Close closes the database. It waits for nothing but Pebble's own
// shutdown; the caller must stop every user (raft first) before. A second
// Close returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.log.stopSync()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// DB returns the Pebble database, for packages that own the state machine
// keyspace [StatePrefix, StateUpper). They must not write outside it.
// Safe for concurrent use; valid until Close.
func (s *Store) DB() *pebble.DB { return s.db }

// Sync makes every write committed so far durable, whatever durability it
// was committed with. Safe for concurrent use.
func (s *Store) Sync() error {
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}

// Metrics returns a fresh copy of Pebble's metrics; the caller owns it.
// Safe for concurrent use.
func (s *Store) Metrics() *pebble.Metrics { return s.db.Metrics() }

// DiskUsage returns the bytes the database occupies on its filesystem,
// live and obsolete files included. Safe for concurrent use.
func (s *Store) DiskUsage() uint64 { return s.db.Metrics().DiskSpaceUsage() }

// LogStore returns the raft log store. Same value on every call.
func (s *Store) LogStore() *LogStore { return &s.log }

// StableStore returns the raft stable store. Same value on every call.
func (s *Store) StableStore() *StableStore { return &s.stable }

// quietLogger drops Pebble's informational lines (start-up, flushes,
// compactions) and keeps errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}

func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf("store: pebble: "+format, args...)
}

func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf("store: pebble: "+format, args...)
}
