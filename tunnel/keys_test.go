package tunnel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateKey_WritesPrivateFileAndReturnsPublic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wg.key")
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", st.Mode().Perm())
	}
	k, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.PublicKey().String(); got != pub {
		t.Errorf("public key %s, want %s", got, pub)
	}
	if _, err := GenerateKey(path); err == nil {
		t.Error("GenerateKey overwrote an existing file")
	}
}

func TestLoadKey_Refuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	if _, err := GenerateKey(good); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.key"), "does not exist"},
		{"readable by others", write("open.key", string(b), 0o644), "is readable by others (mode 644); chmod 600 it"},
		{"readable by group", write("group.key", string(b), 0o640), "is readable by others (mode 640)"},
		{"not base64", write("junk.key", "not a key!\n", 0o600), "not base64"},
		{"short", write("short.key", "AAAA\n", 0o600), "3 bytes, want 32"},
		{"empty", write("empty.key", "", 0o600), "empty"},
		{"no path", "", "no private key file given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKey(tc.path)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to wrap ErrKeyFile and contain %q", err, tc.want)
			}
		})
	}
}
