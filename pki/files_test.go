package pki

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestPerm_WriteFile: files are written 0600 and directories 0700 whatever
// the umask, and an existing loose directory is tightened.
func TestPerm_WriteFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "b")
	p := filepath.Join(dir, "x.key")
	if err := writeFile(p, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("file mode %04o; want 0600", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("dir mode %04o; want 0700", m)
	}
	loose := filepath.Join(t.TempDir(), "loose")
	os.Mkdir(loose, 0o755)
	if err := writeFile(filepath.Join(loose, "y"), nil); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, loose); m != 0o700 {
		t.Errorf("existing dir mode %04o; want 0700", m)
	}
	if err := writeNewFile(p, []byte("again")); !errors.Is(err, ErrAuthority) {
		t.Errorf("writeNewFile over an existing file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestPerm_LoadKeyRefusesLooseMode: a key readable by group or others is
// refused with an error naming the path; 0600 and 0400 load.
func TestPerm_LoadKeyRefusesLooseMode(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "node.key")
	if err := writeFile(p, b); err != nil {
		t.Fatal(err)
	}
	for _, m := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		os.Chmod(p, m)
		_, err := LoadKey(p)
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: %v; want ErrKeyFile naming %s", m, err, p)
		}
	}
	for _, m := range []os.FileMode{0o600, 0o400} {
		os.Chmod(p, m)
		if got, err := LoadKey(p); err != nil || !got.Equal(k) {
			t.Errorf("mode %04o: %v", m, err)
		}
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "missing.key")); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing: %v", err)
	}
	if _, err := LoadKey(t.TempDir()); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}

func TestParsePEM_Refuses(t *testing.T) {
	root := newTestRoot(t, "32")
	is := issue(t, root.ca, "320722", "dh1")
	cert := encodeCerts(is.Cert)
	key, _ := encodeKey(is.Key)
	crl := encodeCRL(root.trust.CRL(root.ca.Cert))
	for _, c := range []struct {
		name string
		fn   func([]byte) error
		in   []byte
		want string
	}{
		{"cert from key", certs, key, `"PRIVATE KEY"`},
		{"cert trailing junk", certs, append(append([]byte{}, cert...), "junk"...), "text after"},
		{"cert empty", certs, nil, "no PEM CERTIFICATE"},
		{"cert not PEM", certs, []byte("hello"), "no PEM at all"},
		{"cert whitespace", certs, []byte("\n\n"), "no PEM CERTIFICATE"},
		{"key from cert", keyOf, cert, `"CERTIFICATE"`},
		{"two keys", keyOf, append(append([]byte{}, key...), key...), "more than one"},
		{"key with headers", keyOf, []byte("-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END PRIVATE KEY-----\n"), "headers"},
		{"crl from cert", crlOf, cert, `"CERTIFICATE"`},
		{"crl garbage", crlOf, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), "pki: bad revocation list"},
	} {
		err := c.fn(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
	if cs, err := ParseCertificatesPEM(encodeCerts(is.Cert, root.ca.Cert)); err != nil || len(cs) != 2 {
		t.Errorf("a chain of two: %d, %v", len(cs), err)
	}
	if _, err := ParseCRLPEM(crl); err != nil {
		t.Error(err)
	}
}

func certs(b []byte) error { _, err := ParseCertificatesPEM(b); return err }
func keyOf(b []byte) error { _, err := ParsePrivateKeyPEM(b); return err }
func crlOf(b []byte) error { _, err := ParseCRLPEM(b); return err }
