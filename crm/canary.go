package crm

import "gridcrm/store/keyspace"

// Canary is a region's heartbeat record, stored at CanaryKey(Region): its
// leader writes one every canary interval and it rolls up like data, so
// the age of the newest one a node holds for a region is how current that
// node's copy of the region is, even when the region is idle.
type Canary struct {
	Region string `json:"region"`
	At     int64  `json:"at"`               // Unix ms, stamped by the leader that proposed it
	Leader string `json:"leader,omitempty"` // that leader's node id (gridcrm status)
	Term   uint64 `json:"term,omitempty"`   // its raft term when it proposed
}

// CanaryPrefix is where heartbeats are stored, one per region.
const CanaryPrefix = keyspace.CanaryPrefix

// CanaryKey is where region's heartbeat is stored.
func CanaryKey(region string) string { return CanaryPrefix + region }
