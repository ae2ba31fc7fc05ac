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
// It is not the domain: it never decodes a command. It does not decide who
// may write what (api, tiers), and it does not open the store (node does).
// Inter-tier replication (change feed, uplink, downlink) will live here too;
// see DESIGN.md for the reasoning and the invariants.
package replication
