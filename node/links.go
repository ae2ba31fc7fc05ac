package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/replication"
)

// LinkStatus is api.LinkStatus: one link as the status endpoint shows it.
type LinkStatus = api.LinkStatus

// links runs this region's side of the links to its parent.
type links struct {
	n      *Node
	parent string
	nodes  []string // the parent's internal addresses
	client *http.Client

	mu   sync.Mutex // guards up, down, next
	up   LinkStatus
	down LinkStatus
	next int // index in nodes to try first
}

func newLinks(n *Node) *links {
	l := &links{n: n}
	if p := n.cfg.Parent; p != nil {
		l.parent, l.nodes = string(p.Region), p.Nodes
		l.up = LinkStatus{Peer: l.parent, Direction: "up", State: "idle"}
		l.down = LinkStatus{Peer: l.parent, Direction: "down", State: "idle"}
	}
	dial := n.cfg.LinkDialer
	if dial == nil {
		dial = replication.TCPDialer
	}
	l.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return replication.DialKind(ctx, dial, addr, replication.KindHTTP)
		},
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}}
	return l
}

// call posts body to path on one of the parent's nodes, trying each once.
func (l *links) call(ctx context.Context, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	l.mu.Lock()
	start := l.next
	l.mu.Unlock()
	var errs []error
	for i := range l.nodes {
		addr := l.nodes[(start+i)%len(l.nodes)]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		resp, err := l.client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			errs = append(errs, fmt.Errorf("%s: %d %s", addr, resp.StatusCode, bytes.TrimSpace(data)))
			continue
		}
		l.mu.Lock()
		l.next = (start + i) % len(l.nodes)
		l.mu.Unlock()
		return json.Unmarshal(data, out)
	}
	return fmt.Errorf("node: parent %s unreachable: %w", l.parent, errors.Join(errs...))
}

func (l *links) setStatus(s *LinkStatus, f func(*LinkStatus)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(s)
}

// status answers copies of this side's link states.
func (l *links) status() []LinkStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.parent == "" {
		return nil
	}
	return []LinkStatus{l.up, l.down}
}

// sleep waits d or until the node stops; false when it stops.
func (n *Node) sleep(d time.Duration) bool {
	select {
	case <-n.stop:
		return false
	case <-time.After(d):
		return true
	}
}

func (n *Node) proposeEntry(ctx context.Context, kind byte, v any) (linkAnswer, error) {
	data, err := encodeEntry(kind, v)
	if err != nil {
		return linkAnswer{}, err
	}
	resp, err := n.group.Propose(ctx, data)
	if err != nil {
		return linkAnswer{}, err
	}
	var a linkAnswer
	if err := json.Unmarshal(resp, &a); err != nil {
		return linkAnswer{}, err
	}
	return a, nil
}

// linkEntry is a link batch as a raft entry: the type byte, the time the
// receiving node proposed it (8 bytes, Unix ms: when the changes are
// appended to this region's feed), then the batch's JSON as it arrived, so
// a large batch is decoded once, by the FSM.
func linkEntry(kind byte, at time.Time, batchJSON []byte) []byte {
	out := make([]byte, 9, 9+len(batchJSON))
	out[0] = kind
	binary.BigEndian.PutUint64(out[1:9], uint64(at.UnixMilli()))
	return append(out, batchJSON...)
}

func (n *Node) proposeLink(ctx context.Context, kind byte, b linkBatch) (linkAnswer, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return linkAnswer{}, err
	}
	resp, err := n.group.Propose(ctx, linkEntry(kind, time.Now(), raw))
	if err != nil {
		return linkAnswer{}, err
	}
	var a linkAnswer
	return a, json.Unmarshal(resp, &a)
}

