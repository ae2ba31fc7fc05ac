package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"gridcrm/tiers"
)

// The layout of a CA directory (`gridcrm cert init-root --dir D`). A node's
// trust directory is the same without the keys and nodes/.
//
//	D/root.crt  root.key  root.crl          the province root, its key, its revocation list
//	D/ca/<region>.crt .key .crl             optional per-region intermediates
//	D/nodes/<region>/<node>.crt .key        node certificates (certificate, then chain) and keys
//	D/issued.json                           every certificate issued, and when revoked
const (
	rootCertFile = "root.crt"
	rootKeyFile  = "root.key"
	rootCRLFile  = "root.crl"
	caDir        = "ca"
	nodesDir     = "nodes"
	indexFile    = "issued.json"
	lockFile     = ".lock"
)

// Kinds of certificates in the index.
const (
	KindRoot = "root"
	KindCA   = "ca"
	KindNode = "node"
)

// Record is one issued certificate in a CA directory's index.
type Record struct {
	Serial    string     `json:"serial"`               // FormatSerial
	Kind      string     `json:"kind"`                 // KindRoot, KindCA or KindNode
	Subject   string     `json:"subject"`              // identity or CA URI, e.g. gridcrm://32/3207/320722/dh1
	Issuer    string     `json:"issuer"`               // region of the issuing CA: the province for the root
	NotAfter  time.Time  `json:"not_after"`            // expiry
	RevokedAt *time.Time `json:"revoked_at,omitempty"` // nil unless revoked
}

// Index is the list of certificates a CA directory has issued.
type Index struct {
	Version int      `json:"version"` // 1
	Certs   []Record `json:"certs"`
}

// ParseIndex decodes an index file strictly: version 1, no unknown
// fields, valid kinds, serials and subjects. Errors wrap ErrAuthority.
func ParseIndex(b []byte) (*Index, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ix Index
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("%w: index: %w", ErrAuthority, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: index: data after the JSON object", ErrAuthority)
	}
	if ix.Version != 1 {
		return nil, fmt.Errorf("%w: index version %d; want 1", ErrAuthority, ix.Version)
	}
	for i, r := range ix.Certs {
		if _, err := ParseSerial(r.Serial); err != nil {
			return nil, fmt.Errorf("%w: index certs[%d]: %w", ErrAuthority, i, err)
		}
		var err error
		switch r.Kind {
		case KindNode:
			_, err = ParseIdentity(r.Subject)
		case KindRoot, KindCA:
			_, err = parseScope(r.Subject)
		default:
			err = fmt.Errorf("kind %q is not root, ca or node", r.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: index certs[%d]: %w", ErrAuthority, i, err)
		}
		if _, err := tiers.ParseRegion(r.Issuer); err != nil {
			return nil, fmt.Errorf("%w: index certs[%d] issuer: %w", ErrAuthority, i, err)
		}
	}
	return &ix, nil
}

// Authority is a CA directory on disk: the root, any intermediates, the
// node certificates issued and the index. Each operation holds an
// exclusive lock on the directory, so two operators cannot lose each
// other's revocation. Not safe for concurrent use from one process.
type Authority struct {
	dir      string
	province tiers.RegionCode
	now      func() time.Time
}

// Dir returns the CA directory.
func (a *Authority) Dir() string { return a.dir }

// Province returns the root's province.
func (a *Authority) Province() tiers.RegionCode { return a.province }

// InitRoot creates dir (mode 0700) with a new root CA for province, its
// first (empty) revocation list and the index. It refuses a directory that
// already holds a root.
func InitRoot(dir string, province tiers.RegionCode, opt RootOptions) (*Authority, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no CA directory given", ErrAuthority)
	}
	if err := mkdirPrivate(dir); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, f := range []string{rootCertFile, rootKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("%w: %s already holds a root CA (%s); use another directory", ErrAuthority, dir, f)
		}
	}
	ca, err := NewRoot(province, opt)
	if err != nil {
		return nil, err
	}
	a := &Authority{dir: dir, province: province, now: clock(opt.Now)}
	rl, err := ca.SignCRL(nil, nil, CRLOptions{Now: a.now})
	if err != nil {
		return nil, err
	}
	if err := a.writeCA(ca, rootKeyFile, rootCertFile, rootCRLFile, rl); err != nil {
		return nil, err
	}
	if err := a.appendIndex(ca.Cert, KindRoot, province); err != nil {
		return nil, err
	}
	return a, nil
}

