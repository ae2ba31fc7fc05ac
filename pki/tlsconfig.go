package pki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"time"
)

// Keypair is a node's certificate chain and private key as TLS presents
// them, replaceable while connections run (Reload after `gridcrm cert
// renew`). Its identity never changes. Safe for concurrent use.
type Keypair struct {
	certFile, keyFile string // "" for a Keypair made in memory

	mu   sync.RWMutex
	cert *tls.Certificate // guarded by mu
	id   Identity         // fixed at construction
}

// NewKeypair returns a Keypair holding is (certificate, key and chain), as
// issued in memory.
func NewKeypair(is *Issued) (*Keypair, error) {
	tc, id, err := tlsCertificate(append([]*x509.Certificate{is.Cert}, is.Chain...), is.Key, "")
	if err != nil {
		return nil, err
	}
	return &Keypair{cert: tc, id: id}, nil
}

// LoadKeypair reads a node's certificate file (its certificate first, then
// its intermediate if any) and key file (which must be mode 0600 or
// stricter). It refuses a certificate that is not a node certificate, does
// not match the key, or has expired.
func LoadKeypair(certFile, keyFile string) (*Keypair, error) {
	tc, id, err := loadTLSCertificate(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &Keypair{certFile: certFile, keyFile: keyFile, cert: tc, id: id}, nil
}

func loadTLSCertificate(certFile, keyFile string) (*tls.Certificate, Identity, error) {
	certs, err := LoadCertificates(certFile)
	if err != nil {
		return nil, Identity{}, err
	}
	key, err := LoadKey(keyFile)
	if err != nil {
		return nil, Identity{}, err
	}
	return tlsCertificate(certs, key, certFile)
}

// tlsCertificate checks that certs[0] is a current node certificate for key
// and returns it as a tls.Certificate with its identity.
func tlsCertificate(certs []*x509.Certificate, key *ecdsa.PrivateKey, file string) (*tls.Certificate, Identity, error) {
	where := "certificate"
	if file != "" {
		where = "certificate file " + file
	}
	leaf := certs[0]
	id, err := IdentityOf(leaf)
	if err != nil {
		return nil, Identity{}, fmt.Errorf("%w: %s: %w", ErrCertFile, where, err)
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, Identity{}, fmt.Errorf("%w: %s (%s) does not match the key given", ErrCertFile, where, id)
	}
	if now := time.Now(); now.After(leaf.NotAfter) {
		return nil, Identity{}, fmt.Errorf("%w: %s (%s) expired at %s; renew it with `gridcrm cert renew`", ErrCertFile, where, id, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	tc := &tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range certs {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, id, nil
}

// Identity returns the identity of the node the Keypair is for.
func (k *Keypair) Identity() Identity { return k.id }

// Chain returns the current certificate followed by its intermediates.
func (k *Keypair) Chain() []*x509.Certificate {
	tc := k.current()
	out := []*x509.Certificate{tc.Leaf}
	for _, der := range tc.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Reload re-reads the files LoadKeypair read and, if they hold a current
// certificate for the same identity, presents it from the next handshake
// on. On error the old certificate stays.
func (k *Keypair) Reload() error {
	if k.certFile == "" {
		return fmt.Errorf("%w: this keypair was not loaded from files", ErrCertFile)
	}
	tc, id, err := loadTLSCertificate(k.certFile, k.keyFile)
	if err != nil {
		return err
	}
	return k.swap(tc, id)
}

// Set presents is from the next handshake on, if it is a current
// certificate for the same identity.
func (k *Keypair) Set(is *Issued) error {
	tc, id, err := tlsCertificate(append([]*x509.Certificate{is.Cert}, is.Chain...), is.Key, "")
	if err != nil {
		return err
	}
	return k.swap(tc, id)
}

func (k *Keypair) swap(tc *tls.Certificate, id Identity) error {
	if id != k.id {
		return fmt.Errorf("%w: the new certificate names %s, not %s; a node keeps its identity", ErrCertFile, id, k.id)
	}
	k.mu.Lock()
	k.cert = tc
	k.mu.Unlock()
	return nil
}

func (k *Keypair) current() *tls.Certificate {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.cert
}

// Authorizer decides whether a verified peer may connect at all; nil
// admits every peer the trust verifies. The transport still calls
// Authorize per service on each request.
type Authorizer func(peer Identity) error

// ServerConfig returns the TLS configuration of a node's internal listener:
// TLS 1.3 only, kp's certificate, and a client certificate required and
// verified against t's root for client auth, then checked for revocation
// and region scope (t), then passed to authorize if not nil. Session
// tickets are off, so every connection presents and has its certificate
// checked against the current revocation lists.
//
// It fails if kp's own certificate does not verify against t (another
// root, revoked, an unknown intermediate): a node must trust itself.
func ServerConfig(t *Trust, kp *Keypair, authorize Authorizer) (*tls.Config, error) {
	if err := checkSelf(t, kp); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		GetCertificate:         func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.current(), nil },
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              t.pool,
		VerifyConnection:       verifyConnection(t, authorize),
		SessionTicketsDisabled: true,
		Time:                   t.now,
	}, nil
}

// ClientConfig returns the TLS configuration for dialling another node:
// TLS 1.3 only, kp's certificate offered as the client certificate, and
// the server's certificate verified against t's root for server auth and
// against the name dialled (tls.Dial takes ServerName from the address;
// with tls.Client set it), then checked for revocation and region scope,
// then passed to authorize if not nil (the dialler usually knows which
// region it means to reach). No session resumption.
func ClientConfig(t *Trust, kp *Keypair, authorize Authorizer) (*tls.Config, error) {
	if err := checkSelf(t, kp); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.current(), nil },
		RootCAs:              t.pool,
		VerifyConnection:     verifyConnection(t, authorize),
		Time:                 t.now,
	}, nil
}

func checkSelf(t *Trust, kp *Keypair) error {
	if t == nil || kp == nil {
		return fmt.Errorf("%w: a TLS configuration needs a trust and a keypair", ErrUntrusted)
	}
	if _, err := t.Verify(kp.Chain(), x509.ExtKeyUsageServerAuth); err != nil {
		return fmt.Errorf("this node's certificate (%s): %w", kp.Identity(), err)
	}
	return nil
}

// verifyConnection runs after crypto/tls has verified the peer's chain
// against the root (and, on the client, the server name): revocation,
// scope, then authorize. It runs on every handshake.
func verifyConnection(t *Trust, authorize Authorizer) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if cs.Version != tls.VersionTLS13 {
			return fmt.Errorf("%w: TLS version %x; want 1.3", ErrUntrusted, cs.Version)
		}
		id, err := t.checkChains(cs.VerifiedChains)
		if err != nil {
			return err
		}
		if authorize != nil {
			return authorize(id)
		}
		return nil
	}
}

