package main

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridcrm/pki"
)

// certRun runs `gridcrm cert <args>` and returns its output and error.
func certRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := certCmd()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func mustCert(t *testing.T, args ...string) string {
	t.Helper()
	out, err := certRun(t, args...)
	if err != nil {
		t.Fatalf("gridcrm cert %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var serialRe = regexp.MustCompile(`serial ([0-9A-F]+)`)

// TestCert_EndToEnd: init-root, issue two nodes, load what the CLI wrote
// as a node would and shake hands over TCP, renew, revoke, reload the list
// and be refused; show prints the identity.
func TestCert_EndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	out := mustCert(t, "init-root", "--dir", dir, "--province", "32")
	if !strings.Contains(out, "root CA for province 32") {
		t.Errorf("init-root printed %q", out)
	}
	out = mustCert(t, "issue", "--dir", dir, "--region", "320722", "--node", "dh1", "--ip", "127.0.0.1", "--dns", "dh1.internal")
	if !strings.Contains(out, "gridcrm://32/3207/320722/dh1") {
		t.Errorf("issue printed %q", out)
	}
	mustCert(t, "issue", "--dir", dir, "--region", "320722", "--node", "dh2", "--ip", "127.0.0.1,::1", "--days", "30")
	dh2 := filepath.Join(dir, "nodes", "320722", "dh2.crt")
	out = mustCert(t, "show", dh2)
	for _, want := range []string{"node dh2 of region 320722", "IP:           127.0.0.1, ::1", "server auth, client auth"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "nodes", "320722", "dh2.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o", st.Mode().Perm())
	}

	// A node loads the trust directory and its files.
	tr, err := pki.LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	load := func(node string) *pki.Keypair {
		kp, err := pki.LoadKeypair(filepath.Join(dir, "nodes", "320722", node+".crt"), filepath.Join(dir, "nodes", "320722", node+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	kp1, kp2 := load("dh1"), load("dh2")
	scfg, err := pki.ServerConfig(tr, kp1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := pki.ClientConfig(tr, kp2, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan error, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			tc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tc.Handshake()
			if err == nil {
				var p pki.Identity
				if p, err = pki.PeerIdentity(tc.ConnectionState()); err == nil {
					err = pki.Authorize(pki.ServiceRaft, kp1.Identity(), p)
				}
				tc.Write([]byte{1})
			}
			tc.Close()
			accepted <- err
		}
	}()
	dial := func() error {
		c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err
	}
	if err := dial(); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("server: %v", err)
	}

	// Renew dh2 (new key), reload it, revoke the new serial.
	out = mustCert(t, "renew", "--dir", dir, "--region", "320722", "--node", "dh2")
	m := serialRe.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "replaced serial") {
		t.Fatalf("renew printed %q", out)
	}
	if err := kp2.Reload(); err != nil {
		t.Fatal(err)
	}
	out = mustCert(t, "revoke", "--dir", dir, "--serial", m[1])
	if !strings.Contains(out, "revoked "+m[1]) || !strings.Contains(out, "list number 2") {
		t.Errorf("revoke printed %q", out)
	}
	rl, err := pki.LoadCRL(filepath.Join(dir, "root.crl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.UpdateCRL(rl); err != nil {
		t.Fatal(err)
	}
	dial()
	if err := <-accepted; !errors.Is(err, pki.ErrRevoked) {
		t.Errorf("revoked dh2 accepted: %v", err)
	}
	out = mustCert(t, "show", filepath.Join(dir, "root.crl"))
	if !strings.Contains(out, "number:       2") || !strings.Contains(out, m[1]) {
		t.Errorf("show crl:\n%s", out)
	}
	out = mustCert(t, "crl", "--dir", dir)
	if !strings.Contains(out, "number 3") {
		t.Errorf("crl printed %q", out)
	}
}

// TestCert_Intermediate: init-ca, then issue under it; revoke --cert goes
// to the intermediate's list.
func TestCert_Intermediate(t *testing.T) {
	dir := t.TempDir()
	mustCert(t, "init-root", "--dir", dir, "--province", "32")
	mustCert(t, "init-ca", "--dir", dir, "--region", "3207")
	out := mustCert(t, "issue", "--dir", dir, "--region", "320722", "--node", "dh1", "--ip", "10.32.7.11")
	if !strings.Contains(out, `issued by "gridcrm CA 3207"`) {
		t.Errorf("issue printed %q", out)
	}
	out = mustCert(t, "revoke", "--dir", dir, "--cert", filepath.Join(dir, "nodes", "320722", "dh1.crt"))
	if !strings.Contains(out, filepath.Join(dir, "ca", "3207.crl")) {
		t.Errorf("revoke printed %q", out)
	}
}

// TestCert_Errors: each mistake is named by its flag or file.
func TestCert_Errors(t *testing.T) {
	dir := t.TempDir()
	mustCert(t, "init-root", "--dir", dir, "--province", "32")
	mustCert(t, "issue", "--dir", dir, "--region", "320722", "--node", "dh1", "--ip", "127.0.0.1")
	key := filepath.Join(dir, "root.key")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init-root", "--province", "32"}, "--dir is required"},
		{[]string{"init-root", "--dir", t.TempDir()}, "--province is required"},
		{[]string{"init-root", "--dir", t.TempDir(), "--province", "3207"}, "--province 3207 is a city code"},
		{[]string{"init-root", "--dir", t.TempDir(), "--province", "3x"}, "--province: tiers: region"},
		{[]string{"init-root", "--dir", dir, "--province", "32"}, "already holds a root CA"},
		{[]string{"issue", "--region", "320722", "--node", "dh1"}, "--dir is required"},
		{[]string{"issue", "--dir", t.TempDir(), "--region", "320722", "--node", "dh1"}, "holds no root CA"},
		{[]string{"issue", "--dir", dir, "--node", "dh1"}, "--region is required"},
		{[]string{"issue", "--dir", dir, "--region", "3207220", "--node", "dh1"}, "--region: tiers: region \"3207220\" has 7 digits"},
		{[]string{"issue", "--dir", dir, "--region", "320722"}, "--node is required"},
		{[]string{"issue", "--dir", dir, "--region", "320722", "--node", "a/b"}, "--node: pki: invalid identity"},
		{[]string{"issue", "--dir", dir, "--region", "320722", "--node", "dh2", "--ip", "10.0.0"}, `--ip "10.0.0" is not an IP address`},
		{[]string{"issue", "--dir", dir, "--region", "320722", "--node", "dh2", "--days", "1000"}, "1 to 397"},
		{[]string{"issue", "--dir", dir, "--region", "330722", "--node", "dh2"}, "not in province 32"},
		{[]string{"issue", "--dir", dir, "--region", "320722", "--node", "dh1"}, "use `gridcrm cert renew`"},
		{[]string{"renew", "--dir", dir, "--region", "320722", "--node", "dh9"}, "dh9.crt does not exist"},
		{[]string{"revoke", "--dir", dir}, "--serial or --cert is required"},
		{[]string{"revoke", "--dir", dir, "--serial", "xyz"}, "--serial: pki: authority: serial \"xyz\""},
		{[]string{"revoke", "--dir", dir, "--serial", "AB", "--cert", "f"}, "not both"},
		{[]string{"revoke", "--dir", dir, "--serial", "ABCDEF"}, "was not issued from"},
		{[]string{"revoke", "--dir", dir, "--cert", filepath.Join(dir, "missing.crt")}, "missing.crt does not exist"},
		{[]string{"show", filepath.Join(dir, "nope.crt")}, "nope.crt"},
		{[]string{"show", key}, "private key"},
	} {
		out, err := certRun(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("cert %s: %v (output %q); want %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	os.Chmod(key, 0o640)
	if _, err := certRun(t, "issue", "--dir", dir, "--region", "320722", "--node", "dh3"); err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("issue with a 0640 root key: %v", err)
	}
}
