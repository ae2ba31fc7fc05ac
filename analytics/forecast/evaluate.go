package forecast

import (
	"fmt"
	"math"
)

// Score is one evaluated quantity (energy or peak) over all (origin,
// horizon) pairs.
type Score struct {
	Pairs    int     // (origin, horizon) pairs scored
	MAPE     float64 // method, percent
	Baseline float64 // seasonal naive on the same pairs, percent
	// Cover is the share of actuals inside the 80% and 95% intervals.
	Cover     [2]float64
	ByHorizon []float64 // method MAPE per horizon 1..H, percent
}

// Ratio is MAPE over the baseline's.
func (s Score) Ratio() float64 { return s.MAPE / s.Baseline }

// Evaluation is the rolling-origin backtest of one series.
type Evaluation struct {
	Name         string
	First, Last  Month // the months of the (possibly truncated) series
	FirstOrigin  Month // last month known at the first origin
	LastOrigin   Month
	Energy, Peak Score // Peak.Pairs is 0 when the series has no peaks
}

// Evaluate backtests m on s by the protocol of the issue: origins are the
// Origins months that end Horizon months before the end of the series (so
// every origin is scored on every horizon 1..Horizon and the last origin's
// forecasts end on the last month); at each origin the method sees only
// the months up to it. MAPE is over all (origin, horizon) pairs, beside the
// seasonal naive (the same month one year earlier) on the same pairs. A
// pair whose actual or whose year-earlier month was dropped is skipped for
// both. Energy is forecast per day and scaled by the days of the month;
// the score is on monthly energy.
func Evaluate(s Series, m Method, cfg Config) (Evaluation, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Evaluation{}, err
	}
	if cfg.Years > 0 {
		s = s.Truncate(12 * cfg.Years)
	}
	n, H := s.Len(), cfg.Horizon
	first := n - H - cfg.Origins
	if first+1 < 12 {
		return Evaluation{}, fmt.Errorf("%w: %s has %d months; %d origins of %d months need at least %d", ErrShortHistory, s.Name, n, cfg.Origins, H, cfg.Origins+H+12)
	}
	ev := Evaluation{Name: s.Name, First: s.Start, Last: s.End() - 1,
		FirstOrigin: s.Start + Month(first), LastOrigin: s.Start + Month(n-H-1)}
	var err error
	if ev.Energy, err = score(s, s.Energy, energyKind, m, cfg, first); err != nil {
		return ev, err
	}
	if hasPeaks(s) {
		if ev.Peak, err = score(s, s.Peak, peakKind, m, cfg, first); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

func hasPeaks(s Series) bool {
	for _, v := range s.Peak {
		if !math.IsNaN(v) && v > 0 {
			return true
		}
	}
	return false
}

func score(s Series, actual []float64, k kind, m Method, cfg Config, first int) (Score, error) {
	p, err := newPredictor(m, s, k, cfg)
	if err != nil {
		return Score{}, err
	}
	n, H := s.Len(), cfg.Horizon
	var sc Score
	var ape, base float64
	byH := make([]float64, H)
	cntH := make([]int, H)
	var cover [2]int
	for o := first; o <= n-H-1; o++ {
		pr := p.predict(o)
		for h := 1; h <= H; h++ {
			t := o + h
			a, b := actual[t], actual[t-12]
			if math.IsNaN(a) || math.IsNaN(b) {
				continue
			}
			scale := 1.0
			if k == energyKind {
				scale = float64((s.Start + Month(t)).Days())
			}
			e := math.Abs(a-pr.Point[h-1]*scale) / a
			ape += e
			byH[h-1] += e
			cntH[h-1]++
			base += math.Abs(a-b) / a
			for l := range Levels {
				if a >= pr.Lo[l][h-1]*scale && a <= pr.Hi[l][h-1]*scale {
					cover[l]++
				}
			}
			sc.Pairs++
		}
	}
	if sc.Pairs == 0 {
		return sc, fmt.Errorf("%w: %s: no (origin, horizon) pair could be scored", ErrShortHistory, s.Name)
	}
	np := float64(sc.Pairs)
	sc.MAPE, sc.Baseline = 100*ape/np, 100*base/np
	for l := range Levels {
		sc.Cover[l] = float64(cover[l]) / np
	}
	sc.ByHorizon = make([]float64, H)
	for h := range byH {
		sc.ByHorizon[h] = 100 * byH[h] / float64(max(1, cntH[h]))
	}
	return sc, nil
}
