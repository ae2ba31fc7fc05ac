package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gridcrm/tiers"
)

// Trust is what a node trusts: the province root, the per-region
// intermediates it knows, and the current revocation list of each of them.
// A peer's chain must end at the root, every CA in it must have a loaded,
// unexpired list that does not list the certificate below it, and the
// peer's region must lie inside every CA's region. Safe for concurrent use;
// UpdateCRL may run while connections are verified.
type Trust struct {
	root     *x509.Certificate
	province tiers.RegionCode
	pool     *x509.CertPool
	cas      map[string]*x509.Certificate // by caKey; set at construction, read-only after
	now      func() time.Time             // set at construction (tests replace it before use)

	mu   sync.RWMutex
	crls map[string]*crlState // by caKey; guarded by mu
}

type crlState struct {
	rl      *x509.RevocationList
	revoked map[string]time.Time // serial (decimal) → revocation time
}

// caKey identifies a CA as CRLs name it: its subject and key identifier.
func caKey(rawSubject, keyID []byte) string { return string(rawSubject) + "\x00" + string(keyID) }

// NewTrust checks root (a self-signed CA whose gridcrm URI SAN names a
// province) and each intermediate (a CA signed by root whose URI names a
// city or county of that province) and returns a Trust with no revocation
// lists loaded: until UpdateCRL has loaded one for each CA, connections
// through that CA are refused.
func NewTrust(root *x509.Certificate, intermediates ...*x509.Certificate) (*Trust, error) {
	if root == nil {
		return nil, fmt.Errorf("%w: no root certificate", ErrUntrusted)
	}
	prov, err := scopeOf(root)
	if err != nil {
		return nil, fmt.Errorf("%w: root: %w", ErrUntrusted, err)
	}
	if prov.Tier() != tiers.Province {
		return nil, fmt.Errorf("%w: root %q names %s %s; a root names a province", ErrUntrusted, root.Subject.CommonName, prov.Tier(), prov)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("%w: root %q is not self-signed: %w", ErrUntrusted, root.Subject.CommonName, err)
	}
	t := &Trust{root: root, province: prov, pool: x509.NewCertPool(), cas: map[string]*x509.Certificate{}, crls: map[string]*crlState{}, now: time.Now}
	t.pool.AddCert(root)
	t.cas[caKey(root.RawSubject, root.SubjectKeyId)] = root
	for _, c := range intermediates {
		r, err := scopeOf(c)
		if err != nil {
			return nil, fmt.Errorf("%w: intermediate: %w", ErrUntrusted, err)
		}
		if r.Tier() == tiers.Province || !prov.Contains(r) {
			return nil, fmt.Errorf("%w: intermediate %q names region %s, not a city or county of province %s", ErrUntrusted, c.Subject.CommonName, r, prov)
		}
		if err := c.CheckSignatureFrom(root); err != nil {
			return nil, fmt.Errorf("%w: intermediate %q is not signed by root %q: %w", ErrUntrusted, c.Subject.CommonName, root.Subject.CommonName, err)
		}
		t.cas[caKey(c.RawSubject, c.SubjectKeyId)] = c
	}
	return t, nil
}

// LoadTrust reads a trust directory as `gridcrm cert` lays it out (the CA
// directory itself, or a copy without the keys): root.crt and root.crl,
// and for each ca/<region>.crt its ca/<region>.crl. Every CA's list must be
// present and current. It never reads a key.
func LoadTrust(dir string) (*Trust, error) {
	certs, err := LoadCertificates(filepath.Join(dir, rootCertFile))
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%w: %s holds %d certificates; want the root only", ErrCertFile, filepath.Join(dir, rootCertFile), len(certs))
	}
	crlFiles := []string{filepath.Join(dir, rootCRLFile)}
	var inter []*x509.Certificate
	names, err := listCAs(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range names {
		p := filepath.Join(dir, caDir, r+".crt")
		cs, err := LoadCertificates(p)
		if err != nil {
			return nil, err
		}
		if len(cs) != 1 {
			return nil, fmt.Errorf("%w: %s holds %d certificates; want one CA", ErrCertFile, p, len(cs))
		}
		inter = append(inter, cs[0])
		crlFiles = append(crlFiles, filepath.Join(dir, caDir, r+".crl"))
	}
	t, err := NewTrust(certs[0], inter...)
	if err != nil {
		return nil, fmt.Errorf("trust directory %s: %w", dir, err)
	}
	for _, p := range crlFiles {
		rl, err := LoadCRL(p)
		if err != nil {
			return nil, err
		}
		if err := t.UpdateCRL(rl); err != nil {
			return nil, fmt.Errorf("revocation list %s: %w", p, err)
		}
	}
	return t, nil
}