// OpenAuthority opens a CA directory made by InitRoot. It sets the
// directory to mode 0700 and reads the root certificate (not yet its key).
func OpenAuthority(dir string) (*Authority, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no CA directory given", ErrAuthority)
	}
	if _, err := os.Stat(filepath.Join(dir, rootCertFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s holds no root CA (%s); create one with `gridcrm cert init-root`", ErrAuthority, dir, rootCertFile)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return nil, fmt.Errorf("pki: chmod 700 %s: %w", dir, err)
	}
	certs, err := LoadCertificates(filepath.Join(dir, rootCertFile))
	if err != nil {
		return nil, err
	}
	prov, err := scopeOf(certs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, rootCertFile), err)
	}
	return &Authority{dir: dir, province: prov, now: time.Now}, nil
}

func (a *Authority) writeCA(ca *CA, keyFile, certFile, crlFile string, rl *x509.RevocationList) error {
	kb, err := encodeKey(ca.Key)
	if err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(a.dir, keyFile), kb); err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(a.dir, certFile), encodeCerts(ca.Cert)); err != nil {
		return err
	}
	return writeFile(filepath.Join(a.dir, crlFile), encodeCRL(rl))
}

// InitCA creates an intermediate CA for region (a city or county of the
// province), signed by the root, with its first revocation list. From then
// on Issue signs certificates for region's subtree with it. Nodes must be
// given its certificate and list (the trust directory) before they meet a
// certificate it issued.
func (a *Authority) InitCA(region tiers.RegionCode, opt CAOptions) (*CA, error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if opt.Now == nil {
		opt.Now = a.now
	}
	if _, err := os.Lstat(filepath.Join(a.dir, caDir, string(region)+".crt")); err == nil {
		return nil, fmt.Errorf("%w: %s already exists", ErrAuthority, filepath.Join(a.dir, caDir, string(region)+".crt"))
	}
	root, err := a.loadCA(a.province)
	if err != nil {
		return nil, err
	}
	ca, err := root.NewIntermediate(region, opt)
	if err != nil {
		return nil, err
	}
	rl, err := ca.SignCRL(nil, nil, CRLOptions{Now: a.now})
	if err != nil {
		return nil, err
	}
	base := filepath.Join(caDir, string(region))
	if err := a.writeCA(ca, base+".key", base+".crt", base+".crl", rl); err != nil {
		return nil, err
	}
	if err := a.appendIndex(ca.Cert, KindCA, a.province); err != nil {
		return nil, err
	}
	return ca, nil
}

// NodeFiles returns where the CA directory keeps id's certificate and key.
func (a *Authority) NodeFiles(id Identity) (certFile, keyFile string) {
	base := filepath.Join(a.dir, nodesDir, string(id.Region), id.Node)
	return base + ".crt", base + ".key"
}

// Issue signs a node certificate with the nearest CA above or at its
// region (an intermediate if the directory has one, else the root), writes
// the key and the certificate followed by its chain (both 0600) to
// NodeFiles, and records it. It refuses a node that already has a
// certificate: use Renew.
func (a *Authority) Issue(req NodeRequest) (*Issued, error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := NewIdentity(string(req.Identity.Region), req.Identity.Node); err != nil {
		return nil, err
	}
	certFile, _ := a.NodeFiles(req.Identity)
	if _, err := os.Lstat(certFile); err == nil {
		return nil, fmt.Errorf("%w: %s already has a certificate (%s); use `gridcrm cert renew`", ErrAuthority, req.Identity.Short(), certFile)
	}
	return a.issue(req, false)
}

func (a *Authority) issue(req NodeRequest, replace bool) (*Issued, error) {
	if req.Now == nil {
		req.Now = a.now
	}
	if !a.province.Contains(req.Identity.Region) {
		return nil, fmt.Errorf("%w: region %s is not in province %s of this CA directory", ErrAuthority, req.Identity.Region, a.province)
	}
	ca, err := a.nearestCA(req.Identity.Region)
	if err != nil {
		return nil, err
	}
	is, err := ca.Issue(req)
	if err != nil {
		return nil, err
	}
	certFile, keyFile := a.NodeFiles(req.Identity)
	if req.Key == nil {
		kb, err := encodeKey(is.Key)
		if err != nil {
			return nil, err
		}
		write := writeNewFile
		if replace {
			write = writeFile
		}
		if err := write(keyFile, kb); err != nil {
			return nil, err
		}
	}
	if err := writeFile(certFile, encodeCerts(append([]*x509.Certificate{is.Cert}, is.Chain...)...)); err != nil {
		return nil, err
	}
	if err := a.appendIndex(is.Cert, KindNode, ca.Region); err != nil {
		return nil, err
	}
	return is, nil
}

