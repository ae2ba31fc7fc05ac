package api

import (
	"context"
	"sync"
	"time"
)

// LoginPolicy is how logins are slowed down and locked. Zero fields take
// the defaults.
//
// A user's failed logins are counted in the replicated state (crm's
// LoginState), so the delays and the lock hold on every node of the region
// alike and an admin's unlock lifts them everywhere. Failures per source
// address are counted by each node in memory (they are not worth a raft
// write, and an attacker spreading over a region's nodes gets at most the
// region's node count times as many); they are forgotten after LockFor
// without a failure, or when the node restarts.
type LoginPolicy struct {
	// UserFreeFailures are the failed logins of a user before each further
	// attempt waits: Delay after the last failure, doubling with every
	// failure up to MaxDelay. Default 3.
	UserFreeFailures int
	// LockAfter failed logins lock the user for LockFor (429
	// account_locked) until it runs out or an admin lifts it. Default 10.
	LockAfter int
	// LockFor is how long a lock lasts, and how long failures are
	// remembered without a new one. Default 15 minutes.
	LockFor time.Duration
	// AddrFreeFailures are the failed logins from one source address on
	// this node (any usernames) before its attempts wait, as above.
	// Default 20.
	AddrFreeFailures int
	// Delay is the first wait; MaxDelay caps it. Defaults 1 s and 1 minute.
	Delay, MaxDelay time.Duration
	// MaxSessions is how many sessions a user keeps; a login beyond it
	// ends the oldest. Default 32.
	MaxSessions int
}

func (p LoginPolicy) withDefaults() LoginPolicy {
	if p.UserFreeFailures <= 0 {
		p.UserFreeFailures = 3
	}
	if p.LockAfter <= 0 {
		p.LockAfter = 10
	}
	if p.LockFor <= 0 {
		p.LockFor = 15 * time.Minute
	}
	if p.AddrFreeFailures <= 0 {
		p.AddrFreeFailures = 20
	}
	if p.Delay <= 0 {
		p.Delay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = max(time.Minute, p.Delay)
	}
	if p.MaxSessions <= 0 {
		p.MaxSessions = 32
	}
	return p
}

// wait answers how long after last the next attempt may come, for
// failures counted against free.
func (p LoginPolicy) wait(failures, free int, last, now time.Time) time.Duration {
	if failures < free || last.IsZero() {
		return 0
	}
	d := p.Delay
	for k := free; k < failures && d < p.MaxDelay; k++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return last.Add(d).Sub(now)
}

// Login outcomes: the log's "outcome" and gridcrm_logins_total{outcome}.
const (
	loginSuccess     = "success"
	loginBadPassword = "bad_password"
	loginUnknownUser = "unknown_user"
	loginDisabled    = "disabled"
	loginLocked      = "locked"    // the user is locked (replicated)
	loginThrottled   = "throttled" // too soon after failures: of the user, of the address, or too many at once
)

var loginOutcomes = []string{loginSuccess, loginBadPassword, loginUnknownUser, loginDisabled, loginLocked, loginThrottled}

// maxAddrs bounds the per-address failure table; beyond it, addresses
// without a recent failure are dropped first.
const maxAddrs = 1 << 16

// maxWaiting is how many logins of one username may wait here for the one
// being checked; more answer 429 at once.
const maxWaiting = 8

// throttle is a node's in-memory login state: failures per source address,
// and one login checked at a time per username (so that parallel guesses
// each see the failures before them).
type throttle struct {
	mu    sync.Mutex
	addrs map[string]*addrFailures // guarded by mu
	names map[string]*nameTurn     // guarded by mu
}

type addrFailures struct {
	n    int
	last time.Time
}

type nameTurn struct {
	turn    chan struct{} // holds a token while a login of the name is checked
	waiting int           // guarded by throttle.mu
}

func newThrottle() *throttle {
	return &throttle{addrs: map[string]*addrFailures{}, names: map[string]*nameTurn{}}
}

// addrWait answers how long addr must wait before its next attempt.
func (t *throttle) addrWait(p LoginPolicy, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[addr]
	if f == nil {
		return 0
	}
	if now.Sub(f.last) >= p.LockFor {
		delete(t.addrs, addr)
		return 0
	}
	return p.wait(f.n, p.AddrFreeFailures, f.last, now)
}

// addrFailed counts a failed login from addr.
func (t *throttle) addrFailed(p LoginPolicy, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[addr]
	if f == nil || now.Sub(f.last) >= p.LockFor {
		if len(t.addrs) >= maxAddrs {
			for a, g := range t.addrs {
				if now.Sub(g.last) >= p.LockFor || g.n < p.AddrFreeFailures {
					delete(t.addrs, a)
				}
			}
			if len(t.addrs) >= maxAddrs {
				return // a flood of addresses, each under the limit: the user counts still hold
			}
		}
		f = &addrFailures{}
		t.addrs[addr] = f
	}
	f.n++
	f.last = now
}

// take waits for the turn to check a login of name, and answers the
// function that gives it back; false when too many wait already or ctx
// ends first.
func (t *throttle) take(ctx context.Context, name string) (func(), bool) {
	t.mu.Lock()
	n := t.names[name]
	if n == nil {
		n = &nameTurn{turn: make(chan struct{}, 1)}
		t.names[name] = n
	}
	if n.waiting >= maxWaiting {
		t.mu.Unlock()
		return nil, false
	}
	n.waiting++
	t.mu.Unlock()
	done := func() {
		t.mu.Lock()
		if n.waiting--; n.waiting == 0 {
			delete(t.names, name)
		}
		t.mu.Unlock()
	}
	select {
	case n.turn <- struct{}{}:
		return func() { <-n.turn; done() }, true
	case <-ctx.Done():
		done()
		return nil, false
	}
}
