package pki

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"

	"gridcrm/tiers"
)

// Scheme is the URI scheme of gridcrm identities.
const Scheme = "gridcrm"

// maxIdentityLen bounds what ParseIdentity reads: the longest valid identity
// is well under 100 bytes.
const maxIdentityLen = 256

// maxNodeLen is the longest node id an identity may carry.
const maxNodeLen = 64

// Identity names one node: its region and its node id within the region. It
// is carried in a node certificate as one URI SAN, the region's ancestry
// from the province down followed by the node id:
//
//	gridcrm://32/3207/320722/dh1   node dh1 of county 320722
//	gridcrm://32/3207/hy2          node hy2 of city 3207
//	gridcrm://32/gy1               node gy1 of province 32
//
// The zero Identity is invalid and authorises nothing.
type Identity struct {
	Region tiers.RegionCode // the node's region, e.g. 320722
	Node   string           // the node id, unique in the region, e.g. dh1 (see ValidNodeID)
}

// NewIdentity validates region and node and returns them as an Identity, or
// an error wrapping ErrInvalidIdentity naming what is wrong.
func NewIdentity(region, node string) (Identity, error) {
	r, err := tiers.ParseRegion(region)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidIdentity, err)
	}
	if p := nodeProblem(node); p != "" {
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidIdentity, p)
	}
	return Identity{Region: r, Node: node}, nil
}

// Valid reports whether id has a valid region code and node id.
func (id Identity) Valid() bool { return id.Region.Valid() && nodeProblem(id.Node) == "" }

// String returns id's URI, e.g. gridcrm://32/3207/320722/dh1, or
// "invalid identity" with the fields quoted when id is not valid.
func (id Identity) String() string {
	if !id.Valid() {
		return fmt.Sprintf("invalid identity (region %q, node %q)", string(id.Region), id.Node)
	}
	return scopeURI(id.Region) + "/" + id.Node
}

// URI returns id as the URL carried in a certificate's URI SANs. Call it
// only for a valid id.
func (id Identity) URI() *url.URL { return mustURL(id.String()) }

// Short returns "320722/dh1", the form used in logs and file names.
func (id Identity) Short() string { return string(id.Region) + "/" + id.Node }

// ValidNodeID reports whether s may be a node id in an identity: 1 to 64
// characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, and
// not digits only (a digits-only last element would read as a region code).
func ValidNodeID(s string) bool { return nodeProblem(s) == "" }

func nodeProblem(s string) string {
	if s == "" {
		return "node id is empty"
	}
	if len(s) > maxNodeLen {
		return fmt.Sprintf("node id %.20q… is %d characters; at most %d", s, len(s), maxNodeLen)
	}
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			digits = false
		case (c == '.' || c == '_' || c == '-') && i > 0:
			digits = false
		default:
			return fmt.Sprintf("node id %q may hold only letters, digits, '.', '_' and '-', starting with a letter or digit", s)
		}
	}
	if digits {
		return fmt.Sprintf("node id %q is digits only, which reads as a region code; add a letter (e.g. n%s)", s, s)
	}
	return ""
}

// ParseIdentity parses a node identity URI such as
// gridcrm://32/3207/320722/dh1. It is strict: the scheme is gridcrm, there
// is no user, port, query, fragment, percent-encoding or empty element; the
// host is a province code; every following region element extends the one
// before by two digits (its parent per tiers' rules); the last element is a
// node id (ValidNodeID). Errors wrap ErrInvalidIdentity.
func ParseIdentity(s string) (Identity, error) {
	regions, node, err := parsePath(s)
	if err != nil {
		return Identity{}, err
	}
	if node == "" {
		return Identity{}, fmt.Errorf("%w: %q names region %s but no node; a node identity ends with the node id (e.g. %s/dh1)", ErrInvalidIdentity, s, regions[len(regions)-1], s)
	}
	return Identity{Region: regions[len(regions)-1], Node: node}, nil
}

// parseScope parses a CA's region URI: gridcrm://32 (the root) or
// gridcrm://32/3207 (an intermediate for city 3207); no node element.
func parseScope(s string) (tiers.RegionCode, error) {
	regions, node, err := parsePath(s)
	if err != nil {
		return "", err
	}
	if node != "" {
		return "", fmt.Errorf("%w: CA URI %q ends in node %q; a CA names only its region", ErrInvalidIdentity, s, node)
	}
	return regions[len(regions)-1], nil
}

