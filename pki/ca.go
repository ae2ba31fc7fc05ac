package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"gridcrm/tiers"
)

// Validity limits, in days.
const (
	DefaultRootDays = 3650 // province root: ten years, kept offline
	MaxRootDays     = 7300
	DefaultCADays   = 1825 // per-region intermediate: five years
	MaxCADays       = 3650
	DefaultNodeDays = 90 // node certificates are short-lived and renewed
	MaxNodeDays     = 397
	DefaultCRLDays  = 365 // a revocation list must be re-signed before this
	MaxCRLDays      = 3650
)

// backdate is how far NotBefore and ThisUpdate lie in the past, so that a
// peer whose clock is a little behind accepts a fresh certificate.
const backdate = 5 * time.Minute

// CA is a certificate authority: the province root or a region's
// intermediate, with its signing key. Chain is the CA's own certificate
// followed by its issuers up to, not including, the root (empty for the
// root); node certificates are sent with it.
type CA struct {
	Cert   *x509.Certificate
	Key    *ecdsa.PrivateKey
	Chain  []*x509.Certificate // intermediates from Cert upward, root excluded; nil for the root
	Region tiers.RegionCode    // the region the CA may issue for (its subtree)
}

// Issued is a freshly issued certificate with its key and the chain to
// send with it (intermediates, root excluded).
type Issued struct {
	Cert  *x509.Certificate
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
}

// NewKey returns a new ECDSA P-256 key.
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	return k, nil
}

// newSerial returns a random positive 127-bit serial number.
func newSerial() (*big.Int, error) {
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("pki: serial: %w", err)
		}
		b[0] &= 0x7f
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// FormatSerial returns n in upper-case hex, as `openssl x509 -serial` and
// `gridcrm cert show` print it.
func FormatSerial(n *big.Int) string {
	if n == nil {
		return "<none>"
	}
	return strings.ToUpper(n.Text(16))
}

// ParseSerial parses a serial in hex, with or without a 0x prefix or ':'
// separators, case-insensitively.
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	t = strings.ReplaceAll(t, ":", "")
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || t == "" || n.Sign() <= 0 || n.BitLen() > 160 {
		return nil, fmt.Errorf("%w: serial %q is not a positive hex number of at most 20 bytes (as `gridcrm cert show` prints it)", ErrAuthority, s)
	}
	return n, nil
}

func checkDays(what string, days, def, max int) (int, error) {
	if days == 0 {
		return def, nil
	}
	if days < 1 || days > max {
		return 0, fmt.Errorf("%w: %s validity of %d days; want 1 to %d", ErrAuthority, what, days, max)
	}
	return days, nil
}

// RootOptions are the choices for NewRoot. Zero values select defaults.
type RootOptions struct {
	Days int              // validity; default DefaultRootDays, at most MaxRootDays
	Now  func() time.Time // clock; default time.Now
}

// NewRoot creates the province's self-signed root CA with a new key. Its
// URI SAN gridcrm://<province> scopes it to the province. It may sign
// per-region intermediates (path length 1) and node certificates.
func NewRoot(province tiers.RegionCode, opt RootOptions) (*CA, error) {
	if !province.Valid() || province.Tier() != tiers.Province {
		return nil, fmt.Errorf("%w: root CA region %q is not a province code (2 digits, e.g. 32)", ErrAuthority, string(province))
	}
	days, err := checkDays("root CA", opt.Days, DefaultRootDays, MaxRootDays)
	if err != nil {
		return nil, err
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := clock(opt.Now)()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"gridcrm"}, CommonName: "gridcrm root CA " + string(province)},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
		URIs:                  []*url.URL{mustURL(scopeURI(province))},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: create root CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse root CA: %w", err)
	}
	return &CA{Cert: cert, Key: key, Region: province}, nil
}

