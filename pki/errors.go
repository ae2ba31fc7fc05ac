package pki

import "errors"

// Errors returned by this package. Each error carries a full message that
// names the file, flag-level value or peer concerned; test for the kind with
// errors.Is.
var (
	// ErrInvalidIdentity: a string or certificate does not hold one valid
	// gridcrm identity (gridcrm://32/3207/320722/dh1): wrong scheme, a
	// region path that is not each region's ancestry, a bad node id, or
	// zero or several gridcrm URIs in one certificate.
	ErrInvalidIdentity = errors.New("pki: invalid identity")
	// ErrKeyFile: a private key file is missing, readable by group or
	// others, or does not hold one PKCS#8 ECDSA P-256 key.
	ErrKeyFile = errors.New("pki: bad key file")
	// ErrCertFile: a certificate file is missing or does not hold PEM
	// certificates, or the certificate does not match its key.
	ErrCertFile = errors.New("pki: bad certificate file")
	// ErrCRLFile: a revocation list file is missing, is not one PEM X509 CRL,
	// is not signed by the CA it names, or is older than the one loaded.
	ErrCRLFile = errors.New("pki: bad revocation list")
	// ErrUntrusted: a peer's certificate chain does not verify against the
	// province root, uses a CA outside its region, or was not verified at
	// all (PeerIdentity on a connection no gridcrm config checked).
	ErrUntrusted = errors.New("pki: untrusted certificate")
	// ErrRevoked: a certificate in the peer's chain is on its issuer's
	// revocation list.
	ErrRevoked = errors.New("pki: certificate revoked")
	// ErrStaleCRL: the revocation list of a CA in the peer's chain has
	// passed its next-update time, or none is loaded for that CA; the
	// connection is refused (fail closed) until a fresh list is loaded.
	ErrStaleCRL = errors.New("pki: revocation list missing or expired")
	// ErrForbidden: a verified peer's identity may not use the service it
	// asked for (for example raft from another region).
	ErrForbidden = errors.New("pki: peer not authorised")
	// ErrAuthority: a CA directory operation cannot proceed: the directory
	// is missing or already initialised, the node already has a
	// certificate, a serial is unknown or already revoked, or the requested
	// validity does not fit.
	ErrAuthority = errors.New("pki: authority")
)
