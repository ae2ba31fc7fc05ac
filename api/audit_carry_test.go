package api

import (
	"testing"

	"gridcrm/crm"
)

// TestCarryBroken: an incremental audit check keeps what the check before
// found broken (it does not see every break) and reports a chain whose head
// went as broken instead of dropping it; chains still whole stay as found.
func TestCarryBroken(t *testing.T) {
	prev := []crm.AuditReport{
		{Region: "320722", OK: false, Entries: 9, Head: 9, Problems: []crm.AuditProblem{{Seq: 0, What: `key "x" is not an audit entry's`}}},
		{Region: "320723", OK: true, Entries: 5, Head: 5},
		{Region: "320803", OK: true, Entries: 3, Head: 3},
		{Region: "320804", OK: false, Entries: 2, Head: 2, Problems: []crm.AuditProblem{{Seq: 1, What: "no head"}}},
	}
	cur := []crm.AuditReport{
		{Region: "320722", OK: true, Entries: 10, Head: 10}, // read from seq 1: missed the stray key
		{Region: "320723", OK: true, Entries: 6, Head: 6},
		// 320803: its head went; 320804: entries without a head, only whole checks list it
	}
	got := carryBroken(prev, cur)
	want := map[string]bool{"320722": false, "320723": true, "320803": false, "320804": false}
	if len(got) != len(want) {
		t.Fatalf("%d reports %+v; want %d", len(got), got, len(want))
	}
	for i, r := range got {
		if ok, known := want[r.Region]; !known || r.OK != ok {
			t.Errorf("%s: ok %v; want %v", r.Region, r.OK, ok)
		}
		if i > 0 && got[i-1].Region >= r.Region {
			t.Errorf("reports out of order: %s before %s", got[i-1].Region, r.Region)
		}
	}
	if got[1].Entries != 6 {
		t.Errorf("a whole chain's report is not the new one: %+v", got[1])
	}
}
