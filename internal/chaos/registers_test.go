package chaos

import (
	"strings"
	"testing"
	"time"
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

// TestRunChecks_FinalStateCountsAsARead: an acknowledged update nobody
// read afterwards must still be in the stopped replicas.
func TestRunChecks_FinalStateCountsAsARead(t *testing.T) {
	l := NewLayout(t.TempDir(), 1, func(i int) (string, int, int, string) { return "127.0.0.1", 1000 + i, 2000 + i, "" })
	create := Op{ID: 0, Kind: OpCreate, Client: -1, Region: County, Key: "cus_R", Account: "REG-320722-0", Value: "init",
		RecordID: "cus_R", Outcome: Applied, Start: at(0), End: at(1)}
	update := Op{ID: 1, Kind: OpUpdate, Client: 1, Region: County, Key: "cus_R", Version: 1, Value: "a", NewVersion: 2,
		Outcome: Applied, Start: at(10), End: at(20)}
	rec := []byte(`{"id":"cus_R","owner":"320722","account_no":"REG-320722-0","region":"320722","name":"init","version":1}`)
	dumps := map[string]Dump{}
	for _, n := range l.Nodes {
		dumps[n.ID] = Dump{Node: n.ID, Region: n.Region, Keys: map[string][]byte{"r/customers/cus_R": rec}}
	}
	creates := []Create{{Account: "REG-320722-0", Region: County, Writer: -1, Outcome: Applied, ID: "cus_R", Attempts: []int{0}}}
	a := &Anomalies{}
	res := RunChecks(Evidence{Layout: l, Creates: creates, Ops: []Op{create, update}, Dumps: dumps, T0: t0, StoppedAt: at(1000)}, a, "", 5*time.Second)
	if res.Linearizability.Result != "Illegal" {
		t.Errorf("porcupine: %s, want Illegal (v2 acknowledged, v1 left)", res.Linearizability.Result)
	}
	found := false
	for _, an := range a.List() {
		found = found || strings.Contains(an.Message, "stale read of cus_R") && strings.Contains(an.Message, "final state")
	}
	if !found {
		t.Errorf("no stale read named at the final state: %+v", a.List())
	}
}
