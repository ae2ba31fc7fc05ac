package replication

import "errors"

// A write that fails answers one of two kinds of error, and callers must be
// able to tell them apart (DESIGN.md, "Truthful outcomes"):
//
//   - not applied: ErrNotLeader, ErrNoLeader, ErrClosed, ErrTimeout. The
//     write never reached a raft log that could commit it; retrying it is
//     safe.
//   - outcome unknown: ErrUnknownOutcome. The write was handed to raft (or
//     to the leader) and no answer came back (leadership lost mid-commit,
//     the node shut down, the leader stopped answering): it may or may not
//     be applied. A retry must first read whether it was.
//
// Reads only ever answer the first kind.
var (
	// ErrNotLeader is returned by leader-only operations on a follower.
	ErrNotLeader = errors.New("replication: not the leader")
	// ErrNoLeader means the region has no leader it can reach right now;
	// the client may retry.
	ErrNoLeader = errors.New("replication: no leader (election in progress or quorum lost)")
	// ErrTimeout means an operation did not finish within its deadline
	// before anything was sent for it: a write answered ErrTimeout was not
	// applied.
	ErrTimeout = errors.New("replication: timed out")
	// ErrUnknownOutcome means a write was sent for commit and its outcome
	// could not be learned: it may or may not have been applied.
	ErrUnknownOutcome = errors.New("replication: outcome unknown: the write may or may not have been applied")
	// ErrPartialState means a snapshot restore was interrupted and no local
	// snapshot can repair it.
	ErrPartialState = errors.New("replication: the state keyspace is partial (an interrupted restore); remove the data directory and join the region again")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("replication: closed")
	// ErrPeerUnreachable means a node asked to join the region did not
	// answer at its address: nothing was changed.
	ErrPeerUnreachable = errors.New("replication: the joining node does not answer at its address")
)

// NotApplied reports whether err says that a write certainly was not
// applied (so that retrying it is safe). It answers false for nil, for
// ErrUnknownOutcome and for errors this package does not classify.
func NotApplied(err error) bool {
	if err == nil || errors.Is(err, ErrUnknownOutcome) {
		return false
	}
	return errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) ||
		errors.Is(err, ErrTimeout) || errors.Is(err, ErrClosed)
}
