package link

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// The feed is kept while someone needs it: the parent until it has
// acknowledged an entry (uplink), the children until their downlinks have
// pulled it (they report how far on their uplinks). Past the retention
// bounds (FeedRetention entries, FeedRetentionAge) older entries go even
// so; whoever still needed them is resynced from a snapshot.

// prune drops the feed entries the parent has acknowledged and every
// child's downlink has pulled (a child pulls directives, settings and
// forwarded commands from this feed); past the retention bounds it drops
// older ones too.
func (s *Service) prune(ctx context.Context, acked uint64) {
	r := s.cfg.Group.Reader()
	first, head, err := replication.FeedBounds(r)
	if err != nil {
		return
	}
	upto := max(min(acked, childrenPulled(r)), s.retentionFloor(r, first, head, time.Now()))
	if upto < first {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.proposePrune(ctx, upto)
}

// childrenPulled is the least downlink cursor the children reported on
// their uplinks (no bound when none did).
func childrenPulled(r Reader) uint64 {
	least := ^uint64(0)
	_ = r.Iterate([]byte(keyspace.DownAckedPrefix), []byte(keyspace.End(keyspace.DownAckedPrefix)), func(_, v []byte) bool {
		if len(v) == 8 {
			least = min(least, binary.BigEndian.Uint64(v))
		}
		return true
	})
	return least
}

// RunRetention bounds the feed of a region that has no parent to ship to
// (the province, or a region run alone), until ctx ends: children pull
// from it, and one that falls behind the window is resynced.
func (s *Service) RunRetention(ctx context.Context) {
	for sleep(ctx, time.Second) {
		s.EnforceRetention(ctx)
	}
}

// EnforceRetention drops feed entries beyond the retention bounds (on the
// leader only; elsewhere it does nothing).
func (s *Service) EnforceRetention(ctx context.Context) {
	if !s.cfg.Group.IsLeader() {
		return
	}
	r := s.cfg.Group.Reader()
	first, head, err := replication.FeedBounds(r)
	if err != nil || head < first {
		return
	}
	upto := s.retentionFloor(r, first, head, time.Now())
	if upto < first {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.proposePrune(ctx, upto)
}

// retentionFloor is the last feed entry the retention bounds drop whoever
// still needs it, as of now: over FeedRetention entries, or appended longer
// ago than FeedRetentionAge (at most 100,000 a round; the next round takes
// the rest). 0 when nothing is over the bounds.
func (s *Service) retentionFloor(r Reader, first, head uint64, now time.Time) uint64 {
	return retentionFloor(r, first, head, uint64(s.cfg.FeedRetention), s.cfg.FeedRetentionAge, now)
}

func retentionFloor(r Reader, first, head, keep uint64, age time.Duration, now time.Time) uint64 {
	var upto uint64
	if head > keep && head-keep >= first {
		upto = head - keep // over the size bound
	}
	if age > 0 && head >= first {
		cutoff := now.Add(-age).UnixMilli()
		from := max(upto, first-1)
		_ = r.Iterate(replication.FeedKey(from+1), replication.FeedKey(head+1), func(_, v []byte) bool {
			var c Change
			if json.Unmarshal(v, &c) != nil || c.Appended >= cutoff || c.Seq-from > 100_000 {
				return false
			}
			upto = c.Seq
			return true
		})
	}
	return upto
}
