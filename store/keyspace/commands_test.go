package keyspace

import (
	"strings"
	"testing"
)

// TestPendingCommandKeys pins the pending-command index's keys, checks a
// region's subtree is a prefix of its entries, and that its prefixes start
// no other part of the keyspace but the one each nests in.
func TestPendingCommandKeys(t *testing.T) {
	if got, want := PendingCommand("320722", "cmd_1"), "x/_cmdp/320722\x00cmd_1"; got != want {
		t.Errorf("%q; want %q", got, want)
	}
	if !strings.HasPrefix(PendingCommand("320722", "cmd_1"), PendingCommandsUnder("3207")) {
		t.Error("a county's entry is not under its city's prefix")
	}
	if strings.HasPrefix(PendingCommand("320822", "cmd_1"), PendingCommandsUnder("3207")) {
		t.Error("another city's county is under 3207's prefix")
	}
	mine := map[string]string{PendingCommandPrefix: IndexPrefix, CommandsLayoutKey: MetaPrefix}
	others := []string{SearchPrefix, SearchAccountPrefix, SearchLayoutKey, CardPrefix, CardVersionPrefix, ProcessLayoutKey}
	for p, within := range mine {
		if !strings.HasPrefix(p, within) {
			t.Errorf("%q is not under %q", p, within)
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