// CAOptions are the choices for NewIntermediate. Zero values select defaults.
type CAOptions struct {
	Days int              // validity; default DefaultCADays, at most MaxCADays and never past the parent's expiry
	Now  func() time.Time // clock; default time.Now
}

// NewIntermediate creates, signed by ca (which must be the root), a CA for
// region, a city or county inside the root's province. It may sign only
// node certificates (path length 0), and verification accepts only node
// identities inside region's subtree from it.
func (ca *CA) NewIntermediate(region tiers.RegionCode, opt CAOptions) (*CA, error) {
	if len(ca.Chain) != 0 {
		return nil, fmt.Errorf("%w: only the root signs intermediates; %s is itself an intermediate", ErrAuthority, ca.Cert.Subject.CommonName)
	}
	if !region.Valid() || region.Tier() == tiers.Province {
		return nil, fmt.Errorf("%w: intermediate region %q must be a city or county code (e.g. 3207)", ErrAuthority, string(region))
	}
	if !ca.Region.Contains(region) {
		return nil, fmt.Errorf("%w: region %s is not in province %s of this root", ErrAuthority, region, ca.Region)
	}
	days, err := checkDays("intermediate CA", opt.Days, DefaultCADays, MaxCADays)
	if err != nil {
		return nil, err
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	now := clock(opt.Now)()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"gridcrm"}, CommonName: "gridcrm CA " + string(region)},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		URIs:                  []*url.URL{mustURL(scopeURI(region))},
	}
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, Chain: []*x509.Certificate{cert}, Region: region}, nil
}

// NodeRequest describes a node certificate to issue.
type NodeRequest struct {
	Identity Identity          // required: region and node id; the region must be in the CA's subtree
	DNS      []string          // DNS SANs: the node's internal names, as given
	IPs      []net.IP          // IP SANs: the node's internal (or tunnel) addresses, as given
	Days     int               // validity; default DefaultNodeDays, at most MaxNodeDays, never past the CA's expiry
	Key      *ecdsa.PrivateKey // default nil: a new key; set to keep a key on renewal
	Now      func() time.Time  // clock; default time.Now
}

// Issue signs a node certificate: not a CA, key usage digital signature,
// both server and client auth, the identity as its one gridcrm URI SAN,
// and the DNS and IP SANs given (the client side of a connection checks
// the one it dialled).
func (ca *CA) Issue(req NodeRequest) (*Issued, error) {
	id := req.Identity
	if _, err := NewIdentity(string(id.Region), id.Node); err != nil {
		return nil, err
	}
	if !ca.Region.Contains(id.Region) {
		return nil, fmt.Errorf("%w: CA %s may issue only inside region %s, not for %s", ErrAuthority, ca.Cert.Subject.CommonName, ca.Region, id.Short())
	}
	days, err := checkDays("node certificate", req.Days, DefaultNodeDays, MaxNodeDays)
	if err != nil {
		return nil, err
	}
	for _, d := range req.DNS {
		if !validDNSName(d) {
			return nil, fmt.Errorf("%w: DNS name %q is not a host name (letters, digits, '-' and '.')", ErrAuthority, d)
		}
	}
	for _, ip := range req.IPs {
		if ip == nil || (ip.To4() == nil && len(ip) != net.IPv6len) {
			return nil, fmt.Errorf("%w: IP SAN %v is not an IP address", ErrAuthority, ip)
		}
	}
	key := req.Key
	if key == nil {
		if key, err = NewKey(); err != nil {
			return nil, err
		}
	}
	now := clock(req.Now)()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"gridcrm"}, OrganizationalUnit: []string{string(id.Region)}, CommonName: id.Short()},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		URIs:                  []*url.URL{id.URI()},
		DNSNames:              slices.Clone(req.DNS),
		IPAddresses:           slices.Clone(req.IPs),
	}
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	return &Issued{Cert: cert, Key: key, Chain: slices.Clone(ca.Chain)}, nil
}

