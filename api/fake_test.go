package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/ops"
	"gridcrm/tiers"
)

// fakeBackend is an api.Backend in memory (rqlite's MockStore pattern): a
// crm.MemTxn that every proposal is applied to at once, in order, as the
// node's applier applies a committed command (the command and its Result
// cross JSON as through the raft log; a command of another region or by a
// disabled user is refused). There is no raft group, no link, no
// aggregates and no tunnel. Handler tests whose subject is the HTTP layer
// (input validation, roles, tokens, the error shape, OpenAPI, routing of
// writes) run on it in milliseconds instead of starting a node; what needs
// replication, leadership, links or the materialised counters stays on
// internal/testcluster.
type fakeBackend struct {
	region string
	mu     sync.RWMutex
	tx     *crm.MemTxn
	log    []crm.Command // every command applied, in order
	// follower makes Cluster answer that another node leads (the
	// schedule runs on the leader only).
	follower atomic.Bool
}

func newFakeBackend(region string) *fakeBackend {
	return &fakeBackend{region: region, tx: crm.NewMemTxn()}
}

func (b *fakeBackend) Propose(ctx context.Context, cmd *crm.Command) (crm.Result, error) {
	if err := ctx.Err(); err != nil {
		return crm.Result{}, err
	}
	raw, err := json.Marshal(cmd)
	if err != nil {
		return crm.Result{}, err
	}
	var c crm.Command
	if err := json.Unmarshal(raw, &c); err != nil {
		return crm.Result{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	res := b.apply(&c)
	b.log = append(b.log, c)
	out, _ := json.Marshal(res)
	var ans crm.Result
	if err := json.Unmarshal(out, &ans); err != nil {
		return crm.Result{}, err
	}
	return ans, nil
}

// apply is node's applier for a command made here (node/applier.go).
func (b *fakeBackend) apply(c *crm.Command) crm.Result {
	if c.Region != b.region {
		return crm.Result{Err: &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: b.region,
			Message: fmt.Sprintf("a command of region %q cannot be applied in region %s", c.Region, b.region)}}
	}
	if c.Actor != crm.SystemActor && c.Op != crm.OpInitSys {
		u, err := crm.UserByName(b.tx, c.Actor)
		if err != nil {
			return crm.Result{Err: crm.AsError(err)}
		}
		if u == nil || u.Disabled {
			return crm.Result{Err: &crm.Error{Code: "forbidden", Message: "user " + c.Actor + " is disabled or no longer exists; nothing was written"}}
		}
	}
	return crm.Apply(b.tx, c)
}

// commands answers the commands applied so far.
func (b *fakeBackend) commands() []crm.Command {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return append([]crm.Command(nil), b.log...)
}

func (b *fakeBackend) ReadBarrier(ctx context.Context) error { return ctx.Err() }
func (b *fakeBackend) Reader() crm.Reader                    { return lockedReader{b} }
func (b *fakeBackend) Ready() error                          { return nil }
func (b *fakeBackend) Cluster() api.ClusterInfo {
	if b.follower.Load() {
		return api.ClusterInfo{Region: b.region, Tier: string(tiers.RegionCode(b.region).Tier()), Node: "fake-1", State: "Follower",
			LeaderID: "fake-2", LeaderAddr: "fake:2", Members: []api.Member{{ID: "fake-1", Addr: "fake:1"}, {ID: "fake-2", Addr: "fake:2", Leader: true}}}
	}
	return api.ClusterInfo{Region: b.region, Tier: string(tiers.RegionCode(b.region).Tier()), Node: "fake-1", State: "Leader",
		LeaderID: "fake-1", LeaderAddr: "fake:1", Members: []api.Member{{ID: "fake-1", Addr: "fake:1", Leader: true}}}
}
func (b *fakeBackend) SyncStatus() []api.LinkStatus  { return nil }
func (b *fakeBackend) TunnelPeers() []api.TunnelPeer { return nil }
func (b *fakeBackend) Freshness(region string, subtree bool) map[string]api.Freshness {
	return map[string]api.Freshness{}
}
func (b *fakeBackend) AddVoter(ctx context.Context, id, addr string) error {
	return errors.New("the fake backend has no raft group")
}
func (b *fakeBackend) RemoveServer(ctx context.Context, id string) error {
	return errors.New("the fake backend has no raft group")
}

// lockedReader reads the fake's state under its lock.
type lockedReader struct{ b *fakeBackend }

func (r lockedReader) Get(key []byte) ([]byte, error) {
	r.b.mu.RLock()
	defer r.b.mu.RUnlock()
	return r.b.tx.Get(key)
}

// Iterate reads the range under the lock and calls fn after it is
// released: fn may read again (a nested read lock would deadlock behind a
// waiting Propose), and sees the range as it was, as a Pebble iterator
// does. The lock is the writer's: MemTxn.Iterate sorts its keys again
// after a write, so two reads side by side (the analytics run's workers)
// must not both do it.
func (r lockedReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	var kvs [][2][]byte
	r.b.mu.Lock()
	err := r.b.tx.Iterate(lower, upper, func(k, v []byte) bool {
		kvs = append(kvs, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		return true
	})
	r.b.mu.Unlock()
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if !fn(kv[0], kv[1]) {
			break
		}
	}
	return nil
}

// fakeRegion is one region's API served over a fakeBackend, with its
// token key and bootstrap admin (password testcluster.AdminPassword), as a
// node would have them once started.
type fakeRegion struct {
	b   *fakeBackend
	cfg api.Config
	srv *api.Server
	url string
}

// newFake serves region code over a fake backend until the test ends.
func newFake(t testing.TB, code string) *fakeRegion {
	t.Helper()
	b := newFakeBackend(code)
	key, _ := json.Marshal(fmt.Sprintf("%064x", time.Now().UnixNano()))
	ctx := context.Background()
	if res, err := b.Propose(ctx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: key, Region: code, Actor: crm.SystemActor, Time: time.Now().UTC()}); err != nil || res.Err != nil {
		t.Fatalf("token key: %v %v", err, res.Err)
	}
	f := &fakeRegion{b: b, cfg: api.Config{Region: code, Tier: string(tiers.RegionCode(code).Tier()), NodeID: code + "-fake",
		ForwardWait: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	f.srv = api.New(f.cfg, b, ops.NewRegistry())
	if _, err := f.srv.BootstrapAdmin(ctx, testcluster.AdminPassword); err != nil {
		t.Fatalf("bootstrap admin: %v", err)
	}
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// admin logs in as the bootstrap admin.
func (f *fakeRegion) admin(t testing.TB) client {
	t.Helper()
	return login(t, f.url, "admin", testcluster.AdminPassword)
}

// shadow is a second server over the same backend whose tokens live ttl.
func (f *fakeRegion) shadow(ttl time.Duration) *api.Server {
	cfg := f.cfg
	cfg.TokenTTL = ttl
	return api.New(cfg, f.b, ops.NewRegistry())
}

// TestFakeBackend_AppliesAsTheNode: a write through the fake is applied
// once and read back; a command naming another region, or by a user who
// is disabled, is refused as the node's applier refuses it.
func TestFakeBackend_AppliesAsTheNode(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	id := admin.create("customers", customerBody("F-1"))
	if st, out := admin.do("GET", "/api/v1/customers/"+id, nil); st != 200 {
		t.Fatalf("read back: %d %s", st, out)
	}
	ctx := context.Background()
	res, err := f.b.Propose(ctx, &crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", time.Now()),
		Body: json.RawMessage(customerBody("F-2").String()), Region: otherRegion, Actor: "admin", Time: time.Now().UTC()})
	if err != nil || res.Err == nil || res.Err.Code != crm.CodeWrongOwner {
		t.Errorf("a command of region %s: %v %+v; want wrong_owner", otherRegion, err, res.Err)
	}
	res, err = f.b.Propose(ctx, &crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", time.Now()),
		Body: json.RawMessage(customerBody("F-3").String()), Region: region, Actor: "nobody", Time: time.Now().UTC()})
	if err != nil || res.Err == nil || res.Err.Code != "forbidden" {
		t.Errorf("a command by an unknown user: %v %+v; want forbidden", err, res.Err)
	}
}
