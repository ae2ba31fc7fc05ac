package link

import (
	"context"
	"errors"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// RunDownlink pulls what goes down to this branch from the parent while
// this node leads, until ctx ends; it screens each answer (screenDownlink)
// and applies it through this region's raft log.
func (s *Service) RunDownlink(ctx context.Context) {
	g := s.cfg.Group
	for sleep(ctx, s.cfg.DownlinkPoll) {
		if !g.IsLeader() {
			s.idle(&s.down)
			continue
		}
		r := g.Reader()
		cur, err := replication.GetUint(r, cursorKey(Down, s.cfg.Parent))
		if err != nil {
			s.fail(&s.down, err)
			continue
		}
		epoch, err := r.Get([]byte(keyspace.LinkEpoch(Down.String(), s.cfg.Parent)))
		if err != nil {
			s.fail(&s.down, err)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var ans DownlinkAnswer
		err = s.call(cctx, "/internal/v1/downlink", DownlinkRequest{For: s.cfg.Region, From: cur, Max: s.cfg.Batch, Epoch: string(epoch)}, &ans)
		cancel()
		if err != nil {
			s.fail(&s.down, err)
			continue
		}
		b := Batch{Link: s.cfg.Parent, From: cur, To: ans.Scanned, Head: ans.Head, Changes: ans.Changes, Epoch: ans.Epoch}
		if ans.Resync != nil {
			b = Batch{Link: s.cfg.Parent, Resync: ans.Resync, Epoch: ans.Epoch}
		}
		if b.Resync != nil || b.To > cur {
			ok, err := s.screenDownlink(g.Reader(), &b)
			if err == nil && !ok {
				err = errors.New("link: the parent's downlink answer does not fit its range")
			}
			if err != nil {
				s.fail(&s.down, err)
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			a, err := s.proposeBatch(cctx, EntryDownlink, b)
			cancel()
			if err == nil && a.Err != nil && a.Err.Code != CodeGap {
				err = a.Err
			}
			if err != nil {
				s.fail(&s.down, err)
				continue
			}
			cur = a.Acked
			if ans.Resync != nil {
				s.setStatus(&s.down, func(st *Status) { st.Resyncs++ })
			}
		}
		now := time.Now()
		s.setStatus(&s.down, func(st *Status) {
			st.State, st.AckedSeq, st.HeadSeq, st.LastContact, st.LastError = StateUp, cur, ans.Head, now, ""
			st.LagEntries = ans.Head - min(ans.Head, cur)
		})
	}
}

// screenDownlink drops from a downlink batch, before it is proposed, the
// changes this region must not take from its parent (checked against r),
// and counts them: the parent's feed keeps them, so refusing the whole
// batch would stop the link for good. It answers false when the batch
// itself is malformed.
func (s *Service) screenDownlink(r Reader, b *Batch) (bool, error) {
	return screenDownlink(s.d, s.m, r, s.cfg.Region, b)
}

func screenDownlink(d Domain, m *Metrics, r Reader, region string, b *Batch) (bool, error) {
	if b.Resync == nil {
		if rj := checkRange(Down, b); rj != nil {
			m.reject(b.Link, Down, b.To, "", rj, "proposal")
			return false, nil
		}
	}
	chk, err := newChangeCheck(d, r, region, Down, b.Link)
	if err != nil {
		return false, err
	}
	keep := func(items []Change) ([]Change, error) {
		out := items[:0:0]
		for i := range items {
			rj, err := chk.check(&items[i])
			if err != nil {
				return nil, err
			}
			if rj != nil {
				m.reject(b.Link, Down, items[i].Seq, items[i].Key, rj, "proposal")
				continue
			}
			out = append(out, items[i])
		}
		return out, nil
	}
	if b.Resync != nil {
		b.Resync.Items, err = keep(b.Resync.Items)
	} else {
		b.Changes, err = keep(b.Changes)
	}
	return err == nil, err
}
