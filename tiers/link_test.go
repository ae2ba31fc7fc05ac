package tiers

import "testing"

func TestRegionCode_ChildOf(t *testing.T) {
	cases := []struct {
		c, p RegionCode
		want bool
	}{
		{"320722", "3207", true}, {"3207", "32", true},
		{"320722", "32", false}, {"3207", "3207", false}, {"32", "", false}, {"32", "32", false},
		{"320822", "3207", false}, {"3207xx", "3207", false}, {"320700", "3207", false}, {"", "", false},
	}
	for _, tc := range cases {
		if got := tc.c.ChildOf(tc.p); got != tc.want {
			t.Errorf("%q.ChildOf(%q) = %v; want %v", tc.c, tc.p, got, tc.want)
		}
	}
}

func TestDirection_Valid(t *testing.T) {
	if !Up.Valid() || !Down.Valid() || Direction("from-child").Valid() || Direction("").Valid() {
		t.Error("Direction.Valid")
	}
}

// TestLink_AdmitUp: a child sends what was made in its subtree to records
// owned there, before and after the change.
func TestLink_AdmitUp(t *testing.T) {
	up := Link{Dir: Up, Here: "3207", Peer: "320722"}
	cases := []struct {
		name string
		c    Change
		want Crossing
	}{
		{"the child's customer", Change{Class: ClassRecord, Origin: "320722", Owner: "320722"}, Crosses},
		{"the child's customer, held here", Change{Class: ClassRecord, Origin: "320722", Owner: "320722", Held: true, Prev: "320722"}, Crosses},
		{"a customer of a town below the child", Change{Class: ClassRecord, Origin: "32072201", Owner: "32072201"}, Crosses},
		{"a delete of the child's record", Change{Class: ClassRecord, Origin: "320722", Owner: "320722", Delete: true, Held: true, Prev: "320722"}, Crosses},
		{"the child's ack, heartbeat or outcome", Change{Class: ClassOther, Origin: "320722", Owner: "320722"}, Crosses},
		{"the child's directive to its own branch", Change{Class: ClassDirective, Origin: "320722", Owner: "320722", Scope: "320722"}, Crosses},
		{"users never", Change{Class: ClassUser, Origin: "320722", Owner: "320722"}, UserStays},
		{"made in a sibling", Change{Class: ClassRecord, Origin: "320723", Owner: "320723"}, ForeignOrigin},
		{"made here, sent back up", Change{Class: ClassRecord, Origin: "3207", Owner: "320722"}, ForeignOrigin},
		{"no origin", Change{Class: ClassRecord, Owner: "320722"}, ForeignOrigin},
		{"the city's own customer", Change{Class: ClassRecord, Origin: "320722", Owner: "3207"}, ForeignOwner},
		{"a directive in the province's name", Change{Class: ClassDirective, Origin: "320722", Owner: "32", Scope: "32"}, ForeignOwner},
		{"rewriting the owner of the city's customer", Change{Class: ClassRecord, Origin: "320722", Owner: "320722", Held: true, Prev: "3207"}, ForeignCopy},
		{"a held copy naming no owner", Change{Class: ClassRecord, Origin: "320722", Owner: "320722", Held: true}, ForeignCopy},
		{"the city's management setting of the child", Change{Class: ClassSetting, Origin: "320722", Owner: "3207", For: "320722"}, ForeignOwner},
	}
	for _, tc := range cases {
		if got := up.Admit(tc.c); got != tc.want {
			t.Errorf("%s: Admit = %s; want %s", tc.name, got, tc.want)
		}
	}
}

