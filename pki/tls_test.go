package pki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHandshake_SameRootSucceeds: two nodes of one region with certificates
// from the same root complete a mutual TLS 1.3 handshake, and PeerIdentity
// on each side names the other node.
func TestHandshake_SameRootSucceeds(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	srv, cli := handshake(t, serverConfig(t, root.trust, a, nil), clientConfig(t, root.trust, b, nil), "127.0.0.1")
	if srv.err != nil || cli.err != nil {
		t.Fatalf("server: %v; client: %v", srv.err, cli.err)
	}
	if srv.state.Version != tls.VersionTLS13 {
		t.Errorf("version %x; want TLS 1.3", srv.state.Version)
	}
	peer, err := PeerIdentity(srv.state)
	if err != nil || peer.String() != "gridcrm://32/3207/320722/dh2" {
		t.Errorf("server sees %v, %v; want dh2", peer, err)
	}
	peer, err = PeerIdentity(cli.state)
	if err != nil || peer.String() != "gridcrm://32/3207/320722/dh1" {
		t.Errorf("client sees %v, %v; want dh1", peer, err)
	}
	if err := Authorize(ServiceRaft, b.identity(t), peer); err != nil {
		t.Errorf("dh2 refuses raft from dh1 of its own region: %v", err)
	}
}

