package forecast

import "math"

// HoltWinters is additive Holt-Winters with a damped trend on log y (so
// multiplicative on y). Its smoothing weights are picked from a small grid
// by the one-step-ahead squared error over the history; the grid keeps the
// seasonal weight low so that one year's weather does not become the
// season.
type HoltWinters struct{}

// Name is "holt-winters".
func (HoltWinters) Name() string { return "holt-winters" }

// MinHistory is three years: two to start, one to fit on.
func (HoltWinters) MinHistory() int { return 36 }

var (
	hwAlpha = []float64{0.05, 0.1, 0.2, 0.35, 0.5}
	hwBeta  = []float64{0, 0.02, 0.08}
	hwGamma = []float64{0.02, 0.05, 0.1, 0.2}
	hwPhi   = []float64{0.8, 0.9, 0.97}
)

type hwState struct {
	level, trend float64
	season       [12]float64 // by calendar month
}

// hwRun smooths z (log values) from its third year on and answers the
// final state and the one-step squared error.
func hwRun(z []float64, start Month, a, b, g, phi float64) (hwState, float64) {
	var st hwState
	m1, m2 := 0.0, 0.0
	for i := range 12 {
		m1 += z[i]
		m2 += z[12+i]
	}
	m1, m2 = m1/12, m2/12
	st.level, st.trend = m2, (m2-m1)/12
	for i := range 12 {
		c := int(start+Month(i)) % 12
		st.season[c] = (z[i] - m1 + z[12+i] - m2) / 2
	}
	sse := 0.0
	for i := 24; i < len(z); i++ {
		c := int(start+Month(i)) % 12
		pred := st.level + phi*st.trend + st.season[c]
		e := z[i] - pred
		sse += e * e
		prev := st.level
		st.level = a*(z[i]-st.season[c]) + (1-a)*(prev+phi*st.trend)
		st.trend = b*(st.level-prev) + (1-b)*phi*st.trend
		st.season[c] = g*(z[i]-st.level) + (1-g)*st.season[c]
	}
	return st, sse
}

// Forecast answers the damped-trend forecast of the best grid point.
func (HoltWinters) Forecast(in Input) []float64 {
	z := make([]float64, len(in.Y))
	for i, v := range in.Y {
		z[i] = math.Log(v)
	}
	best, bestSSE, bestPhi := hwState{}, math.Inf(1), 0.0
	for _, a := range hwAlpha {
		for _, b := range hwBeta {
			for _, g := range hwGamma {
				for _, phi := range hwPhi {
					st, sse := hwRun(z, in.Start, a, b, g, phi)
					if sse < bestSSE {
						best, bestSSE, bestPhi = st, sse, phi
					}
				}
			}
		}
	}
	n := len(z)
	out := make([]float64, in.H)
	damp, pow := 0.0, 1.0
	for h := range out {
		pow *= bestPhi
		damp += pow
		c := int(in.Start+Month(n+h)) % 12
		out[h] = math.Exp(best.level + damp*best.trend + best.season[c])
	}
	return out
}

// Theta is the theta method on the deseasonalised series: simple
// exponential smoothing plus half the slope of the linear trend, then
// reseasonalised with factors averaged over up to Years years.
type Theta struct{ Years int }

// Name is "theta".
func (Theta) Name() string { return "theta" }

// MinHistory is two years.
func (Theta) MinHistory() int { return 24 }

// Forecast answers (SES level + slope/2 × h) × factor(month).
func (m Theta) Forecast(in Input) []float64 {
	n := len(in.Y)
	idx := seasonalIndex(in.Y, in.Start, m.Years)
	d := make([]float64, n)
	for i, v := range in.Y {
		d[i] = v / idx[int(in.Start+Month(i))%12]
	}
	// Least-squares slope of d on time.
	tm, dm := float64(n-1)/2, 0.0
	for _, v := range d {
		dm += v
	}
	dm /= float64(n)
	num, den := 0.0, 0.0
	for i, v := range d {
		num += (float64(i) - tm) * (v - dm)
		den += (float64(i) - tm) * (float64(i) - tm)
	}
	slope := num / den
	bestLevel, bestSSE := d[n-1], math.Inf(1)
	for _, a := range []float64{0.05, 0.1, 0.2, 0.3, 0.5} {
		level, sse := d[0], 0.0
		for _, v := range d[1:] {
			e := v - level
			sse += e * e
			level += a * e
		}
		if sse < bestSSE {
			bestLevel, bestSSE = level, sse
		}
	}
	out := make([]float64, in.H)
	for h := range out {
		out[h] = math.Max(bestLevel+slope/2*float64(h+1), 1e-9*bestLevel) * idx[int(in.Start+Month(n+h))%12]
	}
	return out
}
