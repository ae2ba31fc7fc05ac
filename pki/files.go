package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PEM block types this package reads and writes.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY" // PKCS#8
	pemCRL         = "X509 CRL"
)

// File modes: every file this package writes (keys, certificates,
// revocation lists, the index) is 0600 and every directory 0700. Nothing
// here is public to other local users; the operator copies what a node
// needs.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// maxFileSize bounds what the loaders read: a certificate chain or a
// revocation list of a province is far smaller.
const maxFileSize = 8 << 20

// ParseCertificatesPEM decodes one or more PEM CERTIFICATE blocks, in order
// (a node's certificate first, then its intermediate if any). Anything but
// CERTIFICATE blocks and whitespace between them is refused. Errors wrap
// ErrCertFile.
func ParseCertificatesPEM(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		blk, r := pem.Decode(rest)
		if blk == nil {
			if len(bytes.TrimSpace(rest)) != 0 {
				return nil, fmt.Errorf("%w: text after the last PEM block (or no PEM at all)", ErrCertFile)
			}
			break
		}
		rest = r
		if blk.Type != pemCertificate {
			return nil, fmt.Errorf("%w: PEM block %q; want %q", ErrCertFile, blk.Type, pemCertificate)
		}
		if len(blk.Headers) != 0 {
			return nil, fmt.Errorf("%w: PEM block with headers", ErrCertFile)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrCertFile, len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrCertFile)
	}
	return out, nil
}

// ParsePrivateKeyPEM decodes exactly one PEM PRIVATE KEY block holding a
// PKCS#8 ECDSA P-256 key, the only kind this package issues. Errors wrap
// ErrKeyFile.
func ParsePrivateKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	blk, rest := pem.Decode(b)
	switch {
	case blk == nil:
		return nil, fmt.Errorf("%w: no PEM block", ErrKeyFile)
	case blk.Type != pemPrivateKey:
		return nil, fmt.Errorf("%w: PEM block %q; want %q (PKCS#8)", ErrKeyFile, blk.Type, pemPrivateKey)
	case len(blk.Headers) != 0:
		return nil, fmt.Errorf("%w: PEM block with headers (an encrypted key?)", ErrKeyFile)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: more than one PEM block; a key file holds one key", ErrKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: key is %T; want ECDSA P-256", ErrKeyFile, k)
	}
	return ek, nil
}

// ParseCRLPEM decodes exactly one PEM X509 CRL block. It does not check the
// signature (Trust.UpdateCRL does, against the CA that signed it). Errors
// wrap ErrCRLFile.
func ParseCRLPEM(b []byte) (*x509.RevocationList, error) {
	blk, rest := pem.Decode(b)
	switch {
	case blk == nil:
		return nil, fmt.Errorf("%w: no PEM block", ErrCRLFile)
	case blk.Type != pemCRL:
		return nil, fmt.Errorf("%w: PEM block %q; want %q", ErrCRLFile, blk.Type, pemCRL)
	case len(blk.Headers) != 0:
		return nil, fmt.Errorf("%w: PEM block with headers", ErrCRLFile)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: more than one PEM block; a revocation list file holds one list", ErrCRLFile)
	}
	rl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCRLFile, err)
	}
	if rl.Number == nil {
		return nil, fmt.Errorf("%w: no CRL number; gridcrm lists are versioned", ErrCRLFile)
	}
	return rl, nil
}

// LoadKey reads a private key file. It refuses a file that is not regular
// or whose mode lets group or others read or write it, naming the path and
// the fix. Errors wrap ErrKeyFile.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := readFile(path, true, ErrKeyFile, "key file")
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// LoadCertificates reads a PEM certificate file (a node's certificate and
// its chain, or a CA certificate). Errors wrap ErrCertFile and name path.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := readFile(path, false, ErrCertFile, "certificate file")
	if err != nil {
		return nil, err
	}
	cs, err := ParseCertificatesPEM(b)
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", path, err)
	}
	return cs, nil
}

// LoadCRL reads a PEM revocation list file. It checks the format only;
// Trust.UpdateCRL checks the signature and the version. Errors wrap
// ErrCRLFile and name path.
func LoadCRL(path string) (*x509.RevocationList, error) {
	b, err := readFile(path, false, ErrCRLFile, "revocation list")
	if err != nil {
		return nil, err
	}
	rl, err := ParseCRLPEM(b)
	if err != nil {
		return nil, fmt.Errorf("revocation list %s: %w", path, err)
	}
	return rl, nil
}

// readFile reads a regular file of at most maxFileSize bytes; secret files
// must not be accessible to group or others.
func readFile(path string, secret bool, kind error, what string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no %s given", kind, what)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s %s does not exist", kind, what, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", kind, what, path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s %s is not a regular file", kind, what, path)
	}
	if secret && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s %s is accessible by group or others (mode %04o); chmod 600 it (and replace the key if others could read it)", kind, what, path, st.Mode().Perm())
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("%w: %s %s is %d bytes; at most %d", kind, what, path, st.Size(), maxFileSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", kind, what, path, err)
	}
	return b, nil
}

// encodeCerts returns certs as PEM CERTIFICATE blocks, in order.
func encodeCerts(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: pemCertificate, Bytes: c.Raw}) // writes to a buffer cannot fail
	}
	return b.Bytes()
}

// encodeKey returns k as a PEM PKCS#8 PRIVATE KEY block.
func encodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// encodeCRL returns rl as a PEM X509 CRL block.
func encodeCRL(rl *x509.RevocationList) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCRL, Bytes: rl.Raw})
}

// mkdirPrivate creates dir and its missing parents with mode 0700 and sets
// dir itself to 0700 if it already existed.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("pki: create directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("pki: chmod 700 %s: %w", dir, err)
	}
	return nil
}

// writeFile writes data to path atomically with mode 0600: a temporary
// file in the same directory (created 0600, so the data is never readable
// by others, not even briefly), fsynced, renamed over path, and the
// directory fsynced. The directory is created 0700 if missing.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := f.Chmod(fileMode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("pki: sync directory %s: %w", dir, err)
		}
	}
	return nil
}

// writeNewFile is writeFile that refuses to replace an existing file.
func writeNewFile(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s already exists; refusing to overwrite it", ErrAuthority, path)
	}
	return writeFile(path, data)
}
