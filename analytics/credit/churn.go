package credit

import "math"

// The churn model (business customers: the account closes within 12
// months) has its own inputs. The hidden financial health that drives
// closing also drives lateness and consumption; what carries over to the
// next 12 months is its persistent part, so the inputs look at the whole
// graded history (36 months) rather than the last quarter:
//
//   - days_late_ew_log: log(0.05 + mean days late, each month weighted by
//     a half-life of 36 months). Frequency and severity of lateness in one
//     number; the log because the first late days say more about health
//     than the next ones.
//   - kwh_recent_vs_36m: deseasonalised log kWh, weighted by a half-life
//     of 12 months, minus its plain mean over the 36 months: consumption
//     drifting down against the customer's own level. The season is taken
//     out with a calendar-month profile fitted with the rule set (Season),
//     so the risk does not move with the month graded.
//   - short_tenure: years below 7 of tenure (young businesses close more).
//   - direct_debit, theft_36m (a bill flagged theft, or a recorded theft —
//     a violations record of kind theft, a Mark — found in the 36 months).
//
// Shorter windows (3/6 months, year on year, recent drop against the
// previous 9 months, months since the last late payment, rising days
// late), more inputs and boosted trees were tried and did no better on
// held-out customers (doc.go).
const (
	churnHistory   = 36   // months of history the churn inputs read
	churnLateHL    = 36.0 // half-life (months) of the days-late weights
	churnKWhHL     = 12.0 // half-life (months) of the recent consumption
	churnYoungTen  = 84   // tenure (months) below which short_tenure counts
	churnLateFloor = 0.05 // mean days late added before the log
)

// churnFeature is one input of the churn model.
type churnFeature struct {
	Name string
	f    func(w window, season []float64) float64
}

var churnFeatures = []churnFeature{
	{"days_late_ew_log", func(w window, _ []float64) float64 {
		s, n := 0.0, 0.0
		w.each(churnHistory, func(b Bill) {
			wt := math.Exp2(-float64(w.asOf-b.Month) / churnLateHL)
			s += wt * float64(b.DaysLate)
			n += wt
		})
		return math.Log(churnLateFloor + s/n)
	}},
	{"kwh_recent_vs_36m", func(w window, season []float64) float64 {
		ew, n, all, k := 0.0, 0.0, 0.0, 0.0
		w.each(churnHistory, func(b Bill) {
			d := math.Log1p(b.KWh) - season[calMonth(b.Month)]
			wt := math.Exp2(-float64(w.asOf-b.Month) / churnKWhHL)
			ew += wt * d
			n += wt
			all += d
			k++
		})
		return ew/n - all/k
	}},
	{"short_tenure", func(w window, _ []float64) float64 {
		return float64(max(0, churnYoungTen-w.last().Tenure)) / 12
	}},
	{"direct_debit", func(w window, _ []float64) float64 { return b2f(w.last().DirectDebit) }},
	{"theft_36m", func(w window, _ []float64) float64 {
		return min(1, w.count(churnHistory, theft)+float64(marksIn(w.marks, w.asOf, churnHistory, true)))
	}},
}

func churnFeatureNames() []string {
	out := make([]string, len(churnFeatures))
	for i, f := range churnFeatures {
		out[i] = f.Name
	}
	return out
}

// calMonth is 0 for January … 11 for December.
func calMonth(m Month) int { return int(m) % 12 }

// churnVector computes the churn inputs of a window with at least one bill.
func churnVector(w window, season []float64) []float64 {
	x := make([]float64, len(churnFeatures))
	for i, f := range churnFeatures {
		x[i] = f.f(w, season)
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
			x[i] = 0
		}
	}
	return x
}

// fitSeason estimates the calendar-month profile of log kWh (January
// first, mean 0) from the customers' bills up to asOf: each customer's
// last whole years (at most churnHistory months, every month present)
// minus that customer's mean, averaged by calendar month. Zero without
// such customers.
func fitSeason(cs []Customer, asOf Month) []float64 {
	var sum, n [12]float64
	for _, c := range cs {
		bills := upTo(c.Bills, asOf)
		if len(bills) > churnHistory {
			bills = bills[len(bills)-churnHistory:]
		}
		bills = bills[len(bills)%12:]
		if len(bills) == 0 || bills[len(bills)-1].Month-bills[0].Month != Month(len(bills)-1) {
			continue // no whole year, or a month missing
		}
		mean := 0.0
		for _, b := range bills {
			mean += math.Log1p(b.KWh)
		}
		mean /= float64(len(bills))
		for _, b := range bills {
			sum[calMonth(b.Month)] += math.Log1p(b.KWh) - mean
			n[calMonth(b.Month)]++
		}
	}
	out := make([]float64, 12)
	if n[0] == 0 {
		return out
	}
	avg := 0.0
	for i := range out {
		out[i] = sum[i] / n[i]
		avg += out[i] / 12
	}
	for i := range out {
		out[i] -= avg
	}
	return out
}
