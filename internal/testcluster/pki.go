package testcluster

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"

	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/tiers"
)

// The test roots: one in-memory province root per province, made on first
// use and shared by every cluster of the test binary, so that the regions of
// one hierarchy trust each other as a real province's do.
var (
	rootsMu sync.Mutex
	roots   = map[tiers.RegionCode]*testRoot{}
)

type testRoot struct {
	ca    *pki.CA
	trust *pki.Trust
}

// Root returns the test root of region's province and the trust every
// node of that province holds.
func Root(t testing.TB, region string) (*pki.CA, *pki.Trust) {
	t.Helper()
	code, err := tiers.ParseRegion(region)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	prov := code[:2] // the province: a code's first two digits
	rootsMu.Lock()
	defer rootsMu.Unlock()
	if r := roots[prov]; r != nil {
		return r.ca, r.trust
	}
	ca, err := pki.NewRoot(prov, pki.RootOptions{})
	if err != nil {
		t.Fatalf("testcluster: root: %v", err)
	}
	tr, err := pki.NewTrust(ca.Cert)
	if err != nil {
		t.Fatalf("testcluster: trust: %v", err)
	}
	rl, err := ca.SignCRL(nil, nil, pki.CRLOptions{})
	if err == nil {
		err = tr.UpdateCRL(rl)
	}
	if err != nil {
		t.Fatalf("testcluster: revocation list: %v", err)
	}
	roots[prov] = &testRoot{ca: ca, trust: tr}
	return ca, tr
}

// Issue issues a node certificate for node of region from the test root.
func Issue(t testing.TB, region, node string) *pki.Issued {
	t.Helper()
	ca, _ := Root(t, region)
	id, err := pki.NewIdentity(region, node)
	if err != nil {
		t.Fatalf("testcluster: identity: %v", err)
	}
	is, err := ca.Issue(pki.NodeRequest{Identity: id, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatalf("testcluster: issue %s: %v", id, err)
	}
	return is
}

// Security returns mutual-TLS settings for node of region with a fresh
// certificate from the test root (what a cluster's nodes get, and what a
// test that plays another node, or an attacker holding a certificate of
// some other region, uses).
func Security(t testing.TB, region, node string) *replication.Security {
	t.Helper()
	_, tr := Root(t, region)
	kp, err := pki.NewKeypair(Issue(t, region, node))
	if err != nil {
		t.Fatalf("testcluster: keypair: %v", err)
	}
	sec, err := replication.NewSecurity(tr, kp, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 4})))
	if err != nil {
		t.Fatalf("testcluster: security: %v", err)
	}
	return sec
}

// RogueDialer dials presenting a fresh certificate of node of region from
// the test root and accepts any server of that root: what a node gone
// rogue (or whoever stole its key) can do, so that only the server's checks
// stand between it and the region it calls. It dials through base (a
// tunnel's dialer, say), or plain TCP when base is nil.
func RogueDialer(t testing.TB, region, node string, base replication.Dialer) replication.Dialer {
	t.Helper()
	_, tr := Root(t, region)
	kp, err := pki.NewKeypair(Issue(t, region, node))
	if err != nil {
		t.Fatalf("testcluster: keypair: %v", err)
	}
	cfg, err := pki.DialConfig(tr, kp, func(pki.Identity) error { return nil })
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	if base == nil {
		base = replication.TCPDialer
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := base(ctx, addr)
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
