package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Read index: how a leader proves, for a read, that it still leads.
//
// A read index is the leader's commit index taken when the read starts,
// good only once the leader has confirmed with a quorum, *after* taking it,
// that no newer leader exists. hashicorp/raft's VerifyLeader cannot be used
// for that: it counts any successful heartbeat answer that arrives after
// the call, including the answer to a heartbeat sent before it. A leader
// paused (SIGSTOP, a stall) while such answers sat in its sockets resumes,
// reads them, and "confirms" a leadership a new leader took meanwhile; the
// read then misses writes the new leader acknowledged (DESIGN.md, "Leader
// pauses").
//
// So the confirmation is a round of our own: the leader asks every other
// voter, over the internal listener, for its current term, with requests
// sent after the commit index was taken. If a quorum (the leader counting
// itself) answers the leader's own term, no newer leader had a quorum
// before the read started: any quorum that elected one shares a member with
// ours, and that member's term would be higher. Reads that arrive while a
// round is out wait for the next one, so one round serves many reads.

// termPath answers a node's current term and the leader it knows.
const termPath = "/internal/v1/term"

type termAnswer struct {
	Term   uint64 `json:"term"`
	Leader string `json:"leader,omitempty"` // internal address of the leader this node knows
}

// staleLeaderError says that a peer knows a newer term (and perhaps its
// leader): this node is a deposed leader that has not noticed yet.
type staleLeaderError struct {
	term   uint64
	leader string
}

func (e *staleLeaderError) Error() string {
	return fmt.Sprintf("replication: a peer is at term %d: this node no longer leads", e.term)
}

func (e *staleLeaderError) Unwrap() error { return ErrNotLeader }

// confirmer batches leadership confirmations: every caller waiting when a
// round starts is answered by that round.
type confirmer struct {
	mu      sync.Mutex
	running bool
	waiting []chan error
}

// confirmLeadership returns nil once a round that started after the call
// confirmed that this node leads the region.
func (g *Group) confirmLeadership(ctx context.Context) error {
	ch := make(chan error, 1)
	c := &g.confirm
	c.mu.Lock()
	c.waiting = append(c.waiting, ch)
	if !c.running {
		c.running = true
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.runConfirmRounds() }()
	}
	c.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: confirming leadership: %v", ErrTimeout, ctx.Err())
	case <-g.stop:
		return ErrClosed
	}
}

func (g *Group) runConfirmRounds() {
	c := &g.confirm
	for {
		c.mu.Lock()
		batch := c.waiting
		c.waiting = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		err := g.confirmRound()
		for _, ch := range batch {
			ch <- err
		}
	}
}

// confirmRound asks every other voter for its term; nil if a quorum
// (counting this node) is at this node's term and this node still leads.
func (g *Group) confirmRound() error {
	term := g.raft.CurrentTerm()
	if g.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	cf := g.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return fmt.Errorf("%w: configuration: %v", ErrNotLeader, err)
	}
	var others []raft.Server
	voters, self := 0, false
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		voters++
		if string(s.ID) == g.cfg.NodeID {
			self = true
			continue
		}
		others = append(others, s)
	}
	quorum := voters/2 + 1
	acks := 0
	if self {
		acks = 1
	}
	if acks < quorum {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.ElectionTimeout)
		defer cancel()
		answers := make(chan termAnswer, len(others))
		for _, s := range others {
			go func(addr string) { answers <- g.askTerm(ctx, addr) }(string(s.Address))
		}
		for range others {
			a := <-answers
			if a.Term > term {
				return &staleLeaderError{term: a.Term, leader: a.Leader}
			}
			if a.Term == term {
				acks++
			}
			if acks >= quorum {
				break
			}
		}
	}
	if acks < quorum {
		return fmt.Errorf("%w: %d of %d voters confirmed term %d", ErrNoLeader, acks, voters, term)
	}
	if g.raft.CurrentTerm() != term || g.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	return nil
}

// termConnsPerHost bounds askTerm's connections to one voter. Rounds run
// back to back under read load, each asking every voter; to a voter that
// does not answer a dial (dead behind a tunnel) each round would start a
// dial of its own, and a dial outlives the round that started it (Go's
// transport finishes it for the pool), so thousands piled up. Bounded, a
// round's question waits for one of these connections and gives up with
// the round.
const termConnsPerHost = 2

// termClient is askTerm's HTTP client over dial.
func termClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         dial,
		MaxConnsPerHost:     termConnsPerHost,
		MaxIdleConnsPerHost: termConnsPerHost,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// askTerm asks the node at addr for its term; a zero answer on failure.
func (g *Group) askTerm(ctx context.Context, addr string) termAnswer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+termPath, nil)
	if err != nil {
		return termAnswer{}
	}
	resp, err := g.terms.Do(req)
	if err != nil {
		return termAnswer{}
	}
	defer resp.Body.Close()
	var a termAnswer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&a) != nil {
		return termAnswer{}
	}
	return a
}

func (g *Group) serveTerm(w http.ResponseWriter, _ *http.Request) {
	_, addr := g.Leader()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(termAnswer{Term: g.raft.CurrentTerm(), Leader: addr})
}

// localReadIndex answers a read index served by this node as leader.
func (g *Group) localReadIndex(ctx context.Context) (uint64, error) {
	if !g.leaderReady.Load() {
		// A new leader's commit index covers earlier terms' entries only
		// once an entry of its own term has committed.
		if err := g.raft.Barrier(g.cfg.ApplyTimeout).Error(); err != nil {
			if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
				return 0, ErrNotLeader
			}
			if errors.Is(err, raft.ErrRaftShutdown) {
				return 0, ErrClosed
			}
			return 0, fmt.Errorf("%w: barrier: %v", ErrTimeout, err)
		}
	}
	idx := g.raft.CommitIndex()
	if err := g.confirmLeadership(ctx); err != nil {
		return 0, err
	}
	return idx, nil
}

// readIndex answers a read index from the leader: this node's own when it
// leads, else the leader's over the internal listener. A deposed leader that
// learns of its successor from a peer asks the successor.
func (g *Group) readIndex(ctx context.Context) (uint64, error) {
	addr := ""
	if g.raft.State() == raft.Leader {
		idx, err := g.localReadIndex(ctx)
		var stale *staleLeaderError
		if !errors.As(err, &stale) || stale.leader == "" || stale.leader == g.cfg.Advertise {
			return idx, err
		}
		addr = stale.leader
	} else if _, addr = g.Leader(); addr == "" {
		return 0, ErrNoLeader
	}
	body, err := g.forward(ctx, addr, "/internal/v1/readindex", nil)
	if errors.Is(err, ErrUnknownOutcome) { // a read has no outcome to lose
		err = fmt.Errorf("%w: no read index from the leader %s", ErrTimeout, addr)
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(bytes.TrimSpace(body)), 10, 64)
}
