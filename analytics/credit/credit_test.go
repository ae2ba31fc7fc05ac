package credit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// generate makes n customers over months 2022-01..2025-12 from a small
// hidden-health process like the one the training file documents: health
// drifts, low health brings late and unpaid bills and, for business
// customers, closing.
func generate(n int, seed uint64) []Customer {
	rng := rand.New(rand.NewPCG(seed, 7))
	start, _ := ParseMonth("2022-01")
	cats := []Category{Residential, Residential, GeneralCommercial, LargeIndustrial}
	var out []Customer
	for i := range n {
		c := Customer{ID: fmt.Sprintf("G%05d", i), Category: cats[rng.IntN(len(cats))]}
		health := rng.NormFloat64() + 1
		dd := rng.IntN(3) == 0
		tenure := rng.IntN(120)
		kwh := 200 + rng.Float64()*2000
		for m := range 48 {
			health += 0.15 * rng.NormFloat64()
			if rng.IntN(200) == 0 {
				health -= 2
			}
			b := Bill{Month: start + Month(m), Tenure: tenure + m, DirectDebit: dd, KWh: kwh * math.Exp(0.1*health+0.05*rng.NormFloat64())}
			b.Yuan = b.KWh * 0.6
			if p := 1 / (1 + math.Exp(3*health)); rng.Float64() < p {
				b.DaysLate = 1 + rng.IntN(40+int(30*math.Max(0, -health)))
				b.Unpaid = rng.Float64() < p
			}
			b.Violation = rng.Float64() < 0.01
			b.Theft = rng.Float64() < 0.001
			b.Closed = c.Category.Business() && rng.Float64() < 0.01/(1+math.Exp(2*health))
			c.Bills = append(c.Bills, b)
			if b.Closed {
				break
			}
		}
		out = append(out, c)
	}
	return out
}

func toCSV(cs []Customer) string {
	var sb strings.Builder
	sb.WriteString(strings.Join(header, ",") + "\n")
	for _, c := range cs {
		for _, b := range c.Bills {
			fmt.Fprintf(&sb, "%s,%s,%d,%d,%v,%.1f,%.2f,%d,%d,%d,%d,%d\n", c.ID, c.Category, i01(b.DirectDebit), b.Tenure, b.Month,
				b.KWh, b.Yuan, b.DaysLate, i01(b.Unpaid), i01(b.Violation), i01(b.Theft), i01(b.Closed))
		}
	}
	return sb.String()
}

func i01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReadCSV_PlainGzipAndRefusals(t *testing.T) {
	cs := generate(3, 1)
	text := toCSV(cs)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	for name, r := range map[string]*strings.Reader{"plain": strings.NewReader(text), "gzip": strings.NewReader(gz.String())} {
		got, err := ReadCSV(r)
		if err != nil || len(got) != 3 || len(got[1].Bills) != len(cs[1].Bills) || got[0].Bills[5].Month != cs[0].Bills[5].Month {
			t.Fatalf("%s: %d customers, %v", name, len(got), err)
		}
	}
	h := strings.Join(header, ",") + "\n"
	for _, c := range []struct{ body, want string }{
		{"a,residential,0,1,2024-01,1,1,0,0,0,0,0\na,residential,0,1,2024-01,1,1,0,0,0,0,0\n", "2024-01 twice"},
		{"a,farm,0,1,2024-01,1,1,0,0,0,0,0\n", "line 2: category \"farm\""},
		{"a,residential,2,1,2024-01,1,1,0,0,0,0,0\n", "direct_debit \"2\""},
		{"a,residential,0,1,2024-13,1,1,0,0,0,0,0\n", "month \"2024-13\""},
		{"a,residential,0,1,2024-01,x,1,0,0,0,0,0\n", "kwh \"x\""},
		{"a,residential,0,1,2024-01,1,1,-1,0,0,0,0\n", "days_late \"-1\""},
		{"a,residential,0,1,2024-01,1,1,0,0,0,0\n", "11 fields"},
	} {
		if _, err := ReadCSV(strings.NewReader(h + c.body)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want ErrMalformed with %q", c.body, err, c.want)
		}
	}
	if _, err := ReadCSV(strings.NewReader("id,cat\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad header: %v", err)
	}
}