// Renew reissues id's certificate from the files under NodeFiles: same
// identity and SANs (unless req replaces them), a new key unless sameKey,
// new serial and validity, signed by the nearest CA. The files are
// replaced; the old certificate is returned and stays valid until it
// expires or is revoked.
func (a *Authority) Renew(id Identity, sameKey bool, req RenewRequest) (is *Issued, old *x509.Certificate, err error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	certFile, keyFile := a.NodeFiles(id)
	certs, err := LoadCertificates(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (issue it first with `gridcrm cert issue`)", err)
	}
	old = certs[0]
	oldID, err := IdentityOf(old)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certFile, err)
	}
	if oldID != id {
		return nil, nil, fmt.Errorf("%w: %s names %s, not %s", ErrAuthority, certFile, oldID, id)
	}
	nr := NodeRequest{Identity: id, DNS: req.DNS, IPs: req.IPs, Days: req.Days, Now: req.Now}
	if nr.DNS == nil {
		nr.DNS = old.DNSNames
	}
	if nr.IPs == nil {
		nr.IPs = old.IPAddresses
	}
	if sameKey {
		if nr.Key, err = LoadKey(keyFile); err != nil {
			return nil, nil, err
		}
		if !nr.Key.PublicKey.Equal(old.PublicKey) {
			return nil, nil, fmt.Errorf("%w: %s does not match %s", ErrAuthority, keyFile, certFile)
		}
	}
	is, err = a.issue(nr, true)
	if err != nil {
		return nil, nil, err
	}
	return is, old, nil
}

// Revoke adds serial to the revocation list of the CA that issued it (found
// in the index), signs the list with the next number and marks the index.
// It returns the index record and the new list's file. Nodes refuse the
// certificate once they have loaded the new list.
func (a *Authority) Revoke(serial *big.Int) (Record, string, error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return Record{}, "", err
	}
	defer unlock()
	ix, err := a.readIndex()
	if err != nil {
		return Record{}, "", err
	}
	want := FormatSerial(serial)
	for i, r := range ix.Certs {
		if r.Serial == want {
			return a.revoke(ix, i)
		}
	}
	return Record{}, "", fmt.Errorf("%w: serial %s was not issued from %s (not in %s); check it with `gridcrm cert show`, or pass --cert FILE", ErrAuthority, want, a.dir, indexFile)
}

// RevokeCert revokes cert, which must have been issued by this directory's
// root or one of its intermediates (checked by signature); a certificate
// missing from the index is added to it.
func (a *Authority) RevokeCert(cert *x509.Certificate) (Record, string, error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return Record{}, "", err
	}
	defer unlock()
	ix, err := a.readIndex()
	if err != nil {
		return Record{}, "", err
	}
	want := FormatSerial(cert.SerialNumber)
	for i, r := range ix.Certs {
		if r.Serial == want {
			return a.revoke(ix, i)
		}
	}
	issuer, err := a.issuerOf(cert)
	if err != nil {
		return Record{}, "", err
	}
	rec, err := recordOf(cert, issuer)
	if err != nil {
		return Record{}, "", err
	}
	ix.Certs = append(ix.Certs, rec)
	return a.revoke(ix, len(ix.Certs)-1)
}

// revoke revokes ix.Certs[i]; the caller holds the lock.
func (a *Authority) revoke(ix *Index, i int) (Record, string, error) {
	r := ix.Certs[i]
	switch {
	case r.Kind == KindRoot:
		return Record{}, "", fmt.Errorf("%w: %s is the root; a compromised root means a new root (init-root) and new certificates everywhere", ErrAuthority, r.Serial)
	case r.RevokedAt != nil:
		return Record{}, "", fmt.Errorf("%w: %s (%s) was already revoked at %s", ErrAuthority, r.Serial, r.Subject, r.RevokedAt.UTC().Format(time.RFC3339))
	}
	issuer := tiers.RegionCode(r.Issuer)
	ca, err := a.loadCA(issuer)
	if err != nil {
		return Record{}, "", err
	}
	crlFile := a.crlFile(issuer)
	prev, err := LoadCRL(crlFile)
	if err != nil {
		return Record{}, "", err
	}
	serial, err := ParseSerial(r.Serial)
	if err != nil {
		return Record{}, "", err
	}
	rl, err := ca.SignCRL(prev, []*big.Int{serial}, CRLOptions{Now: a.now})
	if err != nil {
		return Record{}, "", err
	}
	if err := writeFile(crlFile, encodeCRL(rl)); err != nil {
		return Record{}, "", err
	}
	at := a.now().UTC().Truncate(time.Second)
	ix.Certs[i].RevokedAt = &at
	if err := a.writeIndex(ix); err != nil {
		return Record{}, "", err
	}
	return ix.Certs[i], crlFile, nil
}

