package pki

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuthority_Lifecycle: init-root, issue, renew (new key, same key),
// revoke by serial and by certificate, through the files a node would load.
func TestAuthority_Lifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := InitRoot(dir, "32", RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InitRoot(dir, "32", RootOptions{}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "already holds a root") {
		t.Errorf("second init-root: %v", err)
	}
	dh1, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1")}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "cert renew") {
		t.Errorf("issuing twice: %v", err)
	}
	if _, err := a.Issue(NodeRequest{Identity: mustID(t, "330722", "x1")}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "not in province 32") {
		t.Errorf("another province: %v", err)
	}
	dh2, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh2"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	// Every file 0600, every directory 0700.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if m := mode(t, p); m != want {
			t.Errorf("%s: mode %04o; want %04o", p, m, want)
		}
		return nil
	})

	tr, err := a.Trust()
	if err != nil {
		t.Fatal(err)
	}
	c1, k1 := a.NodeFiles(dh1.identity(t))
	c2, k2 := a.NodeFiles(dh2.identity(t))
	kp1, err := LoadKeypair(c1, k1)
	if err != nil {
		t.Fatal(err)
	}
	kp2, err := LoadKeypair(c2, k2)
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := ServerConfig(tr, kp1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := ClientConfig(tr, kp2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv, cli := handshake(t, scfg, ccfg, "127.0.0.1"); srv.err != nil || cli.err != nil {
		t.Fatalf("from files: %v / %v", srv.err, cli.err)
	}

	// Renew dh2 with a new key, then with the same key; Reload presents it.
	oldKey, _ := os.ReadFile(k2)
	renewed, old, err := a.Renew(dh2.identity(t), false, RenewRequest{Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if newKey, _ := os.ReadFile(k2); string(newKey) == string(oldKey) || old.SerialNumber.Cmp(dh2.Cert.SerialNumber) != 0 {
		t.Error("renew kept the key file, or returned the wrong old certificate")
	}
	if len(renewed.Cert.IPAddresses) != 1 || renewed.Cert.NotAfter.Sub(time.Now()) > 31*24*time.Hour {
		t.Errorf("renewed: IPs %v, not after %v", renewed.Cert.IPAddresses, renewed.Cert.NotAfter)
	}
	keyBefore, _ := os.ReadFile(k2)
	same, _, err := a.Renew(dh2.identity(t), true, RenewRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if keyAfter, _ := os.ReadFile(k2); string(keyAfter) != string(keyBefore) || !same.Key.PublicKey.Equal(renewed.Key.Public()) {
		t.Error("renew --same-key changed the key")
	}
	if err := kp2.Reload(); err != nil {
		t.Fatal(err)
	}
	srv, _ := handshake(t, scfg, ccfg, "127.0.0.1")
	if srv.err != nil || srv.state.PeerCertificates[0].SerialNumber.Cmp(same.Cert.SerialNumber) != 0 {
		t.Fatalf("after reload: %v", srv.err)
	}
	if _, _, err := a.Renew(mustID(t, "320722", "dh9"), false, RenewRequest{}); !errors.Is(err, ErrCertFile) || !strings.Contains(err.Error(), "cert issue") {
		t.Errorf("renewing a node never issued: %v", err)
	}

	// Revoke the current dh2 by serial; a node reloading the list refuses it.
	rec, crlFile, err := a.Revoke(same.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Subject != "gridcrm://32/3207/320722/dh2" || rec.RevokedAt == nil || crlFile != filepath.Join(dir, "root.crl") {
		t.Errorf("revoked %+v into %s", rec, crlFile)
	}
	rl, err := LoadCRL(crlFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	if srv, _ := handshake(t, scfg, ccfg, "127.0.0.1"); !errors.Is(srv.err, ErrRevoked) {
		t.Errorf("revoked dh2 accepted: %v", srv.err)
	}
	if _, _, err := a.Revoke(same.Cert.SerialNumber); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("revoking twice: %v", err)
	}
	if _, _, err := a.Revoke(bigHex(t, "ABCDEF")); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "was not issued from") {
		t.Errorf("unknown serial: %v", err)
	}
	// By certificate: the first dh2 certificate, superseded by renewal.
	if rec, _, err := a.RevokeCert(dh2.Cert); err != nil || rec.Serial != FormatSerial(dh2.Cert.SerialNumber) {
		t.Errorf("revoke --cert: %+v, %v", rec, err)
	}
	if rl2, _ := LoadCRL(crlFile); rl2.Number.Int64() != 3 || len(rl2.RevokedCertificateEntries) != 2 {
		t.Errorf("list number %v with %d entries; want 3 and 2", rl2.Number, len(rl2.RevokedCertificateEntries))
	}
	// root, dh1, dh2 and its two renewals
	if ix, err := a.Index(); err != nil || len(ix.Certs) != 5 {
		t.Errorf("index: %v, %v; want 5 records", ix, err)
	}
	if _, _, err := a.Revoke(a.rootSerial(t)); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "is the root") {
		t.Errorf("revoking the root: %v", err)
	}
	// A certificate from another root cannot be revoked here.
	other := newTestRoot(t, "32")
	if _, _, err := a.RevokeCert(issue(t, other.ca, "320722", "x1").Cert); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "not issued by a CA in") {
		t.Errorf("foreign certificate: %v", err)
	}
	// Refresh: same entries, next number.
	files, err := a.RefreshCRLs(CRLOptions{})
	if err != nil || len(files) != 1 {
		t.Fatal(files, err)
	}
	if rl3, _ := LoadCRL(crlFile); rl3.Number.Int64() != 4 || len(rl3.RevokedCertificateEntries) != 2 {
		t.Errorf("refreshed list number %v with %d entries", rl3.Number, len(rl3.RevokedCertificateEntries))
	}
}

func (a *Authority) rootSerial(t *testing.T) *big.Int {
	t.Helper()
	cs, err := LoadCertificates(filepath.Join(a.dir, rootCertFile))
	if err != nil {
		t.Fatal(err)
	}
	return cs[0].SerialNumber
}

func bigHex(t *testing.T, s string) *big.Int {
	t.Helper()
	n, err := ParseSerial(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuthority_Intermediate: with ca/3207 present, nodes under 3207 are
// issued by it (chain of two in the file), others by the root, and a trust
// loaded from the directory accepts both; revocation goes to the issuer's
// list.
func TestAuthority_Intermediate(t *testing.T) {
	dir := t.TempDir()
	a, err := InitRoot(dir, "32", RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.InitCA("3207", CAOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InitCA("3207", CAOptions{}); !errors.Is(err, ErrAuthority) {
		t.Errorf("second intermediate for 3207: %v", err)
	}
	if _, err := a.InitCA("33", CAOptions{}); !errors.Is(err, ErrAuthority) {
		t.Errorf("intermediate for a province: %v", err)
	}
	dh1, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	ha1, err := a.Issue(NodeRequest{Identity: mustID(t, "3208", "ha1"), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if dh1.Cert.Issuer.CommonName != "gridcrm CA 3207" || ha1.Cert.Issuer.CommonName != "gridcrm root CA 32" {
		t.Errorf("issuers %q and %q", dh1.Cert.Issuer.CommonName, ha1.Cert.Issuer.CommonName)
	}
	c1, k1 := a.NodeFiles(dh1.identity(t))
	if cs, _ := LoadCertificates(c1); len(cs) != 2 {
		t.Errorf("%s holds %d certificates; want node and intermediate", c1, len(cs))
	}
	tr, err := LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	kp1, err := LoadKeypair(c1, k1)
	if err != nil {
		t.Fatal(err)
	}
	c2, k2 := a.NodeFiles(ha1.identity(t))
	kp2, err := LoadKeypair(c2, k2)
	if err != nil {
		t.Fatal(err)
	}
	scfg, _ := ServerConfig(tr, kp2, nil)
	ccfg, _ := ClientConfig(tr, kp1, nil)
	if srv, cli := handshake(t, scfg, ccfg, "127.0.0.1"); srv.err != nil || cli.err != nil {
		t.Fatalf("%v / %v", srv.err, cli.err)
	}
	_, crlFile, err := a.Revoke(dh1.Cert.SerialNumber)
	if err != nil || crlFile != filepath.Join(dir, "ca", "3207.crl") {
		t.Fatalf("revoked into %s: %v", crlFile, err)
	}
	tr2, err := LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Verify(kp1.Chain(), x509.ExtKeyUsageClientAuth); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked by the intermediate: %v", err)
	}
	// A trust directory missing an intermediate's list does not load.
	os.Remove(filepath.Join(dir, "ca", "3207.crl"))
	if _, err := LoadTrust(dir); !errors.Is(err, ErrCRLFile) || !strings.Contains(err.Error(), "3207.crl") {
		t.Errorf("missing list: %v", err)
	}
}

// TestAuthority_RefusesLooseRootKey: a root key readable by others stops
// every signing operation, naming the file.
func TestAuthority_RefusesLooseRootKey(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	a, err := InitRoot(dir, "32", RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "root.key")
	os.Chmod(key, 0o644)
	if _, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1")}); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), key) {
		t.Errorf("issue with a 0644 root key: %v", err)
	}
	os.Chmod(dir, 0o755)
	if _, err := OpenAuthority(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("OpenAuthority left %s at %04o", dir, m)
	}
	if _, err := OpenAuthority(t.TempDir()); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "init-root") {
		t.Errorf("an empty directory: %v", err)
	}
}

func TestAuthority_Validity(t *testing.T) {
	dir := t.TempDir()
	a, err := InitRoot(dir, "32", RootOptions{Days: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1"), Days: 200}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "outlive its CA") {
		t.Errorf("node outliving the root: %v", err)
	}
	if _, err := a.Issue(NodeRequest{Identity: mustID(t, "320722", "dh1"), Days: 400}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "1 to 397") {
		t.Errorf("400 days: %v", err)
	}
	if _, err := InitRoot(t.TempDir(), "3207", RootOptions{}); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), "not a province") {
		t.Errorf("root for a city: %v", err)
	}
}

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{"ab:cd": "ABCD", "0xABCD": "ABCD", " abcd ": "ABCD", "1": "1"} {
		if n, err := ParseSerial(in); err != nil || FormatSerial(n) != want {
			t.Errorf("ParseSerial(%q) = %v, %v", in, n, err)
		}
	}
	for _, in := range []string{"", "0", "xyz", "-5", strings.Repeat("f", 41)} {
		if _, err := ParseSerial(in); !errors.Is(err, ErrAuthority) {
			t.Errorf("ParseSerial(%q): %v", in, err)
		}
	}
}

func TestParseIndex(t *testing.T) {
	good := `{"version":1,"certs":[{"serial":"AB","kind":"node","subject":"gridcrm://32/3207/320722/dh1","issuer":"32","not_after":"2030-01-01T00:00:00Z"}]}`
	if ix, err := ParseIndex([]byte(good)); err != nil || len(ix.Certs) != 1 {
		t.Fatalf("%v %v", ix, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"version":2,"certs":[]}`, "version 2"},
		{`{"version":1,"certs":[],"x":1}`, "unknown field"},
		{`{"version":1,"certs":[]} {}`, "after the JSON"},
		{strings.Replace(good, `"node"`, `"leaf"`, 1), "kind"},
		{strings.Replace(good, `"AB"`, `"zz"`, 1), "serial"},
		{strings.Replace(good, "/dh1", "", 1), "no node"},
		{strings.Replace(good, `"issuer":"32"`, `"issuer":"3"`, 1), "issuer"},
	} {
		if _, err := ParseIndex([]byte(c.in)); !errors.Is(err, ErrAuthority) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseIndex(%s): %v; want %q", c.in, err, c.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	root := newTestRoot(t, "32")
	is := issue(t, root.ca, "320722", "dh1")
	s, err := Describe(encodeCerts(is.Cert, root.ca.Cert))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"node dh1 of region 320722 (gridcrm://32/3207/320722/dh1)", "serial:       " + FormatSerial(is.Cert.SerialNumber), "IP:           127.0.0.1", "DNS:          dh1.internal", "server auth, client auth", "root CA for region 32 (gridcrm://32)"} {
		if !strings.Contains(s, want) {
			t.Errorf("Describe lacks %q:\n%s", want, s)
		}
	}
	s, err = Describe(encodeCRL(root.trust.CRL(root.ca.Cert)))
	if err != nil || !strings.Contains(s, "number:       1") || !strings.Contains(s, "revoked:      0") {
		t.Errorf("Describe(crl) = %s, %v", s, err)
	}
	key, _ := encodeKey(is.Key)
	if _, err := Describe(key); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("Describe(key): %v", err)
	}
}
