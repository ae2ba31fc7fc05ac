package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

var _ raft.LogStore = (*LogStore)(nil)

// pointDeleteMax is the widest span DeleteRange clears with point deletes;
// wider spans get one range tombstone. Point deletes keep small follower
// truncations from piling range tombstones into the memtable.
const pointDeleteMax = 64

// LogStore is raft's log on Pebble: key LogPrefix + big-endian index, value
// the entry in this package's encoding. It tolerates gaps. All methods are
// safe for concurrent use; writes are serialized.
type LogStore struct {
	db *pebble.DB

	// mu serializes writers so that the bounds below always describe the
	// keys in Pebble once a write returns. Readers do not take it.
	mu sync.Mutex
	// nonEmpty is true when the log holds at least one entry. Guarded by mu.
	nonEmpty bool
	// first and last are the smallest and largest stored index, 0 when the
	// log is empty. Written under mu, read lock-free.
	first, last atomic.Uint64

	// deferred is set by DeferSync: appends are committed without fsync,
	// and durability is tracked below.
	deferred atomic.Bool
	ds       durability
}

// durability tracks, in DeferSync mode, which appends an fsync has
// covered: written counts the appends committed, synced those known
// durable, durable is the highest log index known durable (every entry at
// or below it that the log holds has been fsynced), gen counts the
// truncations of the log's tail (which may lower it). syncing lets one
// fsync run at a time; the others wait for it and are usually covered by
// it (group commit). kick wakes the background syncer, stop ends it.
type durability struct {
	mu                   sync.Mutex
	written, synced, gen uint64
	durable              uint64
	syncing              sync.Mutex
	closed               bool          // guarded by syncing: the store is closing
	fsyncs, fsyncNanos   atomic.Uint64 // Sync's fsyncs and the time they took
	kick                 chan struct{}
	stop, stopped        chan struct{}
}

// logKey returns the key of the log entry at index.
func logKey(index uint64) [9]byte {
	var k [9]byte
	k[0] = LogPrefix[0]
	binary.BigEndian.PutUint64(k[1:], index)
	return k
}

// logKeyAfter returns the exclusive upper bound of a range ending at index.
func logKeyAfter(index uint64) []byte {
	if index == math.MaxUint64 {
		return LogUpper
	}
	k := logKey(index + 1)
	return k[:]
}

// loadBounds reads the first and last index from Pebble (at Open).
func (s *LogStore) loadBounds() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	first, ok, err := s.seek(LogPrefix, LogUpper, true)
	if err != nil || !ok {
		return err
	}
	last, _, err := s.seek(LogPrefix, LogUpper, false)
	if err != nil {
		return err
	}
	s.nonEmpty = true
	s.first.Store(first)
	s.last.Store(last)
	return nil
}

// seek returns the smallest (lowest) or largest index with a key in [lo, hi).
func (s *LogStore) seek(lo, hi []byte, lowest bool) (uint64, bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, false, fmt.Errorf("store: log iterator: %w", err)
	}
	var ok bool
	if lowest {
		ok = it.First()
	} else {
		ok = it.Last()
	}
	var index uint64
	if ok {
		k := it.Key()
		if len(k) != 9 {
			_ = it.Close()
			return 0, false, fmt.Errorf("%w: log key %x", ErrCorrupt, k)
		}
		index = binary.BigEndian.Uint64(k[1:])
	}
	if err := it.Close(); err != nil {
		return 0, false, fmt.Errorf("store: log iterator: %w", err)
	}
	return index, ok, nil
}

// FirstIndex returns the smallest stored index, 0 if the log is empty.
// It reads an in-memory copy and never fails.
func (s *LogStore) FirstIndex() (uint64, error) { return s.first.Load(), nil }

// LastIndex returns the largest stored index, 0 if the log is empty.
// It reads an in-memory copy and never fails.
func (s *LogStore) LastIndex() (uint64, error) { return s.last.Load(), nil }

