package warning

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Reasons Detect gives (beside Zero).
const (
	Drop = "drop" // well below the customer's own forecast for the month
	Rise = "rise" // well above it
)

// Methods Detect names in a Finding.
const (
	MethodSeasonal = "seasonal" // log kWh on trend and calendar month, with the recent level
	MethodLevel    = "level"    // the mean of the last months (too short a history for a season)
	MethodNone     = "none"     // too short a history to judge anything but a zero
)

// ErrConfig matches every error Config.Validate answers.
var ErrConfig = errors.New("warning: bad configuration")

// Config tunes Detect. The defaults were chosen on the injected-anomaly
// evaluation (TestDetect_InjectedAnomalies) and are not fitted per
// customer.
type Config struct {
	// Z is how many of the customer's own standard deviations (of the
	// log of actual over expected) a month must lie from its forecast to be
	// flagged. Default 2.4.
	Z float64
	// MinChange is the smallest change against the forecast, as a share of
	// it, that may be flagged however steady the customer is (a customer
	// steady to 1% is not warned of a 6% dip). Default 0.15.
	MinChange float64
	// Window is the months of history read before the month checked.
	// Default 36.
	Window int
	// SeasonalMin is the readings (of Window) the seasonal model needs;
	// with fewer, the level model answers. Default 24.
	SeasonalMin int
	// LevelMin is the readings the level model needs; with fewer only a
	// zero is flagged. Default 7.
	LevelMin int
	// Recent is the months whose mean residual sets the recent level added
	// to the seasonal fit (a customer that grew last quarter is judged
	// against its new level). Default 3.
	Recent int
}

// DefaultConfig is the configuration the monthly warning run uses.
func DefaultConfig() Config {
	return Config{Z: 2.4, MinChange: 0.15, Window: 36, SeasonalMin: 24, LevelMin: 7, Recent: 3}
}

// Validate reports a field out of range, wrapping ErrConfig.
func (c Config) Validate() error {
	switch {
	case !(c.Z >= 1 && c.Z <= 10):
		return fmt.Errorf("%w: Z %v: want 1..10", ErrConfig, c.Z)
	case !(c.MinChange >= 0 && c.MinChange < 1):
		return fmt.Errorf("%w: MinChange %v: want 0..1", ErrConfig, c.MinChange)
	case c.Window < 12 || c.Window > 120:
		return fmt.Errorf("%w: Window %d: want 12..120", ErrConfig, c.Window)
	case c.SeasonalMin < 20 || c.SeasonalMin > c.Window:
		return fmt.Errorf("%w: SeasonalMin %d: want 20..Window", ErrConfig, c.SeasonalMin)
	case c.LevelMin < c.Recent+3 || c.LevelMin > c.Window:
		return fmt.Errorf("%w: LevelMin %d: want Recent+3..Window", ErrConfig, c.LevelMin)
	case c.Recent < 1 || c.Recent > 12:
		return fmt.Errorf("%w: Recent %d: want 1..12", ErrConfig, c.Recent)
	}
	return nil
}

// Finding is the verdict on one month of one customer.
type Finding struct {
	KWh      float64  // the month's reading
	Expected float64  // the customer's own forecast of the month (0: none)
	Lo, Hi   float64  // the band inside which the month is normal (0, 0: none)
	Change   float64  // KWh/Expected - 1 (0 without a forecast)
	Score    float64  // log(KWh/Expected) in the customer's standard deviations
	Sigma    float64  // that standard deviation (log scale)
	Method   string   // MethodSeasonal, MethodLevel or MethodNone
	History  int      // readings the forecast read
	Reasons  []string // Zero, Drop or Rise; empty: normal
}

// minSigma keeps a customer steady to the kWh (a flat test series) from a
// band of zero width.
const minSigma = 0.01

