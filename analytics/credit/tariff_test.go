package credit

import (
	"math"
	"slices"
	"testing"
)

// TestGrade_TariffInvariant: a tariff change (every bill from a month on
// priced ×f, the same kWh and payments) moves no score, grade, reason or
// churn risk, at any as-of month before, across or after it; so the
// score's PSI across a tariff change is the PSI without it. Rules
// v2026-12 failed this: its price_yoy input moved every score by hundreds
// of points (a 5% rise sent 97% of customers to A, a 5% cut all to C).
func TestGrade_TariffInvariant(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cs := generate(400, 11)
	for _, name := range rs.Features {
		if name == "price_yoy" {
			t.Fatalf("the shipped rule set still reads price_yoy")
		}
	}
	from, _ := ParseMonth("2024-09")
	asOf, _ := ParseMonth("2024-12")
	checked := 0
	for _, f := range []float64{0.8, 0.95, 1.05, 1.3} {
		tc := TariffChange{From: from, Factor: f}
		moved := tc.Apply(cs)
		if cs[0].Bills[40].Yuan == moved[0].Bills[40].Yuan {
			t.Fatal("Apply did not change the bills after the change (or changed cs)")
		}
		for i := range cs {
			for _, m := range []Month{from - 1, from, from + 2, asOf, asOf + 6} {
				a, okA := rs.Grade(cs[i], m)
				b, okB := rs.Grade(moved[i], m)
				if okA != okB || a.Score != b.Score || a.Grade != b.Grade || !slices.Equal(a.Reasons, b.Reasons) ||
					!(a.ChurnRisk == b.ChurnRisk || math.IsNaN(a.ChurnRisk) && math.IsNaN(b.ChurnRisk)) {
					t.Fatalf("tariff ×%v from %v: %s as of %v: %+v → %+v", f, from, cs[i].ID, m, a, b)
				}
				checked++
			}
		}
		if p0, p1 := Evaluate(rs, cs, asOf, asOf-6).PSI, Evaluate(rs, moved, asOf, asOf-6).PSI; p0 != p1 {
			t.Errorf("tariff ×%v: PSI %v → %v", f, p0, p1)
		}
	}
	t.Logf("%d gradings compared", checked)
}

func TestParseTariffChange(t *testing.T) {
	tc, err := ParseTariffChange("2024-09:1.05")
	if m, _ := ParseMonth("2024-09"); err != nil || tc.From != m || tc.Factor != 1.05 {
		t.Errorf("2024-09:1.05: %+v %v", tc, err)
	}
	for _, bad := range []string{"2024-09", "2024-13:1.1", "2024-09:x", "2024-09:0", "2024-09:-1", "2024-09:11"} {
		if _, err := ParseTariffChange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestChurn_ReadsRecordedTheft: the churn model's theft input reads the
// recorded thefts (violations records of kind theft, as Marks) as the
// grade does: a business customer with a theft found 30 months back (past
// the grade's 24-month veto, within the churn model's 36 months) has a
// higher churn risk than without it, the same as a flagged bill that month;
// a violation (not theft) or a theft after as-of or 40 months back does
// not move it.
func TestChurn_ReadsRecordedTheft(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	clean := Customer{ID: "c", Category: LargeIndustrial}
	for m := asOf - 47; m <= asOf; m++ {
		clean.Bills = append(clean.Bills, Bill{Month: m, Tenure: 100 + int(m-asOf), KWh: 5000, Yuan: 3000})
	}
	base, _ := rs.Grade(clean, asOf)
	with := clean
	with.Marks = []Mark{{Month: asOf - 30, Theft: true, Kind: "bypass"}}
	got, _ := rs.Grade(with, asOf)
	flagged := Customer{ID: "f", Category: LargeIndustrial, Bills: slices.Clone(clean.Bills)}
	flagged.Bills[len(flagged.Bills)-31].Theft = true
	want, _ := rs.Grade(flagged, asOf)
	if !(got.ChurnRisk > base.ChurnRisk) || got.ChurnRisk != want.ChurnRisk {
		t.Errorf("recorded theft 30 months back: churn risk %v → %v; a flagged bill gives %v", base.ChurnRisk, got.ChurnRisk, want.ChurnRisk)
	}
	for _, mk := range []Mark{{Month: asOf - 30}, {Month: asOf + 1, Theft: true}, {Month: asOf - 40, Theft: true}} {
		other := clean
		other.Marks = []Mark{mk}
		if r, _ := rs.Grade(other, asOf); r.ChurnRisk != base.ChurnRisk {
			t.Errorf("mark %+v moved the churn risk %v → %v", mk, base.ChurnRisk, r.ChurnRisk)
		}
	}
}
