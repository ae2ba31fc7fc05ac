package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

var _ raft.StableStore = (*StableStore)(nil)

// StableStore is raft's stable store (current term, vote) on Pebble: key
// StablePrefix + key. All methods are safe for concurrent use.
type StableStore struct {
	db *pebble.DB
}

func stableKey(key []byte) []byte {
	k := make([]byte, 0, len(StablePrefix)+len(key))
	return append(append(k, StablePrefix...), key...)
}

// Set durably stores val under key (fsynced before return). The store
// copies both; the caller keeps ownership.
func (s *StableStore) Set(key, val []byte) error {
	if err := s.db.Set(stableKey(key), val, pebble.Sync); err != nil {
		return fmt.Errorf("store: stable set %q: %w", key, err)
	}
	return nil
}

// Get returns a copy of the value under key, owned by the caller, or
// ErrNotFound (text "not found", as raft expects) if there is none.
func (s *StableStore) Get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(stableKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: stable get %q: %w", key, err)
	}
	out := append([]byte(nil), v...)
	_ = closer.Close()
	return out, nil
}

// SetUint64 durably stores val under key as 8 big-endian bytes (fsynced
// before return).
func (s *StableStore) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 returns the value SetUint64 stored under key, or 0 and
// ErrNotFound (text "not found", as raft expects) if there is none.
func (s *StableStore) GetUint64(key []byte) (uint64, error) {
	v, closer, err := s.db.Get(stableKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: stable get %q: %w", key, err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: stable key %q holds %d bytes, want 8", ErrCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