// Detect judges the last month of kwh, a customer's monthly readings in
// order, one a month (NaN: no reading that month), against the customer's
// own forecast of that month from the months before it and the spread of
// its own past forecast errors:
//
//   - Zero: the month reads 0 and one of the 12 before it read more;
//   - Drop / Rise: the log of the reading over the forecast lies more than
//     cfg.Z standard deviations away, and the change is at least
//     cfg.MinChange of the forecast.
//
// The forecast (log scale) is a least-squares fit of log kWh on a linear
// trend and the calendar month over the last cfg.Window months, refitted
// without the months more than 3.5 deviations off (past anomalies do not
// bend it), plus the mean residual of the last cfg.Recent months (the
// recent level). The deviation is the median absolute one-step error of
// that same forecast over the history (×1.4826), so a noisy customer gets
// a wide band and a steady one a narrow band. Under cfg.SeasonalMin
// readings the forecast is the mean of the last cfg.Recent months; under
// cfg.LevelMin nothing but a zero is judged. month is the calendar month
// (1..12) of the last element. Past zeros are no readings to the forecast.
// It never panics on content: a negative or infinite reading is an error.
func Detect(kwh []float64, month int, cfg Config) (Finding, error) {
	if err := cfg.Validate(); err != nil {
		return Finding{}, err
	}
	if month < 1 || month > 12 {
		return Finding{}, fmt.Errorf("warning: calendar month %d: want 1..12", month)
	}
	if len(kwh) == 0 || math.IsNaN(kwh[len(kwh)-1]) {
		return Finding{}, fmt.Errorf("warning: no reading for the month checked")
	}
	for _, v := range kwh {
		if v < 0 || math.IsInf(v, 0) {
			return Finding{}, fmt.Errorf("warning: reading %v: want a finite number ≥ 0", v)
		}
	}
	t := len(kwh) - 1
	f := Finding{KWh: kwh[t], Method: MethodNone}
	if kwh[t] == 0 {
		for s := max(0, t-12); s < t; s++ {
			if kwh[s] > 0 {
				f.Reasons = []string{Zero}
				break
			}
		}
	}
	// The history: positive readings of the window before t, as logs.
	first := max(0, t-cfg.Window)
	var xs []int // months (index in kwh)
	var ys []float64
	for s := first; s < t; s++ {
		if kwh[s] > 0 && !math.IsNaN(kwh[s]) {
			xs = append(xs, s)
			ys = append(ys, math.Log(kwh[s]))
		}
	}
	f.History = len(xs)
	var expected, sigma float64
	switch {
	case len(xs) >= cfg.SeasonalMin:
		cal := func(s int) int { return ((month-1-(t-s))%12 + 12) % 12 }
		e, sg, ok := seasonal(xs, ys, t, cal, cfg.Recent)
		if !ok {
			return f, nil
		}
		expected, sigma, f.Method = e, sg, MethodSeasonal
	case len(xs) >= cfg.LevelMin:
		expected, sigma, f.Method = level(ys, cfg.Recent), levelSigma(ys, cfg.Recent), MethodLevel
	default:
		return f, nil
	}
	sigma = math.Max(sigma, minSigma)
	f.Sigma = sigma
	f.Expected = math.Exp(expected)
	band := cfg.Z * sigma
	f.Lo, f.Hi = math.Exp(expected-band), math.Exp(expected+band)
	f.Lo = math.Min(f.Lo, f.Expected*(1-cfg.MinChange))
	f.Hi = math.Max(f.Hi, f.Expected*(1+cfg.MinChange))
	if kwh[t] == 0 {
		f.Change = -1
		f.Score = math.Inf(-1)
		return f, nil
	}
	r := math.Log(kwh[t]) - expected
	f.Change = kwh[t]/f.Expected - 1
	f.Score = r / sigma
	switch {
	case kwh[t] < f.Lo:
		f.Reasons = []string{Drop}
	case kwh[t] > f.Hi:
		f.Reasons = []string{Rise}
	}
	return f, nil
}

// seasonal forecasts log kWh at month t from (xs, ys): trend and calendar
// month by least squares, a robust refit, and the recent level; sigma is
// the robust spread of the same forecast made one step ahead at each
// month of the history from the fit's residuals.
func seasonal(xs []int, ys []float64, t int, cal func(int) int, recent int) (expected, sigma float64, ok bool) {
	use := make([]bool, len(xs))
	for i := range use {
		use[i] = true
	}
	beta, ok := fitSeasonal(xs, ys, use, t, cal)
	if !ok {
		return 0, 0, false
	}
	res := make([]float64, len(xs))
	for i, s := range xs {
		res[i] = ys[i] - predictSeasonal(beta, s, t, cal)
	}
	if s := 1.4826 * mad(res); s > 0 {
		n := 0
		for i := range res {
			use[i] = math.Abs(res[i]) <= 3.5*s
			if use[i] {
				n++
			}
		}
		if n < len(xs) && n >= 20 {
			if b, ok := fitSeasonal(xs, ys, use, t, cal); ok {
				beta = b
				for i, s := range xs {
					res[i] = ys[i] - predictSeasonal(beta, s, t, cal)
				}
			}
		}
	}
	// One-step errors of "fit + mean of the previous `recent` residuals",
	// from leave-one-out residuals (the fit saw the months it is judged
	// on: an in-sample residual is too small by its leverage).
	loo := leaveOneOut(xs, res, use, t, cal)
	var errs []float64
	for i := recent; i < len(loo); i++ {
		errs = append(errs, loo[i]-mean(loo[i-recent:i]))
	}
	sigma = trimmedRMS(errs)
	expected = predictSeasonal(beta, t, t, cal) + mean(res[len(res)-min(recent, len(res)):])
	return expected, sigma, true
}