func (is *Issued) identity(t *testing.T) Identity {
	t.Helper()
	id, err := IdentityOf(is.Cert)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestHandshake_OverTCP: tls.Dial takes the server name from the address
// dialled, so a plain dial of 127.0.0.1 checks the server's IP SAN.
func TestHandshake_OverTCP(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "3207", "hy1"), issue(t, root.ca, "320722", "dh1")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverConfig(t, root.trust, a, func(p Identity) error {
		return Authorize(ServiceUplink, a.identity(t), p)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- err
			return
		}
		p, err := PeerIdentity(tc.ConnectionState())
		if err == nil {
			err = Authorize(ServiceUplink, a.identity(t), p)
		}
		got <- err
		tc.Write([]byte{1})
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), clientConfig(t, root.trust, b, func(p Identity) error {
		return AuthorizeDial(ServiceUplink, b.identity(t), p)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestHandshake_OtherRootRefused: a certificate from another province's
// root (or another root for the same province) is refused both ways.
func TestHandshake_OtherRootRefused(t *testing.T) {
	root, other := newTestRoot(t, "32"), newTestRoot(t, "32")
	good, foreign := issue(t, root.ca, "320722", "dh1"), issue(t, other.ca, "320722", "dh2")
	// The client trusts root (so it accepts the server) but presents a
	// certificate from the other root.
	srv, _ := handshake(t, serverConfig(t, root.trust, good, nil), clientConfig2(root.trust, foreign), "127.0.0.1")
	if srv.err == nil || !strings.Contains(srv.err.Error(), "unknown authority") {
		t.Errorf("server accepted a client from another root: %v", srv.err)
	}
	_, cli := handshake(t, serverConfig2(root.trust, foreign), clientConfig(t, root.trust, good, nil), "127.0.0.1")
	if cli.err == nil || !strings.Contains(cli.err.Error(), "unknown authority") {
		t.Errorf("client accepted a server from another root: %v", cli.err)
	}
	if _, err := ServerConfig(root.trust, keypair(t, foreign), nil); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ServerConfig with a certificate the trust does not verify: %v", err)
	}
}

// TestHandshake_ExpiredRefused: a certificate past its NotAfter is refused.
func TestHandshake_ExpiredRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	good := issue(t, root.ca, "320722", "dh1")
	old, err := root.ca.Issue(NodeRequest{Identity: mustID(t, "320722", "dh2"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Days: 30,
		Now: func() time.Time { return time.Now().Add(-31 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	// NewKeypair refuses an expired certificate, so present it directly.
	ccfg := clientConfig(t, root.trust, good, nil)
	ccfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &tls.Certificate{Certificate: [][]byte{old.Cert.Raw}, PrivateKey: old.Key}, nil
	}
	srv, _ := handshake(t, serverConfig(t, root.trust, good, nil), ccfg, "127.0.0.1")
	if srv.err == nil || !strings.Contains(srv.err.Error(), "expired") {
		t.Errorf("server accepted an expired client certificate: %v", srv.err)
	}
	if _, err := NewKeypair(old); !errors.Is(err, ErrCertFile) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("NewKeypair(expired) = %v", err)
	}
}

// TestHandshake_RevokedRefused: once the trust holds a list naming a
// certificate, the certificate is refused whichever side presents it.
func TestHandshake_RevokedRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	scfg, ccfg := serverConfig(t, root.trust, a, nil), clientConfig(t, root.trust, b, nil)
	if srv, cli := handshake(t, scfg, ccfg, "127.0.0.1"); srv.err != nil || cli.err != nil {
		t.Fatalf("before revocation: %v / %v", srv.err, cli.err)
	}
	rl, err := root.ca.SignCRL(root.trust.CRL(root.ca.Cert), []*big.Int{b.Cert.SerialNumber}, CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.trust.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	// The configs built before the update consult the new list.
	srv, _ := handshake(t, scfg, ccfg, "127.0.0.1")
	if !errors.Is(srv.err, ErrRevoked) || !strings.Contains(srv.err.Error(), FormatSerial(b.Cert.SerialNumber)) {
		t.Errorf("server accepted a revoked client: %v", srv.err)
	}
	// b as the server: the client (a) refuses it.
	_, cli := handshake(t, serverConfig2(root.trust, b), clientConfig(t, root.trust, a, nil), "127.0.0.1")
	if !errors.Is(cli.err, ErrRevoked) {
		t.Errorf("client accepted a revoked server: %v", cli.err)
	}
}

// serverConfig2 builds a server config without checkSelf, for a node whose
// own certificate is revoked.
func serverConfig2(tr *Trust, is *Issued) *tls.Config {
	kp := &Keypair{cert: &tls.Certificate{Certificate: [][]byte{is.Cert.Raw}, PrivateKey: is.Key, Leaf: is.Cert}}
	return &tls.Config{MinVersion: tls.VersionTLS13, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.current(), nil },
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: tr.pool, VerifyConnection: verifyConnection(tr, nil)}
}

// TestHandshake_WrongRegionRefused: a certificate of region A is refused
// where region B is required, by the Authorizer during the handshake, and
// by Authorize for a service after it.
func TestHandshake_WrongRegionRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	dh1, gn1 := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320723", "gn1")
	self := dh1.identity(t)
	raftOnly := func(p Identity) error { return Authorize(ServiceRaft, self, p) }
	srv, cli := handshake(t, serverConfig(t, root.trust, dh1, raftOnly), clientConfig(t, root.trust, gn1, nil), "127.0.0.1")
	if !errors.Is(srv.err, ErrForbidden) || !strings.Contains(srv.err.Error(), "320723/gn1") {
		t.Errorf("server let county 320723 into 320722's raft: %v", srv.err)
	}
	if cli.err == nil {
		t.Error("client did not learn of the refusal")
	}
	// Dialling: a county node that means to reach its own region refuses
	// a server of another region.
	wantSame := func(p Identity) error { return AuthorizeDial(ServiceRaft, gn1.identity(t), p) }
	_, cli = handshake(t, serverConfig(t, root.trust, dh1, nil), clientConfig(t, root.trust, gn1, wantSame), "127.0.0.1")
	if !errors.Is(cli.err, ErrForbidden) {
		t.Errorf("client accepted a server of another region: %v", cli.err)
	}
	// Without an Authorizer the handshake passes; the per-service check
	// after it refuses.
	srv, cli = handshake(t, serverConfig(t, root.trust, dh1, nil), clientConfig(t, root.trust, gn1, nil), "127.0.0.1")
	if srv.err != nil || cli.err != nil {
		t.Fatal(srv.err, cli.err)
	}
	peer, err := PeerIdentity(srv.state)
	if err != nil {
		t.Fatal(err)
	}
	if err := Authorize(ServiceMembership, self, peer); !errors.Is(err, ErrForbidden) {
		t.Errorf("membership from another region: %v", err)
	}
	if err := Authorize(ServiceUplink, self, peer); !errors.Is(err, ErrForbidden) {
		t.Errorf("uplink from a sibling: %v", err)
	}
}

// TestHandshake_WrongServerNameRefused: the dialler checks the server's
// DNS/IP SANs against the name it dialled.
func TestHandshake_WrongServerNameRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	if _, cli := handshake(t, serverConfig(t, root.trust, a, nil), clientConfig(t, root.trust, b, nil), "dh1.internal"); cli.err != nil {
		t.Fatalf("DNS SAN: %v", cli.err)
	}
	_, cli := handshake(t, serverConfig(t, root.trust, a, nil), clientConfig(t, root.trust, b, nil), "10.0.0.9")
	if cli.err == nil || !strings.Contains(cli.err.Error(), "10.0.0.9") {
		t.Errorf("client accepted a server for an address not in its SANs: %v", cli.err)
	}
}

// TestHandshake_OldTLSRefused: a client offering at most TLS 1.2 is refused.
func TestHandshake_OldTLSRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	ccfg := clientConfig(t, root.trust, b, nil)
	ccfg.MinVersion, ccfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	srv, _ := handshake(t, serverConfig(t, root.trust, a, nil), ccfg, "127.0.0.1")
	if srv.err == nil || !strings.Contains(srv.err.Error(), "version") {
		t.Errorf("server accepted TLS 1.2: %v", srv.err)
	}
}

