package replication

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Group commit. Concurrent proposals on the leader are coalesced into one
// raft entry: a batch header byte, a count, then each proposal with its
// length. The FSM applies a batch's proposals in order on the same Pebble
// batch and answers one response per proposal, which the batcher hands back
// to each waiting caller. While maxInFlight batches are being committed,
// new proposals queue and form the next, larger batch: throughput grows
// with the number of clients instead of the number of raft round trips.

const (
	batchMarker   byte = 0xB7    // first byte of a batch entry (applier entries never start with it)
	maxBatchCount      = 1024    // proposals per batch
	maxBatchBytes      = 4 << 20 // bytes per batch (a single larger proposal goes alone)
	maxInFlight        = 1       // batches committing at once: the next one forms meanwhile
)

type proposal struct {
	ctx  context.Context
	data []byte
	done chan proposalResult // buffered 1
}

type proposalResult struct {
	resp []byte
	err  error
}

// runBatcher owns g.queue: it forms batches and applies them.
func (g *Group) runBatcher() {
	sem := make(chan struct{}, maxInFlight)
	var pending []*proposal
	for {
		if len(pending) == 0 {
			select {
			case p := <-g.queue:
				pending = append(pending, p)
			case <-g.stop:
				return
			}
		}
		// Take everything already queued, within the limits.
		size := 0
		for _, p := range pending {
			size += len(p.data)
		}
	drain:
		for len(pending) < maxBatchCount && size < maxBatchBytes {
			select {
			case p := <-g.queue:
				pending = append(pending, p)
				size += len(p.data)
			default:
				break drain
			}
		}
		select {
		case sem <- struct{}{}:
		case <-g.stop:
			for _, p := range pending {
				p.done <- proposalResult{err: ErrClosed}
			}
			return
		case p := <-g.queue:
			// Both in-flight batches are busy: keep collecting.
			pending = append(pending, p)
			continue
		}
		batch := pending
		pending = nil
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer func() { <-sem }()
			g.commitBatch(batch)
		}()
	}
}

func (g *Group) commitBatch(batch []*proposal) {
	live := batch[:0]
	for _, p := range batch {
		if p.ctx.Err() != nil {
			p.done <- proposalResult{err: fmt.Errorf("%w: %v", ErrTimeout, p.ctx.Err())}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	g.BatchedEntries.Add(uint64(len(live)))
	g.Batches.Add(1)
	if len(live) == 1 {
		resp, err := g.applyLocal(live[0].ctx, live[0].data)
		live[0].done <- proposalResult{resp, err}
		return
	}
	resp, err := g.applyLocal(context.Background(), encodeBatch(live))
	if err != nil {
		for _, p := range live {
			p.done <- proposalResult{err: err}
		}
		return
	}
	resps, derr := decodeBatch(resp)
	if derr == nil && len(resps) != len(live) {
		derr = fmt.Errorf("replication: batch of %d answered %d responses", len(live), len(resps))
	}
	for i, p := range live {
		if derr != nil {
			p.done <- proposalResult{err: derr}
			continue
		}
		p.done <- proposalResult{resp: resps[i]}
	}
}

// proposeBatched queues data for the next batch and waits for its answer.
func (g *Group) proposeBatched(ctx context.Context, data []byte) ([]byte, error) {
	if len(data) > 0 && data[0] == batchMarker {
		return nil, errors.New("replication: a proposal may not start with the batch marker byte")
	}
	p := &proposal{ctx: ctx, data: data, done: make(chan proposalResult, 1)}
	select {
	case g.queue <- p:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
	case <-g.stop:
		return nil, ErrClosed
	}
	// Once queued, the proposal may be committed: wait for its outcome
	// rather than abandoning it at ctx's end (commitBatch drops proposals
	// whose ctx ended before they were sent).
	select {
	case r := <-p.done:
		return r.resp, r.err
	case <-g.stop:
		return nil, fmt.Errorf("%w: the node shut down while committing", ErrUnknownOutcome)
	}
}

func encodeBatch(ps []*proposal) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, p := range ps {
		n += binary.MaxVarintLen64 + len(p.data)
	}
	out := make([]byte, 0, n)
	out = append(out, batchMarker)
	out = binary.AppendUvarint(out, uint64(len(ps)))
	for _, p := range ps {
		out = binary.AppendUvarint(out, uint64(len(p.data)))
		out = append(out, p.data...)
	}
	return out
}

// decodeBatch splits a batch entry (or a batch response, which has the same
// layout) into its parts; the parts alias b.
func decodeBatch(b []byte) ([][]byte, error) {
	if len(b) == 0 || b[0] != batchMarker {
		return nil, errors.New("replication: not a batch")
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxBatchCount*4 {
		return nil, errors.New("replication: corrupt batch header")
	}
	b = b[k:]
	out := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("replication: corrupt batch at part %d", i)
		}
		out = append(out, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	return out, nil
}

func encodeResponses(rs [][]byte) []byte {
	ps := make([]*proposal, len(rs))
	for i, r := range rs {
		ps[i] = &proposal{data: r}
	}
	return encodeBatch(ps)
}