// fitSeasonal solves log kWh = a + b·(s−t)/12 + Σ month effects (11
// dummies, the calendar month of t as reference) over the rows in use.
func fitSeasonal(xs []int, ys []float64, use []bool, t int, cal func(int) int) ([]float64, bool) {
	const p = 13
	ref := cal(t)
	var rows int
	for _, u := range use {
		if u {
			rows++
		}
	}
	x := mat.NewDense(rows, p, nil)
	y := mat.NewVecDense(rows, nil)
	seen := map[int]bool{}
	r := 0
	for i, s := range xs {
		if !use[i] {
			continue
		}
		x.Set(r, 0, 1)
		x.Set(r, 1, float64(s-t)/12)
		if c := dummy(cal(s), ref); c >= 0 {
			x.Set(r, 2+c, 1)
		}
		seen[cal(s)] = true
		y.SetVec(r, ys[i])
		r++
	}
	if len(seen) < 12 { // a calendar month never read: no effect to fit
		return nil, false
	}
	var beta mat.VecDense
	if err := beta.SolveVec(x, y); err != nil {
		return nil, false
	}
	return beta.RawVector().Data, true
}

// dummy is the column (0..10) of calendar month c against reference ref,
// -1 for the reference itself.
func dummy(c, ref int) int {
	switch {
	case c == ref:
		return -1
	case c < ref:
		return c
	}
	return c - 1
}

func predictSeasonal(beta []float64, s, t int, cal func(int) int) float64 {
	v := beta[0] + beta[1]*float64(s-t)/12
	if c := dummy(cal(s), cal(t)); c >= 0 {
		v += beta[2+c]
	}
	return v
}

// leaveOneOut answers each month's residual as if the fit had not seen
// it: res / (1 − leverage), the leverage from the design of the rows in
// use (a month out of use keeps its residual: the fit did not see it).
func leaveOneOut(xs []int, res []float64, use []bool, t int, cal func(int) int) []float64 {
	const p = 13
	ref := cal(t)
	row := func(s int, r *[p]float64) {
		*r = [p]float64{}
		r[0], r[1] = 1, float64(s-t)/12
		if c := dummy(cal(s), ref); c >= 0 {
			r[2+c] = 1
		}
	}
	xtx := mat.NewSymDense(p, nil)
	var r [p]float64
	for i, s := range xs {
		if use[i] {
			row(s, &r)
			for a := range p {
				if r[a] == 0 {
					continue
				}
				for b := a; b < p; b++ {
					if r[b] != 0 {
						xtx.SetSym(a, b, xtx.At(a, b)+r[a]*r[b])
					}
				}
			}
		}
	}
	var inv mat.Dense
	out := slices.Clone(res)
	if err := inv.Inverse(xtx); err != nil {
		return out
	}
	raw := inv.RawMatrix()
	for i, s := range xs {
		if !use[i] {
			continue
		}
		row(s, &r)
		h := 0.0
		for a := range p {
			if r[a] == 0 {
				continue
			}
			for b := range p {
				h += r[a] * raw.Data[a*raw.Stride+b] * r[b]
			}
		}
		if h < 0.99 {
			out[i] = res[i] / (1 - h)
		}
	}
	return out
}

// trimmedRMS is the root mean square of the errors within 3 robust
// deviations (1.4826 × MAD) of zero, scaled back to a normal's standard
// deviation (a normal trimmed at 3σ keeps 97.3% of its variance): as
// efficient as a standard deviation on clean months, blind to the past
// anomalies a plain one would count.
func trimmedRMS(errs []float64) float64 {
	s0 := 1.4826 * mad(errs)
	ss, n := 0.0, 0
	for _, e := range errs {
		if math.Abs(e) <= 3*s0 {
			ss += e * e
			n++
		}
	}
	if n == 0 {
		return s0
	}
	return math.Sqrt(ss / float64(n) / 0.9733)
}

// level is the mean of the last recent logs.
func level(ys []float64, recent int) float64 { return mean(ys[len(ys)-min(recent, len(ys)):]) }

// levelSigma is the robust spread of the level forecast made one step
// ahead over the history.
func levelSigma(ys []float64, recent int) float64 {
	var errs []float64
	for i := recent; i < len(ys); i++ {
		errs = append(errs, ys[i]-mean(ys[i-recent:i]))
	}
	return 1.4826 * mad(errs)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// mad is the median absolute deviation from the median.
func mad(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := median(v)
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = math.Abs(x - m)
	}
	return median(d)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
