package link

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
)

// Handler is where the parent side of the links is registered (an
// *http.ServeMux, the internal listener's router).
type Handler interface {
	Handle(pattern string, h http.Handler)
}

// The routes a child calls on its parent's nodes.
const (
	UplinkPath   = "/internal/v1/uplink"
	DownlinkPath = "/internal/v1/downlink"
)

// Routes registers the parent side of the links on h: POST UplinkPath (a
// child's batch, proposed here) and POST DownlinkPath (a child's pull). A
// request that may not speak for the child region it names (Authenticate,
// then the child rule) is refused before anything of this region's state
// is read.
func (s *Service) Routes(h Handler) {
	h.Handle("POST "+UplinkPath, http.HandlerFunc(s.serveUplink))
	h.Handle("POST "+DownlinkPath, http.HandlerFunc(s.serveDownlink))
}

func (s *Service) serveUplink(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil {
		refuse(w, http.StatusBadRequest, &Error{Code: CodeInvalid, Message: fmt.Sprintf("undecodable link batch: %v", err)})
		return
	}
	if rj := s.authorize(r, b.Link); rj != nil {
		s.m.reject(peerLabel(s.cfg.Region, "", b.Link), Up, b.To, "", rj, "proposal")
		refuse(w, http.StatusForbidden, rj.Err)
		return
	}
	rj, c, err := screenUplink(s.d, s.cfg.Group.Reader(), s.cfg.Region, &b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if rj != nil {
		seq, key := b.To, ""
		if c != nil {
			seq, key = c.Seq, c.Key
		}
		s.m.reject(b.Link, Up, seq, key, rj, "proposal")
		refuse(w, http.StatusUnprocessableEntity, rj.Err)
		return
	}
	if ans, refused, err := epochRefusal(s.cfg.Group.Reader(), &b); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	} else if refused {
		s.m.reject(b.Link, Up, b.To, "", &Reject{Reason: ReasonEpoch, Err: ans.Err}, "proposal")
		w.Write(mustJSON(ans))
		return
	}
	resp, err := s.cfg.Group.Propose(r.Context(), Entry(EntryUplink, time.Now(), body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write(resp)
}

func (s *Service) serveDownlink(w http.ResponseWriter, r *http.Request) {
	var req DownlinkRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rj := s.authorize(r, req.For); rj != nil {
		// Counted on the child's link as the parent sees it (from-child).
		s.m.reject(peerLabel(s.cfg.Region, "", req.For), Up, req.From, "", rj, "downlink request")
		refuse(w, http.StatusForbidden, rj.Err)
		return
	}
	snap, done := s.snapshot()
	defer func() { done() }()
	past := false
	if _, head, err := replication.FeedBounds(snap); err == nil && req.From > head {
		// The child has pulled further than this feed goes. Either this
		// replica lags (a follower, a leader that has not applied all its
		// predecessor committed) or this region was restored from an older
		// backup or rebuilt, and its feed is not the one the child pulled.
		// After a read barrier, still past: the child takes a snapshot of
		// what goes down, or it would wait for this feed to pass its cursor
		// and then skip everything below it. The barrier's bound is well
		// inside the child's 10 s call; a replica that cannot confirm
		// answers 503, and the child asks another node of the region.
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		err := s.cfg.Group.ReadBarrier(ctx)
		cancel()
		if err != nil {
			http.Error(w, "link: cannot confirm a downlink cursor past this feed's head: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		done()
		snap, done = s.snapshot()
		_, head, err = replication.FeedBounds(snap)
		past = err == nil && req.From > head
		if past {
			s.log.Warn("link: a child's downlink cursor is past this feed's head; resyncing it", "peer", req.For, "direction", "down", "cursor", req.From, "head", head)
		}
	}
	ans, err := downlinkFor(s.d, snap, s.cfg.Region, req, past, s.newID)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	// The answer is encoded before the snapshot is let go, and the
	// snapshot is let go before the answer is written: writing to a child
	// that vanished takes until the server's write timeout, and the
	// snapshot would pin Pebble's files all that time.
	body := mustJSON(ans)
	done()
	done = func() {}
	w.Write(body)
}

// authorize decides whether request r may speak for link, the child region
// it names (the sender of an uplink batch, the region pulling a downlink):
// the Authenticate hook (the caller's identity), then the child rule. It is
// the one place that lets a request in, and reads nothing of the state, so
// nothing answered before it passes tells a caller anything.
func (s *Service) authorize(r *http.Request, link string) *Reject {
	if s.cfg.Authenticate != nil {
		if err := s.cfg.Authenticate(r, link); err != nil {
			s.log.Warn("link: caller refused", "claimed", link, "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
			return rejected(ReasonAuth, CodeForbidden, "link", "this caller may not speak for region %q", link)
		}
	}
	if !isChild(link, s.cfg.Region) {
		return rejected(ReasonLink, CodeForbidden, "link", "region %q is not a child of %s", link, s.cfg.Region)
	}
	return nil
}

// refuse answers a link request that is not proposed: the error alone,
// no cursor.
func refuse(w http.ResponseWriter, status int, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(mustJSON(struct {
		Err *Error `json:"error"`
	}{e}))
}

// epochRefusal answers, before an uplink batch (or a cursor question) is
// proposed, whether it is of another epoch of the child's feed than the one
// its cursor counts in here (the child restored from a backup or rebuilt):
// its sequences would skip or repeat, and only a resync, which carries
// everything, starts over. The answer (200, the cursor and the epoch kept,
// CodeEpoch) tells the child to resync. Checked here only, against the
// replica that serves: the apply path keeps the epoch from the entry but
// does not refuse by it, since whether a replica keeps one depends on when
// it was upgraded.
func epochRefusal(r Reader, b *Batch) (Answer, bool, error) {
	if b.Resync != nil || !validEpoch(b.Epoch) {
		return Answer{}, false, nil
	}
	kept, err := r.Get([]byte(keyspace.LinkEpoch(Up.String(), b.Link)))
	if err != nil || len(kept) == 0 || string(kept) == b.Epoch {
		return Answer{}, false, err
	}
	cur, err := replication.GetUint(r, cursorKey(Up, b.Link))
	return Answer{Acked: cur, Epoch: string(kept), Err: &Error{Code: CodeEpoch, Field: "epoch",
		Message: fmt.Sprintf("the batch is of feed epoch %q, the cursor counts in %q: resync", b.Epoch, kept)}}, true, err
}

// screenUplink checks an uplink batch before it is proposed, against the
// replica r (the replicas check it again when they apply it). A batch that
// ends at or before the cursor goes to the state machine as it is: it
// answers the duplicate with the cursor.
func screenUplink(d Domain, r Reader, region string, b *Batch) (*Reject, *Change, error) {
	cur, err := replication.GetUint(r, cursorKey(Up, b.Link))
	if err != nil {
		return nil, nil, err
	}
	items := b.Changes
	if b.Resync != nil {
		items = b.Resync.Items
	} else if b.To <= cur {
		return nil, nil, nil
	} else if rj := checkRange(Up, b); rj != nil {
		return rj, nil, nil
	}
	chk, err := newChangeCheck(d, r, region, Up, b.Link)
	if err != nil {
		return nil, nil, err
	}
	for i := range items {
		if b.Resync == nil && items[i].Seq <= cur {
			continue
		}
		if rj, err := chk.check(&items[i]); rj != nil || err != nil {
			return rj, &items[i], err
		}
	}
	return nil, nil, nil
}

// downlinkFor answers a child's pull (authorize let it in) from the
// consistent view r of region's replica: what goes down to the child's
// branch after From, or a snapshot of it all when the feed was pruned past
// From, when From counts in another epoch of this feed, or when past (the
// caller confirmed that From is past this feed's head: not this feed's
// cursor) (newID names the resync).
func downlinkFor(d Domain, r replication.StateReader, region string, req DownlinkRequest, past bool, newID func() string) (DownlinkAnswer, error) {
	if req.Max <= 0 || req.Max > 10000 {
		req.Max = 1000
	}
	first, head, err := replication.FeedBounds(r)
	if err != nil {
		return DownlinkAnswer{}, err
	}
	epoch, err := replication.FeedEpoch(r)
	if err != nil {
		return DownlinkAnswer{}, err
	}
	// The child's cursor counts in another feed of this region's (restored
	// or rebuilt since): its sequences say nothing here.
	otherFeed := validEpoch(req.Epoch) && epoch != "" && req.Epoch != epoch
	if req.From+1 < first || past && req.From > head || otherFeed {
		var items []Change
		p := keyspace.Collection(collDirectives)
		err := r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, v []byte) bool {
			owner := d.RecordOwner(v)
			if !inRegion(owner, req.For) && addressedTo(d.DirectiveScope(v), req.For) {
				items = append(items, Change{Origin: owner, Key: string(k), Value: bytes.Clone(v)})
			}
			return true
		})
		if err == nil {
			items, err = appendManaged(d, r, items, region, req.For)
		}
		return DownlinkAnswer{Head: head, Scanned: head, Resync: &ResyncPart{ID: newID(), Last: true, Seq: head, Items: items}, Epoch: epoch}, err
	}
	forChild := func(c *Change) bool { return downFor(d, c, req.For) }
	changes, scanned, err := replication.ReadFeed(r, req.From, req.Max, 4<<20, forChild)
	return DownlinkAnswer{Changes: changes, Scanned: scanned, Head: head, Epoch: epoch}, err
}

// appendManaged adds to a downlink snapshot for child its management
// setting, the commands forwarded to its branch still pending, and, while
// this region writes the child's records (full management), those records
// as this region holds them.
func appendManaged(d Domain, r Reader, items []Change, region, child string) ([]Change, error) {
	v, err := r.Get([]byte(mgmtKey(child)))
	if err != nil {
		return items, err
	}
	if v != nil {
		items = append(items, Change{Origin: region, Key: mgmtKey(child), Value: v})
	}
	pending, err := d.PendingForwarded(r, child)
	if err != nil {
		return items, err
	}
	for _, c := range pending {
		if inRegion(c.Owner, child) {
			continue // the child's own, rolled up: nothing comes back down
		}
		items = append(items, c)
	}
	if w, err := d.WriterOf(r, child); err != nil || w != region {
		return items, err
	}
	for _, coll := range d.ManagedCollections() {
		p := keyspace.Collection(coll)
		err = r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, v []byte) bool {
			if owner := d.RecordOwner(v); inRegion(owner, child) {
				items = append(items, Change{Origin: region, Owner: owner, Key: string(k), Value: bytes.Clone(v)})
			}
			return true
		})
		if err != nil {
			return items, err
		}
	}
	return items, nil
}