// TestHandshake_NoClientCertRefused: mutual authentication is required.
func TestHandshake_NoClientCertRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	a := issue(t, root.ca, "320722", "dh1")
	ccfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: root.trust.pool}
	srv, _ := handshake(t, serverConfig(t, root.trust, a, nil), ccfg, "127.0.0.1")
	if srv.err == nil || !strings.Contains(srv.err.Error(), "certificate") {
		t.Errorf("server accepted a client without a certificate: %v", srv.err)
	}
}

// TestHandshake_Intermediates: a city intermediate's node certificates are
// accepted once the trust knows the intermediate and its list; a
// certificate it signs for a region outside its city is refused, as is any
// certificate from an intermediate whose list is not loaded.
func TestHandshake_Intermediates(t *testing.T) {
	root := newTestRoot(t, "32")
	inter, err := root.ca.NewIntermediate("3207", CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := issue(t, root.ca, "3208", "ha1")
	b := issue(t, inter, "320722", "dh1")
	if len(b.Chain) != 1 {
		t.Fatalf("chain of %d; want the intermediate", len(b.Chain))
	}
	// The trust does not know the intermediate: no list, fail closed.
	srv, _ := handshake(t, serverConfig(t, root.trust, a, nil), clientConfig2(root.trust, b), "127.0.0.1")
	if !errors.Is(srv.err, ErrStaleCRL) {
		t.Errorf("unknown intermediate: %v; want ErrStaleCRL", srv.err)
	}
	tr, err := NewTrust(root.ca.Cert, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range []*CA{root.ca, inter} {
		rl, err := ca.SignCRL(nil, nil, CRLOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.UpdateCRL(rl); err != nil {
			t.Fatal(err)
		}
	}
	srv, cli := handshake(t, serverConfig(t, tr, a, nil), clientConfig(t, tr, b, nil), "127.0.0.1")
	if srv.err != nil || cli.err != nil {
		t.Fatalf("intermediate-issued client: %v / %v", srv.err, cli.err)
	}
	if p, err := PeerIdentity(srv.state); err != nil || p.Short() != "320722/dh1" || len(srv.state.VerifiedChains[0]) != 3 {
		t.Errorf("peer %v, %v", p, err)
	}
	// The intermediate refuses to issue outside 3207 ...
	if _, err := inter.Issue(NodeRequest{Identity: mustID(t, "320803", "x1")}); !errors.Is(err, ErrAuthority) {
		t.Errorf("intermediate 3207 issued for 320803: %v", err)
	}
	// ... and a certificate forged with its key is refused by the verifier.
	forged := forge(t, inter, "gridcrm://32/3208/320803/x1")
	srv, _ = handshake(t, serverConfig(t, tr, a, nil), clientConfig2(tr, forged), "127.0.0.1")
	if !errors.Is(srv.err, ErrUntrusted) || !strings.Contains(srv.err.Error(), "may vouch only for region 3207") {
		t.Errorf("out-of-scope certificate from intermediate: %v", srv.err)
	}
	// Revoking the intermediate (on the root's list) refuses its nodes.
	rl, err := root.ca.SignCRL(tr.CRL(root.ca.Cert), []*big.Int{inter.Cert.SerialNumber}, CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	srv, _ = handshake(t, serverConfig(t, tr, a, nil), clientConfig2(tr, b), "127.0.0.1")
	if !errors.Is(srv.err, ErrRevoked) || !strings.Contains(srv.err.Error(), "gridcrm CA 3207") {
		t.Errorf("revoked intermediate: %v", srv.err)
	}
}

// clientConfig2 builds a client config without checkSelf, presenting is
// with its chain.
func clientConfig2(tr *Trust, is *Issued) *tls.Config {
	tc := &tls.Certificate{Certificate: [][]byte{is.Cert.Raw}, PrivateKey: is.Key, Leaf: is.Cert}
	for _, c := range is.Chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: tr.pool, VerifyConnection: verifyConnection(tr, nil),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return tc, nil }}
}

// forge signs, with ca's key but bypassing CA.Issue's checks, a node
// certificate with the given URI.
func forge(t *testing.T, ca *CA, uri string) *Issued {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "forged"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, URIs: []*url.URL{u}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Issued{Cert: c, Key: key, Chain: ca.Chain}
}

// TestHandshake_StaleCRLRefused: when the loaded list passes its next
// update, connections are refused until a fresh list is loaded.
func TestHandshake_StaleCRLRefused(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	scfg, ccfg := serverConfig(t, root.trust, a, nil), clientConfig(t, root.trust, b, nil)
	later := time.Now().Add(time.Duration(DefaultCRLDays+1) * 24 * time.Hour)
	root.trust.now = func() time.Time { return later }
	scfg.Time, ccfg.Time = time.Now, time.Now // certificates still current; only the list is stale
	// Both sides share the trust; the client checks the server first.
	_, cli := handshake(t, scfg, ccfg, "127.0.0.1")
	if !errors.Is(cli.err, ErrStaleCRL) {
		t.Errorf("stale list: %v; want ErrStaleCRL", cli.err)
	}
	rl, err := root.ca.SignCRL(root.trust.CRL(root.ca.Cert), nil, CRLOptions{Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.trust.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	if srv, cli := handshake(t, scfg, ccfg, "127.0.0.1"); srv.err != nil || cli.err != nil {
		t.Errorf("after a fresh list: %v / %v", srv.err, cli.err)
	}
}

// TestTrust_UpdateCRL: versioning and signature checks on lists.
func TestTrust_UpdateCRL(t *testing.T) {
	root, other := newTestRoot(t, "32"), newTestRoot(t, "32")
	first := root.trust.CRL(root.ca.Cert)
	second, err := root.ca.SignCRL(first, []*big.Int{big.NewInt(7)}, CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Number.Int64() != 2 || len(second.RevokedCertificateEntries) != 1 {
		t.Fatalf("second list: number %v, %d entries", second.Number, len(second.RevokedCertificateEntries))
	}
	if err := root.trust.UpdateCRL(second); err != nil {
		t.Fatal(err)
	}
	if err := root.trust.UpdateCRL(second); err != nil {
		t.Errorf("the same list again: %v", err)
	}
	if err := root.trust.UpdateCRL(first); !errors.Is(err, ErrCRLFile) || !strings.Contains(err.Error(), "roll back") {
		t.Errorf("rollback to list 1: %v", err)
	}
	again, _ := root.ca.SignCRL(first, nil, CRLOptions{}) // another list numbered 2
	if err := root.trust.UpdateCRL(again); !errors.Is(err, ErrCRLFile) || !strings.Contains(err.Error(), "same number") {
		t.Errorf("a different list with the same number: %v", err)
	}
	if err := root.trust.UpdateCRL(other.trust.CRL(other.ca.Cert)); !errors.Is(err, ErrCRLFile) {
		t.Errorf("a list from another root: %v", err)
	}
	expired, _ := root.ca.SignCRL(second, nil, CRLOptions{Days: 1, Now: func() time.Time { return time.Now().Add(-48 * time.Hour) }})
	if err := root.trust.UpdateCRL(expired); !errors.Is(err, ErrStaleCRL) {
		t.Errorf("an expired list: %v", err)
	}
	// Entries carry over with the first revocation time; duplicates once.
	third, _ := root.ca.SignCRL(second, []*big.Int{big.NewInt(7), big.NewInt(8)}, CRLOptions{})
	if len(third.RevokedCertificateEntries) != 2 || !third.RevokedCertificateEntries[0].RevocationTime.Equal(second.RevokedCertificateEntries[0].RevocationTime) {
		t.Errorf("third list entries %+v", third.RevokedCertificateEntries)
	}
	if _, err := root.ca.SignCRL(other.trust.CRL(other.ca.Cert), nil, CRLOptions{}); !errors.Is(err, ErrCRLFile) {
		t.Errorf("continuing another CA's list: %v", err)
	}
}

func TestNewTrust_Refuses(t *testing.T) {
	root, other := newTestRoot(t, "32"), newTestRoot(t, "33")
	inter, err := other.ca.NewIntermediate("3307", CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrust(root.ca.Cert, inter.Cert); !errors.Is(err, ErrUntrusted) {
		t.Errorf("an intermediate of another province: %v", err)
	}
	node := issue(t, root.ca, "320722", "dh1")
	if _, err := NewTrust(node.Cert); !errors.Is(err, ErrUntrusted) {
		t.Errorf("a node certificate as root: %v", err)
	}
	if _, err := NewTrust(nil); !errors.Is(err, ErrUntrusted) {
		t.Errorf("nil root: %v", err)
	}
}

// TestPeerIdentity_Unverified: a connection state without verified chains
// (a config that skipped verification) names nobody.
func TestPeerIdentity_Unverified(t *testing.T) {
	root := newTestRoot(t, "32")
	a := issue(t, root.ca, "320722", "dh1")
	cs := tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{a.Cert}}
	if _, err := PeerIdentity(cs); !errors.Is(err, ErrUntrusted) {
		t.Errorf("unverified: %v", err)
	}
	cs.VerifiedChains = [][]*x509.Certificate{chainOf(a, root.ca.Cert)}
	cs.HandshakeComplete = false
	if _, err := PeerIdentity(cs); !errors.Is(err, ErrUntrusted) {
		t.Errorf("incomplete handshake: %v", err)
	}
	cs.HandshakeComplete = true
	if p, err := PeerIdentity(cs); err != nil || p.Short() != "320722/dh1" {
		t.Errorf("verified: %v, %v", p, err)
	}
}

// TestKeypair_Renew: a renewed certificate (new key, then same key) is
// presented from the next handshake; another identity is refused.
func TestKeypair_Renew(t *testing.T) {
	root := newTestRoot(t, "32")
	a, b := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2")
	kp := keypair(t, b)
	scfg := serverConfig(t, root.trust, a, nil)
	ccfg, err := ClientConfig(root.trust, kp, nil)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := root.ca.Renew(b.Cert, RenewRequest{Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Key.PublicKey.Equal(b.Key.Public()) || renewed.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 {
		t.Error("renewal kept the key or the serial")
	}
	if len(renewed.Cert.IPAddresses) != 1 || renewed.Cert.DNSNames[0] != "dh2.internal" {
		t.Errorf("renewal lost the SANs: %v %v", renewed.Cert.IPAddresses, renewed.Cert.DNSNames)
	}
	if err := kp.Set(renewed); err != nil {
		t.Fatal(err)
	}
	srv, _ := handshake(t, scfg, ccfg, "127.0.0.1")
	if srv.err != nil || srv.state.PeerCertificates[0].SerialNumber.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Fatalf("after renewal: %v", srv.err)
	}
	same, err := root.ca.Renew(renewed.Cert, RenewRequest{SameKey: renewed.Key})
	if err != nil || !same.Key.PublicKey.Equal(renewed.Key.Public()) {
		t.Fatalf("renew with the same key: %v", err)
	}
	if _, err := root.ca.Renew(renewed.Cert, RenewRequest{SameKey: a.Key}); !errors.Is(err, ErrAuthority) {
		t.Errorf("renew with another certificate's key: %v", err)
	}
	if err := kp.Set(a); !errors.Is(err, ErrCertFile) || !strings.Contains(err.Error(), "keeps its identity") {
		t.Errorf("swapping in another identity: %v", err)
	}
}

// TestDialConfig_ByIdentity: DialConfig accepts a server of the identity its
// Authorizer wants whatever name was dialled (no SAN lists the address),
// refuses another region's server, another root's, and a revoked one.
func TestDialConfig_ByIdentity(t *testing.T) {
	root := newTestRoot(t, "32")
	dh1, dh2, gn1 := issue(t, root.ca, "320722", "dh1"), issue(t, root.ca, "320722", "dh2"), issue(t, root.ca, "320723", "gn1")
	self := dh2.identity(t)
	dial := func(is *Issued) *tls.Config {
		c, err := DialConfig(root.trust, keypair(t, is), func(p Identity) error { return AuthorizeDial(ServiceRaft, self, p) })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := DialConfig(root.trust, keypair(t, dh2), nil); err == nil {
		t.Error("DialConfig without an Authorizer accepted")
	}
	srv, cli := handshake(t, serverConfig(t, root.trust, dh1, nil), dial(dh2), "10.9.9.9")
	if srv.err != nil || cli.err != nil {
		t.Fatalf("same region, address not in SANs: server %v; client %v", srv.err, cli.err)
	}
	if _, cli = handshake(t, serverConfig(t, root.trust, gn1, nil), dial(dh2), "127.0.0.1"); !errors.Is(cli.err, ErrForbidden) {
		t.Errorf("dialler accepted a server of another region: %v", cli.err)
	}
	other := newTestRoot(t, "32")
	foreign := issue(t, other.ca, "320722", "dh1")
	if _, cli = handshake(t, serverConfig(t, other.trust, foreign, nil), dial(dh2), "127.0.0.1"); !errors.Is(cli.err, ErrUntrusted) {
		t.Errorf("dialler accepted a server of another root: %v", cli.err)
	}
	rl, err := root.ca.SignCRL(root.trust.CRL(root.ca.Cert), []*big.Int{dh1.Cert.SerialNumber}, CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.trust.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	if _, cli = handshake(t, serverConfig2(root.trust, dh1), dial(dh2), "127.0.0.1"); !errors.Is(cli.err, ErrRevoked) {
		t.Errorf("dialler accepted a revoked server: %v", cli.err)
	}
}
