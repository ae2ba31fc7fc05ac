package replication

import "errors"

var (
	// ErrNotLeader is returned by leader-only operations on a follower.
	ErrNotLeader = errors.New("replication: not the leader")
	// ErrNoLeader means the region has no leader it can reach right now;
	// the client may retry.
	ErrNoLeader = errors.New("replication: no leader (election in progress or quorum lost)")
	// ErrTimeout means an operation did not finish within its deadline; a
	// write's outcome is then unknown.
	ErrTimeout = errors.New("replication: timed out")
	// ErrPartialState means a snapshot restore was interrupted and no local
	// snapshot can repair it.
	ErrPartialState = errors.New("replication: the state keyspace is partial (an interrupted restore); remove the data directory and join the region again")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("replication: closed")
)
