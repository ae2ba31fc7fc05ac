package chaos

import (
	"strings"
	"testing"
)

func TestAckedWrites_NewestBefore(t *testing.T) {
	a := newAckedWrites([]ackedWrite{{end: at(30), version: 3}, {end: at(10), version: 2}, {end: at(20), version: 4}})
	cases := []struct {
		t    int
		want uint64
	}{{5, 0}, {10, 0}, {11, 2}, {25, 4}, {31, 4}}
	for _, c := range cases {
		w, ok := a.newestBefore(at(c.t))
		if got := map[bool]uint64{true: w.version}[ok]; got != c.want {
			t.Errorf("newest before %dms: v%d, want v%d", c.t, got, c.want)
		}
	}
}

func TestCheckRegisterReads_TimestampedEvidence(t *testing.T) {
	ops := []Op{
		hCreate("k"),
		hUpdate(1, 10, 20, 1, "a", Applied),
		hRead(2, 30, 40, 1, "init"),         // stale: v2 was acknowledged at 20ms
		hUpdate(3, 50, 60, 1, "b", Applied), // a second compare-and-set from v1 acknowledged: lost update
		hUpdate(4, 70, 80, 2, "c", NotApplied),
		hRead(2, 90, 95, 3, "c"), // shows a write answered not applied
	}
	a := &Anomalies{}
	c := newCapped(a, 20)
	checkRegisterReads(Evidence{Ops: ops}, c)
	var text []string
	for _, an := range a.List() {
		text = append(text, an.Check+" "+an.Message)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		CheckLinearizable + " stale read of k at 00:00:00.030",
		CheckLinearizable + ` lost update of k: "a"`,
		CheckPhantom + ` read of k at 00:00:00.090 on  shows "c", written by an update answered not-applied`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}