// GetLog decodes the entry at index into log, overwriting every field. It
// returns raft.ErrLogNotFound if there is none. log's Data and Extensions
// are freshly allocated and owned by the caller (nil when empty).
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	k := logKey(index)
	v, closer, err := s.db.Get(k[:])
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("store: get log %d: %w", index, err)
	}
	err = decodeLog(v, log)
	_ = closer.Close()
	if err != nil {
		return fmt.Errorf("%w: log %d: %v", ErrCorrupt, index, err)
	}
	log.Index = index
	return nil
}

// StoreLog durably stores one entry (fsynced before return). The store
// copies log's bytes; the caller keeps ownership.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs durably stores entries in one atomic batch with one fsync
// (after DeferSync: without, see there), overwriting entries at the same
// index. Entries need not be contiguous.
// The store copies their bytes; the caller keeps ownership.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, l := range logs {
		op := b.SetDeferred(9, encodedLen(l))
		k := logKey(l.Index)
		copy(op.Key, k[:])
		encodeLog(op.Value, l)
		if err := op.Finish(); err != nil {
			return fmt.Errorf("store: store log %d: %w", l.Index, err)
		}
		lo, hi = min(lo, l.Index), max(hi, l.Index)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	deferred := s.deferred.Load()
	overwrite := s.nonEmpty && lo <= s.last.Load() // entries at these indexes may exist already
	opts := pebble.Sync
	if deferred {
		opts = pebble.NoSync
	}
	if err := b.Commit(opts); err != nil {
		return fmt.Errorf("store: store logs %d-%d: %w", lo, hi, err)
	}
	if !s.nonEmpty || lo < s.first.Load() {
		s.first.Store(lo)
	}
	if !s.nonEmpty || hi > s.last.Load() {
		s.last.Store(hi)
	}
	s.nonEmpty = true
	if deferred {
		s.ds.mu.Lock()
		s.ds.written++
		if overwrite || lo <= s.ds.durable { // old entries here, or a durable index above a gap: not these
			s.ds.gen++
			s.ds.durable = min(s.ds.durable, lo-1)
		}
		s.ds.mu.Unlock()
		select { // start the fsync now, while the entries travel to the followers
		case s.ds.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// DeferSync switches appends (StoreLogs) to commit without fsync and
// starts a background fsync after each: an append returns once it is in
// Pebble's WAL, its fsync runs while raft sends the entries to the
// followers (raft thesis §10.2.1, as etcd's raft does). Whoever relies on
// the entries being durable must call Sync first: the replication
// package's transport before it answers an append, its state machine
// before it applies an entry, and a leader's commit index is told to the
// followers only up to DurableIndex. Call before the log is used; not
// undone. Truncations (DeleteRange) stay synced.
func (s *LogStore) DeferSync() {
	s.mu.Lock() // no append runs while the mode changes
	defer s.mu.Unlock()
	if s.deferred.Load() {
		return
	}
	s.ds.mu.Lock()
	s.ds.durable = s.last.Load() // everything stored so far was synced
	s.ds.mu.Unlock()
	s.ds.kick = make(chan struct{}, 1)
	s.ds.stop, s.ds.stopped = make(chan struct{}), make(chan struct{})
	s.deferred.Store(true)
	go s.syncLoop()
}

// syncLoop fsyncs after appends until stopSync.
func (s *LogStore) syncLoop() {
	defer close(s.ds.stopped)
	for {
		select {
		case <-s.ds.kick:
			_ = s.Sync() // an error: whoever needs the entries durable calls Sync and gets it
		case <-s.ds.stop:
			return
		}
	}
}

// stopSync ends the background syncer (at Close, before the database),
// and makes every later Sync that would need an fsync fail with
// ErrClosed instead of reaching a closed database.
func (s *LogStore) stopSync() {
	if s.deferred.Load() {
		close(s.ds.stop)
		<-s.ds.stopped
		s.ds.syncing.Lock()
		s.ds.closed = true
		s.ds.syncing.Unlock()
	}
}

// Sync returns once every append committed before the call is durable,
// fsyncing if none already covers them; a no-op unless DeferSync was
// called. Safe for concurrent use: concurrent calls share fsyncs.
func (s *LogStore) Sync() error {
	if !s.deferred.Load() {
		return nil
	}
	s.ds.mu.Lock()
	target, done := s.ds.written, s.ds.synced >= s.ds.written
	s.ds.mu.Unlock()
	if done {
		return nil
	}
	s.ds.syncing.Lock()
	defer s.ds.syncing.Unlock()
	if s.ds.closed {
		return ErrClosed
	}
	s.ds.mu.Lock()
	if s.ds.synced >= target {
		s.ds.mu.Unlock()
		return nil
	}
	// Every append counted in written, and every index at or below last,
	// was committed to the WAL before these were read, so the fsync below
	// covers them.
	written, last, gen := s.ds.written, s.last.Load(), s.ds.gen
	s.ds.mu.Unlock()
	t0 := time.Now()
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("store: sync log: %w", err)
	}
	s.ds.fsyncNanos.Add(uint64(time.Since(t0)))
	s.ds.fsyncs.Add(1)
	s.ds.mu.Lock()
	if s.ds.gen == gen { // no truncation since: last still names what was covered
		s.ds.synced = max(s.ds.synced, written)
		s.ds.durable = max(s.ds.durable, last)
	}
	s.ds.mu.Unlock()
	return nil
}

// SyncStats answers, after DeferSync, how many fsyncs Sync made and the
// time they took in all, and how many stored entries are above the
// durable index (appended, not yet known fsynced). Zero before DeferSync.
func (s *LogStore) SyncStats() (fsyncs uint64, took time.Duration, unsynced uint64) {
	if !s.deferred.Load() {
		return 0, 0, 0
	}
	last, durable := s.last.Load(), s.DurableIndex()
	return s.ds.fsyncs.Load(), time.Duration(s.ds.fsyncNanos.Load()), last - min(last, durable)
}

// DurableIndex is the highest log index known durable: every entry the
// log holds at or below it has been fsynced. Without DeferSync, every
// stored entry is (LastIndex).
func (s *LogStore) DurableIndex() uint64 {
	if !s.deferred.Load() {
		return s.last.Load()
	}
	s.ds.mu.Lock()
	defer s.ds.mu.Unlock()
	return s.ds.durable
}

// DeleteRange durably deletes the entries with index in [lo, hi], inclusive
// (fsynced before return). Indexes without an entry, gaps and indexes
// beyond either end are fine. lo > hi deletes nothing.
func (s *LogStore) DeleteRange(lo, hi uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	first, last := s.first.Load(), s.last.Load()
	if !s.nonEmpty || lo > hi || hi < first || lo > last {
		return nil
	}
	lo, hi = max(lo, first), min(hi, last)

	b := s.db.NewBatch()
	defer b.Close()
	if hi-lo < pointDeleteMax {
		for i := lo; ; i++ {
			k := logKey(i)
			if err := b.Delete(k[:], nil); err != nil {
				return fmt.Errorf("store: delete log %d: %w", i, err)
			}
			if i == hi {
				break
			}
		}
	} else {
		k := logKey(lo)
		if err := b.DeleteRange(k[:], logKeyAfter(hi), nil); err != nil {
			return fmt.Errorf("store: delete logs %d-%d: %w", lo, hi, err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: delete logs %d-%d: %w", lo, hi, err)
	}

	switch {
	case lo == first && hi == last:
		s.nonEmpty = false
		s.first.Store(0)
		s.last.Store(0)
	case lo == first: // hi < last, so an entry remains above hi.
		next, ok, err := s.seek(logKeyAfter(hi), LogUpper, true)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: log bound %d lost", ErrCorrupt, last)
		}
		s.first.Store(next)
	case hi == last: // lo > first, so an entry remains below lo.
		k := logKey(lo)
		prev, ok, err := s.seek(LogPrefix, k[:], false)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: log bound %d lost", ErrCorrupt, first)
		}
		s.last.Store(prev)
	}
	if hi == last && s.deferred.Load() { // the tail went: an index known durable may be written again
		s.ds.mu.Lock()
		s.ds.gen++
		s.ds.durable = min(s.ds.durable, lo-1)
		s.ds.mu.Unlock()
	}
	return nil
}

// Log entry encoding, version 1:
//
//	byte     version (1)
//	uvarint  Term
//	byte     Type
//	byte     flags: bit 0 set if AppendedAt is not the zero time
//	varint   AppendedAt Unix seconds     (if flag bit 0)
//	uvarint  AppendedAt nanoseconds      (if flag bit 0)
//	uvarint  len(Extensions), Extensions
//	         Data (the rest)
//
// The index lives in the key only. AppendedAt comes back in the local time
// zone, without a monotonic reading (compare with Equal).
const (
	encodingV1       = 1
	flagAppendedAt   = 1
	maxLogHeaderSize = 1 + binary.MaxVarintLen64 + 2 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64
)

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

// encodedLen returns the exact length encodeLog writes for l.
func encodedLen(l *raft.Log) int {
	n := 1 + uvarintLen(l.Term) + 1 + 1
	if !l.AppendedAt.IsZero() {
		n += varintLen(l.AppendedAt.Unix()) + uvarintLen(uint64(l.AppendedAt.Nanosecond()))
	}
	return n + uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions) + len(l.Data)
}

