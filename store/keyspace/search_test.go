package keyspace

import (
	"strings"
	"testing"
)

// TestSearchKeys pins the search index's keys and checks its prefixes start
// no other part of the keyspace but the indexes and metadata they nest in.
func TestSearchKeys(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{SearchGram("淮安"), "x/_q/淮安\x01"},
		{SearchAccount("3207"), "x/_qa/3207\x01"},
		{SearchLayoutKey, "m/search"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q; want %q", tc.got, tc.want)
		}
	}
	mine := map[string]string{SearchPrefix: IndexPrefix, SearchAccountPrefix: IndexPrefix, SearchLayoutKey: MetaPrefix}
	others := []string{CardPrefix, CardVersionPrefix, IndexField("customers", "_q"), IndexField("customers", "_qa")}
	for p, within := range mine {
		if !strings.HasPrefix(p, within) {
			t.Errorf("%q is not under %q", p, within)
		}
		for q := range mine {
			if p != q && strings.HasPrefix(q, p) {
				t.Errorf("%q starts %q", p, q)
			}
		}
		for _, q := range others {
			if strings.HasPrefix(q, p) || strings.HasPrefix(p, q) {
				t.Errorf("%q and %q overlap", p, q)
			}
		}
		for _, e := range every {
			if e.key != within && (strings.HasPrefix(e.key, p) || strings.HasPrefix(p, e.key)) {
				t.Errorf("%q and %s = %q overlap", p, e.name, e.key)
			}
		}
	}
}
