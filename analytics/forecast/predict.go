package forecast

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrShortHistory is answered when a series is too short for what was asked.
var ErrShortHistory = errors.New("forecast: history too short")

// Config says how to forecast and how to evaluate. Zero fields take the
// defaults of DefaultConfig.
type Config struct {
	Horizon         int         // months ahead; default 12
	Origins         int         // evaluation origins; default 24
	IntervalOrigins int         // inner backtest origins behind the intervals; default 24
	Years           int         // use only the last Years years (0: all)
	WorkingDays     WorkingDays // optional calendar regressor; nil: day counts only
}

// DefaultConfig is the evaluation protocol of the issue: 24 rolling
// origins, horizons 1..12.
func DefaultConfig() Config { return Config{Horizon: 12, Origins: 24, IntervalOrigins: 24} }

// Validate reports a field out of range.
func (c Config) Validate() error {
	switch {
	case c.Horizon < 1 || c.Horizon > 36:
		return fmt.Errorf("forecast: horizon %d: want 1..36", c.Horizon)
	case c.Origins < 1:
		return fmt.Errorf("forecast: origins %d: want at least 1", c.Origins)
	case c.IntervalOrigins < 1:
		return fmt.Errorf("forecast: interval origins %d: want at least 1", c.IntervalOrigins)
	case c.Years < 0:
		return fmt.Errorf("forecast: years %d: want 0 (all) or more", c.Years)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Horizon == 0 {
		c.Horizon = d.Horizon
	}
	if c.Origins == 0 {
		c.Origins = d.Origins
	}
	if c.IntervalOrigins == 0 {
		c.IntervalOrigins = d.IntervalOrigins
	}
	return c
}

// Default is the method gridcrm ships: the seasonal regression on log
// energy per day over the last 8 years with its trend damped by half each
// month past the origin, falling back to the seasonal naive below two
// years of history. Why this one and not an ensemble is in doc.go.
func Default() Method {
	return Ensemble{Members: []Method{Regression{Years: 8, Damp: 0.5}}, Fallback: SeasonalNaive{}}
}

// Candidates are the methods `gridcrm forecast evaluate --compare` prints
// beside the default, so that the choice can be checked on new data.
func Candidates() []Method {
	return []Method{
		SeasonalMean{Years: 3},
		SeasonalMean{Years: 5},
		Regression{Years: 4, Damp: 0.5},
		Regression{Years: 12, Damp: 0.5},
		HoltWinters{},
		Theta{Years: 6},
		Ensemble{Members: []Method{Regression{Years: 8, Damp: 0.5}, HoltWinters{}, Theta{Years: 6}, SeasonalMean{Years: 5}}, Fallback: SeasonalNaive{}},
	}
}

// Levels are the coverages of the prediction intervals.
var Levels = [2]float64{0.80, 0.95}

// Prediction is a forecast with prediction intervals, month by month. The
// intervals are symmetric in log space: ±the Level-quantile of the
// absolute out-of-sample log errors at horizons h-2..h+2 of an inner
// rolling backtest that uses only months up to the origin.
type Prediction struct {
	Start  Month     // first forecast month
	Point  []float64 // point forecasts
	Lo, Hi [2][]float64
	// Residuals is how many out-of-sample errors (all horizons) the
	// intervals were estimated from; intervals from fewer than 12 borrow
	// the spread of the seasonal naive.
	Residuals int
}

// kind is what is forecast: energy (normalised per day) or peak.
type kind int

const (
	energyKind kind = iota
	peakKind
)

// target turns a series into the values a method sees: energy per day
// (MWh/day) or peak (MW); NaN and non-positive months filled for fitting.
func target(s Series, k kind) []float64 {
	y := make([]float64, s.Len())
	for i := range y {
		if k == energyKind {
			y[i] = s.Energy[i] / float64((s.Start + Month(i)).Days())
		} else {
			y[i] = s.Peak[i]
		}
	}
	for i, v := range y {
		if !(v > 0) { // a month of zero (or a meter's negative) is filled like a gap: the methods fit in log space
			y[i] = math.NaN()
		}
	}
	return fill(y)
}

// fill replaces NaN values by the mean of the known values 12 and 24
// months before and after, or by the nearest known value.
func fill(y []float64) []float64 {
	out := slices.Clone(y)
	for i, v := range y {
		if !math.IsNaN(v) {
			continue
		}
		s, n := 0.0, 0
		for _, d := range []int{-12, 12, -24, 24} {
			if j := i + d; j >= 0 && j < len(y) && !math.IsNaN(y[j]) {
				s += y[j]
				n++
			}
		}
		if n > 0 {
			out[i] = s / float64(n)
			continue
		}
		for d := 1; d < len(y); d++ {
			if j := i - d; j >= 0 && !math.IsNaN(y[j]) {
				out[i] = y[j]
				break
			}
			if j := i + d; j < len(y) && !math.IsNaN(y[j]) {
				out[i] = y[j]
				break
			}
		}
	}
	return out
}

// predictor forecasts one kind of value of one series at any origin.
type predictor struct {
	m     Method
	start Month
	y     []float64 // filled target values
	share []float64 // working-day share from start, len(y)+horizon values, or nil
	cfg   Config
}

func newPredictor(m Method, s Series, k kind, cfg Config) (*predictor, error) {
	p := &predictor{m: m, start: s.Start, y: target(s, k), cfg: cfg}
	var err error
	p.share, err = workShare(cfg.WorkingDays, s.Start, s.Len()+cfg.Horizon)
	return p, err
}

// point forecasts h months after origin (the index of the last month known).
func (p *predictor) point(m Method, origin, h int) []float64 {
	in := Input{Start: p.start, Y: p.y[:origin+1], H: h}
	if p.share != nil {
		in.Share = p.share[:origin+1+h]
	}
	f := m.Forecast(in)
	return f
}

// predict forecasts Horizon months after origin with intervals from an
// inner backtest that uses only months up to origin.
func (p *predictor) predict(origin int) Prediction {
	H := p.cfg.Horizon
	pr := Prediction{Start: p.start + Month(origin+1), Point: p.point(p.m, origin, H)}
	res := p.residuals(p.m, origin)
	pr.Residuals = countAll(res)
	if pr.Residuals < 12 {
		res = p.residuals(SeasonalNaive{}, origin)
	}
	for l, level := range Levels {
		q := spreads(res, H, level, p.y[:origin+1])
		pr.Lo[l], pr.Hi[l] = make([]float64, H), make([]float64, H)
		for h := 1; h <= H; h++ {
			pr.Lo[l][h-1] = pr.Point[h-1] * math.Exp(-q[h])
			pr.Hi[l][h-1] = pr.Point[h-1] * math.Exp(q[h])
		}
	}
	return pr
}

// minPool is how many out-of-sample errors a horizon's interval needs of
// its own; fewer make its tail quantiles noise (the 95% one is then the
// largest error seen).
const minPool = 8

// spreads answers, for horizons 1..H (index 0 unused), the half-width in
// log space of the interval at level: the level-quantile of the absolute
// out-of-sample errors at horizons h-2..h+2 where there are minPool of
// them; at a horizon with fewer (a series of 13 to 23 months has errors
// only at short horizons), the last horizon's that had them widened as
// √(h/h₀), as a random walk's; with none at any horizon, the month-on-month
// log changes of the history as the one-step spread, widened the same way
// (a normal quantile of it). The half-width never narrows as the horizon
// grows, so a band is finite and nested at every horizon.
func spreads(res [][]float64, H int, level float64, y []float64) []float64 {
	q := make([]float64, H+1)
	known := 0 // the last horizon with a pool of its own
	for h := 1; h <= H; h++ {
		var pool []float64
		for k := max(1, h-2); k <= min(H, h+2); k++ {
			for _, r := range res[k] {
				if !math.IsNaN(r) && !math.IsInf(r, 0) { // a month of zero
					pool = append(pool, r)
				}
			}
		}
		switch {
		case len(pool) >= minPool:
			abs := make([]float64, len(pool))
			for i, r := range pool {
				abs[i] = math.Abs(r)
			}
			q[h], known = quantile(abs, level), h
		case known > 0:
			q[h] = q[known] * math.Sqrt(float64(h)/float64(known))
		default:
			q[h] = historySpread(y, level) * math.Sqrt(float64(h))
		}
		if q[h] < q[h-1] || math.IsNaN(q[h]) || math.IsInf(q[h], 0) {
			q[h] = q[h-1]
		}
	}
	return q
}

// historySpread is the level-quantile of a normal with the standard
// deviation of the history's month-on-month log changes (0 with fewer than
// three positive months).
func historySpread(y []float64, level float64) float64 {
	var d []float64
	for i := 1; i < len(y); i++ {
		if y[i] > 0 && y[i-1] > 0 {
			d = append(d, math.Log(y[i]/y[i-1]))
		}
	}
	if len(d) < 2 {
		return 0
	}
	mean := 0.0
	for _, v := range d {
		mean += v
	}
	mean /= float64(len(d))
	ss := 0.0
	for _, v := range d {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(d)-1))
	return sd * math.Sqrt2 * math.Erfinv(level)
}

// residuals are log(actual/forecast) by horizon (index 1..H) of m over the
// inner origins before origin whose targets are known at origin.
func (p *predictor) residuals(m Method, origin int) [][]float64 {
	H := p.cfg.Horizon
	res := make([][]float64, H+1)
	for j := origin - p.cfg.IntervalOrigins - H + 1; j < origin; j++ {
		if j+1 < m.MinHistory() {
			continue
		}
		h := min(H, origin-j)
		f := p.point(m, j, h)
		for k := 1; k <= h; k++ {
			res[k] = append(res[k], math.Log(p.y[j+k]/f[k-1]))
		}
	}
	return res
}

func countAll(res [][]float64) int {
	n := 0
	for _, r := range res {
		n += len(r)
	}
	return n
}

// quantile of v at q by linear interpolation between order statistics.
func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(math.Floor(pos))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
