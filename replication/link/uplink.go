package link

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// RunUplink ships the feed to the parent while this node leads, until ctx
// ends: it learns the parent's cursor, sends (cursor, scanned] batches,
// resyncs by snapshot when the feed no longer holds what the parent needs,
// and prunes what the parent and the children no longer need.
func (s *Service) RunUplink(ctx context.Context) {
	for sleep(ctx, 50*time.Millisecond) {
		if !s.cfg.Group.IsLeader() {
			s.idle(&s.up)
			continue
		}
		epoch, err := replication.FeedEpoch(s.cfg.Group.Reader())
		if err != nil {
			s.fail(&s.up, err)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var ans Answer
		err = s.call(cctx, "/internal/v1/uplink", Batch{Link: s.cfg.Region, Epoch: epoch}, &ans)
		cancel()
		if err == nil && ans.Err != nil && (ans.Err.Code == CodeEpoch || ans.Sweeping) {
			// The parent's cursor counts in another feed of this region's
			// (restored or rebuilt since), or a resync this region's former
			// leader started is sweeping there and nobody sends its Sweep
			// parts: a snapshot, then on from it.
			s.log.Warn("link: resyncing the parent", "peer", s.cfg.Parent, "direction", "up", "reason", ans.Err.Message, "epoch", epoch, "parent_epoch", ans.Epoch)
			var cursor uint64
			if cursor, err = s.resyncUp(ctx); err == nil {
				s.shipFrom(ctx, cursor)
				continue
			}
		}
		if err == nil && ans.Err != nil {
			err = ans.Err
		}
		if err != nil {
			s.fail(&s.up, err)
			s.EnforceRetention(ctx) // the feed must not grow without bound while the parent is away
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		s.shipFrom(ctx, ans.Acked)
	}
}

func (s *Service) setStatus(st *Status, f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(st)
}

// idle clears a link's state when this node stops leading: the figures it
// had are no longer its to show (Status lists the link as not running).
func (s *Service) idle(st *Status) {
	s.setStatus(st, func(st *Status) { *st = Status{Peer: st.Peer, Direction: st.Direction, State: StateIdle} })
}

func (s *Service) fail(st *Status, err error) {
	s.setStatus(st, func(st *Status) { st.State, st.LastError = StateDown, err.Error() })
	s.log.Debug("link: failed", "peer", s.cfg.Parent, "direction", st.Direction, "err", err)
}

// upFilter selects the feed entries that go up from this region.
func (s *Service) upFilter(c *Change) bool { return upFor(c, s.cfg.Region) }

// shipFrom sends batches after cursor until the link fails or leadership
// moves; the caller then starts over from the parent's cursor. A batch ends
// at the last change it carries (checkRange), and tells the parent how far
// this region's downlink has pulled its feed (DownAcked).
func (s *Service) shipFrom(ctx context.Context, cursor uint64) {
	g := s.cfg.Group
	lastPrune := time.Now()
	for g.IsLeader() {
		if ctx.Err() != nil {
			return
		}
		r := g.Reader()
		first, head, err := replication.FeedBounds(r)
		if err != nil {
			s.fail(&s.up, err)
			return
		}
		if cursor > head && s.pastHead(ctx, cursor) {
			// The parent holds more of this feed than it has: its cursor is
			// not of this feed (a restored or rebuilt region, or a forged
			// batch). A snapshot makes its copy this region's again.
			s.log.Warn("link: the parent's cursor is past this feed's head; resyncing it", "peer", s.cfg.Parent, "direction", "up", "cursor", cursor, "head", head)
			if cursor, err = s.resyncUp(ctx); err != nil {
				s.fail(&s.up, err)
				return
			}
			continue
		}
		if cursor+1 < first {
			if cursor, err = s.resyncUp(ctx); err != nil {
				s.fail(&s.up, err)
				return
			}
			continue
		}
		changes, _, err := replication.ReadFeed(r, cursor, s.cfg.Batch, 4<<20, s.upFilter)
		if err != nil {
			s.fail(&s.up, err)
			return
		}
		if len(changes) == 0 {
			s.setStatus(&s.up, func(st *Status) {
				st.State, st.AckedSeq, st.HeadSeq, st.LagEntries = StateUp, cursor, head, head-min(head, cursor)
			})
			if time.Since(lastPrune) > time.Second && first <= cursor {
				s.prune(ctx, cursor)
				lastPrune = time.Now()
			}
			if !sleep(ctx, 20*time.Millisecond) {
				return
			}
			continue
		}
		down, err := replication.GetUint(r, cursorKey(Down, s.cfg.Parent))
		if err != nil {
			s.fail(&s.up, err)
			return
		}
		epoch, err := replication.FeedEpoch(r)
		if err != nil {
			s.fail(&s.up, err)
			return
		}
		// r is the live replica, not a snapshot: the feed may have grown, or
		// been pruned, between reading its bounds and its entries. Read
		// again: the batch's head must not be below what it carries, or the
		// parent refuses it (checkRange) and it goes again (41 times in a
		// million-customer load); and entries pruned past the cursor in
		// between (a late prune of a former leader) would be skipped
		// unseen, so that goes to the resync at the top of the loop.
		var again uint64
		if again, head, err = replication.FeedBounds(r); err != nil {
			s.fail(&s.up, err)
			return
		}
		if cursor+1 < again {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var ans Answer
		b := Batch{Link: s.cfg.Region, From: cursor, To: changes[len(changes)-1].Seq, Head: head, Changes: changes, DownAcked: down, Epoch: epoch}
		err = s.call(cctx, "/internal/v1/uplink", b, &ans)
		cancel()
		if err == nil && ans.Err != nil && (ans.Err.Code != CodeGap || ans.Sweeping) {
			err = ans.Err // a sweep in progress there: RunUplink starts a resync
		}
		if err != nil {
			s.fail(&s.up, err)
			return
		}
		cursor = ans.Acked // on a gap, the parent's cursor: resend from there
		now := time.Now()
		s.setStatus(&s.up, func(st *Status) {
			st.State, st.AckedSeq, st.HeadSeq, st.LastContact, st.LastError = StateUp, cursor, head, now, ""
			st.LagEntries = head - min(head, cursor)
		})
		if cursor >= first && (cursor-first > 4096 || time.Since(lastPrune) > time.Second) {
			s.prune(ctx, cursor)
			lastPrune = now
		}
	}
}

// pastHead confirms, after a read barrier (a new leader may not have
// applied everything its predecessor shipped), that cursor is past this
// region's feed head.
func (s *Service) pastHead(ctx context.Context, cursor uint64) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if s.cfg.Group.ReadBarrier(ctx) != nil {
		return false
	}
	_, head, err := replication.FeedBounds(s.cfg.Group.Reader())
	return err == nil && cursor > head
}

// resyncUp sends the parent a consistent snapshot of this region's subtree
// records and answers the feed sequence the parent now has.
func (s *Service) resyncUp(ctx context.Context) (uint64, error) {
	s.setStatus(&s.up, func(st *Status) { st.State = StateResyncing })
	r, done := s.snapshot()
	var release sync.Once
	defer release.Do(done)
	_, head, err := replication.FeedBounds(r)
	if err != nil {
		return 0, err
	}
	epoch, err := replication.FeedEpoch(r)
	if err != nil {
		return 0, err
	}
	id := s.newID()
	part := 0
	var items []Change
	size := 0
	sweeping := false
	sweepMax := int(maxSweep.Load())
	send := func(last bool) error {
		var ans Answer
		b := Batch{Link: s.cfg.Region, Resync: &ResyncPart{ID: id, Part: part, Last: last, Seq: head, Items: items, Sweep: sweeping, SweepMax: sweepMax}, Epoch: epoch}
		// A part sent again is answered as the first was, or goes on with the
		// sweep (applyResync), so a lost answer or a parent's new leader costs a
		// retry, not the resync: at a city the sweep alone is hundreds of parts.
		var err error
		for try := 0; ; try++ {
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			err = s.call(cctx, "/internal/v1/uplink", b, &ans)
			cancel()
			if err == nil || try == 4 || !s.cfg.Group.IsLeader() || !sleep(ctx, time.Duration(1+try)*time.Second) {
				break
			}
		}
		if err != nil {
			return err
		}
		if ans.Err != nil {
			return ans.Err
		}
		if !sweeping {
			part++
		}
		items, size = nil, 0
		sweeping = last && ans.Sweeping
		return nil
	}
	var sendErr error
	err = snapshotUp(r, s.d, s.cfg.Region, func(c Change) bool {
		items = append(items, c)
		size += len(c.Key) + len(c.Value)
		if len(items) >= 2000 || size >= 4<<20 {
			if sendErr = send(false); sendErr != nil {
				return false
			}
		}
		return true
	})
	if err == nil {
		err = sendErr
	}
	if err == nil {
		err = send(true)
	}
	release.Do(done)             // the sweep needs nothing more of the snapshot: let Pebble compact
	for err == nil && sweeping { // the parent sweeps what the snapshot did not carry, an entry at a time
		err = send(true)
	}
	if err != nil {
		return 0, fmt.Errorf("link: resync to %s: %w", s.cfg.Parent, err)
	}
	s.setStatus(&s.up, func(st *Status) { st.Resyncs++; st.State = StateUp })
	return head, nil
}

// snapshotUp visits, in key order, the records of r that a resync sends
// up from region: its subtree's, no users.
func snapshotUp(r Reader, d Domain, region string, fn func(Change) bool) error {
	return r.Iterate([]byte(keyspace.RecordPrefix), []byte(keyspace.End(keyspace.RecordPrefix)), func(k, v []byte) bool {
		key := string(k)
		if bytes.HasPrefix(k, []byte(usersPrefix)) {
			return true
		}
		owner := d.StoredOwner(key, v)
		if !inRegion(owner, region) {
			return true
		}
		return fn(Change{Origin: owner, Key: key, Value: bytes.Clone(v)})
	})
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
