package testcluster_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs: every package has exactly one package comment, in its
// doc.go (tailscale enforces the same), so `go doc` shows one candid
// description per package.
func TestPackageDocs(t *testing.T) {
	root := "../.."
	dirs := map[string]bool{}
	filepath.WalkDir(root, func(path string, d os.DirEntry, _ error) error {
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" || d.Name() == "bin" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	for dir := range dirs {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for name, pkg := range pkgs {
			var with []string
			for file, f := range pkg.Files {
				if f.Doc != nil {
					with = append(with, filepath.Base(file))
				}
			}
			want := "doc.go"
			if name == "main" {
				want = "main.go" // a command documents itself where it starts
			}
			if len(with) != 1 || with[0] != want {
				t.Errorf("%s (package %s): package comments in %v; want exactly one, in %s", dir, name, with, want)
			}
		}
	}
}
