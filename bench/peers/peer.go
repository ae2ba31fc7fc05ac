package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Peer is one system under test: a 3-node cluster on loopback that this tool
// starts, measures and stops. Adding a peer means writing one of these (and
// its Conn) and registering it in peers below; the workloads, rounds, CPU
// accounting and report are shared.
type Peer interface {
	// Name is the peer's short name (the -peers flag, the JSON).
	Name() string
	// Label is its column heading, with its version ("etcd 3.7.3").
	Label() string
	// Start starts three nodes with their data under dir, fsync on as by
	// default, and returns once a leader serves writes.
	Start(ctx context.Context, dir string) error
	// PIDs are the server processes, for their CPU time.
	PIDs() []int
	// Dial opens one client (one connection) to the leader or to a follower.
	Dial(ctx context.Context, follower bool) (Conn, error)
	// BulkNote says what a bulk request is for this peer ("txn of 100 puts").
	BulkNote(rows int) string
	// Settings says how the nodes run, for the report.
	Settings() string
	// Stop stops the nodes (SIGTERM, then SIGKILL) and waits for them.
	Stop()
}

// Conn is one client of a peer. Each is used by one goroutine.
type Conn interface {
	// Put writes one row and returns once it is acknowledged (committed).
	Put(ctx context.Context, key string, row []byte) error
	// PutBatch writes rows in one request (etcd: one txn; gridcrm: one
	// import), all or nothing.
	PutBatch(ctx context.Context, keys []string, rows [][]byte) error
	Close() error
}

// PeerConfig is what a peer needs to start.
type PeerConfig struct {
	Bin     string // the server binary
	Version string // shown in the label when the binary cannot say
}

// peers are the peers this tool knows, by name. rqlite's server is built
// from the module proxy by the module in rqlited/ (pinned to v8.43.4, MIT,
// with the two replace lines of rqlite's own go.mod).
var peers = map[string]func(PeerConfig) Peer{
	"gridcrm": func(c PeerConfig) Peer { return newGridcrm(c) },
	"etcd":    func(c PeerConfig) Peer { return newEtcd(c) },
	"rqlite":  func(c PeerConfig) Peer { return newRqlite(c) },
}

func peerNames() string {
	var n []string
	for k := range peers {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

func newPeer(name string, c PeerConfig) (Peer, error) {
	mk, ok := peers[name]
	if !ok {
		return nil, fmt.Errorf("unknown peer %q (known: %s)", name, peerNames())
	}
	return mk(c), nil
}
