package replication_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/tiers"
)

// internalClient posts to a node's internal HTTP endpoints through d (which
// decides what the caller presents: nothing, or some node's certificate).
func internalClient(d replication.Dialer) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
		return replication.DialKind(ctx, d, a, replication.KindHTTP)
	}}}
}

func post(cl *http.Client, addr, path string, body []byte) (int, string, error) {
	resp, err := cl.Post("http://"+addr+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// systemEntry is a raft entry a node proposes for a command (entry type 1,
// then the command's JSON): here one that sets a system value as the
// system actor, the shape of the attack that created an admin user.
func systemEntry(t *testing.T, id string) []byte {
	cmd := crm.Command{Op: crm.OpInitSys, ID: id, Body: json.RawMessage(`"forged"`), Region: "320722", Actor: crm.SystemActor, Time: time.Now().UTC()}
	raw, err := json.Marshal(&cmd)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{1}, raw...)
}

// dialLayer is a raft StreamLayer that dials with d: a fake leader speaking
// raft's wire protocol to a node.
type dialLayer struct {
	net.Listener
	d replication.Dialer
}

func (l dialLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return replication.DialKind(ctx, l.d, string(addr), replication.KindRaft)
}

// fakeAppend sends an AppendEntries with a far higher term carrying one
// entry to target, through d; it answers the transport's error.
func fakeAppend(t *testing.T, d replication.Dialer, target string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tr := raft.NewNetworkTransport(dialLayer{Listener: ln, d: d}, 1, 5*time.Second, io.Discard)
	defer tr.Close()
	req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("rogue"), Addr: []byte(ln.Addr().String())},
		Term: 1 << 40, PrevLogEntry: 0, PrevLogTerm: 0, LeaderCommitIndex: 1,
		Entries: []*raft.Log{{Index: 1 << 30, Term: 1 << 40, Type: raft.LogCommand, Data: systemEntry(t, "raft_forgery")}}}
	var resp raft.AppendEntriesResponse
	return tr.AppendEntries(raft.ServerID("n1"), raft.ServerAddress(target), req, &resp)
}

// TestSecurity_InternalEndpointsNeedRegionCertificate is finding 1 of issue
// 13: with mutual TLS, a caller without a certificate cannot open any
// internal connection; a caller holding a valid certificate of another
// region (a sibling county, or the parent city) is refused propose,
// membership, read index and raft; a node of the region itself is served.
// Nothing the refused callers sent is applied, and the region's raft term
// is untouched by the fake leader.
func TestSecurity_InternalEndpointsNeedRegionCertificate(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 3})
	leader := c.Leader()
	addr := c.InternalAddrs()[leader]
	follower := c.InternalAddrs()[(leader+1)%3]
	term := c.Node(leader).Group().Raft().CurrentTerm()

	plain := internalClient(replication.TCPDialer)
	if code, body, err := post(plain, addr, "/internal/v1/propose", systemEntry(t, "plain_forgery")); err == nil {
		t.Errorf("plaintext propose answered %d %s; want the connection refused", code, body)
	}
	if code, body, err := post(plain, addr, "/internal/v1/members", []byte(`{"op":"add","id":"rogue","addr":"127.0.0.1:1"}`)); err == nil {
		t.Errorf("plaintext membership answered %d %s", code, body)
	}
	if err := fakeAppend(t, replication.TCPDialer, follower); err == nil {
		t.Error("plaintext AppendEntries from a fake leader was answered")
	}

	// Another root of the same province: the handshake fails.
	if _, _, err := post(internalClient(foreignPeer(t, "320722", "n9")), addr, "/internal/v1/propose", systemEntry(t, "foreign_forgery")); err == nil {
		t.Error("a certificate of another root was let in")
	}

	// Valid certificates of other regions. Their dialler must accept the
	// region's node as the answerer, so they dial with their own rule
	// relaxed: the server's refusal is what is tested.
	for _, who := range []struct{ region, node string }{{"320723", "gn1"}, {"3207", "hy1"}, {"32", "gy1"}} {
		d := testcluster.RogueDialer(t, who.region, who.node, nil)
		cl := internalClient(d)
		for _, p := range []struct{ path, body string }{
			{"/internal/v1/propose", string(systemEntry(t, "sibling_forgery"))},
			{"/internal/v1/members", `{"op":"add","id":"rogue","addr":"127.0.0.1:1"}`},
			{"/internal/v1/readindex", ``},
		} {
			code, body, err := post(cl, addr, p.path, []byte(p.body))
			if err != nil || code != http.StatusForbidden || !strings.Contains(body, "320722") {
				t.Errorf("%s/%s %s: %d %q %v; want 403 naming the region", who.region, who.node, p.path, code, body, err)
			}
		}
		if err := fakeAppend(t, d, follower); err == nil {
			t.Errorf("%s/%s: AppendEntries from another region's certificate was answered", who.region, who.node)
		}
	}

	// A node of the region is served (the same request as the forgeries).
	own := testcluster.RogueDialer(t, "320722", "n7", nil)
	if code, body, err := post(internalClient(own), addr, "/internal/v1/readindex", nil); err != nil || code != http.StatusOK {
		t.Fatalf("read index from a node of the region: %d %s %v", code, body, err)
	}

	for _, n := range c.Live() {
		if err := n.ReadBarrier(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"plain_forgery", "foreign_forgery", "sibling_forgery", "raft_forgery"} {
			if v, err := crm.System(n.Reader(), id); err != nil || v != nil {
				t.Errorf("%s: forged system value %s = %s, %v", n.Config().NodeID, id, v, err)
			}
		}
		servers, _ := n.Group().Servers()
		for _, s := range servers {
			if s.ID == "rogue" {
				t.Errorf("%s: rogue voter added", n.Config().NodeID)
			}
		}
	}
	if got := c.Node(leader).Group().Raft().CurrentTerm(); got > term+2 {
		t.Errorf("term went from %d to %d: the fake leader's term reached the region", term, got)
	}
	refused := uint64(0)
	for _, n := range c.Live() {
		refused += n.Config().Security.Refused.Load() + n.Config().Security.RefusedCalls.Load()
	}
	if refused == 0 {
		t.Error("no refusal was counted")
	}
}

// foreignPeer presents a node certificate of region/node from a root that
// is not the test root (same province code, another key), and accepts any
// server: only the server's check can refuse it.
func foreignPeer(t *testing.T, region, node string) replication.Dialer {
	ca, err := pki.NewRoot(tiers.RegionCode(region[:2]), pki.RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := pki.NewIdentity(region, node)
	is, err := ca.Issue(pki.NodeRequest{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{is.Cert.Raw}, PrivateKey: is.Key, Leaf: is.Cert}
	return tlsDialer(&tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}})
}

func tlsDialer(cfg *tls.Config) replication.Dialer {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := replication.TCPDialer(ctx, addr)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
}
