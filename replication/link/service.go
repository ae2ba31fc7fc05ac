package link

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"gridcrm/replication"
	"gridcrm/store"
)

// Group is the region's raft group as the links use it; *replication.Group
// satisfies it. Every method may be called from any goroutine.
type Group interface {
	// IsLeader reports whether this node leads the region now.
	IsLeader() bool
	// Reader reads this node's replica as it is now.
	Reader() replication.StateReader
	// Propose commits data through the region's raft log and answers the
	// applier's answer (ctx bounds the wait).
	Propose(ctx context.Context, data []byte) ([]byte, error)
	// ReadBarrier waits until this node has applied everything committed
	// before the call.
	ReadBarrier(ctx context.Context) error
}

// Config is what a Service needs. Region, Group, Store and Domain are
// required; Client too when there is a Parent.
type Config struct {
	Region      string   // this region
	Parent      string   // its parent region; "" for a province or a region run alone
	ParentNodes []string // the parent's nodes' internal addresses (host:port)

	Group  Group
	Store  *store.Store // for consistent snapshots (resyncs, downlink answers)
	Domain Domain
	// Metrics counts traffic and refusals; nil counts nothing. Share it
	// with the region's Applier so that the status shows both.
	Metrics *Metrics
	Logger  *slog.Logger // default slog.Default()

	// Client carries the requests to the parent's nodes (http://<addr>/…).
	// The wiring builds it (dialer, TLS); the Service only wraps a copy's
	// Transport to count bytes and never changes Client itself.
	Client *http.Client
	// Authenticate, when set, is asked on the parent side whether request r
	// may speak for claimed, the child region it names (an uplink batch's
	// link, a downlink request's "for"), before anything of this region's
	// state is read. An error is answered 403 with a JSON error that says
	// nothing of the state; nil Authenticate accepts every caller
	// (plaintext mode).
	Authenticate func(r *http.Request, claimed string) error

	Batch        int           // changes per uplink/downlink batch; default 2000
	DownlinkPoll time.Duration // how often the leader pulls from the parent; default 200ms
	// FeedRetention bounds the feed kept beyond what the parent and the
	// children have taken (entries); default 1,000,000. FeedRetentionAge
	// drops entries appended longer ago even so (whoever needed them then
	// resyncs); 0: no age bound.
	FeedRetention    int
	FeedRetentionAge time.Duration
}

func (c *Config) fill() error {
	switch {
	case c.Region == "":
		return errors.New("link: Config.Region is required")
	case c.Group == nil || c.Store == nil || c.Domain == nil:
		return errors.New("link: Config.Group, Store and Domain are required")
	case c.Parent != "" && c.Client == nil:
		return errors.New("link: Config.Client is required with a parent")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Batch <= 0 {
		c.Batch = 2000
	}
	if c.DownlinkPoll <= 0 {
		c.DownlinkPoll = 200 * time.Millisecond
	}
	if c.FeedRetention <= 0 {
		c.FeedRetention = 1_000_000
	}
	return nil
}

// Service runs this region's side of its links: toward the parent, the
// uplink (shipping this region's feed) and the downlink (pulling what goes
// down), both while this node leads; toward the children, the HTTP
// handlers they call (Routes); and the feed's retention. Its methods may be
// called from any goroutine.
type Service struct {
	cfg    Config
	d      Domain
	m      *Metrics
	log    *slog.Logger
	client *http.Client
	newID  func() string // resync ids; random

	mu   sync.Mutex // guards up, down, next
	up   Status
	down Status
	next int // index in ParentNodes to try first
}

// New returns the Service of cfg.Region. It starts nothing: the wiring
// runs RunUplink, RunDownlink (with a parent) or RunRetention (without)
// and registers Routes.
func New(cfg Config) (*Service, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, d: cfg.Domain, m: cfg.Metrics, log: cfg.Logger, newID: randomID}
	if cfg.Parent != "" {
		s.up = Status{Peer: cfg.Parent, Direction: "up", State: StateIdle}
		s.down = Status{Peer: cfg.Parent, Direction: "down", State: StateIdle}
		c := *cfg.Client // a copy: the caller's client stays as it is
		rt := c.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		c.Transport = s.m.transport(cfg.Parent, rt)
		s.client = &c
	}
	return s, nil
}

// call posts body to path on one of the parent's nodes, trying each once,
// from the one that answered last. When none answers, the next call
// starts from the node after the one this call started from: a node that
// takes the whole ctx (powered off behind a tunnel, its pooled connection
// dead without a reset: nothing answers, nothing refuses) must not be
// tried first forever while the region's other nodes are up.
func (s *Service) call(ctx context.Context, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	nodes := s.cfg.ParentNodes
	s.mu.Lock()
	start := s.next
	s.mu.Unlock()
	var errs []error
	for i := range nodes {
		addr := nodes[(start+i)%len(nodes)]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		resp, err := s.client.Do(req)
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
		s.mu.Lock()
		s.next = (start + i) % len(nodes)
		s.mu.Unlock()
		return json.Unmarshal(data, out)
	}
	s.mu.Lock()
	if s.next == start && len(nodes) > 0 { // unless another call has moved it since
		s.next = (start + 1) % len(nodes)
	}
	s.mu.Unlock()
	return fmt.Errorf("link: parent %s unreachable: %w", s.cfg.Parent, errors.Join(errs...))
}

// propose commits a link entry and decodes the applier's answer.
func (s *Service) propose(ctx context.Context, data []byte) (Answer, error) {
	resp, err := s.cfg.Group.Propose(ctx, data)
	if err != nil {
		return Answer{}, err
	}
	var a Answer
	return a, json.Unmarshal(resp, &a)
}

// proposeBatch commits batch b as an entry of kind, stamped now.
func (s *Service) proposeBatch(ctx context.Context, kind byte, b Batch) (Answer, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return Answer{}, err
	}
	return s.propose(ctx, Entry(kind, time.Now(), raw))
}

// proposePrune commits an EntryPrune up to upto.
func (s *Service) proposePrune(ctx context.Context, upto uint64) {
	raw, _ := json.Marshal(Prune{Upto: upto})
	_, _ = s.propose(ctx, append([]byte{EntryPrune}, raw...))
}

// snapshot opens a consistent view of the replica; close it after use.
func (s *Service) snapshot() (replication.StateReader, func()) {
	snap := s.cfg.Store.DB().NewSnapshot()
	return replication.SnapshotReader(snap), func() { snap.Close() }
}

// sleep waits d or until ctx ends; false when it ends.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