// listCAs returns the region codes of dir/ca/*.crt, sorted.
func listCAs(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, caDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertFile, err)
	}
	var out []string
	for _, e := range ents {
		if r, ok := strings.CutSuffix(e.Name(), ".crt"); ok && !e.IsDir() {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Root returns the root certificate. The caller must not modify it.
func (t *Trust) Root() *x509.Certificate { return t.root }

// Province returns the province the root is for.
func (t *Trust) Province() tiers.RegionCode { return t.province }

// UpdateCRL installs rl as the revocation list of the CA that signed it,
// after checking that the CA is known, the signature is the CA's, the list
// has not expired, and its number is higher than the installed one's (the
// same list again is accepted and changes nothing). A lower number is
// refused: replaying an old list must not un-revoke anyone. Errors wrap
// ErrCRLFile or ErrStaleCRL.
func (t *Trust) UpdateCRL(rl *x509.RevocationList) error {
	if rl == nil || rl.Number == nil {
		return fmt.Errorf("%w: no list, or a list without a number", ErrCRLFile)
	}
	k := caKey(rl.RawIssuer, rl.AuthorityKeyId)
	ca, ok := t.cas[k]
	if !ok {
		return fmt.Errorf("%w: list %s is signed by %q, which is not a CA this trust knows (add its certificate under ca/)", ErrCRLFile, rl.Number, rl.Issuer.CommonName)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("%w: list %s is not validly signed by %q: %w", ErrCRLFile, rl.Number, ca.Subject.CommonName, err)
	}
	if now := t.now(); !rl.NextUpdate.IsZero() && now.After(rl.NextUpdate) {
		return fmt.Errorf("%w: list %s of %q expired at %s; re-sign it with `gridcrm cert crl`", ErrStaleCRL, rl.Number, ca.Subject.CommonName, rl.NextUpdate.UTC().Format(time.RFC3339))
	}
	st := &crlState{rl: rl, revoked: make(map[string]time.Time, len(rl.RevokedCertificateEntries))}
	for _, e := range rl.RevokedCertificateEntries {
		st.revoked[e.SerialNumber.String()] = e.RevocationTime
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.crls[k]; cur != nil {
		switch c := rl.Number.Cmp(cur.rl.Number); {
		case c < 0:
			return fmt.Errorf("%w: list %s of %q is older than the loaded list %s; refusing to roll back", ErrCRLFile, rl.Number, ca.Subject.CommonName, cur.rl.Number)
		case c == 0 && !bytes.Equal(rl.Raw, cur.rl.Raw):
			return fmt.Errorf("%w: list %s of %q differs from the loaded list with the same number", ErrCRLFile, rl.Number, ca.Subject.CommonName)
		case c == 0:
			return nil
		}
	}
	t.crls[k] = st
	return nil
}

// CRL returns the revocation list installed for ca, or nil. The caller
// must not modify it.
func (t *Trust) CRL(ca *x509.Certificate) *x509.RevocationList {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if st := t.crls[caKey(ca.RawSubject, ca.SubjectKeyId)]; st != nil {
		return st.rl
	}
	return nil
}

// NextCRLExpiry returns the earliest NextUpdate of the installed lists: when
// connections start being refused unless fresher lists are loaded.
func (t *Trust) NextCRLExpiry() time.Time {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var min time.Time
	for _, st := range t.crls {
		if min.IsZero() || st.rl.NextUpdate.Before(min) {
			min = st.rl.NextUpdate
		}
	}
	return min
}

// Verify checks a certificate chain as presented (leaf first, then any
// intermediates) for usage (ExtKeyUsageServerAuth or ClientAuth) against
// the root at the trust's clock, then revocation and scope, and returns the
// leaf's identity. ServerConfig and ClientConfig do the same during the
// handshake; Verify serves checks outside one (a node's own certificate at
// start-up, tests).
func (t *Trust) Verify(chain []*x509.Certificate, usage x509.ExtKeyUsage) (Identity, error) {
	if len(chain) == 0 {
		return Identity{}, fmt.Errorf("%w: no certificate", ErrUntrusted)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: t.pool, Intermediates: inter, CurrentTime: t.now(), KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %q: %w", ErrUntrusted, chain[0].Subject.CommonName, err)
	}
	return t.checkChains(chains)
}

// checkChains returns the leaf identity if one of the verified chains
// passes checkChain, else the first chain's error.
func (t *Trust) checkChains(chains [][]*x509.Certificate) (Identity, error) {
	if len(chains) == 0 {
		return Identity{}, fmt.Errorf("%w: the peer's certificate was not verified", ErrUntrusted)
	}
	var first error
	for _, ch := range chains {
		id, err := t.checkChain(ch)
		if err == nil {
			return id, nil
		}
		if first == nil {
			first = err
		}
	}
	return Identity{}, first
}

// checkChain checks one chain that crypto/x509 has verified (leaf first,
// root last): it ends at this trust's root, the leaf names a node inside
// every CA's region, and no certificate in it is revoked or covered only by
// a missing or expired list.
func (t *Trust) checkChain(chain []*x509.Certificate) (Identity, error) {
	if len(chain) < 2 || !bytes.Equal(chain[len(chain)-1].Raw, t.root.Raw) {
		return Identity{}, fmt.Errorf("%w: chain does not end at root %q", ErrUntrusted, t.root.Subject.CommonName)
	}
	id, err := checkScope(chain)
	if err != nil {
		return Identity{}, err
	}
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		st := t.crls[caKey(issuer.RawSubject, issuer.SubjectKeyId)]
		switch {
		case st == nil:
			return Identity{}, fmt.Errorf("%w: no revocation list loaded for CA %q, which issued %q; copy its list (and certificate) to this node", ErrStaleCRL, issuer.Subject.CommonName, cert.Subject.CommonName)
		case now.After(st.rl.NextUpdate):
			return Identity{}, fmt.Errorf("%w: the revocation list of CA %q expired at %s; load a fresh one", ErrStaleCRL, issuer.Subject.CommonName, st.rl.NextUpdate.UTC().Format(time.RFC3339))
		}
		if at, ok := st.revoked[cert.SerialNumber.String()]; ok {
			return Identity{}, fmt.Errorf("%w: %q (serial %s) was revoked by %q at %s", ErrRevoked, cert.Subject.CommonName, FormatSerial(cert.SerialNumber), issuer.Subject.CommonName, at.UTC().Format(time.RFC3339))
		}
	}
	return id, nil
}

// checkScope returns the leaf's identity if every CA in the chain (leaf
// first, root last) names a region that contains the leaf's region; the
// root must name a province.
func checkScope(chain []*x509.Certificate) (Identity, error) {
	id, err := IdentityOf(chain[0])
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	for i, ca := range chain[1:] {
		r, err := scopeOf(ca)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: %w", ErrUntrusted, err)
		}
		if i == len(chain)-2 && r.Tier() != tiers.Province {
			return Identity{}, fmt.Errorf("%w: root %q names %s, not a province", ErrUntrusted, ca.Subject.CommonName, r)
		}
		if !r.Contains(id.Region) {
			return Identity{}, fmt.Errorf("%w: CA %q may vouch only for region %s, but %q names %s", ErrUntrusted, ca.Subject.CommonName, r, chain[0].Subject.CommonName, id)
		}
	}
	return id, nil
}