// runCanary writes this region's heartbeat record while this node leads.
func (n *Node) runCanary() {
	for n.sleep(n.cfg.CanaryInterval) {
		if !n.group.IsLeader() {
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		_, _ = n.proposeEntry(ctx, entryCanary, crm.Canary{Region: n.cfg.Region, At: time.Now().UnixMilli(), Leader: n.cfg.NodeID, Term: n.group.Raft().CurrentTerm()})
		cancel()
	}
}

// keepUp selects the feed entries that go up: this region's subtree, no users.
func (n *Node) keepUp(c *replication.Change) bool {
	return crm.InRegion(c.Origin, n.cfg.Region) && !strings.HasPrefix(c.Key, "r/users/")
}

// runUplink ships the feed to the parent while this node leads: it learns
// the parent's cursor, sends (cursor, scanned] batches, resyncs by snapshot
// when the feed no longer holds what the parent needs, and prunes what the
// parent has acknowledged.
func (l *links) runUplink() {
	n := l.n
	for n.sleep(50 * time.Millisecond) {
		if !n.group.IsLeader() {
			l.idle(&l.up)
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		var ans linkAnswer
		err := l.call(ctx, "/internal/v1/uplink", linkBatch{Link: n.cfg.Region}, &ans)
		cancel()
		if err == nil && ans.Err != nil {
			err = ans.Err
		}
		if err != nil {
			l.fail(&l.up, err)
			n.enforceRetention() // the feed must not grow without bound while the parent is away
			n.sleep(500 * time.Millisecond)
			continue
		}
		l.shipFrom(ans.Acked)
	}
}

// idle clears a link's state when this node stops leading: the figures it
// had are no longer its to show (status() lists the link as not running).
func (l *links) idle(s *LinkStatus) {
	l.setStatus(s, func(s *LinkStatus) { *s = LinkStatus{Peer: s.Peer, Direction: s.Direction, State: "idle"} })
}

func (l *links) fail(s *LinkStatus, err error) {
	l.setStatus(s, func(s *LinkStatus) { s.State, s.LastError = "down", err.Error() })
	l.n.log.Debug("node: link", "peer", l.parent, "direction", s.Direction, "err", err)
}

// shipFrom sends batches after cursor until the link fails or leadership
// moves; the caller then starts over from the parent's cursor. A batch ends
// at the last change it carries (checkRange), and tells the parent how far
// this region's downlink has pulled its feed (DownAcked).
func (l *links) shipFrom(cursor uint64) {
	n := l.n
	lastPrune := time.Now()
	for n.group.IsLeader() {
		select {
		case <-n.stop:
			return
		default:
		}
		r := n.group.Reader()
		first, head, err := replication.FeedBounds(r)
		if err != nil {
			l.fail(&l.up, err)
			return
		}
		if cursor > head && l.pastHead(cursor) {
			// The parent holds more of this feed than it has: its cursor is
			// not of this feed (a restored or rebuilt region, or a forged
			// batch). A snapshot makes its copy this region's again.
			n.log.Warn("node: the parent's cursor is past this feed's head; resyncing it", "peer", l.parent, "direction", "up", "cursor", cursor, "head", head)
			if cursor, err = l.resyncUp(); err != nil {
				l.fail(&l.up, err)
				return
			}
			continue
		}
		if cursor+1 < first {
			if cursor, err = l.resyncUp(); err != nil {
				l.fail(&l.up, err)
				return
			}
			continue
		}
		changes, _, err := replication.ReadFeed(r, cursor, n.cfg.LinkBatch, 4<<20, n.keepUp)
		if err != nil {
			l.fail(&l.up, err)
			return
		}
		if len(changes) == 0 {
			l.setStatus(&l.up, func(s *LinkStatus) {
				s.State, s.AckedSeq, s.HeadSeq, s.LagEntries = "up", cursor, head, head-min(head, cursor)
			})
			if time.Since(lastPrune) > time.Second && first <= cursor {
				l.prune(cursor)
				lastPrune = time.Now()
			}
			if !n.sleep(20 * time.Millisecond) {
				return
			}
			continue
		}
		down, err := replication.GetUint(r, cursorKey("down", l.parent))
		if err != nil {
			l.fail(&l.up, err)
			return
		}
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		var ans linkAnswer
		b := linkBatch{Link: n.cfg.Region, From: cursor, To: changes[len(changes)-1].Seq, Head: head, Changes: changes, DownAcked: down}
		err = l.call(ctx, "/internal/v1/uplink", b, &ans)
		cancel()
		if err == nil && ans.Err != nil && ans.Err.Code != "gap" {
			err = ans.Err
		}
		if err != nil {
			l.fail(&l.up, err)
			return
		}
		cursor = ans.Acked // on a gap, the parent's cursor: resend from there
		now := time.Now()
		l.setStatus(&l.up, func(s *LinkStatus) {
			s.State, s.AckedSeq, s.HeadSeq, s.LastContact, s.LastError = "up", cursor, head, now, ""
			s.LagEntries = head - min(head, cursor)
		})
		if cursor >= first && (cursor-first > 4096 || time.Since(lastPrune) > time.Second) {
			l.prune(cursor)
			lastPrune = now
		}
	}
}

// pastHead confirms, after a read barrier (a new leader may not have
// applied everything its predecessor shipped), that cursor is past this
// region's feed head.
func (l *links) pastHead(cursor uint64) bool {
	ctx, cancel := context.WithTimeout(l.n.ctx, 10*time.Second)
	defer cancel()
	if l.n.group.ReadBarrier(ctx) != nil {
		return false
	}
	_, head, err := replication.FeedBounds(l.n.group.Reader())
	return err == nil && cursor > head
}

// prune drops the feed entries the parent has acknowledged and every
// child's downlink has pulled (a child pulls directives, settings and
// forwarded commands from this feed); past the retention bounds it drops
// older ones too (whoever still needed them then resyncs).
func (l *links) prune(acked uint64) {
	n := l.n
	r := n.group.Reader()
	first, head, err := replication.FeedBounds(r)
	if err != nil {
		return
	}
	upto := max(min(acked, childrenPulled(r)), n.retentionFloor(r, first, head))
	if upto < first {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	_, _ = n.proposeEntry(ctx, entryPrune, pruneFeed{Upto: upto})
}

// childrenPulled is the least downlink cursor the children reported on
// their uplinks (no bound when none did).
func childrenPulled(r replication.StateReader) uint64 {
	least := ^uint64(0)
	_ = r.Iterate([]byte(downAckedPrefix), []byte("m/link/downacked0"), func(_, v []byte) bool {
		if len(v) == 8 {
			least = min(least, binary.BigEndian.Uint64(v))
		}
		return true
	})
	return least
}

// runRetention bounds the feed of a region that has no parent to ship to
// (the province, or a region run alone): children pull directives from it,
// and one that falls behind the window is resynced.
func (n *Node) runRetention() {
	for n.sleep(time.Second) {
		n.enforceRetention()
	}
}

// enforceRetention drops feed entries beyond the retention window (leader only).
func (n *Node) enforceRetention() {
	if !n.group.IsLeader() {
		return
	}
	r := n.group.Reader()
	first, head, err := replication.FeedBounds(r)
	if err != nil || head < first {
		return
	}
	upto := n.retentionFloor(r, first, head)
	if upto < first {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	_, _ = n.proposeEntry(ctx, entryPrune, pruneFeed{Upto: upto})
}

// retentionFloor is the last feed entry the retention bounds drop whoever
// still needs it: over feed_retention entries, or appended longer ago than
// feed_retention_age (at most 100,000 a round; the next round takes the
// rest). 0 when nothing is over the bounds.
func (n *Node) retentionFloor(r replication.StateReader, first, head uint64) uint64 {
	var upto uint64
	if keep := uint64(n.cfg.FeedRetention); head > keep && head-keep >= first {
		upto = head - keep // over the size bound
	}
	if age := n.cfg.FeedRetentionAge; age > 0 && head >= first {
		cutoff := time.Now().Add(-age).UnixMilli()
		from := max(upto, first-1)
		_ = r.Iterate(replication.FeedKey(from+1), replication.FeedKey(head+1), func(_, v []byte) bool {
			var c replication.Change
			if json.Unmarshal(v, &c) != nil || c.Appended >= cutoff || c.Seq-from > 100_000 {
				return false
			}
			upto = c.Seq
			return true
		})
	}
	return upto
}

// resyncUp sends the parent a consistent snapshot of this region's subtree
// records and answers the feed sequence the parent now has.
func (l *links) resyncUp() (uint64, error) {
	n := l.n
	l.setStatus(&l.up, func(s *LinkStatus) { s.State = "resyncing" })
	snap := n.st.DB().NewSnapshot()
	defer snap.Close()
	r := replication.SnapshotReader(snap)
	_, head, err := replication.FeedBounds(r)
	if err != nil {
		return 0, err
	}
	idb := make([]byte, 8)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	part := 0
	var items []replication.Change
	size := 0
	send := func(last bool) error {
		ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
		defer cancel()
		var ans linkAnswer
		b := linkBatch{Link: n.cfg.Region, Resync: &resyncPart{ID: id, Part: part, Last: last, Seq: head, Items: items}}
		if err := l.call(ctx, "/internal/v1/uplink", b, &ans); err != nil {
			return err
		}
		if ans.Err != nil {
			return ans.Err
		}
		part++
		items, size = nil, 0
		return nil
	}
	var sendErr error
	err = r.Iterate([]byte("r/"), []byte("r0"), func(k, v []byte) bool {
		key := string(k)
		if strings.HasPrefix(key, "r/users/") {
			return true
		}
		owner := crm.RecordOwner(v)
		if strings.HasPrefix(key, "r/_canary/") {
			owner = strings.TrimPrefix(key, "r/_canary/")
		}
		if !crm.InRegion(owner, n.cfg.Region) {
			return true
		}
		items = append(items, replication.Change{Origin: owner, Key: key, Value: bytes.Clone(v)})
		size += len(k) + len(v)
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
	if err != nil {
		return 0, fmt.Errorf("node: resync to %s: %w", l.parent, err)
	}
	l.setStatus(&l.up, func(s *LinkStatus) { s.Resyncs++; s.State = "up" })
	return head, nil
}

// downlinkRequest asks the parent for directives after From.
type downlinkRequest struct {
	For  string `json:"for"`
	From uint64 `json:"from"`
	Max  int    `json:"max"`
}

type downlinkAnswer struct {
	Changes []replication.Change `json:"changes,omitempty"`
	Scanned uint64               `json:"scanned"`
	Head    uint64               `json:"head"`
	Resync  *resyncPart          `json:"resync,omitempty"` // the feed no longer reaches back to From
}

// runDownlink pulls directives for this branch from the parent while this
// node leads, screens them (screenDownlink) and applies them through this
// region's raft log.
func (l *links) runDownlink() {
	n := l.n
	for n.sleep(n.cfg.DownlinkPoll) {
		if !n.group.IsLeader() {
			l.idle(&l.down)
			continue
		}
		cur, err := replication.GetUint(n.group.Reader(), cursorKey("down", l.parent))
		if err != nil {
			l.fail(&l.down, err)
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		var ans downlinkAnswer
		err = l.call(ctx, "/internal/v1/downlink", downlinkRequest{For: n.cfg.Region, From: cur, Max: n.cfg.LinkBatch}, &ans)
		cancel()
		if err != nil {
			l.fail(&l.down, err)
			continue
		}
		b := linkBatch{Link: l.parent, From: cur, To: ans.Scanned, Head: ans.Head, Changes: ans.Changes}
		if ans.Resync != nil {
			b = linkBatch{Link: l.parent, Resync: ans.Resync}
		}
		if b.Resync != nil || b.To > cur {
			ok, err := n.screenDownlink(&b)
			if err == nil && !ok {
				err = errors.New("node: the parent's downlink answer does not fit its range")
			}
			if err != nil {
				l.fail(&l.down, err)
				continue
			}
			ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
			a, err := n.proposeLink(ctx, entryDownlink, b)
			cancel()
			if err == nil && a.Err != nil && a.Err.Code != "gap" {
				err = a.Err
			}
			if err != nil {
				l.fail(&l.down, err)
				continue
			}
			cur = a.Acked
			if ans.Resync != nil {
				l.setStatus(&l.down, func(s *LinkStatus) { s.Resyncs++ })
			}
		}
		now := time.Now()
		l.setStatus(&l.down, func(s *LinkStatus) {
			s.State, s.AckedSeq, s.HeadSeq, s.LastContact, s.LastError = "up", cur, ans.Head, now, ""
			s.LagEntries = ans.Head - min(ans.Head, cur)
		})
	}
}

// linkHandler is where the parent side of the links is registered.
type linkHandler interface {
	Handle(pattern string, h http.Handler)
}

// linkRoutes registers the parent side of the links: on the internal
// listener without a tunnel, on the tunnel's own server with one. A
// request that does not speak for a child region (authorizeLink) is
// refused before anything of this region's state is read.
func (n *Node) linkRoutes(h linkHandler) {
	h.Handle("POST /internal/v1/uplink", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b linkBatch
		if err := json.Unmarshal(body, &b); err != nil {
			refuse(w, http.StatusBadRequest, &crm.Error{Code: crm.CodeInvalid, Message: fmt.Sprintf("undecodable link batch: %v", err)})
			return
		}
		if rj := n.authorizeLink(r, b.Link); rj != nil {
			n.rejects.add(peerLabel(n.cfg.Region, "", b.Link), "up", b.To, "", rj, "proposal")
			refuse(w, http.StatusForbidden, rj.err)
			return
		}
		rj, c, err := n.screenUplink(&b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if rj != nil {
			seq, key := b.To, ""
			if c != nil {
				seq, key = c.Seq, c.Key
			}
			n.rejects.add(b.Link, "up", seq, key, rj, "proposal")
			refuse(w, http.StatusUnprocessableEntity, rj.err)
			return
		}
		resp, err := n.group.Propose(r.Context(), linkEntry(entryUplink, time.Now(), body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write(resp)
	}))
	h.Handle("POST /internal/v1/downlink", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req downlinkRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if rj := n.authorizeLink(r, req.For); rj != nil {
			refuse(w, http.StatusForbidden, rj.err)
			return
		}
		ans, err := n.downlinkFor(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write(mustJSON(ans))
	}))
}

// refuse answers a link request that is not proposed: the error alone,
// no cursor.
func refuse(w http.ResponseWriter, status int, e *crm.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(mustJSON(struct {
		Err *crm.Error `json:"error"`
	}{e}))
}

// downFor selects what goes down to child: directives addressed to its
// branch, the management settings of regions in its branch, and records of
// its branch written above it (under full management, or a conflict's
// resolution). Nothing the child's subtree wrote goes back down.
func downFor(c *replication.Change, child string) bool {
	if crm.InRegion(c.Origin, child) {
		return false
	}
	switch {
	case strings.HasPrefix(c.Key, "r/directives/"):
		return c.Value == nil || crm.DirectiveFor(c.Value, child)
	case strings.HasPrefix(c.Key, "r/_mgmt/"):
		return c.Key == crm.MgmtKey(child) // a region's setting comes from its parent alone
	case strings.HasPrefix(c.Key, "r/_cmd/"):
		return c.Value != nil && crm.InRegion(crm.ForwardedRegion(c.Value), child)
	case strings.HasPrefix(c.Key, "r/_"), strings.HasPrefix(c.Key, "r/users/"):
		return false
	}
	return c.Owner != "" && crm.InRegion(c.Owner, child)
}

// appendManaged adds to a downlink snapshot for child its management
// setting, the commands forwarded to its branch still pending, and, while
// this region writes the child's records (full management), those records
// as this region holds them.
func appendManaged(r replication.StateReader, items []replication.Change, region, child string) ([]replication.Change, error) {
	v, err := r.Get([]byte(crm.MgmtKey(child)))
	if err != nil {
		return items, err
	}
	if v != nil {
		items = append(items, replication.Change{Origin: region, Key: crm.MgmtKey(child), Value: v})
	}
	pending, err := crm.ForwardedCommands(r, child, crm.CommandPending)
	if err != nil {
		return items, err
	}
	for _, c := range pending {
		if crm.InRegion(c.Owner, child) {
			continue // the child's own, rolled up: nothing comes back down
		}
		raw, _ := json.Marshal(c.ForwardedCommand)
		items = append(items, replication.Change{Origin: c.Owner, Owner: c.Owner, Key: crm.CommandKey(c.ID), Value: raw})
	}
	if w, _, err := crm.WriterOf(r, child); err != nil || w != region {
		return items, err
	}
	for _, coll := range crm.ManagedCollections() {
		p := []byte("r/" + coll + "/")
		err = r.Iterate(p, append(p[:len(p)-1:len(p)-1], '0'), func(k, v []byte) bool {
			if owner := crm.RecordOwner(v); crm.InRegion(owner, child) {
				items = append(items, replication.Change{Origin: region, Owner: owner, Key: string(k), Value: bytes.Clone(v)})
			}
			return true
		})
		if err != nil {
			return items, err
		}
	}
	return items, nil
}

// downlinkFor answers a child's pull (authorizeLink let it in) from this
// node's replica: directives addressed to the child's branch after From,
// or a snapshot of them all when the feed was pruned past From.
func (n *Node) downlinkFor(req downlinkRequest) (downlinkAnswer, error) {
	if req.Max <= 0 || req.Max > 10000 {
		req.Max = 1000
	}
	snap := n.st.DB().NewSnapshot()
	defer snap.Close()
	r := replication.SnapshotReader(snap)
	first, head, err := replication.FeedBounds(r)
	if err != nil {
		return downlinkAnswer{}, err
	}
	forChild := func(c *replication.Change) bool { return downFor(c, req.For) }
	if req.From+1 < first {
		var items []replication.Change
		err := r.Iterate([]byte("r/directives/"), []byte("r/directives0"), func(k, v []byte) bool {
			owner := crm.RecordOwner(v)
			if !crm.InRegion(owner, req.For) && crm.DirectiveFor(v, req.For) {
				items = append(items, replication.Change{Origin: owner, Key: string(k), Value: bytes.Clone(v)})
			}
			return true
		})
		if err == nil {
			items, err = appendManaged(r, items, n.cfg.Region, req.For)
		}
		idb := make([]byte, 8)
		_, _ = rand.Read(idb)
		return downlinkAnswer{Head: head, Scanned: head, Resync: &resyncPart{ID: hex.EncodeToString(idb), Last: true, Seq: head, Items: items}}, err
	}
	changes, scanned, err := replication.ReadFeed(r, req.From, req.Max, 4<<20, forChild)
	return downlinkAnswer{Changes: changes, Scanned: scanned, Head: head}, err
}