func TestAUCAndPSI_HandComputed(t *testing.T) {
	// positives at risk 3, 2; negatives at 2, 1: pairs (3>2),(3>1),(2=2 half),(2>1) = 3.5/4.
	if got := AUC([]float64{3, 2, 2, 1}, []bool{true, true, false, false}); got != 0.875 {
		t.Errorf("AUC = %v; want 0.875", got)
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC without negatives is not NaN")
	}
	e := make([]float64, 1000)
	for i := range e {
		e[i] = float64(i)
	}
	if got := PSI(e, e); got != 0 {
		t.Errorf("PSI of identical = %v", got)
	}
	// Move the lowest decile's mass into the top decile: two bins at 0.0001
	// and 0.2 against 0.1 each.
	a := slices.Clone(e)
	for i := range 100 {
		a[i] = 950 + float64(i)/10
	}
	want := (0.0001-0.1)*math.Log(0.0001/0.1) + (0.2-0.1)*math.Log(0.2/0.1)
	if got := PSI(e, a); math.Abs(got-want) > 1e-9 {
		t.Errorf("PSI = %v; want %v", got, want)
	}
}

func TestFit_LearnsAndRanks(t *testing.T) {
	cs := generate(1000, 2)
	asOf, _ := ParseMonth("2024-12")
	fit, judge := Split(cs, 0.5, 1)
	cfg := DefaultFitConfig(asOf)
	cfg.Lambdas, cfg.Folds, cfg.Stack = []float64{1, 30}, 2, nil
	rs, err := Fit(fit, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for j, f := range features {
		if f.Bad && rs.Default.Weights[j] < 0 {
			t.Errorf("%s weight %v < 0", f.Name, rs.Default.Weights[j])
		}
	}
	rep := Evaluate(rs, judge, asOf, asOf-6)
	if rep.HoldoutAUC < 0.75 {
		t.Errorf("holdout AUC %.3f on the generated process", rep.HoldoutAUC)
	}
	// Few closings in 1,000 generated customers: a loose check that the
	// churn model ranks and is on the scale of the observed rate.
	if rep.ChurnAUC < 0.6 || rep.ChurnMeanRisk < rep.ChurnRate/3 || rep.ChurnMeanRisk > 3*rep.ChurnRate {
		t.Errorf("churn: %d business, rate %.3f, AUC %.3f, mean risk %.3f", rep.Business, rep.ChurnRate, rep.ChurnAUC, rep.ChurnMeanRisk)
	}
	if a, c := rep.ByGrade[GradeA].Rate(), rep.ByGrade[GradeC].Rate(); !(c > a) {
		t.Errorf("default rate A %.3f C %.3f", a, c)
	}
}

// TestShippedRules_MoreLatenessNeverImprovesScore is the property test of
// the shipped rule set: on seeded random histories, one more late payment,
// more days late on a late one, or one more unpaid bill never raises the
// score or improves the grade.
func TestShippedRules_MoreLatenessNeverImprovesScore(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	rng := rand.New(rand.NewPCG(42, 42))
	gradeRank := map[string]int{GradeA: 0, GradeB: 1, GradeC: 2}
	cs := generate(300, 3)
	checked := 0
	for _, c := range cs {
		base, ok := rs.Grade(c, asOf)
		if !ok {
			continue
		}
		for range 5 {
			worse := Customer{ID: c.ID, Category: c.Category, Bills: slices.Clone(c.Bills)}
			i := rng.IntN(len(upTo(worse.Bills, asOf)))
			b := &worse.Bills[i]
			switch rng.IntN(3) {
			case 0:
				b.DaysLate += 1 + rng.IntN(90)
			case 1:
				if b.DaysLate == 0 {
					b.DaysLate = 1 + rng.IntN(20)
				}
			case 2:
				b.Unpaid = true
			}
			got, _ := rs.Grade(worse, asOf)
			if got.Score > base.Score || gradeRank[got.Grade] < gradeRank[base.Grade] {
				t.Fatalf("%s month %v: score %d (%s) → %d (%s) after more lateness", c.ID, b.Month, base.Score, base.Grade, got.Score, got.Grade)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d cases checked", checked)
	}
}

func TestGrade_VetoesAndReasons(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	clean := Customer{ID: "c", Category: GeneralCommercial}
	for m := asOf - 35; m <= asOf; m++ {
		clean.Bills = append(clean.Bills, Bill{Month: m, Tenure: 100, DirectDebit: true, KWh: 1000, Yuan: 700})
	}
	r, _ := rs.Grade(clean, asOf)
	if r.Grade != GradeA || math.IsNaN(r.ChurnRisk) || len(r.Reasons) != 0 {
		t.Fatalf("clean customer: %+v", r)
	}
	thief := Customer{ID: "t", Category: Residential, Bills: slices.Clone(clean.Bills)}
	thief.Bills[20].Theft = true
	if r, _ := rs.Grade(thief, asOf); r.Grade != GradeC || r.Reasons[0] != "veto:theft_24m" || !math.IsNaN(r.ChurnRisk) {
		t.Errorf("theft within 24 months: %+v", r)
	}
	old := Customer{ID: "o", Category: Residential, Bills: slices.Clone(clean.Bills)}
	old.Bills[5].Theft = true // 30 months before as-of
	if r, _ := rs.Grade(old, asOf); r.Grade == GradeC {
		t.Errorf("theft 30 months ago still vetoes: %+v", r)
	}
	arrears := Customer{ID: "a", Category: LargeIndustrial, Bills: slices.Clone(clean.Bills)}
	for i := 33; i < 36; i++ {
		arrears.Bills[i].Unpaid, arrears.Bills[i].DaysLate = true, 20
	}
	r, _ = rs.Grade(arrears, asOf)
	if r.Grade != GradeC || r.Reasons[0] != "veto:arrears_3m" || len(r.Reasons) < 2 || r.Score >= rs.Cutoffs.B {
		t.Errorf("three months of arrears: %+v", r)
	}
	if _, ok := rs.Grade(clean, asOf-40); ok {
		t.Error("graded a customer with no bill up to as-of")
	}
	if p := Recommend(GradeC, LargeIndustrial); !strings.Contains(p.Method, "prepayment") || !strings.Contains(p.Security, "deposit") {
		t.Errorf("C business: %+v", p)
	}
	if p := Recommend(GradeA, Residential); !strings.Contains(p.Method, "monthly") {
		t.Errorf("A: %+v", p)
	}
}

// TestChurnFeatures_HandComputed checks the churn inputs on histories
// built by hand: 36 flat months, then the same with consumption down in
// the last six months, lateness, a theft, short tenure.
func TestChurnFeatures_HandComputed(t *testing.T) {
	asOf, _ := ParseMonth("2024-12")
	season := make([]float64, 12)
	for i := range season {
		season[i] = 0.15 * math.Sin(2*math.Pi*float64(i-3)/12)
	}
	flat := Customer{ID: "f", Category: GeneralCommercial}
	for m := asOf - 35; m <= asOf; m++ {
		flat.Bills = append(flat.Bills, Bill{Month: m, Tenure: 200 + int(m-asOf), KWh: math.Expm1(8 + season[calMonth(m)]), Yuan: 1})
	}
	x := churnVector(window{bills: flat.Bills, asOf: asOf, cat: flat.Category}, season)
	want := []float64{math.Log(churnLateFloor), 0, 0, 0, 0}
	for j := range want {
		if math.Abs(x[j]-want[j]) > 1e-9 {
			t.Errorf("flat: %s = %v; want %v", churnFeatures[j].Name, x[j], want[j])
		}
	}
	worse := Customer{ID: "w", Category: GeneralCommercial, Bills: slices.Clone(flat.Bills)}
	for i := 30; i < 36; i++ {
		worse.Bills[i].KWh = math.Expm1(7.8 + season[calMonth(worse.Bills[i].Month)])
	}
	worse.Bills[35].DaysLate = 30
	worse.Bills[0].DaysLate = 30 // the same days late three years earlier weigh half as much
	worse.Bills[10].Theft = true
	for i := range worse.Bills {
		worse.Bills[i].Tenure -= 150 // 50 months at as-of
		worse.Bills[i].DirectDebit = true
	}
	y := churnVector(window{bills: worse.Bills, asOf: asOf, cat: worse.Category}, season)
	w36 := 0.0
	for k := range 36 {
		w36 += math.Exp2(-float64(k) / churnLateHL)
	}
	if got, want := y[0], math.Log(churnLateFloor+30*(1+math.Exp2(-35/churnLateHL))/w36); math.Abs(got-want) > 1e-9 {
		t.Errorf("days_late_ew_log = %v; want %v", got, want)
	}
	if y[1] > -0.02 || y[1] < -0.2 {
		t.Errorf("kwh_recent_vs_36m after a 20%% drop in the last 6 months = %v; want clearly below 0", y[1])
	}
	if want := float64(churnYoungTen-50) / 12; y[2] != want || y[3] != 1 || y[4] != 1 {
		t.Errorf("short_tenure, direct_debit, theft_36m = %v; want %v, 1, 1", y[2:], want)
	}
	// The season taken out: a flat customer graded in June and in
	// December has the same consumption input.
	if z := churnVector(window{bills: upTo(flat.Bills, asOf-6), asOf: asOf - 6, cat: flat.Category}, season); math.Abs(z[1]) > 1e-9 {
		t.Errorf("flat customer in June: kwh_recent_vs_36m = %v", z[1])
	}
}

func TestFitSeason_RecoversProfile(t *testing.T) {
	asOf, _ := ParseMonth("2024-12")
	rng := rand.New(rand.NewPCG(5, 5))
	var cs []Customer
	for i := range 200 {
		c := Customer{ID: fmt.Sprint(i)}
		base := 5 + 3*rng.Float64()
		for m := asOf - 47; m <= asOf+3; m++ {
			k := base + 0.2*math.Cos(2*math.Pi*float64(calMonth(m)-6)/12) + 0.05*rng.NormFloat64()
			c.Bills = append(c.Bills, Bill{Month: m, KWh: math.Expm1(k)})
		}
		cs = append(cs, c)
	}
	got := fitSeason(cs, asOf)
	for i, v := range got {
		if want := 0.2 * math.Cos(2*math.Pi*float64(i-6)/12); math.Abs(v-want) > 0.01 {
			t.Errorf("month %d: %.3f; want %.3f", i+1, v, want)
		}
	}
	if z := fitSeason(nil, asOf); len(z) != 12 || z[0] != 0 {
		t.Errorf("no customers: %v", z)
	}
}

func TestParseRuleSet_RefusesBadSets(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	bad := *rs
	bad.Default.Weights = slices.Clone(rs.Default.Weights)
	bad.Default.Weights[0] = -1
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "late_3m") {
		t.Errorf("negative bad-behaviour weight: %v", err)
	}
	bad = *rs
	bad.Features = slices.Clone(rs.Features)
	bad.Features[1], bad.Features[2] = bad.Features[2], bad.Features[1]
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) {
		t.Errorf("reordered features: %v", err)
	}
	bad = *rs
	bad.ChurnFeatures = rs.ChurnFeatures[1:]
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "churn features") {
		t.Errorf("churn features missing one: %v", err)
	}
	bad = *rs
	bad.ChurnSeason = rs.ChurnSeason[:11]
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "churn_season") {
		t.Errorf("11-month season: %v", err)
	}
	bad = *rs
	bad.Churn.Weights = rs.Churn.Weights[1:]
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "churn_model") {
		t.Errorf("churn model short of a weight: %v", err)
	}
	if _, err := ParseRuleSet([]byte(`{"version":"x","extra":1}`)); !errors.Is(err, ErrRuleSet) {
		t.Errorf("unknown field: %v", err)
	}
}

