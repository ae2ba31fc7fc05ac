package keyspace

import (
	"strings"
	"testing"
)

// TestCardKeys pins the cards' keys and checks their prefixes start no
// other part of the keyspace but the indexes they nest in.
func TestCardKeys(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Card("320722", "cus_1"), "x/_card/320722\x00cus_1"},
		{CardsOf("320722", false), "x/_card/320722\x00"},
		{CardsOf("32", true), "x/_card/32"},
		{CardVersion("320722"), "x/_cardv/320722"},
		{CardVersionsOf("3207"), "x/_cardv/3207"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q; want %q", tc.got, tc.want)
		}
	}
	mine := []string{CardPrefix, CardVersionPrefix}
	for _, p := range mine {
		if !strings.HasPrefix(p, IndexPrefix) {
			t.Errorf("%q is not under the indexes (%q)", p, IndexPrefix)
		}
		for _, q := range mine {
			if p != q && strings.HasPrefix(q, p) {
				t.Errorf("%q starts %q", p, q)
			}
		}
		for _, e := range every {
			if e.key != IndexPrefix && (strings.HasPrefix(e.key, p) || strings.HasPrefix(p, e.key)) {
				t.Errorf("%q and %s = %q overlap", p, e.name, e.key)
			}
		}
	}
}
