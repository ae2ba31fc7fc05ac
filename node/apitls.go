package node

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// APITLS names the public API's certificate files (PEM): the listener
// then speaks HTTPS only, TLS 1.2 or 1.3. Unlike the internal TLS (tls:),
// these are certificates clients know (a company or public CA) and
// nothing is asked of clients. The files are checked at most every
// ReloadEvery at a handshake and re-read when either changed, so a renewed
// certificate is served without a restart or a signal; a pair that fails
// to load leaves the previous one in place and is logged.
type APITLS struct {
	Cert string `yaml:"cert"` // the certificate, then its intermediates
	Key  string `yaml:"key"`  // its private key
}

// apiTLSReloadEvery is how often a handshake looks at the files.
var apiTLSReloadEvery = 30 * time.Second

func (t *APITLS) validate() error {
	if t.Cert == "" || t.Key == "" {
		return errors.New("node: api_tls needs both cert and key (PEM files)")
	}
	return nil
}

// apiCert serves the public listener's certificate, re-reading its files
// when they change.
type apiCert struct {
	files APITLS
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex       // guards what follows
	cert    *tls.Certificate // the pair served
	stamp   []byte           // the files' sizes and times when cert was read
	checked time.Time        // when the files were last looked at
}

func newAPICert(files APITLS, log *slog.Logger) (*apiCert, error) {
	c := &apiCert{files: files, every: apiTLSReloadEvery, log: log}
	stamp, _ := c.stampFiles()
	cert, err := loadAPICert(files.Cert, files.Key)
	if err != nil {
		return nil, err
	}
	c.cert, c.stamp, c.checked = cert, stamp, time.Now()
	return c, nil
}

func loadAPICert(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("node: api_tls: cert %s, key %s: %w", certFile, keyFile, err)
	}
	return &cert, nil
}

// stampFiles describes both files by size and modification time.
func (c *apiCert) stampFiles() ([]byte, error) {
	var b bytes.Buffer
	for _, p := range []string{c.files.Cert, c.files.Key} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%d %d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return b.Bytes(), nil
}

// getCertificate is tls.Config.GetCertificate.
func (c *apiCert) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.every {
		c.checked = now
		if stamp, err := c.stampFiles(); err == nil && !bytes.Equal(stamp, c.stamp) {
			if cert, err := loadAPICert(c.files.Cert, c.files.Key); err != nil {
				c.log.Warn("node: api_tls: keeping the certificate loaded before", "err", err)
			} else {
				c.cert, c.stamp = cert, stamp
				c.log.Info("node: api_tls: certificate reloaded", "cert", c.files.Cert)
			}
		}
	}
	return c.cert, nil
}

// tlsConfig is the public listener's: TLS 1.2 and 1.3, and for 1.2 only
// forward-secret AEAD suites (Go's TLS 1.3 suites need no choosing).
func (c *apiCert) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.getCertificate,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
