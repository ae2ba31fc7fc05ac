package tiers

import "testing"

// Settings of county 320722 by its city 3207, as the tests hold them.
var (
	never       = Management{}
	autonomous  = Management{Manager: "3207", Mode: Autonomous, Epoch: 3, Acked: 3}
	partial     = Management{Manager: "3207", Mode: Partial, Epoch: 2, Granted: []string{"work_orders", "projects"}}
	fullAcked   = Management{Manager: "3207", Mode: Full, Epoch: 4, Acked: 4}
	fullLater   = Management{Manager: "3207", Mode: Full, Epoch: 4, Acked: 5}
	fullPending = Management{Manager: "3207", Mode: Full, Epoch: 4, Acked: 3}
	fullNoAck   = Management{Manager: "3207", Mode: Full, Epoch: 1}
	fullForced  = Management{Manager: "3207", Mode: Full, Epoch: 4, Forced: true, Acked: 3}
	forcedAcked = Management{Manager: "3207", Mode: Full, Epoch: 4, Forced: true, Acked: 4}
)

func TestMode_Valid(t *testing.T) {
	for m, want := range map[Mode]bool{Autonomous: true, Partial: true, Full: true, "": false, "Full": false, "manual": false} {
		if m.Valid() != want {
			t.Errorf("Mode(%q).Valid() = %v; want %v", m, !want, want)
		}
	}
}

