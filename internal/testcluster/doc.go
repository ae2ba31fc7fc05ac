// Package testcluster builds in-process gridcrm regions for tests: real
// nodes (Pebble in t.TempDir(), raft over loopback TCP, the real HTTP API on
// port 0), with helpers to find the leader, kill and restart nodes, add
// nodes, and talk to the API as a logged-in user. Waiting is done by
// polling with a deadline, never by sleeping for a guess.
package testcluster
