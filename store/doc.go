// Package store owns a node's single Pebble database and lays out its
// keyspace: the raft log, raft's stable store, and the state machine's
// keyspace share one database, one WAL and one block cache.
//
// The keyspace is split by a one-byte prefix:
//
//	'l' + 8-byte big-endian index   raft log entries (LogStore)
//	's' ...                         state machine keyspace (records, indexes,
//	                                change feed), written by other packages
//	                                through DB(); bounded by StatePrefix and
//	                                StateUpper
//	't' + key                       raft stable store values (StableStore)
//
// Inside 's', the state machine's keys are laid out by package
// gridcrm/store/keyspace, the one map of every prefix (records, indexes,
// aggregates, feed, metadata), who writes it and whether it crosses a link.
// It is a separate package so that crm, which must not import Pebble, can
// use it.
//
// LogStore and StableStore implement hashicorp/raft's LogStore and
// StableStore. Every write raft sees acknowledged has been fsynced, except
// log appends after DeferSync: those return once in the WAL, a background
// fsync follows at once, and whoever relies on them being durable calls
// Sync first (replication's transport and state machine do); DurableIndex
// names the highest index an fsync has covered. The log
// uses a compact hand-written encoding of raft.Log, and caches its first and
// last index in memory, so FirstIndex and LastIndex never touch Pebble.
//
// Secrets at rest: on the OS filesystem the data directory ends mode 0700
// and every file in it 0600, whatever existed before (Open tightens what it
// finds, and Pebble's WAL, tables, manifest and options files are created
// 0600 through a wrapper around vfs.Default); a directory or file owned by
// another user is refused, naming it. The data is not encrypted: anyone
// with this user's or root's rights, or the disk, reads it.
//
// What store is not: it knows nothing about records, commands, snapshots or
// the FSM. It does not encode state machine keys, does not replicate, and
// does not decide when the log is compacted (raft does). Writers of the 's'
// keyspace choose their own durability: store only guarantees that what it
// wrote itself with pebble.Sync, and what preceded a Sync call, survives a
// crash. Store is one Pebble instance per node; it does not shard, and it
// does not guard against use after Close.
package store
