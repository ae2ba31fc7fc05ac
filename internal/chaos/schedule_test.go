package chaos

import (
	"reflect"
	"testing"
	"time"
)

func TestSchedule_SameSeedSameFaults(t *testing.T) {
	c := ScheduleConfig{Seed: 123, Faults: 200, MinGap: 500 * time.Millisecond, MaxGap: 5 * time.Second}
	a, b := NewSchedule(c), NewSchedule(c)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	c.Seed = 124
	if reflect.DeepEqual(a, NewSchedule(c)) {
		t.Fatal("seeds 123 and 124 gave the same schedule")
	}
	seen := map[Kind]bool{}
	for i, f := range a {
		if f.Seq != i+1 {
			t.Errorf("fault %d has seq %d", i, f.Seq)
		}
		lo, hi := holdRange(f.Kind)
		if f.Hold < lo || f.Hold > hi {
			t.Errorf("%s: hold outside [%v, %v]", f, lo, hi)
		}
		if f.Gap < c.MinGap || f.Gap > c.MaxGap {
			t.Errorf("%s: gap outside [%v, %v]", f, c.MinGap, c.MaxGap)
		}
		seen[f.Kind] = true
	}
	if len(seen) != len(AllKinds) {
		t.Errorf("200 faults drew %d of %d kinds", len(seen), len(AllKinds))
	}
}

// TestSchedule_Pinned pins seed 123's first faults, so that a change of
// the drawing (which would break replaying old seeds) is noticed.
func TestSchedule_Pinned(t *testing.T) {
	got := NewSchedule(ScheduleConfig{Seed: 123, Faults: 3, MinGap: 500 * time.Millisecond, MaxGap: 5 * time.Second})
	var kinds []Kind
	for _, f := range got {
		kinds = append(kinds, f.Kind)
	}
	want := []Kind{PartitionLeader, PartitionLeader, KillLeader}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("seed 123 draws %v, pinned %v: the drawing changed, old seeds no longer replay", kinds, want)
	}
}

func TestSchedule_KindsFilter(t *testing.T) {
	kinds, err := ParseKinds("kill-leader, pause-leader")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range NewSchedule(ScheduleConfig{Seed: 7, Faults: 50, Kinds: kinds}) {
		if f.Kind != KillLeader && f.Kind != PauseLeader {
			t.Fatalf("drew %s outside the filter", f.Kind)
		}
	}
	if _, err := ParseKinds("kill-everything"); err == nil {
		t.Fatal("an unknown kind was accepted")
	}
	if all, _ := ParseKinds("all"); !reflect.DeepEqual(all, AllKinds) {
		t.Fatal(`"all" is not every kind`)
	}
}
