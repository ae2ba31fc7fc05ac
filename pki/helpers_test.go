package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"gridcrm/tiers"
)

// testRoot is an in-memory province root with its trust (root list loaded).
type testRoot struct {
	ca    *CA
	trust *Trust
}

func newTestRoot(t *testing.T, province tiers.RegionCode) *testRoot {
	t.Helper()
	ca, err := NewRoot(province, RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrust(ca.Cert)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := ca.SignCRL(nil, nil, CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	return &testRoot{ca: ca, trust: tr}
}

func mustID(t *testing.T, region, node string) Identity {
	t.Helper()
	id, err := NewIdentity(region, node)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// issue issues a node certificate for region/node from ca with IP
// 127.0.0.1 and DNS <node>.internal.
func issue(t *testing.T, ca *CA, region, node string) *Issued {
	t.Helper()
	is, err := ca.Issue(NodeRequest{Identity: mustID(t, region, node), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNS: []string{node + ".internal"}})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func keypair(t *testing.T, is *Issued) *Keypair {
	t.Helper()
	kp, err := NewKeypair(is)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func serverConfig(t *testing.T, tr *Trust, is *Issued, auth Authorizer) *tls.Config {
	t.Helper()
	c, err := ServerConfig(tr, keypair(t, is), auth)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func clientConfig(t *testing.T, tr *Trust, is *Issued, auth Authorizer) *tls.Config {
	t.Helper()
	c, err := ClientConfig(tr, keypair(t, is), auth)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// result is one side of a handshake: its connection state and its error
// (from the handshake or from the one-byte exchange that follows, which is
// where a TLS 1.3 client learns that the server refused its certificate).
type result struct {
	state tls.ConnectionState
	err   error
}

// handshake connects a client and a server over an in-memory pipe, the
// client asking for serverName; the server then sends one byte the client
// reads.
func handshake(t *testing.T, scfg, ccfg *tls.Config, serverName string) (srv, cli result) {
	t.Helper()
	a, b := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	cc := ccfg.Clone()
	cc.ServerName = serverName
	s, c := tls.Server(a, scfg), tls.Client(b, cc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer a.Close()
		if srv.err = s.Handshake(); srv.err == nil {
			srv.state = s.ConnectionState()
			_, srv.err = s.Write([]byte{1})
		}
	}()
	func() {
		defer b.Close()
		if cli.err = c.Handshake(); cli.err == nil {
			cli.state = c.ConnectionState()
			_, cli.err = c.Read(make([]byte, 1))
		}
	}()
	<-done
	return srv, cli
}

// everyRoot returns the certificates of chain as a verified chain would
// hold them, root last.
func chainOf(is *Issued, root *x509.Certificate) []*x509.Certificate {
	return append(append([]*x509.Certificate{is.Cert}, is.Chain...), root)
}
