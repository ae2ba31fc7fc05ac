package sample

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gridcrm/analytics/credit"
	"gridcrm/analytics/forecast"
	"gridcrm/analytics/warning"
	"gridcrm/crm"
)

// sharedLoad is the shared hourly load folder: $GRIDCRM_SHARED_LOAD, or
// ../shared/data/load next to the repository.
func sharedLoad() string {
	if d := os.Getenv("GRIDCRM_SHARED_LOAD"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data", "load")
}

// The committed table is what the generator computes from the shared data.
func TestShapes_MatchSharedData(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedLoad(), "*_hourly.csv"))
	if len(files) == 0 {
		t.Skipf("no shared load data in %s (set GRIDCRM_SHARED_LOAD): the committed shapes are not checked", sharedLoad())
	}
	var zones [][]HourReading
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := forecast.ReadHourly(r, filepath.Base(f))
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		z := make([]HourReading, len(h.Hours))
		for i, x := range h.Hours {
			z[i] = HourReading{At: x.At, MW: x.MW}
		}
		zones = append(zones, z)
	}
	got, err := DeriveShapes(zones)
	if err != nil {
		t.Fatal(err)
	}
	if got.Round() != derived {
		t.Fatalf("shapes_table.go is stale: go generate ./crm/sample\nderived now: %+v\ncommitted:   %+v", got.Round(), derived)
	}
}

func TestDeriveShapes_RefusesIncompleteYears(t *testing.T) {
	var z []HourReading
	for h := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); h.Month() < 12; h = h.Add(time.Hour) {
		z = append(z, HourReading{At: h, MW: 100})
	}
	if _, err := DeriveShapes([][]HourReading{z}); err == nil {
		t.Fatal("a year without December gave shapes")
	}
	for h := time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC); h.Year() == 2020; h = h.Add(time.Hour) {
		z = append(z, HourReading{At: h, MW: 100 + float64(h.Month())})
	}
	s, err := DeriveShapes([][]HourReading{z})
	if err != nil || s.ZoneYears != 1 {
		t.Fatalf("one complete year: %+v, %v", s, err)
	}
	if s.Monthly[ShapeResidential][11] <= s.Monthly[ShapeResidential][0] {
		t.Fatalf("December loaded more, shape %v", s.Monthly[ShapeResidential])
	}
}

func corr(a, b []float64) float64 {
	ma, mb := meanOf(a), meanOf(b)
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

var end2026 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// byMonth is kWh per day by category and (year, month) of the bills,
// each customer's over its mean of the calendar year so that a few large
// or fast-growing ones do not decide.
func byMonth(d Data) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for i, bs := range d.Bills {
		c := d.Customers[i].Category
		if slices.Contains(d.Customers[i].Tags, "政府重点工程") {
			continue // plants ramping up: their growth, not the season, sets their year
		}
		if out[c] == nil {
			out[c] = map[string]float64{}
		}
		perDay := make([]float64, len(bs))
		for j, b := range bs {
			p, _ := time.Parse("2006-01", b.Period)
			perDay[j] = b.KWh / float64(p.AddDate(0, 1, -1).Day())
		}
		year := map[string][]float64{}
		for j, b := range bs {
			year[b.Period[:4]] = append(year[b.Period[:4]], perDay[j])
		}
		for j, b := range bs {
			if m := meanOf(year[b.Period[:4]]); m > 0 {
				out[c][b.Period] += perDay[j] / m
			}
		}
	}
	return out
}