// TestLink_AdmitDown: a parent sends only what it has authority over.
func TestLink_AdmitDown(t *testing.T) {
	down := Link{Dir: Down, Here: "320722", Peer: "3207"}
	full := down
	full.Full = true
	cases := []struct {
		name string
		l    Link
		c    Change
		want Crossing
	}{
		{"the city's directive to the county", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207", Scope: "320722"}, Crosses},
		{"the province's directive to the whole province, relayed", down, Change{Class: ClassDirective, Origin: "32", Owner: "32", Scope: "32"}, Crosses},
		{"a directive to a town below the county", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207", Scope: "32072201"}, Crosses},
		{"a directive deleted (its scope not asked)", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207", Delete: true, Held: true, Prev: "3207"}, Crosses},
		{"a directive to a sibling", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207", Scope: "320723"}, NotAddressed},
		{"a directive naming no scope", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207"}, NotAddressed},
		{"a directive of a sibling county", down, Change{Class: ClassDirective, Origin: "320723", Owner: "320723", Scope: "3207"}, ForeignOwner},
		{"a directive replacing the county's own", down, Change{Class: ClassDirective, Origin: "3207", Owner: "3207", Scope: "320722", Held: true, Prev: "320722"}, ForeignCopy},
		{"the county's setting, by the city", down, Change{Class: ClassSetting, Origin: "3207", Owner: "3207", For: "320722"}, Crosses},
		{"the county's setting, claimed by the province", down, Change{Class: ClassSetting, Origin: "32", Owner: "32", For: "320722"}, ForeignOwner},
		{"a sibling's setting", down, Change{Class: ClassSetting, Origin: "3207", Owner: "3207", For: "320723"}, NotCarried},
		{"the county's setting deleted", down, Change{Class: ClassSetting, Origin: "3207", Owner: "3207", For: "320722", Delete: true}, NotCarried},
		{"a command forwarded to the county", down, Change{Class: ClassCommand, Origin: "3207", Owner: "3207", For: "320722"}, Crosses},
		{"a command of the province for a town below", down, Change{Class: ClassCommand, Origin: "32", Owner: "32", For: "32072201"}, Crosses},
		{"a command for a sibling", down, Change{Class: ClassCommand, Origin: "3207", Owner: "3207", For: "320723"}, NotCarried},
		{"a command deleted", down, Change{Class: ClassCommand, Origin: "3207", Owner: "3207", For: "320722", Delete: true}, NotCarried},
		{"a command in a sibling's name", down, Change{Class: ClassCommand, Origin: "320723", Owner: "320723", For: "320722"}, ForeignOwner},
		{"the county's record, not under full management", down, Change{Class: ClassRecord, Origin: "3207", Owner: "320722"}, NotCarried},
		{"the county's record under full management", full, Change{Class: ClassRecord, Origin: "3207", Owner: "320722", Held: true, Prev: "320722"}, Crosses},
		{"the city's own record under full management", full, Change{Class: ClassRecord, Origin: "3207", Owner: "3207"}, ForeignOwner},
		{"taking a city record over as the county's", full, Change{Class: ClassRecord, Origin: "3207", Owner: "320722", Held: true, Prev: "3207"}, ForeignCopy},
		{"a change made in the county, back down", full, Change{Class: ClassRecord, Origin: "320722", Owner: "320722"}, ForeignOrigin},
		{"users never", full, Change{Class: ClassUser, Origin: "3207", Owner: "320722"}, UserStays},
		{"an ack or outcome never comes down", full, Change{Class: ClassOther, Origin: "3207", Owner: "3207"}, NotCarried},
		{"no direction", Link{Here: "320722", Peer: "3207"}, Change{Class: ClassRecord, Origin: "3207", Owner: "320722"}, NotCarried},
	}
	for _, tc := range cases {
		if got := tc.l.Admit(tc.c); got != tc.want {
			t.Errorf("%s: Admit = %s; want %s", tc.name, got, tc.want)
		}
	}
}

func TestCrossing_String(t *testing.T) {
	if Crosses.String() != "crosses" || ForeignCopy.String() != "foreign_copy" || Crossing(77).String() != "crossing(77)" {
		t.Errorf("crossing names: %s %s %s", Crosses, ForeignCopy, Crossing(77))
	}
}