// TestShippedRules_SharedSample grades a sample of the shared training
// file (skipped when it is absent) and checks the ranking holds.
func TestShippedRules_SharedSample(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", "credit", "credit_train.csv.gz"))
	if err != nil {
		t.Skipf("shared credit data not found (%v); it lives at ../shared/data/credit relative to the repo root", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	// The first 96,001 lines: 2,000 customers × 48 months, kept fast.
	var sample strings.Builder
	sc := bufio.NewScanner(zr)
	for i := 0; i <= 96000 && sc.Scan(); i++ {
		sample.WriteString(sc.Text() + "\n")
	}
	cs, err := ReadCSV(strings.NewReader(sample.String()))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := Shipped()
	asOf, _ := ParseMonth("2024-12")
	rep := Evaluate(rs, cs, asOf, asOf-6)
	if rep.HoldoutAUC < 0.85 || rep.PSI > 0.1 {
		t.Errorf("shipped rules on %d training customers: AUC %.3f PSI %.3f", len(cs), rep.HoldoutAUC, rep.PSI)
	}
	// The churn model on the sample's business customers (about 30
	// closings, so loose bounds): it ranks, and its mean risk is on the
	// scale of the observed rate.
	if rep.ChurnAUC < 0.65 || rep.ChurnMeanRisk < rep.ChurnRate/2 || rep.ChurnMeanRisk > 2*rep.ChurnRate {
		t.Errorf("shipped churn model on %d business customers: AUC %.3f, mean risk %.3f, rate %.3f", rep.Business, rep.ChurnAUC, rep.ChurnMeanRisk, rep.ChurnRate)
	}
}

// TestFit_SharedHoldoutMeetsTargets fits rules on half of the shared
// training file and judges them on the other half as issue 15 does
// (`gridcrm credit evaluate --csv … --as-of 2024-12`, seed 1): the score's
// AUC for default at least 0.88, default rates rising A < B < C with C at
// least 10× A, the score's PSI between June and December under 0.10.
// Skipped when the file is absent. The churn AUC (0.698 here, the issue
// asks 0.70) is printed, not asserted: it is the one target not met.
func TestFit_SharedHoldoutMeetsTargets(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "credit", "credit_train.csv.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared credit data not found (%v); it lives at ../shared/data/credit relative to the repo root", err)
	}
	defer f.Close()
	cs, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := ParseMonth("2024-12")
	fitPart, judge := Split(cs, 0.5, 1)
	// The L2 strengths cross-validation picks among the defaults' seven on
	// this split (1000 for default, 10 for churn, as `credit evaluate`
	// prints), offered alone: the same model in a quarter of the time, so
	// that the race detector's run stays short.
	cfg := DefaultFitConfig(asOf)
	cfg.Lambdas = []float64{10, 1000}
	rs, err := Fit(fitPart, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := Evaluate(rs, judge, asOf, asOf-6)
	a, b, c := rep.ByGrade["A"].Rate(), rep.ByGrade["B"].Rate(), rep.ByGrade["C"].Rate()
	t.Logf("held out: %d customers, default AUC %.4f, rates A %.4f B %.4f C %.4f (C/A %.1f), PSI %.4f; churn AUC %.4f on %d business customers; lambdas %v and %v",
		rep.Customers, rep.HoldoutAUC, a, b, c, c/a, rep.PSI, rep.ChurnAUC, rep.Business, rs.Default.Lambda, rs.Churn.Lambda)
	if rep.HoldoutAUC < 0.88 {
		t.Errorf("default AUC of the score %.4f; target ≥ 0.88", rep.HoldoutAUC)
	}
	if !(a < b && b < c) || c < 10*a {
		t.Errorf("default rates A %.4f, B %.4f, C %.4f; want A < B < C and C ≥ 10×A", a, b, c)
	}
	if rep.PSI >= 0.10 {
		t.Errorf("PSI %.4f; target < 0.10", rep.PSI)
	}
}

// TestReasons_BothWays: a customer average on every input but one, three
// deviations on the better side of the input that weighs most, is told
// that input as a strength (+code) and not as a reason; three deviations
// on the worse side, the other way round.
func TestReasons_BothWays(t *testing.T) {
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	m := rs.Default
	j := 0
	for k, w := range m.Weights {
		if math.Abs(w) > math.Abs(m.Weights[j]) {
			j = k
		}
	}
	if m.Weights[j] == 0 {
		t.Fatal("no weighted input")
	}
	at := func(dev float64) []float64 {
		x := slices.Clone(m.Mean)
		x[j] += dev * math.Copysign(m.Scale[j], m.Weights[j])
		return x
	}
	code := features[j].Code
	if up, down := rs.reasons(at(-3), 1), rs.reasons(at(-3), -1); slices.Contains(up, code) || !slices.Contains(down, code) {
		t.Errorf("better on %s: reasons %v, strengths %v; want it a strength only", features[j].Name, up, down)
	}
	if up, down := rs.reasons(at(3), 1), rs.reasons(at(3), -1); !slices.Contains(up, code) || slices.Contains(down, code) {
		t.Errorf("worse on %s: reasons %v, strengths %v; want it a reason only", features[j].Name, up, down)
	}
	if got := strengthCode("no_direct_debit"); got != "+direct_debit" {
		t.Errorf("strengthCode(no_direct_debit) = %s", got)
	}
}
