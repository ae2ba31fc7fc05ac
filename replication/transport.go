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
//
// With a durableLog it also keeps the log's deferred fsync (store's
// DeferSync) safe at the network boundary, the only place another node
// learns anything from this one's log:
//   - an answer to a leader's RPC leaves only once every append made so far
//     is fsynced (Sync), so an acknowledged append is durable, as raft
//     requires of a follower's reply;
//   - an append this node sends as leader carries a commit index no higher
//     than its own log's durable index, so a follower applies an entry only
//     once it is durable on the leader and on the followers whose acks
//     committed it: on a majority. raft counts the leader's own copy in its
//     commit before the leader's fsync ends; its state machine waits for
//     that fsync (fsm.ApplyBatch), so nothing is applied or acknowledged
//     anywhere before the entry is durable on a majority.
type serialTransport struct {
	*raft.NetworkTransport
	log      durableLog // nil: appends are synced when stored
	consumer chan raft.RPC
	stop     chan struct{}
	stopOnce *sync.Once
}

// durableLog is the log store's deferred durability (store.LogStore).
type durableLog interface {
	Sync() error
	DurableIndex() uint64
}

// newSerialTransport wraps t; log may be nil.
func newSerialTransport(t *raft.NetworkTransport, log durableLog) serialTransport {
	s := serialTransport{NetworkTransport: t, log: log, stop: make(chan struct{}), stopOnce: new(sync.Once)}
	if log != nil {
		s.consumer = make(chan raft.RPC)
		go s.pump()
	}
	return s
}

// SetHeartbeatHandler implements raft.Transport by ignoring the handler:
// heartbeats then reach raft's main goroutine like any other RPC.
func (serialTransport) SetHeartbeatHandler(func(raft.RPC)) {}

// Consumer implements raft.Transport: with a durableLog, the RPCs whose
// answers wait for the log's fsync.
func (t serialTransport) Consumer() <-chan raft.RPC {
	if t.log == nil {
		return t.NetworkTransport.Consumer()
	}
	return t.consumer
}

// pump hands the transport's RPCs to raft, each with an answer channel of
// its own; the answer goes back to the transport once the log is synced.
func (t serialTransport) pump() {
	in := t.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			orig := rpc.RespChan
			mine := make(chan raft.RPCResponse, 1)
			rpc.RespChan = mine
			go func() {
				select {
				case resp := <-mine:
					if err := t.log.Sync(); err != nil && resp.Error == nil {
						resp.Error = err // a leader counts an error as no ack
					}
					orig <- resp // buffered by the transport
				case <-t.stop:
				}
			}()
			select {
			case t.consumer <- rpc:
			case <-t.stop:
				return
			}
		case <-t.stop:
			return
		}
	}
}

// Close implements raft.WithClose: it ends the pump, then the transport.
func (t serialTransport) Close() error {
	t.stopOnce.Do(func() { close(t.stop) })
	return t.NetworkTransport.Close()
}

// AppendEntries implements raft.Transport with the commit index clamped
// to the log's durable index.
func (t serialTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	t.clamp(args)
	return t.NetworkTransport.AppendEntries(id, target, args, resp)
}

// clamp lowers an outgoing append's commit index to what this node's log
// holds durably.
func (t serialTransport) clamp(args *raft.AppendEntriesRequest) {
	if t.log == nil {
		return
	}
	if d := t.log.DurableIndex(); args.LeaderCommitIndex > d {
		args.LeaderCommitIndex = d
	}
}

// AppendEntriesPipeline implements raft.Transport with a pipeline whose
// answers are always taken off the connection (drainedPipeline) and whose
// commit indexes are clamped like AppendEntries'.
func (t serialTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return newDrainedPipeline(p, t.clamp), nil
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
	clamp func(*raft.AppendEntriesRequest)
	out   chan raft.AppendFuture
	done  chan struct{}
	once  sync.Once
}

func newDrainedPipeline(p raft.AppendPipeline, clamp func(*raft.AppendEntriesRequest)) *drainedPipeline {
	d := &drainedPipeline{AppendPipeline: p, clamp: clamp, out: make(chan raft.AppendFuture), done: make(chan struct{})}
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

// AppendEntries implements raft.AppendPipeline, clamping the commit index.
func (d *drainedPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	d.clamp(args)
	return d.AppendPipeline.AppendEntries(args, resp)
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
// connections it dialed and accepted so that Close can end them at shutdown: a raft
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

// Accept is the listener's, with the connection tracked as the dialed
// ones are: a follower's raft loop reading a snapshot from a leader that
// stalls would otherwise hold Close until the connection's keep-alive
// gives up. Once closeConns has run, connections are closed as they come,
// until the transport closes the listener.
func (s *streamLayer) Accept() (net.Conn, error) {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc, err := s.conns.Track(c); err == nil {
			return tc, nil
		}
	}
}

// closeConns ends every connection the layer dialed or accepted and
// refuses new ones.
func (s *streamLayer) closeConns() { s.conns.CloseAll() }
