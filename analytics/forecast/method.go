package forecast

import (
	"fmt"
	"math"
	"strings"
)

// Input is what a method sees at a forecast origin.
type Input struct {
	Start Month     // month of Y[0]
	Y     []float64 // history up to and including the origin month; positive, no NaN
	// Share is the working-day share of each month from Start through the
	// last forecast month (len(Y)+H values), or nil: no calendar regressor.
	Share []float64
	H     int // months to forecast
}

// Method forecasts H months after the history. Forecast must be
// deterministic, must not keep or change in.Y, and answers exactly in.H
// positive values (MinHistory months of history or more are guaranteed).
type Method interface {
	Name() string
	MinHistory() int
	Forecast(in Input) []float64
}

// SeasonalNaive repeats the same month one year earlier: the baseline.
type SeasonalNaive struct{}

// Name is "seasonal-naive".
func (SeasonalNaive) Name() string { return "seasonal-naive" }

// MinHistory is one year.
func (SeasonalNaive) MinHistory() int { return 12 }

// Forecast answers Y[n-12+(h-1)%12] for h = 1..H.
func (SeasonalNaive) Forecast(in Input) []float64 {
	n := len(in.Y)
	out := make([]float64, in.H)
	for h := 1; h <= in.H; h++ {
		out[h-1] = in.Y[n-12+(h-1)%12]
	}
	return out
}

// seasonalIndex estimates multiplicative month-of-year factors (mean 1)
// from the last `years` whole years of y: each value over the mean of its
// 12-month block, averaged per calendar month. The factor of y[i] is
// idx[(start+i)%12].
func seasonalIndex(y []float64, start Month, years int) [12]float64 {
	n := len(y)
	if years > n/12 {
		years = n / 12
	}
	var sum [12]float64
	var cnt [12]int
	for b := range years {
		lo := n - 12*(b+1)
		mean := 0.0
		for _, v := range y[lo : lo+12] {
			mean += v
		}
		mean /= 12
		for i := lo; i < lo+12; i++ {
			c := int(start+Month(i)) % 12
			sum[c] += y[i] / mean
			cnt[c]++
		}
	}
	var idx [12]float64
	tot := 0.0
	for c := range idx {
		idx[c] = sum[c] / float64(cnt[c])
		tot += idx[c]
	}
	for c := range idx {
		idx[c] *= 12 / tot
	}
	return idx
}

// SeasonalMean is the seasonal naive of a multi-year average: the month's
// factor averaged over the last Years years times the level of the last 12
// months (their mean, deseasonalised by construction). Averaging years
// takes out most of one year's weather, which the plain seasonal naive
// carries straight into its forecast.
type SeasonalMean struct{ Years int }

// Name is "seasonal-mean-<years>y".
func (m SeasonalMean) Name() string { return fmt.Sprintf("seasonal-mean-%dy", m.Years) }

// MinHistory is two years.
func (SeasonalMean) MinHistory() int { return 24 }

// Forecast answers level × factor(month).
func (m SeasonalMean) Forecast(in Input) []float64 {
	n := len(in.Y)
	idx := seasonalIndex(in.Y, in.Start, m.Years)
	level := deseasonalMean(in.Y[n-12:], in.Start+Month(n-12), idx)
	out := make([]float64, in.H)
	for h := range out {
		out[h] = level * idx[int(in.Start+Month(n+h))%12]
	}
	return out
}

func deseasonalMean(y []float64, start Month, idx [12]float64) float64 {
	s := 0.0
	for i, v := range y {
		s += v / idx[int(start+Month(i))%12]
	}
	return s / float64(len(y))
}

// Regression fits log y on month-of-year dummies, a linear trend and, when
// the input has one, the working-day share, by least squares over the last
// Years years, and damps the trend beyond the origin (each month adds Damp
// times the previous month's increment).
type Regression struct {
	Years int
	Damp  float64
}

// Name is "regression-<years>y".
func (m Regression) Name() string { return fmt.Sprintf("regression-%dy", m.Years) }

// MinHistory is two years.
func (Regression) MinHistory() int { return 24 }

// Forecast answers exp of the fitted model at the future months.
func (m Regression) Forecast(in Input) []float64 {
	n := len(in.Y)
	w := min(n, 12*m.Years)
	lo := n - w
	p := 13
	if in.Share != nil {
		p++
	}
	row := func(i int, trend float64) []float64 {
		r := make([]float64, p)
		r[0] = 1
		if c := int(in.Start+Month(i)) % 12; c > 0 {
			r[c] = 1
		}
		r[12] = trend
		if in.Share != nil {
			r[13] = in.Share[i]
		}
		return r
	}
	x := make([][]float64, 0, w)
	y := make([]float64, 0, w)
	for i := lo; i < n; i++ {
		x = append(x, row(i, float64(i-n+1)/12))
		y = append(y, math.Log(in.Y[i]))
	}
	beta, err := olsFit(x, y, 1e-6)
	if err != nil {
		return SeasonalMean{Years: 3}.Forecast(in)
	}
	out := make([]float64, in.H)
	t, step := 0.0, 1.0
	for h := range out {
		step *= m.Damp
		t += step
		r := row(n+h, t/12)
		v := 0.0
		for j := range r {
			v += r[j] * beta[j]
		}
		out[h] = math.Exp(v)
	}
	return out
}

// Ensemble averages its members' forecasts in log space (a geometric
// mean), using the members whose MinHistory the input meets; with none,
// it falls back to Fallback.
type Ensemble struct {
	Members  []Method
	Fallback Method
}

// Name lists the members, joined by "+".
func (e Ensemble) Name() string {
	names := make([]string, len(e.Members))
	for i, m := range e.Members {
		names[i] = m.Name()
	}
	return strings.Join(names, "+")
}

// MinHistory is the fallback's.
func (e Ensemble) MinHistory() int { return e.Fallback.MinHistory() }

// Forecast answers the geometric mean of the usable members.
func (e Ensemble) Forecast(in Input) []float64 {
	sum := make([]float64, in.H)
	k := 0
	for _, m := range e.Members {
		if len(in.Y) < m.MinHistory() {
			continue
		}
		for h, v := range m.Forecast(in) {
			sum[h] += math.Log(v)
		}
		k++
	}
	if k == 0 {
		return e.Fallback.Forecast(in)
	}
	for h := range sum {
		sum[h] = math.Exp(sum[h] / float64(k))
	}
	return sum
}
