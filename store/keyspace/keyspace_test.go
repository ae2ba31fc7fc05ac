package keyspace

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// every lists each constant of keyspace.go with the prefix it nests in by
// design ("" for a top-level one). TestPrefixes_Listed keeps it complete.
var every = []struct {
	name, key, within string
}{
	{"RecordPrefix", RecordPrefix, ""},
	{"UniquePrefix", UniquePrefix, ""},
	{"IndexPrefix", IndexPrefix, ""},
	{"AggregatePrefix", AggregatePrefix, ""},
	{"TotalsPrefix", TotalsPrefix, ""},
	{"TallyPrefix", TallyPrefix, ""},
	{"TotalsMarkKey", TotalsMarkKey, TotalsPrefix},
	{"TotalsSumsPrefix", TotalsSumsPrefix, TotalsPrefix},
	{"TotalsRollupsPrefix", TotalsRollupsPrefix, TotalsPrefix},
	{"TotalsCountsPrefix", TotalsCountsPrefix, TotalsPrefix},
	{"FeedPrefix", FeedPrefix, ""},
	{"MetaPrefix", MetaPrefix, ""},
	{"UsersPrefix", UsersPrefix, RecordPrefix},
	{"InternalPrefix", InternalPrefix, RecordPrefix},
	{"MgmtPrefix", MgmtPrefix, InternalPrefix},
	{"AckPrefix", AckPrefix, InternalPrefix},
	{"CanaryPrefix", CanaryPrefix, InternalPrefix},
	{"CommandPrefix", CommandPrefix, InternalPrefix},
	{"ResultPrefix", ResultPrefix, InternalPrefix},
	{"ConflictPrefix", ConflictPrefix, InternalPrefix},
	{"AuditPrefix", AuditPrefix, InternalPrefix},
	{"SysPrefix", SysPrefix, MetaPrefix},
	{"ProcessLayoutKey", ProcessLayoutKey, MetaPrefix},
	{"SessionPrefix", SessionPrefix, MetaPrefix},
	{"LoginPrefix", LoginPrefix, MetaPrefix},
	{"AuditHeadPrefix", AuditHeadPrefix, MetaPrefix},
	{"AppliedKey", AppliedKey, MetaPrefix},
	{"RestoringKey", RestoringKey, MetaPrefix},
	{"FeedHeadKey", FeedHeadKey, MetaPrefix},
	{"FeedFirstKey", FeedFirstKey, MetaPrefix},
	{"FeedEpochKey", FeedEpochKey, MetaPrefix},
	{"LinkEpochPrefix", LinkEpochPrefix, MetaPrefix},
	{"LinkPrefix", LinkPrefix, MetaPrefix},
	{"DownAckedPrefix", DownAckedPrefix, LinkPrefix},
	{"FreshPrefix", FreshPrefix, MetaPrefix},
	{"ResyncPrefix", ResyncPrefix, MetaPrefix},
	{"ResyncMarkPrefix", ResyncMarkPrefix, MetaPrefix},
	{"ResyncCountPrefix", ResyncCountPrefix, MetaPrefix},
}

// TestPrefixes_Listed: every constant declared in keyspace.go is in every,
// under its own name, so the disjointness test sees it.
func TestPrefixes_Listed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "keyspace.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					declared = append(declared, n.Name)
				}
			}
		}
	}
	var listed []string
	for _, e := range every {
		listed = append(listed, e.name)
	}
	slices.Sort(declared)
	slices.Sort(listed)
	if !slices.Equal(declared, listed) {
		t.Errorf("keyspace.go declares %v;\nthe test lists %v", declared, listed)
	}
}

// TestPrefixes_Disjoint: no prefix or key starts another unless it nests
// in it by design (directly or through its parents), so no two parts of
// the keyspace can hold the same key.
func TestPrefixes_Disjoint(t *testing.T) {
	within := map[string]string{}
	for _, e := range every {
		if _, dup := within[e.key]; dup {
			t.Errorf("%s: %q is listed twice", e.name, e.key)
		}
		within[e.key] = e.within
		if e.within != "" && !strings.HasPrefix(e.key, e.within) {
			t.Errorf("%s = %q is said to nest in %q but does not start with it", e.name, e.key, e.within)
		}
	}
	nests := func(key, in string) bool {
		for p := within[key]; p != ""; p = within[p] {
			if p == in {
				return true
			}
		}
		return false
	}
	for _, a := range every {
		for _, b := range every {
			if a.key != b.key && strings.HasPrefix(b.key, a.key) && !nests(b.key, a.key) {
				t.Errorf("%s = %q starts %s = %q, which does not nest in it by design", a.name, a.key, b.name, b.key)
			}
		}
	}
}

