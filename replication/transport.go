package replication

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"gridcrm/internal/connset"
)

// raft's transport, and why it is wrapped.
//
// hashicorp/raft v1.8 hands heartbeats to a "fast path": the transport's
// connection goroutine calls Raft.appendEntries directly instead of queueing
// the RPC for raft's main goroutine, although appendEntries documents that it
// "must only be called from the main thread". A heartbeat from a newer
// leader then sets this node's term and state while its own leader loop is
// still running. A leader that was paused (SIGSTOP, a long GC or I/O stall)
// and resumes with a client write queued does exactly that: the heartbeat
// raises its term to the new leader's, and the leader loop, which has not
// noticed yet, appends the queued write under the *new* term at an index
// where the new leader holds a different entry of that same term. Log
// matching then sees no conflict, the stale entry is never truncated, and
// once the new leader's commit index passes it the deposed node applies its
// own entry instead of the committed one: replicas diverge and an
// acknowledged write is missing on one of them (DESIGN.md, "Leader pauses").
//
// serialTransport declines the fast path (SetHeartbeatHandler does nothing),
// so every RPC, heartbeats included, is handled by raft's main goroutine,
// serialised with the leader loop. It embeds the NetworkTransport, so raft
// still finds its optional interfaces (WithClose, WithPeers, WithPreVote).
type serialTransport struct {
	*raft.NetworkTransport
}

// SetHeartbeatHandler implements raft.Transport by ignoring the handler:
// heartbeats then reach raft's main goroutine like any other RPC.
func (serialTransport) SetHeartbeatHandler(func(raft.RPC)) {}

// AppendEntriesPipeline implements raft.Transport with a pipeline whose
// answers are always taken off the connection (drainedPipeline).
func (t serialTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return newDrainedPipeline(p), nil
}

// drainedPipeline keeps a pipeline's sender from wedging for ever.
//
// raft's pipelineDecode stops reading the pipeline's answers as soon as one
// is a failure or carries a newer term; pipelineReplicate may still send
// several more requests before it notices and closes the pipeline. The
// NetworkTransport's decoder then blocks handing answers to nobody, its
// in-progress queue fills, and the next send blocks for ever: that follower
// gets no more appends from this leader, and raft.Shutdown waits for the
// stuck goroutine without end (a node that did not exit 15 s after SIGTERM
// in the fault campaign; DESIGN.md). drainedPipeline moves every answer of
// the inner pipeline into a queue of its own as soon as it is decoded, and
// hands them on to whoever reads Consumer, so the transport's side never
// blocks; Close drops what nobody took.
type drainedPipeline struct {
	raft.AppendPipeline
	out  chan raft.AppendFuture
	done chan struct{}
	once sync.Once
}

func newDrainedPipeline(p raft.AppendPipeline) *drainedPipeline {
	d := &drainedPipeline{AppendPipeline: p, out: make(chan raft.AppendFuture), done: make(chan struct{})}
	go d.pump()
	return d
}

func (d *drainedPipeline) pump() {
	in := d.AppendPipeline.Consumer()
	var queue []raft.AppendFuture
	for {
		var out chan raft.AppendFuture
		var next raft.AppendFuture
		if len(queue) > 0 {
			out, next = d.out, queue[0]
		}
		select {
		case f := <-in:
			queue = append(queue, f)
		case out <- next:
			queue[0] = nil
			queue = queue[1:]
		case <-d.done:
			return
		}
	}
}

// Consumer implements raft.AppendPipeline.
func (d *drainedPipeline) Consumer() <-chan raft.AppendFuture { return d.out }

// Close implements raft.AppendPipeline.
func (d *drainedPipeline) Close() error {
	d.once.Do(func() { close(d.done) })
	return d.AppendPipeline.Close()
}

// streamLayer is raft's network below the transport: the KindRaft listener
// of the node's mux and a dialer that announces KindRaft. It remembers the
// connections it dialed so that Close can end them at shutdown: a raft
// replication goroutine blocked on a peer that is paused or gone would
// otherwise hold raft.Shutdown for the transport's whole I/O timeout.
type streamLayer struct {
	net.Listener
	dial        Dialer
	dialTimeout time.Duration // bound on a dial; 0: the transport's timeout
	advertise   string
	conns       connset.Set
}

type advAddr string

func (a advAddr) Network() string { return "tcp" }
func (a advAddr) String() string  { return string(a) }

func (s *streamLayer) Addr() net.Addr { return advAddr(s.advertise) }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	// timeout is the transport's I/O timeout (10s); a dial through a tunnel
	// to a dead node would use all of it (no RST comes back), holding up
	// elections and shutdown, so dials get a shorter bound.
	if s.dialTimeout > 0 && s.dialTimeout < timeout {
		timeout = s.dialTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := DialKind(ctx, s.dial, string(addr), KindRaft)
	if err != nil {
		return nil, err
	}
	return s.conns.Track(c)
}

// closeConns ends every connection the layer dialed and refuses new dials.
func (s *streamLayer) closeConns() { s.conns.CloseAll() }