// parsePath splits gridcrm://<province>[/<city>[/<county>]][/<node>] into
// its region chain and node id ("" when the last element is a region).
func parsePath(s string) (regions []tiers.RegionCode, node string, err error) {
	bad := func(format string, args ...any) ([]tiers.RegionCode, string, error) {
		return nil, "", fmt.Errorf("%w: %s", ErrInvalidIdentity, fmt.Sprintf(format, args...))
	}
	if len(s) > maxIdentityLen {
		return bad("identity of %d bytes is longer than %d", len(s), maxIdentityLen)
	}
	rest, ok := strings.CutPrefix(s, Scheme+"://")
	if !ok {
		return bad("%q is not a gridcrm identity; want gridcrm://<province>/<city>/<county>/<node>, e.g. gridcrm://32/3207/320722/dh1", s)
	}
	elems := strings.Split(rest, "/")
	for i, e := range elems {
		if e == "" {
			return bad("%q has an empty path element (a doubled or trailing '/')", s)
		}
		for j := 0; j < len(e); j++ {
			c := e[j]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
				return bad("%q element %d %q holds %q; identities have no user, port, query, fragment or escapes", s, i, e, string(c))
			}
		}
	}
	for i, e := range elems {
		if !allDigits(e) {
			if i != len(elems)-1 {
				return bad("%q: element %q is not a region code, and only the last element may be the node id", s, e)
			}
			if i == 0 {
				return bad("%q has no province; the host must be a province code such as 32", s)
			}
			if p := nodeProblem(e); p != "" {
				return bad("%q: %s", s, p)
			}
			return regions, e, nil
		}
		r, err := tiers.ParseRegion(e)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %q: %w", ErrInvalidIdentity, s, err)
		}
		switch {
		case i == 0 && r.Tier() != tiers.Province:
			return bad("%q starts with %s %s; the host must be the province (%s)", s, r.Tier(), r, r[:2])
		case i > 0 && r.Parent() != regions[i-1]:
			return bad("%q: %s %s does not follow %s; its parent is %s (the path is each region's ancestry, province first)", s, r.Tier(), r, regions[i-1], r.Parent())
		}
		regions = append(regions, r)
	}
	return regions, "", nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// scopeURI returns gridcrm://32/3207/320722 for a valid region code.
func scopeURI(r tiers.RegionCode) string {
	var b strings.Builder
	b.WriteString(Scheme + ":/")
	anc := r.Ancestors()
	for i := len(anc) - 1; i >= 0; i-- {
		b.WriteString("/" + string(anc[i]))
	}
	b.WriteString("/" + string(r))
	return b.String()
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("pki: %q: %v", s, err))
	}
	return u
}

// gridcrmURI returns the one gridcrm URI SAN of cert as a string, or an
// error if it has none or several. URIs of other schemes are ignored.
func gridcrmURI(cert *x509.Certificate) (string, error) {
	var found []string
	for _, u := range cert.URIs {
		if strings.EqualFold(u.Scheme, Scheme) {
			found = append(found, u.String())
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%w: certificate %q (serial %s) has no gridcrm:// URI SAN", ErrInvalidIdentity, cert.Subject.CommonName, FormatSerial(cert.SerialNumber))
	default:
		return "", fmt.Errorf("%w: certificate %q (serial %s) has %d gridcrm:// URI SANs %v; exactly one names the node", ErrInvalidIdentity, cert.Subject.CommonName, FormatSerial(cert.SerialNumber), len(found), found)
	}
}

// IdentityOf returns the identity a node certificate names. The certificate
// must not be a CA and must carry exactly one gridcrm URI SAN that
// ParseIdentity accepts. IdentityOf does not verify the certificate: use
// PeerIdentity on a verified connection for authorisation.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, fmt.Errorf("%w: no certificate", ErrInvalidIdentity)
	}
	if cert.IsCA {
		return Identity{}, fmt.Errorf("%w: certificate %q is a CA, not a node certificate", ErrInvalidIdentity, cert.Subject.CommonName)
	}
	s, err := gridcrmURI(cert)
	if err != nil {
		return Identity{}, err
	}
	return ParseIdentity(s)
}

// scopeOf returns the region a CA certificate may issue for: its gridcrm
// URI SAN's region (gridcrm://32 for the root, gridcrm://32/3207 for city
// 3207's intermediate).
func scopeOf(cert *x509.Certificate) (tiers.RegionCode, error) {
	if !cert.IsCA {
		return "", fmt.Errorf("%w: certificate %q is not a CA", ErrInvalidIdentity, cert.Subject.CommonName)
	}
	s, err := gridcrmURI(cert)
	if err != nil {
		return "", err
	}
	return parseScope(s)
}
