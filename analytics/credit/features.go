package credit

import "math"

// feature is one input of the models, computed from the bills up to the
// as-of month. Bad marks a bad-behaviour feature: more of it never means
// better credit, so its weight in the default model is held ≥ 0 (risk up)
// at fit time; that is what makes the score monotone.
type feature struct {
	Name string
	Bad  bool
	Code string // the reason code shown when it moves the score
	f    func(w window) float64
}

// window is a customer's bills up to as-of, with month arithmetic.
type window struct {
	bills []Bill // sorted, all ≤ asOf
	asOf  Month
	cat   Category
	marks []Mark // recorded violations and thefts (marks.go)
}

// each calls fn for the bills of the last k months (asOf-k, asOf].
func (w window) each(k int, fn func(Bill)) {
	for i := len(w.bills) - 1; i >= 0 && w.bills[i].Month > w.asOf-Month(k); i-- {
		fn(w.bills[i])
	}
}

func (w window) count(k int, pred func(Bill) bool) float64 {
	n := 0.0
	w.each(k, func(b Bill) {
		if pred(b) {
			n++
		}
	})
	return n
}

func late(b Bill) bool      { return b.DaysLate > 0 }
func unpaid(b Bill) bool    { return b.Unpaid }
func severe(b Bill) bool    { return b.DaysLate > 30 }
func violation(b Bill) bool { return b.Violation }
func theft(b Bill) bool     { return b.Theft }

// meanKWh over months (asOf-hi, asOf-lo]; NaN if none.
func (w window) meanKWh(lo, hi int) float64 {
	s, n := 0.0, 0
	for _, b := range w.bills {
		if b.Month > w.asOf-Month(hi) && b.Month <= w.asOf-Month(lo) {
			s += b.KWh
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// logRatio is log((a+1)/(b+1)), 0 when either is unknown.
func logRatio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return 0
	}
	return math.Log((a + 1) / (b + 1))
}

func (w window) last() Bill { return w.bills[len(w.bills)-1] }

// features are the model inputs, in the order of the weights in a rule
// set; a rule set names them and is refused when the names differ.
var features = []feature{
	{"late_3m", true, "late_3m", func(w window) float64 { return w.count(3, late) }},
	{"late_6m", true, "late_6m", func(w window) float64 { return w.count(6, late) }},
	{"late_12m", true, "late_12m", func(w window) float64 { return w.count(12, late) }},
	{"late_24m", true, "late_24m", func(w window) float64 { return w.count(24, late) }},
	{"unpaid_3m", true, "unpaid_3m", func(w window) float64 { return w.count(3, unpaid) }},
	{"unpaid_6m", true, "unpaid_6m", func(w window) float64 { return w.count(6, unpaid) }},
	{"unpaid_12m", true, "unpaid_12m", func(w window) float64 { return w.count(12, unpaid) }},
	{"unpaid_24m", true, "unpaid_24m", func(w window) float64 { return w.count(24, unpaid) }},
	{"severe_12m", true, "over_30_days_late", func(w window) float64 { return w.count(12, severe) }},
	{"max_days_late_12m", true, "max_days_late", func(w window) float64 {
		m := 0
		w.each(12, func(b Bill) { m = max(m, b.DaysLate) })
		return float64(m) / 30
	}},
	{"days_late_sum_12m", true, "days_late_total", func(w window) float64 {
		s := 0
		w.each(12, func(b Bill) { s += b.DaysLate })
		return float64(s) / 30
	}},
	{"days_late_last", true, "late_last_bill", func(w window) float64 {
		if b := w.last(); b.Month == w.asOf {
			return float64(b.DaysLate) / 30
		}
		return 0
	}},
	{"unpaid_streak", true, "arrears_streak", func(w window) float64 { return float64(unpaidStreak(w)) }},
	{"violation_24m", true, "violation_24m", func(w window) float64 {
		return w.count(24, violation) + float64(marksIn(w.marks, w.asOf, 24, false))
	}},
	{"theft_24m", true, "theft_24m", func(w window) float64 {
		return min(1, w.count(24, theft)+float64(marksIn(w.marks, w.asOf, 24, true)))
	}},
	{"direct_debit", false, "no_direct_debit", func(w window) float64 { return b2f(w.last().DirectDebit) }},
	{"log_tenure", false, "short_tenure", func(w window) float64 { return math.Log1p(float64(w.last().Tenure)) }},
	{"commercial", false, "category", func(w window) float64 { return b2f(w.cat == GeneralCommercial) }},
	{"industrial", false, "category", func(w window) float64 { return b2f(w.cat == LargeIndustrial) }},
	{"kwh_yoy_1m", false, "consumption_change", func(w window) float64 { return logRatio(w.meanKWh(0, 1), w.meanKWh(12, 13)) }},
	{"kwh_yoy_3m", false, "consumption_change", func(w window) float64 { return logRatio(w.meanKWh(0, 3), w.meanKWh(12, 15)) }},
	{"kwh_yoy_6m", false, "consumption_change", func(w window) float64 { return logRatio(w.meanKWh(0, 6), w.meanKWh(12, 18)) }},
	{"kwh_yoy_12m", false, "consumption_change", func(w window) float64 { return logRatio(w.meanKWh(0, 12), w.meanKWh(12, 24)) }},
	{"kwh_volatility", false, "consumption_volatile", func(w window) float64 { return kwhVolatility(w) }},
	{"log_kwh", false, "consumption_level", func(w window) float64 { return math.Log1p(w.meanKWh(0, 12)) }},
}

// No input reads the billed yuan. The bill per kWh (price_yoy, the log
// change of yuan per kWh against a year earlier, in rules v2026-12) was
// dropped in v2026-12.2: its change is the tariff's, not the customer's
// behaviour, and on the flat tariffs of the training file its spread was
// rounding noise (scale 1.8e-5), so a 5% tariff change moved every score
// by hundreds of points (score PSI 5.8 between June and December across
// it). TestGrade_TariffInvariant holds the scores and the churn risk to
// the bills' kWh and payments only.

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unpaidStreak counts consecutive months with a bill unpaid at the next
// bill, ending at the as-of month.
func unpaidStreak(w window) int {
	n := 0
	want := w.asOf
	for i := len(w.bills) - 1; i >= 0; i-- {
		b := w.bills[i]
		if b.Month != want || !b.Unpaid {
			break
		}
		n++
		want--
	}
	return n
}

// kwhVolatility is the standard deviation over the last 12 months of the
// log change of kWh against the same month a year earlier (year on year,
// so that the season does not count as volatility).
func kwhVolatility(w window) float64 {
	byMonth := map[Month]float64{}
	w.each(24, func(b Bill) { byMonth[b.Month] = math.Log1p(b.KWh) })
	var d []float64
	w.each(12, func(b Bill) {
		if prev, ok := byMonth[b.Month-12]; ok {
			d = append(d, math.Log1p(b.KWh)-prev)
		}
	})
	if len(d) < 2 {
		return 0
	}
	m := 0.0
	for _, v := range d {
		m += v
	}
	m /= float64(len(d))
	s := 0.0
	for _, v := range d {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(d)-1))
}

