package credit

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestGrade_RecordedMarks: a theft mark within 24 months vetoes like a
// flagged bill (and not 30 months back); a violation mark costs its points
// and is named; a rule set with a negative price is refused.
func TestGrade_RecordedMarks(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	clean := Customer{ID: "c", Category: GeneralCommercial}
	for m := asOf - 35; m <= asOf; m++ {
		clean.Bills = append(clean.Bills, Bill{Month: m, Tenure: 100, DirectDebit: true, KWh: 1000, Yuan: 700})
	}
	base, _ := rs.Grade(clean, asOf)
	thief := clean
	thief.Marks = []Mark{{Month: asOf - 3, Theft: true, Kind: "绕越计量"}}
	if r, _ := rs.Grade(thief, asOf); r.Grade != GradeC || r.Reasons[0] != "veto:theft_24m" || r.Score >= rs.Cutoffs.B {
		t.Errorf("theft mark 3 months back: %+v", r)
	}
	thief.Marks = []Mark{{Month: asOf - 30, Theft: true}}
	if r, _ := rs.Grade(thief, asOf); r.Grade == GradeC {
		t.Errorf("theft mark 30 months back still vetoes: %+v", r)
	}
	thief.Marks = []Mark{{Month: asOf + 1, Theft: true}}
	if r, _ := rs.Grade(thief, asOf); r.Grade == GradeC {
		t.Errorf("theft mark after as-of vetoes: %+v", r)
	}
	viol := clean
	viol.Marks = []Mark{{Month: asOf - 2, Kind: "私增容量"}}
	r, _ := rs.Grade(viol, asOf)
	if r.Score != base.Score-40 || !slices.Contains(r.Reasons, "violation_24m") {
		t.Errorf("one violation: score %d → %d, reasons %v; want 40 points less and the reason", base.Score, r.Score, r.Reasons)
	}
	bad := *rs
	bad.RecordedViolations.LogOdds = -1
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "recorded_violations") {
		t.Errorf("negative violation price: %v", err)
	}
}

// TestShippedRules_ViolationNeverImprovesScore is the property test of
// the recorded marks: on seeded random histories, one more violation or
// theft mark (any month up to as-of) never raises the score or improves
// the grade.
func TestShippedRules_ViolationNeverImprovesScore(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	rng := rand.New(rand.NewPCG(11, 11))
	rank := map[string]int{GradeA: 0, GradeB: 1, GradeC: 2}
	checked, lowered := 0, 0
	for _, c := range generate(300, 5) {
		for range 4 {
			base, ok := rs.Grade(c, asOf)
			if !ok {
				break
			}
			worse := c
			worse.Marks = append(slices.Clone(c.Marks), Mark{Month: asOf - Month(rng.IntN(36)), Theft: rng.IntN(5) == 0})
			got, _ := rs.Grade(worse, asOf)
			if got.Score > base.Score || rank[got.Grade] < rank[base.Grade] {
				t.Fatalf("%s: score %d (%s) → %d (%s) after mark %+v", c.ID, base.Score, base.Grade, got.Score, got.Grade, worse.Marks[len(worse.Marks)-1])
			}
			if got.Score < base.Score {
				lowered++
			}
			checked++
			c = worse
		}
	}
	if checked < 1000 || lowered < checked/3 {
		t.Fatalf("%d cases checked, %d lowered the score", checked, lowered)
	}
}