// encodeLog writes l into dst, which must be exactly encodedLen(l) long.
func encodeLog(dst []byte, l *raft.Log) {
	dst[0] = encodingV1
	n := 1
	n += binary.PutUvarint(dst[n:], l.Term)
	dst[n] = byte(l.Type)
	n++
	if l.AppendedAt.IsZero() {
		dst[n] = 0
		n++
	} else {
		dst[n] = flagAppendedAt
		n++
		n += binary.PutVarint(dst[n:], l.AppendedAt.Unix())
		n += binary.PutUvarint(dst[n:], uint64(l.AppendedAt.Nanosecond()))
	}
	n += binary.PutUvarint(dst[n:], uint64(len(l.Extensions)))
	n += copy(dst[n:], l.Extensions)
	copy(dst[n:], l.Data)
}

var errShort = errors.New("truncated")

// decodeLog decodes src into l (all fields but Index), copying every byte
// out of src: src belongs to Pebble.
func decodeLog(src []byte, l *raft.Log) error {
	if len(src) < 1 || src[0] != encodingV1 {
		return errors.New("unknown encoding version")
	}
	n := 1
	term, m := binary.Uvarint(src[n:])
	if m <= 0 {
		return errShort
	}
	n += m
	if len(src) < n+2 {
		return errShort
	}
	typ, flags := src[n], src[n+1]
	n += 2
	var at time.Time
	if flags&flagAppendedAt != 0 {
		sec, m := binary.Varint(src[n:])
		if m <= 0 {
			return errShort
		}
		n += m
		nsec, m := binary.Uvarint(src[n:])
		if m <= 0 || nsec >= 1e9 {
			return errShort
		}
		n += m
		at = time.Unix(sec, int64(nsec))
	}
	extLen, m := binary.Uvarint(src[n:])
	if m <= 0 || extLen > uint64(len(src)-n-m) {
		return errShort
	}
	n += m
	ext := src[n : n+int(extLen)]
	data := src[n+int(extLen):]

	// One allocation for both slices; full slice expressions keep an append
	// to Data from overwriting Extensions.
	var buf []byte
	if k := len(ext) + len(data); k > 0 {
		buf = make([]byte, k)
	}
	*l = raft.Log{Term: term, Type: raft.LogType(typ), AppendedAt: at}
	if len(data) > 0 {
		l.Data = buf[:len(data):len(data)]
		copy(l.Data, data)
	}
	if len(ext) > 0 {
		l.Extensions = buf[len(data):]
		copy(l.Extensions, ext)
	}
	return nil
}
