// Package node owns a gridcrm node's start-up and shutdown and wires its
// parts: the Pebble store, the region's raft group, the applier (which
// dispatches each committed entry: domain commands and heartbeats to crm,
// link entries to replication/link), the links to the parent and children
// (replication/link, given crm as its Domain through linkDomain, the HTTP
// client to the parent's nodes and the hook that authenticates children),
// the public HTTP API and the internal listener. It is the one place that
// knows all of them; each part sees the others only through the small
// interfaces it declares. Node does not parse flags or files: cmd/gridcrm
// does.
package node
