package store

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
	raftbench "github.com/hashicorp/raft/bench"
)

// benchStore is what hashicorp/raft's store benchmarks need.
type benchStore interface {
	raft.LogStore
	raft.StableStore
}

// pebbleBench joins LogStore and StableStore for raftbench.
type pebbleBench struct {
	*LogStore
	*StableStore
}

// BenchmarkStore runs hashicorp/raft's store benchmarks on this store and
// on raft-boltdb, each on a fresh directory, for benchstat comparison:
// BenchmarkStore/pebble/StoreLogs against BenchmarkStore/boltdb/StoreLogs.
func BenchmarkStore(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) benchStore
	}{
		{"pebble", func(b *testing.B) benchStore {
			s := openTest(b, Config{Dir: b.TempDir()})
			b.Cleanup(func() { _ = s.Close() })
			return pebbleBench{s.LogStore(), s.StableStore()}
		}},
		{"boltdb", func(b *testing.B) benchStore {
			s, err := raftboltdb.NewBoltStore(filepath.Join(b.TempDir(), "raft.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
	}
	cases := []struct {
		name string
		run  func(*testing.B, benchStore)
	}{
		{"FirstIndex", func(b *testing.B, s benchStore) { raftbench.FirstIndex(b, s) }},
		{"LastIndex", func(b *testing.B, s benchStore) { raftbench.LastIndex(b, s) }},
		{"GetLog", func(b *testing.B, s benchStore) { raftbench.GetLog(b, s) }},
		{"StoreLog", func(b *testing.B, s benchStore) { raftbench.StoreLog(b, s) }},
		{"StoreLogs", func(b *testing.B, s benchStore) { raftbench.StoreLogs(b, s) }},
		{"DeleteRange", func(b *testing.B, s benchStore) { raftbench.DeleteRange(b, s) }},
		{"Set", func(b *testing.B, s benchStore) { raftbench.Set(b, s) }},
		{"Get", func(b *testing.B, s benchStore) { raftbench.Get(b, s) }},
		{"SetUint64", func(b *testing.B, s benchStore) { raftbench.SetUint64(b, s) }},
		{"GetUint64", func(b *testing.B, s benchStore) { raftbench.GetUint64(b, s) }},
	}
	// Named op=X/store=Y so that `benchstat -col /store` puts Pebble and
	// boltdb side by side with their ratio.
	for _, c := range cases {
		b.Run("op="+c.name, func(b *testing.B) {
			for _, be := range backends {
				b.Run("store="+be.name, func(b *testing.B) {
					b.ReportAllocs()
					c.run(b, be.open(b))
				})
			}
		})
	}
}
