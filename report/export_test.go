package report

import (
	"os"
	"testing"
)

// MustTTCFace loads the first face of a TrueType collection, for tests.
func MustTTCFace(t *testing.T, path string) *Font {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ttf, err := firstFace(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &Font{Name: path, TTF: ttf}
}