// RenewRequest describes a renewal. Zero values select defaults.
type RenewRequest struct {
	Days    int               // as NodeRequest.Days
	SameKey *ecdsa.PrivateKey // default nil: a new key; set to the old key to keep it
	DNS     []string          // default nil: the old certificate's DNS SANs
	IPs     []net.IP          // default nil: the old certificate's IP SANs
	Now     func() time.Time  // clock; default time.Now
}

// Renew issues a new certificate with old's identity and SANs (unless
// replaced in req), a new serial and validity, and a new key unless
// req.SameKey is set. SameKey must be old's key. The old certificate stays
// valid until it expires or is revoked.
func (ca *CA) Renew(old *x509.Certificate, req RenewRequest) (*Issued, error) {
	id, err := IdentityOf(old)
	if err != nil {
		return nil, err
	}
	if req.SameKey != nil && !req.SameKey.PublicKey.Equal(old.PublicKey) {
		return nil, fmt.Errorf("%w: the key given to keep is not the key of certificate %s (serial %s)", ErrAuthority, id.Short(), FormatSerial(old.SerialNumber))
	}
	dns, ips := req.DNS, req.IPs
	if dns == nil {
		dns = old.DNSNames
	}
	if ips == nil {
		ips = old.IPAddresses
	}
	return ca.Issue(NodeRequest{Identity: id, DNS: dns, IPs: ips, Days: req.Days, Key: req.SameKey, Now: req.Now})
}

// sign creates a certificate from tmpl for pub, signed by ca, with a new
// serial; it refuses to outlive ca.
func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("%w: a certificate valid until %s would outlive its CA %s (expires %s); ask for fewer days or renew the CA", ErrAuthority, tmpl.NotAfter.UTC().Format(time.DateOnly), ca.Cert.Subject.CommonName, ca.Cert.NotAfter.UTC().Format(time.DateOnly))
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse %q: %w", tmpl.Subject.CommonName, err)
	}
	return cert, nil
}

// CRLOptions are the choices for SignCRL. Zero values select defaults.
type CRLOptions struct {
	Days int              // validity (NextUpdate − now); default DefaultCRLDays, at most MaxCRLDays
	Now  func() time.Time // clock; default time.Now
}

// SignCRL signs a revocation list for ca: the entries of prev (nil for the
// first list) plus one entry per serial in add (already listed serials are
// kept once, at their first revocation time), with number prev's + 1 (1
// for the first). Verification refuses a list with a number lower than the
// one it holds, so an old list cannot be replayed to un-revoke.
func (ca *CA) SignCRL(prev *x509.RevocationList, add []*big.Int, opt CRLOptions) (*x509.RevocationList, error) {
	days, err := checkDays("revocation list", opt.Days, DefaultCRLDays, MaxCRLDays)
	if err != nil {
		return nil, err
	}
	now := clock(opt.Now)()
	number := big.NewInt(1)
	var entries []x509.RevocationListEntry
	seen := map[string]bool{}
	if prev != nil {
		if err := prev.CheckSignatureFrom(ca.Cert); err != nil {
			return nil, fmt.Errorf("%w: the previous list is not signed by %s: %w", ErrCRLFile, ca.Cert.Subject.CommonName, err)
		}
		number = new(big.Int).Add(prev.Number, big.NewInt(1))
		for _, e := range prev.RevokedCertificateEntries {
			seen[e.SerialNumber.String()] = true
			entries = append(entries, x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: e.ReasonCode})
		}
	}
	for _, s := range add {
		if !seen[s.String()] {
			seen[s.String()] = true
			entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.UTC()})
		}
	}
	next := now.Add(time.Duration(days) * 24 * time.Hour)
	if next.After(ca.Cert.NotAfter) {
		next = ca.Cert.NotAfter
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now.Add(-backdate),
		NextUpdate:                next,
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign revocation list of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse revocation list: %w", err)
	}
	return rl, nil
}

// validDNSName reports whether s is a plausible host name for a SAN.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
