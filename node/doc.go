// Package node owns a gridcrm node's start-up and shutdown and wires its
// parts: the Pebble store, the region's raft group, the domain applier, the
// public HTTP API and the internal listener. It is the one place that knows
// all of them; each part sees the others only through the small interfaces
// it declares. Node does not parse flags or files: cmd/gridcrm does.
package node
