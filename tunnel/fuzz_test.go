package tunnel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Fuzz targets for the key files and keys of the tunnel. `go test` runs
// the seeds; `make fuzz` runs each target for FUZZTIME.

// keySeeds are key file contents: `wg genkey` output and junk.
func keySeeds() []string {
	k := fuzzKey(1)
	return []string{
		k + "\n", k, "  " + k + "\r\n\n", // accepted
		"", "\n", k[:43], k[:43] + "==", k + k, k[:20] + "\n" + k[20:], k[:42] + "B=", k + "\x00",
		strings.ReplaceAll(k, "+", "-"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
		"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIA==\n-----END PRIVATE KEY-----\n",
	}
}

// fuzzKey is a fixed key, as `wg genkey` prints it.
func fuzzKey(seed byte) string {
	var b [wgtypes.KeyLen]byte
	for i := range b {
		b[i] = seed*31 + byte(i)*7
	}
	k, _ := wgtypes.NewKey(b[:])
	return k.String()
}

// FuzzLoadKey: any file content, at mode 0600 or 0644. A key file is
// accepted only when it holds exactly one key in the form `wg genkey`
// writes (surrounding white space aside) and nobody else may read it;
// anything else is refused with ErrKeyFile and the file's path.
func FuzzLoadKey(f *testing.F) {
	for _, s := range keySeeds() {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(fuzzKey(2)+"\n"), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte, public bool) {
		path := filepath.Join(dir, "wg.key")
		os.Remove(path)
		mode := os.FileMode(0o600)
		if public {
			mode = 0o644
		}
		if err := os.WriteFile(path, content, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		k, err := LoadKey(path)
		if err != nil {
			if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), path) {
				t.Fatalf("refused %q with %v: want ErrKeyFile naming %s", content, err, path)
			}
			return
		}
		if public {
			t.Fatalf("accepted %q from a file others may read", content)
		}
		if got := strings.TrimSpace(string(content)); k.String() != got {
			t.Fatalf("accepted %q as the key %s: only the key's own base64 may be", got, k)
		}
	})
}

// FuzzParsePublicKey: a public key (a topology's public_key, a peer's) is
// accepted only in its one canonical base64 form, so that two spellings
// never name one key; anything else is refused naming what was given.
func FuzzParsePublicKey(f *testing.F) {
	for _, s := range keySeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParsePublicKey(s)
		if err != nil {
			if !strings.Contains(err.Error(), "public key") {
				t.Fatalf("refused %q with %v: want an error about the public key", s, err)
			}
			return
		}
		if k.String() != strings.TrimSpace(s) {
			t.Fatalf("accepted %q as the key %s: only the key's own base64 may be", s, k)
		}
	})
}