// vector computes the features of c as of asOf; ok is false when c has no
// bill up to asOf.
func vector(c Customer, asOf Month) (x []float64, w window, ok bool) {
	w = window{bills: upTo(c.Bills, asOf), asOf: asOf, cat: c.Category, marks: c.Marks}
	if len(w.bills) == 0 {
		return nil, w, false
	}
	x = make([]float64, len(features))
	for i, f := range features {
		x[i] = f.f(w)
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
			x[i] = 0
		}
	}
	return x, w, true
}

// closedBy reports whether the account closed at or before asOf.
func closedBy(w window) bool { return w.last().Closed }

// Outcome is what happened in the 12 months after an as-of month.
type Outcome struct {
	Known   bool // the customer has bills after as-of, or closed by then
	Default bool // ≥ 2 months unpaid at the next bill, or a month > 60 days late
	Churn   bool // the account closed in those 12 months
}

// OutcomeAfter reads c's outcome in months asOf+1..asOf+12.
func OutcomeAfter(c Customer, asOf Month) Outcome {
	var o Outcome
	unp := 0
	for _, b := range c.Bills {
		if b.Month <= asOf || b.Month > asOf+12 {
			continue
		}
		o.Known = true
		if b.Unpaid {
			unp++
		}
		if b.DaysLate > 60 {
			o.Default = true
		}
		if b.Closed {
			o.Churn = true
		}
	}
	if unp >= 2 {
		o.Default = true
	}
	return o
}
