package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// Describe returns a human-readable account of a PEM file's certificates
// or revocation list, as `gridcrm cert show` prints it: identity or CA
// region, serial, issuer, validity, SANs and usages; or a list's issuer,
// number, validity and revoked serials. It refuses a private key (show
// never prints key material) and anything it cannot parse.
func Describe(b []byte) (string, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", fmt.Errorf("%w: no PEM block; show reads certificates (.crt) and revocation lists (.crl)", ErrCertFile)
	}
	switch blk.Type {
	case pemCertificate:
		certs, err := ParseCertificatesPEM(b)
		if err != nil {
			return "", err
		}
		var s strings.Builder
		for i, c := range certs {
			if i > 0 {
				s.WriteString("\n")
			}
			describeCert(&s, c)
		}
		return s.String(), nil
	case pemCRL:
		rl, err := ParseCRLPEM(b)
		if err != nil {
			return "", err
		}
		var s strings.Builder
		fmt.Fprintf(&s, "revocation list of %q\n", rl.Issuer.CommonName)
		fmt.Fprintf(&s, "  number:       %s\n", rl.Number)
		fmt.Fprintf(&s, "  this update:  %s\n", rl.ThisUpdate.UTC().Format(time.RFC3339))
		fmt.Fprintf(&s, "  next update:  %s (re-sign with `gridcrm cert crl` before then)\n", rl.NextUpdate.UTC().Format(time.RFC3339))
		fmt.Fprintf(&s, "  revoked:      %d\n", len(rl.RevokedCertificateEntries))
		for _, e := range rl.RevokedCertificateEntries {
			fmt.Fprintf(&s, "    %s at %s\n", FormatSerial(e.SerialNumber), e.RevocationTime.UTC().Format(time.RFC3339))
		}
		return s.String(), nil
	case pemPrivateKey, "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return "", fmt.Errorf("%w: this is a private key; show prints certificates and revocation lists only", ErrCertFile)
	default:
		return "", fmt.Errorf("%w: PEM block %q; show reads CERTIFICATE and X509 CRL", ErrCertFile, blk.Type)
	}
}

func describeCert(s *strings.Builder, c *x509.Certificate) {
	switch {
	case c.IsCA:
		scope, err := scopeOf(c)
		kind := "intermediate CA"
		if string(c.RawIssuer) == string(c.RawSubject) {
			kind = "root CA"
		}
		if err != nil {
			fmt.Fprintf(s, "%s %q (not a gridcrm CA: %v)\n", kind, c.Subject.CommonName, err)
		} else {
			fmt.Fprintf(s, "%s for region %s (%s)\n", kind, scope, scopeURI(scope))
		}
	default:
		if id, err := IdentityOf(c); err != nil {
			fmt.Fprintf(s, "certificate %q (not a gridcrm node: %v)\n", c.Subject.CommonName, err)
		} else {
			fmt.Fprintf(s, "node %s of region %s (%s)\n", id.Node, id.Region, id)
		}
	}
	fmt.Fprintf(s, "  serial:       %s\n", FormatSerial(c.SerialNumber))
	fmt.Fprintf(s, "  subject:      %s\n", c.Subject)
	fmt.Fprintf(s, "  issuer:       %s\n", c.Issuer)
	fmt.Fprintf(s, "  not before:   %s\n", c.NotBefore.UTC().Format(time.RFC3339))
	fmt.Fprintf(s, "  not after:    %s%s\n", c.NotAfter.UTC().Format(time.RFC3339), expiryNote(c.NotAfter))
	if len(c.DNSNames) > 0 {
		fmt.Fprintf(s, "  DNS:          %s\n", strings.Join(c.DNSNames, ", "))
	}
	if len(c.IPAddresses) > 0 {
		ips := make([]string, len(c.IPAddresses))
		for i, ip := range c.IPAddresses {
			ips[i] = ip.String()
		}
		fmt.Fprintf(s, "  IP:           %s\n", strings.Join(ips, ", "))
	}
	var uses []string
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			uses = append(uses, "server auth")
		case x509.ExtKeyUsageClientAuth:
			uses = append(uses, "client auth")
		default:
			uses = append(uses, fmt.Sprintf("usage %d", u))
		}
	}
	if len(uses) > 0 {
		fmt.Fprintf(s, "  usages:       %s\n", strings.Join(uses, ", "))
	}
}

func expiryNote(notAfter time.Time) string {
	d := time.Until(notAfter)
	switch {
	case d < 0:
		return " (EXPIRED)"
	case d < 30*24*time.Hour:
		return fmt.Sprintf(" (expires in %d days: renew)", int(d.Hours()/24))
	}
	return ""
}