// RefreshCRLs re-signs every CA's revocation list with the same entries,
// the next number and a new next-update time, and returns the files
// written. Run it before the lists expire (`gridcrm cert show root.crl`
// prints when).
func (a *Authority) RefreshCRLs(opt CRLOptions) ([]string, error) {
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if opt.Now == nil {
		opt.Now = a.now
	}
	regions := []tiers.RegionCode{a.province}
	names, err := listCAs(a.dir)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		regions = append(regions, tiers.RegionCode(n))
	}
	var out []string
	for _, r := range regions {
		ca, err := a.loadCA(r)
		if err != nil {
			return out, err
		}
		f := a.crlFile(r)
		prev, err := LoadCRL(f)
		if err != nil {
			return out, err
		}
		rl, err := ca.SignCRL(prev, nil, opt)
		if err != nil {
			return out, err
		}
		if err := writeFile(f, encodeCRL(rl)); err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Trust returns the directory's trust (root, intermediates, lists), as
// LoadTrust reads it.
func (a *Authority) Trust() (*Trust, error) { return LoadTrust(a.dir) }

// Index returns the directory's index.
func (a *Authority) Index() (*Index, error) { return a.readIndex() }

func (a *Authority) crlFile(region tiers.RegionCode) string {
	if region == a.province {
		return filepath.Join(a.dir, rootCRLFile)
	}
	return filepath.Join(a.dir, caDir, string(region)+".crl")
}

// loadCA reads the CA of region (the root for the province) with its key.
func (a *Authority) loadCA(region tiers.RegionCode) (*CA, error) {
	certFile, keyFile := filepath.Join(a.dir, rootCertFile), filepath.Join(a.dir, rootKeyFile)
	if region != a.province {
		certFile, keyFile = filepath.Join(a.dir, caDir, string(region)+".crt"), filepath.Join(a.dir, caDir, string(region)+".key")
	}
	certs, err := LoadCertificates(certFile)
	if err != nil {
		return nil, err
	}
	key, err := LoadKey(keyFile)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: %s does not match %s", ErrKeyFile, keyFile, certFile)
	}
	scope, err := scopeOf(cert)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	if scope != region {
		return nil, fmt.Errorf("%w: %s names region %s, not %s", ErrCertFile, certFile, scope, region)
	}
	ca := &CA{Cert: cert, Key: key, Region: region}
	if region != a.province {
		ca.Chain = []*x509.Certificate{cert}
	}
	return ca, nil
}

// nearestCA returns the intermediate of region or its nearest ancestor that
// has one, else the root.
func (a *Authority) nearestCA(region tiers.RegionCode) (*CA, error) {
	for r := region; r != "" && r != a.province; r = r.Parent() {
		if _, err := os.Stat(filepath.Join(a.dir, caDir, string(r)+".crt")); err == nil {
			return a.loadCA(r)
		}
	}
	return a.loadCA(a.province)
}

// issuerOf returns the region of the directory's CA that signed cert.
func (a *Authority) issuerOf(cert *x509.Certificate) (tiers.RegionCode, error) {
	regions := []tiers.RegionCode{a.province}
	names, err := listCAs(a.dir)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		regions = append(regions, tiers.RegionCode(n))
	}
	for _, r := range regions {
		f := filepath.Join(a.dir, rootCertFile)
		if r != a.province {
			f = filepath.Join(a.dir, caDir, string(r)+".crt")
		}
		cs, err := LoadCertificates(f)
		if err != nil {
			return "", err
		}
		if bytes.Equal(cert.RawIssuer, cs[0].RawSubject) && cert.CheckSignatureFrom(cs[0]) == nil {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: certificate %q (serial %s) was not issued by a CA in %s", ErrAuthority, cert.Subject.CommonName, FormatSerial(cert.SerialNumber), a.dir)
}

func recordOf(cert *x509.Certificate, issuer tiers.RegionCode) (Record, error) {
	kind := KindNode
	if cert.IsCA {
		kind = KindCA
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) {
			kind = KindRoot
		}
	}
	subject, err := gridcrmURI(cert)
	if err != nil {
		return Record{}, err
	}
	return Record{Serial: FormatSerial(cert.SerialNumber), Kind: kind, Subject: subject, Issuer: string(issuer), NotAfter: cert.NotAfter.UTC()}, nil
}

func (a *Authority) readIndex() (*Index, error) {
	p := filepath.Join(a.dir, indexFile)
	b, err := readFile(p, false, ErrAuthority, "index")
	if errors.Is(err, ErrAuthority) {
		if _, serr := os.Stat(p); errors.Is(serr, fs.ErrNotExist) {
			return &Index{Version: 1}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return ix, nil
}

func (a *Authority) writeIndex(ix *Index) error {
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("pki: encode index: %w", err)
	}
	return writeFile(filepath.Join(a.dir, indexFile), append(b, '\n'))
}

func (a *Authority) appendIndex(cert *x509.Certificate, kind string, issuer tiers.RegionCode) error {
	ix, err := a.readIndex()
	if err != nil {
		return err
	}
	rec, err := recordOf(cert, issuer)
	if err != nil {
		return err
	}
	rec.Kind = kind
	ix.Certs = append(ix.Certs, rec)
	return a.writeIndex(ix)
}