func TestWriter(t *testing.T) {
	cases := []struct {
		name string
		m    Management
		want RegionCode
	}{
		{"never set: the owner", never, "320722"},
		{"autonomous: the owner", autonomous, "320722"},
		{"partial: still the owner", partial, "320722"},
		{"full, acknowledged: the manager", fullAcked, "3207"},
		{"full, a later epoch acknowledged: the manager", fullLater, "3207"},
		{"full, an older epoch acknowledged: nobody (handover)", fullPending, ""},
		{"full, no acknowledgement: nobody (handover)", fullNoAck, ""},
		{"full, forced: the manager at once", fullForced, "3207"},
		{"full, forced and acknowledged: the manager", forcedAcked, "3207"},
		{"full, epoch 0 without ack: nobody", Management{Manager: "3207", Mode: Full}, ""},
		{"an acknowledgement without full mode is ignored", Management{Manager: "3207", Mode: Partial, Epoch: 1, Acked: 9}, "320722"},
	}
	for _, tc := range cases {
		if got := Writer("320722", tc.m); got != tc.want {
			t.Errorf("%s: Writer = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestFenced(t *testing.T) {
	cases := []struct {
		name  string
		here  RegionCode
		m     Management
		fence bool
	}{
		{"forced, ack of the epoch missing: fenced", "3207", fullForced, true},
		{"forced, no ack at all: fenced", "3207", Management{Manager: "3207", Mode: Full, Epoch: 1, Forced: true}, true},
		{"forced and acknowledged: applied", "3207", forcedAcked, false},
		{"full by handshake: never fenced", "3207", fullAcked, false},
		{"handover without force: not fenced (nobody writes)", "3207", fullPending, false},
		{"partial: not fenced", "3207", partial, false},
		{"never set: not fenced", "3207", never, false},
		{"forced by another region's view: not here's to fence", "32", fullForced, false},
	}
	for _, tc := range cases {
		if got := Fenced(tc.here, "320722", tc.m); got != tc.fence {
			t.Errorf("%s: Fenced = %v; want %v", tc.name, got, tc.fence)
		}
	}
}

func TestMayWrite(t *testing.T) {
	rec := func(here, owner RegionCode, coll string) Write {
		return Write{Here: here, Owner: owner, Collection: coll, Managed: true}
	}
	cases := []struct {
		name string
		w    Write
		m    Management
		want Verdict
	}{
		// Collections management does not move: the owner alone.
		{"user at its owner", Write{Here: "320722", Owner: "320722", Collection: "users"}, fullAcked, Allowed},
		{"user of a child, even under full management", Write{Here: "3207", Owner: "320722", Collection: "users"}, fullAcked, NotOwner},
		{"directive of the parent at the child", Write{Here: "320722", Owner: "3207", Collection: "directives"}, never, NotOwner},

		// Never set, autonomous: the owner.
		{"owner, never set", rec("320722", "320722", "customers"), never, Allowed},
		{"owner, autonomous", rec("320722", "320722", "customers"), autonomous, Allowed},
		{"parent, never set", rec("3207", "320722", "customers"), never, NotOwner},
		{"parent, autonomous", rec("3207", "320722", "customers"), autonomous, NotOwner},
		{"grandparent, never set", rec("32", "320722", "customers"), never, NotOwner},
		{"no owner, never set", rec("320722", "", "customers"), never, NotOwner},

		// Partial: the owner writes; the manager only through forwarding.
		{"owner, partial", rec("320722", "320722", "work_orders"), partial, Allowed},
		{"manager, partial, granted: forwarded, not written here", rec("3207", "320722", "work_orders"), partial, NotOwner},
		{"manager, partial, not granted", rec("3207", "320722", "customers"), partial, NotGranted},
		{"province over a partially managed county", rec("32", "320722", "customers"), partial, NotOwner},

		// Full: the manager once acknowledged; nobody during the handover.
		{"manager, full, acknowledged", rec("3207", "320722", "customers"), fullAcked, Allowed},
		{"owner, full, acknowledged: read-only", rec("320722", "320722", "customers"), fullAcked, ReadOnly},
		{"province, full by the city", rec("32", "320722", "customers"), fullAcked, WrittenElsewhere},
		{"owner during the handover", rec("320722", "320722", "customers"), fullPending, InHandover},
		{"manager during the handover", rec("3207", "320722", "customers"), fullPending, AwaitingAck},
		{"province during the handover", rec("32", "320722", "customers"), fullNoAck, AwaitingAck},
		{"manager, forced: at once", rec("3207", "320722", "customers"), fullForced, Allowed},
		{"owner, forced: read-only", rec("320722", "320722", "customers"), fullForced, ReadOnly},

		// A write about a region, naming no collection (resolving a conflict).
		{"region write by the manager under full", rec("3207", "320722", ""), fullAcked, Allowed},
		{"region write by a parent that does not write it", rec("3207", "320722", ""), autonomous, WrittenElsewhere},
		{"region write under partial", rec("3207", "320722", ""), partial, NotGranted},
	}
	for _, tc := range cases {
		if got := MayWrite(tc.w, tc.m); got != tc.want {
			t.Errorf("%s: MayWrite = %s; want %s", tc.name, got, tc.want)
		}
	}
}

func TestMayForwardAndRouteWrite(t *testing.T) {
	w := func(here, owner RegionCode, coll string, standing bool) Write {
		return Write{Here: here, Owner: owner, Collection: coll, Managed: coll != "users" && coll != "directives", Standing: standing}
	}
	cases := []struct {
		name    string
		w       Write
		m       Management
		forward bool
		route   Route
	}{
		{"own record", w("320722", "320722", "customers", false), never, false, Local},
		{"own work order, standing", w("320722", "320722", "work_orders", true), never, false, Local},
		{"child's record, autonomous", w("3207", "320722", "customers", false), autonomous, false, Refuse},
		{"child's granted record, partial", w("3207", "320722", "work_orders", false), partial, true, Forward},
		{"child's record not granted, partial", w("3207", "320722", "customers", false), partial, false, Refuse},
		{"grandchild's granted record: only the parent forwards", w("32", "320722", "work_orders", false), partial, false, Refuse},
		{"standing work order of a grandchild", w("32", "320722", "work_orders", true), never, true, Forward},
		{"standing work order of a child under partial", w("3207", "320722", "work_orders", true), partial, true, Forward},
		{"standing, but the child is under full management here", w("3207", "320722", "work_orders", true), fullAcked, false, Local},
		{"standing during the handover: nobody writes", w("3207", "320722", "work_orders", true), fullPending, false, Refuse},
		{"standing, the county is under the city's full management", w("32", "320722", "work_orders", true), fullAcked, false, Refuse},
		{"standing upwards: the parent's record", w("320722", "3207", "work_orders", true), never, false, Refuse},
		{"standing to a sibling", w("320722", "320723", "work_orders", true), never, false, Refuse},
		{"no owner", w("3207", "", "work_orders", true), never, false, Refuse},
		{"child's record under full management", w("3207", "320722", "customers", false), fullAcked, false, Local},
		{"own record under full management", w("320722", "320722", "customers", false), fullAcked, false, Refuse},
		{"a user is never forwarded", w("3207", "320722", "users", false), Management{Manager: "3207", Mode: Partial, Epoch: 1, Granted: []string{"users"}}, false, Refuse},
		{"a standing user write goes down, autonomous", w("32", "320722", "users", true), never, true, Forward},
		{"a standing user write goes down, under full management", w("3207", "320722", "users", true), fullAcked, true, Forward},
		{"a standing user write goes down during a handover", w("3207", "320722", "users", true), fullPending, true, Forward},
		{"a standing user write never goes up", w("320722", "3207", "users", true), never, false, Refuse},
		{"a standing user write never goes sideways", w("320722", "320723", "users", true), never, false, Refuse},
	}
	for _, tc := range cases {
		if got := MayForward(tc.w, tc.m); got != tc.forward {
			t.Errorf("%s: MayForward = %v; want %v", tc.name, got, tc.forward)
		}
		if got := RouteWrite(tc.w, tc.m); got != tc.route {
			t.Errorf("%s: RouteWrite = %s; want %s", tc.name, got, tc.route)
		}
	}
}

func TestVerdictAndRouteNames(t *testing.T) {
	if Allowed.String() != "allowed" || WrittenElsewhere.String() != "written_elsewhere" || Verdict(42).String() != "verdict(42)" {
		t.Errorf("verdict names: %s %s %s", Allowed, WrittenElsewhere, Verdict(42))
	}
	if Local.String() != "local" || Refuse.String() != "refuse" || Route(9).String() != "route(9)" {
		t.Errorf("route names: %s %s %s", Local, Refuse, Route(9))
	}
}