// PeerIdentity returns the identity of the node at the other end of a
// connection whose handshake used ServerConfig or ClientConfig, for
// authorisation decisions (Authorize, AuthorizeDial). It refuses a
// connection whose handshake is not complete or whose peer certificate was
// not verified, and re-checks the region scope of the verified chain;
// revocation was checked during the handshake. Errors wrap ErrUntrusted.
func PeerIdentity(cs tls.ConnectionState) (Identity, error) {
	if !cs.HandshakeComplete {
		return Identity{}, fmt.Errorf("%w: the TLS handshake is not complete", ErrUntrusted)
	}
	if len(cs.PeerCertificates) == 0 || len(cs.VerifiedChains) == 0 {
		return Identity{}, fmt.Errorf("%w: the peer's certificate was not verified (use pki.ServerConfig or pki.ClientConfig)", ErrUntrusted)
	}
	var first error
	for _, ch := range cs.VerifiedChains {
		if len(ch) < 2 || ch[0] != cs.PeerCertificates[0] && !ch[0].Equal(cs.PeerCertificates[0]) {
			continue
		}
		id, err := checkScope(ch)
		if err == nil {
			return id, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: no verified chain starts at the peer's certificate", ErrUntrusted)
	}
	return Identity{}, first
}

// DialConfig is ClientConfig for dialling a node by address when what
// matters is who answers, not the name dialled: node addresses are raft
// advertise addresses, tunnel overlay addresses or ports on loopback, none
// of which a certificate needs to list. crypto/tls's host-name check is off
// (InsecureSkipVerify) and VerifyConnection does the whole verification
// instead: the chain the server presents against t's root for server auth,
// revocation and region scope (Trust.Verify), then authorize, which must
// say which identities the dialler accepts (AuthorizeDial). This is how
// SPIFFE verifies peers by URI identity. authorize must not be nil.
func DialConfig(t *Trust, kp *Keypair, authorize Authorizer) (*tls.Config, error) {
	if err := checkSelf(t, kp); err != nil {
		return nil, err
	}
	if authorize == nil {
		return nil, fmt.Errorf("%w: DialConfig needs an Authorizer: without a host-name check, only the identity rule says who may answer", ErrUntrusted)
	}
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.current(), nil },
		InsecureSkipVerify:   true, // verified in VerifyConnection, by identity
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.Version != tls.VersionTLS13 {
				return fmt.Errorf("%w: TLS version %x; want 1.3", ErrUntrusted, cs.Version)
			}
			id, err := t.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			return authorize(id)
		},
		Time: t.now,
	}, nil
}
