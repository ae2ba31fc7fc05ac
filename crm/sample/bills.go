package sample

import (
	"math"
	"math/rand/v2"
	"time"

	"gridcrm/crm"
)

// season is the share of a month in a year's consumption, January first,
// normalised at start-up to average 1: the categories the shared load data
// says nothing about (monthFactor, hidden.go, uses the derived shapes for
// the others).
type season [12]float64

var (
	// Families working away come home for the Spring Festival.
	seasonVacant = norm(season{2.20, 2.40, 0.70, 0.60, 0.60, 0.60, 0.80, 0.80, 0.60, 0.90, 0.60, 1.20})
	// Irrigation from May (wheat) through August (rice).
	seasonAgricultural = norm(season{0.45, 0.40, 0.55, 0.75, 1.55, 2.05, 2.00, 1.70, 0.95, 0.60, 0.50, 0.50})
	// Schools close in February and in the summer, offices cool in summer.
	seasonPublic = norm(season{1.15, 0.85, 0.95, 0.85, 0.90, 1.05, 1.15, 1.15, 1.00, 0.90, 0.95, 1.10})
)

func norm(s season) season {
	t := 0.0
	for _, v := range s {
		t += v
	}
	for i := range s {
		s[i] *= 12 / t
	}
	return s
}

// Tariffs in yuan/kWh, close to Jiangsu's published ones (energy charge
// only; the capacity charge of 大工业 is left out).
const (
	resPeak, resValley   = 0.5583, 0.3583 // residential time-of-use, first tier
	resTier2, resTier3   = 2760.0, 4800.0 // annual kWh where tiers 2 and 3 begin
	resTier2Add          = 0.05
	resTier3Add          = 0.30
	agriPrice            = 0.5090 // agricultural production, single price
	commercialFlat       = 0.6597 // 一般工商业 (commercial and public), flat period
	peakMult, valleyMult = 1.6, 0.4
)

// The business time-of-use tariff changes with the bills of TariffChange:
// the peak price goes from 1.6 to PeakMultAfter times the flat one (as
// Jiangsu's did in 2023), so a price per kWh moves with the customer's
// peak share and the fee analyses have a tariff's effect to show. The demo
// writes the tariff directive that announces it (internal/demo).
const (
	TariffChange  = "2026-06"
	PeakMultAfter = 1.7
)

// industrialFlat is the flat-period price of 大工业 by supply voltage.
func industrialFlat(kv float64) float64 {
	switch {
	case kv >= 110:
		return 0.5985
	case kv >= 35:
		return 0.6185
	}
	return 0.6385
}

// recency is the extra chance that a bill k months before End is still
// (partly) unpaid: the latest bills have not all been collected yet.
var recency = [...]float64{0.05, 0.02, 0.01}

// bills generates the customer's bills for months months ending at end,
// with anomalies injected at rate per month (recorded in pr.t).
func (pr *profile) bills(rng *rand.Rand, end time.Time, months int, rate float64) []crm.Bill {
	if months <= 0 {
		return nil
	}
	out := make([]crm.Bill, 0, months)
	first := time.Date(end.Year(), end.Month()-time.Month(months-1), 1, 0, 0, 0, 0, time.UTC)
	// Residential tiers count the calendar year: estimate the months of the
	// first year that come before the window.
	cum := 0.0
	for m := range int(first.Month()) - 1 {
		cum += pr.annual / 12 * pr.monthFactor(time.Date(first.Year(), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC))
	}
	sigma := map[string]float64{crm.CategoryResidential: 0.08, crm.CategoryCommercial: 0.07,
		crm.CategoryIndustrial: 0.06, crm.CategoryAgricultural: 0.12, crm.CategoryPublic: 0.06}[pr.c.Category]
	if pr.c.Category != crm.CategoryResidential {
		rate *= 3
	}
	var py payer
	for i := range months {
		t := first.AddDate(0, i, 0)
		k := months - 1 - i // months before End
		m := int(t.Month()) - 1
		if m == 0 {
			cum = 0
		}
		x := pr.annual / 12 * pr.monthFactor(t) * math.Pow(1+pr.growth, -float64(k)/12) * math.Exp(sigma*rng.NormFloat64())
		churning := 0.0
		if pr.t.Churn > 0 && k < pr.t.ChurnMonths {
			churning = float64(pr.t.ChurnMonths-k) / float64(pr.t.ChurnMonths)
			x *= 1 - pr.t.Churn*churning
		}
		if kind, f := anomaly(rng, rate); kind != "" {
			x *= f
			pr.t.Anomalies = append(pr.t.Anomalies, Anomaly{Bill: i, Kind: kind, Factor: f})
		}
		b := crm.Bill{Period: t.Format("2006-01")}
		b.KWh = math.Max(0, math.Round(x))
		// Split into whole kWh so that peak + flat + valley == kWh exactly.
		// The peak share moves with the month as the shared load's does,
		// the same every year (so the price per kWh does not drift year on
		// year: the credit grade reads its change).
		ps := math.Min(math.Max(pr.peak*pr.peakTilt(m), 0.05), 0.9)
		b.KWhPeak = math.Round(b.KWh * ps)
		if pr.flat > 0 {
			b.KWhFlat = math.Min(math.Round(b.KWh*pr.flat), b.KWh-b.KWhPeak)
		}
		b.KWhValley = b.KWh - b.KWhPeak - b.KWhFlat
		b.Billed = round2(pr.charge(&b, cum))
		cum += b.KWh
		out = append(out, b)
		pr.pay(rng, &py, out, i, t, k, churning)
	}
	return out
}

// charge is the energy charge of b; cum is the year's kWh before it.
func (pr *profile) charge(b *crm.Bill, cum float64) float64 {
	switch pr.c.Category {
	case crm.CategoryResidential:
		v := b.KWhPeak*resPeak + b.KWhValley*resValley
		v += resTier2Add * overlap(cum, cum+b.KWh, resTier2, math.Inf(1))
		v += (resTier3Add - resTier2Add) * overlap(cum, cum+b.KWh, resTier3, math.Inf(1))
		return v
	case crm.CategoryAgricultural:
		return b.KWh * agriPrice
	}
	flat := commercialFlat
	if pr.c.Category == crm.CategoryIndustrial {
		flat = industrialFlat(pr.c.VoltageKV)
	}
	peak := peakMult
	if b.Period >= TariffChange {
		peak = PeakMultAfter
	}
	return flat * (b.KWhPeak*peak + b.KWhFlat + b.KWhValley*valleyMult)
}

// overlap is the length of [a, b) ∩ [lo, hi).
func overlap(a, b, lo, hi float64) float64 {
	return math.Max(0, math.Min(b, hi)-math.Max(a, lo))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
