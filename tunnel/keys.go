package tunnel

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// GenerateKey writes a new private key to path, base64 and a newline like
// `wg genkey`, with mode 0600, and returns the base64 public key. It refuses
// to overwrite an existing file.
func GenerateKey(path string) (pub string, err error) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return "", fmt.Errorf("tunnel: generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("tunnel: write key file: %w", err)
	}
	if _, err := f.WriteString(k.String() + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("tunnel: write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("tunnel: write key file %s: %w", path, err)
	}
	return k.PublicKey().String(), nil
}

// LoadKey reads a private key file written by GenerateKey or `wg genkey`.
// Every error wraps ErrKeyFile and says what to do: the file is missing, is
// readable by group or others, or does not hold one base64 32-byte key.
func LoadKey(path string) (wgtypes.Key, error) {
	if path == "" {
		return wgtypes.Key{}, fmt.Errorf("%w: no private key file given; create one with `gridcrm keygen`", ErrKeyFile)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s does not exist; create it with `gridcrm keygen`", ErrKeyFile, path)
	}
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s: %w", ErrKeyFile, path, err)
	}
	if !st.Mode().IsRegular() {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s is not a regular file", ErrKeyFile, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s is readable by others (mode %o); chmod 600 it", ErrKeyFile, path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s: %w", ErrKeyFile, path, err)
	}
	k, err := parseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("%w: key file %s: %s; it must hold one base64 key as `wg genkey` prints it", ErrKeyFile, path, err.Error())
	}
	return k, nil
}

// ParsePublicKey parses a base64 public key as `wg pubkey` prints it.
func ParsePublicKey(s string) (wgtypes.Key, error) {
	k, err := parseKey(strings.TrimSpace(s))
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("tunnel: public key %q: %s", s, err.Error())
	}
	return k, nil
}

// parseKey decodes a base64 32-byte key with a short reason on failure.
func parseKey(s string) (wgtypes.Key, error) {
	if s == "" {
		return wgtypes.Key{}, errors.New("empty")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return wgtypes.Key{}, errors.New("not base64")
	}
	if len(b) != wgtypes.KeyLen {
		return wgtypes.Key{}, fmt.Errorf("%d bytes, want %d", len(b), wgtypes.KeyLen)
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		// the decoder skips line breaks and ignores the last character's
		// spare bits: another spelling of a key is not that key's name
		return wgtypes.Key{}, errors.New("not in canonical base64 (line breaks, or stray bits in the last character)")
	}
	return wgtypes.NewKey(b)
}