// The generated consumption follows the shared data's monthly shape, and
// industry dips in the month of the Spring Festival.
func TestGenerate_SeasonalShapeAndCalendar(t *testing.T) {
	d := Generate(Options{Region: "320723", Customers: 3000, Months: 36, End: end2026, Seed: 11, AnomalyRate: -1})
	m := byMonth(d)
	for _, k := range []struct {
		cat   string
		shape int
	}{{crm.CategoryResidential, ShapeResidential}, {crm.CategoryCommercial, ShapeCommercial}, {crm.CategoryIndustrial, ShapeIndustrial}} {
		// Year 2025: per-day energy by calendar month, over the year's mean.
		var prof [12]float64
		for mm := range 12 {
			prof[mm] = m[k.cat][time.Date(2025, time.Month(mm+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")]
			if k.cat == crm.CategoryIndustrial {
				prof[mm] /= workFactor(2025, time.Month(mm+1))
			}
		}
		r := corr(prof[:], derived.Monthly[k.shape][:])
		t.Logf("%s: correlation %.3f of the 2025 monthly profile with the shared shape", k.cat, r)
		if r < 0.9 {
			t.Errorf("%s: correlation %.3f with the shared shape, want ≥ 0.9\ngenerated %v\nshape %v", k.cat, r, prof, derived.Monthly[k.shape])
		}
	}
	// Spring Festival: 29 Jan 2025, 17 Feb 2026. Against January, February
	// 2026 loses working days that February 2025 had.
	ratio := func(cat string) float64 {
		return (m[cat]["2026-02"] / m[cat]["2026-01"]) / (m[cat]["2025-02"] / m[cat]["2025-01"])
	}
	ind, res := ratio(crm.CategoryIndustrial), ratio(crm.CategoryResidential)
	t.Logf("Feb/Jan 2026 over Feb/Jan 2025: industrial %.3f, residential %.3f", ind, res)
	if ind > 0.95 || math.Abs(res-1) > 0.03 {
		t.Errorf("Spring Festival effect: industrial %.3f (want < 0.95), residential %.3f (want 1 ± 0.03)", ind, res)
	}
	// Working days 2025 and 2026 come from crm/workday; 2024 is approximated.
	if f25, f26 := workFactor(2025, time.February), workFactor(2026, time.February); f26 >= f25 {
		t.Errorf("February working-day factor 2026 %.3f ≥ 2025 %.3f", f26, f25)
	}
	if f := workFactor(2024, time.February); f >= workFactor(2024, time.March) {
		t.Errorf("February 2024 (Spring Festival 10 Feb, approximated) factor %.3f ≥ March", f)
	}
}

// creditOf maps a generated customer as api/analytics.go's creditCustomer
// does: days late from the pay date against the due day (or, unpaid, to
// the end of the as-of month), unpaid when in arrears, direct debit from
// the tag.
func creditOf(c crm.Customer, bills []crm.Bill, asOf time.Time) credit.Customer {
	out := credit.Customer{ID: c.AccountNo, Category: credit.GeneralCommercial}
	switch c.Category {
	case crm.CategoryResidential:
		out.Category = credit.Residential
	case crm.CategoryIndustrial:
		out.Category = credit.LargeIndustrial
	}
	dd := false
	for _, t := range c.Tags {
		dd = dd || t == DirectDebitTag
	}
	asOfEnd := time.Date(asOf.Year(), asOf.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	for i, b := range bills {
		p, _ := time.Parse("2006-01", b.Period)
		cb := credit.Bill{Month: credit.Month(p.Year()*12 + int(p.Month()) - 1), Tenure: i, DirectDebit: dd, KWh: b.KWh, Yuan: b.Billed, Unpaid: b.Arrears > 0}
		paid := asOfEnd
		if b.Arrears == 0 && b.PayDate != "" {
			paid, _ = time.Parse("2006-01-02", string(b.PayDate))
		}
		if due := dueDay(p); b.Billed > 0 && paid.After(due) {
			cb.DaysLate = int(paid.Sub(due).Hours() / 24)
		}
		out.Bills = append(out.Bills, cb)
	}
	return out
}

// Graded on the generated bills, grade C holds mostly the customers
// generated with poor or fair credit, and the churn risk finds the
// business customers generated as leaving.
func TestTraits_CreditAndChurnSignals(t *testing.T) {
	rs, err := credit.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	d := Generate(Options{Region: "320723", Customers: 3000, Months: 36, End: end2026, Seed: 12})
	asOf := credit.Month(2026*12 + 11)
	grades := map[string]map[string]int{}
	var risk []float64
	var leaving []bool
	for i, c := range d.Customers {
		r, ok := rs.Grade(creditOf(c, d.Bills[i], end2026), asOf)
		if !ok {
			continue
		}
		h := d.Traits[i].Credit
		if grades[h] == nil {
			grades[h] = map[string]int{}
		}
		grades[h][r.Grade]++
		if !math.IsNaN(r.ChurnRisk) {
			risk = append(risk, r.ChurnRisk)
			leaving = append(leaving, d.Traits[i].Churn > 0)
		}
	}
	t.Logf("grades by hidden credit: %v", grades)
	inC := grades[CreditGood]["C"] + grades[CreditFair]["C"] + grades[CreditPoor]["C"]
	bad := grades[CreditFair]["C"] + grades[CreditPoor]["C"]
	poor := grades[CreditPoor]["A"] + grades[CreditPoor]["B"] + grades[CreditPoor]["C"]
	good := grades[CreditGood]["A"] + grades[CreditGood]["B"] + grades[CreditGood]["C"]
	all := 0
	for _, g := range grades {
		all += g["A"] + g["B"] + g["C"]
	}
	base := float64(all-good) / float64(all)
	if share := float64(bad) / float64(inC); share < 0.4 || share < 3*base {
		t.Errorf("grade C: %d customers, %.2f of them generated fair or poor (%.2f of all); want ≥ 0.4 and ≥ 3 × that", inC, share, base)
	}
	if share := float64(grades[CreditPoor]["C"]) / float64(poor); share < 0.8 {
		t.Errorf("%.2f of the poor payers graded C, want ≥ 0.8", share)
	}
	if share := float64(grades[CreditGood]["A"]) / float64(good); share < 0.5 {
		t.Errorf("%.2f of the good payers graded A, want ≥ 0.5", share)
	}
	reduced := 0
	for i, c := range d.Customers {
		tr := d.Traits[i]
		cc := d.CapacityChanges[i]
		if tr.ReducedCapacity != (len(cc) == 1) || (tr.ReducedCapacity && tr.Churn < 0.5) || slices.Contains(c.Tags, "减容") {
			t.Errorf("%s: traits %+v, capacity changes %+v, tags %v", c.Name, tr, cc, c.Tags)
		}
		if tr.ReducedCapacity {
			reduced++
			// The record is valid, one size down to the customer's
			// capacity, begun within the decline.
			r := cc[0]
			r.CustomerID = crm.NewID("cus", time.Unix(0, 0))
			r.Normalize()
			if e := r.Validate(); e != nil || r.ToKVA != c.CapacityKVA || r.FromKVA <= r.ToKVA ||
				r.StartOn > "2026-12-01" || r.StartOn < crm.Date(end2026.AddDate(0, -tr.ChurnMonths, 0).Format("2006-01-02")) {
				t.Errorf("%s: capacity change %+v (%v) against capacity %v, decline of %d months", c.Name, r, e, c.CapacityKVA, tr.ChurnMonths)
			}
		}
		if business := c.Category != crm.CategoryResidential; business != (c.ContractEnd != "") ||
			business && (c.ContractEnd <= "2026-12-01" || c.ContractEnd > "2031-12-01") {
			t.Errorf("%s (%s): contract_end %q; want one in the five years after the last month for a business only", c.Name, c.Category, c.ContractEnd)
		}
	}
	if reduced == 0 {
		t.Error("no leaving customer reduced its capacity")
	}
	auc := credit.AUC(risk, leaving)
	t.Logf("churn risk AUC %.3f over %d business customers", auc, len(risk))
	if auc < 0.7 {
		t.Errorf("churn risk AUC %.3f for the customers generated as leaving, want ≥ 0.7", auc)
	}
}

// analytics/warning's detector finds the injected anomalies at about its
// documented rates (README, Analytics): every zero, ≥ 90% of the drops of
// 45-50%, ≥ 65% of all 30-50% drops, false alarms ≤ 3% of clean months.
func TestTraits_AnomaliesDetected(t *testing.T) {
	d := Generate(Options{Region: "320723", Customers: 1000, Months: 48, End: end2026, Seed: 13, AnomalyRate: 0.02})
	cfg := warning.DefaultConfig()
	type tally struct{ n, caught int }
	var zero, drop, deep, rise, clean tally
	for i, bs := range d.Bills {
		if d.Traits[i].Churn > 0 {
			continue // a declining customer is a churn warning's business
		}
		inj := map[int]Anomaly{}
		for _, a := range d.Traits[i].Anomalies {
			inj[a.Bill] = a
		}
		kwh := make([]float64, len(bs))
		for j, b := range bs {
			kwh[j] = b.KWh
		}
		for j := len(bs) - 12; j < len(bs); j++ {
			if bs[j].KWh == 0 && kwh[j-1] == 0 {
				continue // nothing read
			}
			p, _ := time.Parse("2006-01", bs[j].Period)
			f, err := warning.Detect(kwh[j-cfg.Window:j+1], int(p.Month()), cfg)
			if err != nil {
				t.Fatal(err)
			}
			hit := len(f.Reasons) > 0
			count := func(x *tally) {
				x.n++
				if hit {
					x.caught++
				}
			}
			a, ok := inj[j]
			switch {
			case !ok:
				count(&clean)
			case a.Kind == AnomalyZero:
				count(&zero)
			case a.Kind == AnomalyDrop:
				count(&drop)
				if a.Factor <= 0.55 {
					count(&deep)
				}
			default:
				count(&rise)
			}
		}
	}
	rate := func(x tally) float64 { return float64(x.caught) / float64(x.n) }
	t.Logf("zeros %d/%d, drops %d/%d (45-50%%: %d/%d), rises %d/%d, false alarms %d/%d (%.2f%%)",
		zero.caught, zero.n, drop.caught, drop.n, deep.caught, deep.n, rise.caught, rise.n, clean.caught, clean.n, 100*rate(clean))
	if zero.n == 0 || drop.n < 50 || deep.n < 10 {
		t.Fatalf("too few injected: %d zeros, %d drops, %d deep", zero.n, drop.n, deep.n)
	}
	if rate(zero) < 1 || rate(deep) < 0.9 || rate(drop) < 0.65 || rate(clean) > 0.03 {
		t.Errorf("detected: zeros %.2f (want 1), 45-50%% drops %.2f (≥ 0.9), 30-50%% drops %.2f (≥ 0.65), false alarms %.3f (≤ 0.03)",
			rate(zero), rate(deep), rate(drop), rate(clean))
	}
}
