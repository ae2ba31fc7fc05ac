// Package replication is a region's raft group and everything that moves
// committed state around: the thin FSM that hands each committed entry to
// the domain's Applier on one Pebble batch (recording the applied index in
// the same batch, so a restart skips what the store already has), group
// commit of concurrent proposals into one raft entry, forwarding of writes
// from followers to the leader, read-index barriers for linearizable reads,
// snapshots that stream the state keyspace, membership changes, and the
// connection mux that lets raft and the internal HTTP endpoints share one
// internal address.
//
// It also keeps the region's change feed (feed.go: Change, AppendChange,
// ReadFeed, PruneFeed), the log that inter-tier replication ships. The link
// protocol itself (uplink, downlink, cursors, resyncs, retention) is the
// subpackage replication/link.
//
// It is not the domain: it never decodes a command, and neither it nor
// replication/link imports crm or api (a test checks). It does not decide
// who may write what (crm, by the rules in tiers), and it does not open the
// store (node does). Its node-to-node connections are mutual TLS
// (security.go: Security), and raft's snapshot files are kept private
// (snapfiles.go). See DESIGN.md for the reasoning and the invariants.
package replication