// TestKeys pins the bytes: they are stored data and never change spelling.
func TestKeys(t *testing.T) {
	cases := []struct{ got, want string }{
		{Record("customers", "cus_1"), "r/customers/cus_1"},
		{Collection("customers"), "r/customers/"},
		{Collection("users"), UsersPrefix},
		{InternalPrefix, "r/_"},
		{MgmtPrefix, "r/_mgmt/"},
		{AckPrefix, "r/_mack/"},
		{CanaryPrefix, "r/_canary/"},
		{CommandPrefix, "r/_cmd/"},
		{ResultPrefix, "r/_cres/"},
		{ConflictPrefix, "r/_conflict/"},
		{Collection("directives"), "r/directives/"},
		{End(Collection("directives")), "r/directives0"},
		{End(DownAckedPrefix), "m/link/downacked0"},
		{Mgmt("320722"), "r/_mgmt/320722"},
		{Ack("320722"), "r/_mack/320722"},
		{Canary("3207"), "r/_canary/3207"},
		{Command("cmd_1"), "r/_cmd/cmd_1"},
		{Result("cmd_1"), "r/_cres/cmd_1"},
		{Conflict("320722/7"), "r/_conflict/320722/7"},
		{ConflictsOf("320722"), "r/_conflict/320722/"},
		{AuditPrefix, "r/_audit/"},
		{Audit("320722/0000000000000007"), "r/_audit/320722/0000000000000007"},
		{AuditOf("320722"), "r/_audit/320722/"},
		{AuditHead("320722"), "m/audit/320722"},
		{Index("_audit", "at", "000001767225600000", "3207/0000000000000001"), "x/_audit/at/000001767225600000\x003207/0000000000000001"},
		{Unique("customers", "account_no", "32", "A1"), "u/customers/account_no/32\x00A1"},
		{Index("customers", "owner", "3207", "cus_1"), "x/customers/owner/3207\x00cus_1"},
		{IndexValue("customers", "owner", "3207"), "x/customers/owner/3207\x00"},
		{IndexScoped("customers", "_q", "淮安", "3207"), "x/customers/_q/淮安\x013207"},
		{Index("customers", "_q", ScopedValue("淮安", "320722"), "cus_1"), "x/customers/_q/淮安\x01320722\x00cus_1"},
		{IndexField("customers", "owner"), "x/customers/owner/"},
		{Aggregate("3207", "customers.count"), "a/3207/customers.count"},
		{AggregatesOf("3207"), "a/3207/"},
		{string(Feed(258)), "f/\x00\x00\x00\x00\x00\x00\x01\x02"},
		{Sys("token_key"), "m/sys/token_key"},
		{Session("usr_1", "ses_1"), "m/sess/usr_1/ses_1"},
		{SessionsOf("usr_1"), "m/sess/usr_1/"},
		{Login("usr_1"), "m/login/usr_1"},
		{AppliedKey, "m/applied"},
		{RestoringKey, "m/restoring"},
		{FeedHeadKey, "m/feed/head"},
		{FeedFirstKey, "m/feed/first"},
		{FeedEpochKey, "m/feed/epoch"},
		{LinkEpoch("down", "3207"), "m/linkepoch/down/3207"},
		{LinkCursor("up", "320722"), "m/link/up/320722"},
		{LinkCursor("down", "3207"), "m/link/down/3207"},
		{LinkCursorsOf("up"), "m/link/up/"},
		{LinkHead("down", "3207"), "m/link/downhead/3207"},
		{DownAcked("320722"), "m/link/downacked/320722"},
		{Fresh("320722"), "m/fresh/320722"},
		{Resync("up", "320722"), "m/resync/up/320722"},
		{ResyncMarks("down", "3207"), "m/rsmark/down/3207/"},
		{ResyncCount("up", "320722"), "m/resyncs/up/320722"},
		{End("r/"), "r0"},
		{End("r/_mgmt/"), "r/_mgmt0"},
		{End("a/3207"), "a/3208"},
		{End("m/link/up/"), "m/link/up0"},
		{End("a\xff"), "b"},
		{End("\xff\xff"), ""},
		{End(""), ""},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q; want %q", tc.got, tc.want)
		}
	}
}

// stillSpelled are the files outside store/ that may still spell key
// literals, each with the reason. Shrink it; never grow it.
var stillSpelled = map[string]string{}

// stillSpelledDirs are directories (with everything below them) that may
// still spell key literals, with the reason.
var stillSpelledDirs = map[string]string{}

// topLevel are the first bytes of every key; a string literal starting
// with one of them, or equal to the end bound of one ("r0"), spells a key.
var topLevel = []string{RecordPrefix, UniquePrefix, IndexPrefix, AggregatePrefix, TotalsPrefix, FeedPrefix, MetaPrefix}

func spellsKey(s string) bool {
	for _, p := range topLevel {
		if strings.HasPrefix(s, p) || s == End(p) {
			return true
		}
	}
	return false
}

// TestNoLiteralsOutside: no Go source outside store/ (tests aside) spells a
// key prefix of the state keyspace in a string literal; it names them
// through this package. Test files may spell keys: they pin the bytes.
func TestNoLiteralsOutside(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel == "store" || name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && rel != ".") || stillSpelledDirs[rel] != "" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || stillSpelled[rel] != "" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		imports := map[*ast.BasicLit]bool{}
		for _, is := range f.Imports {
			imports[is.Path] = true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || imports[lit] {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && spellsKey(s) {
				t.Errorf("%s: %s spells a state key; use gridcrm/store/keyspace", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
