package forecast

import (
	"fmt"
	"math"
)

// Outlook is the forecast of a series from its last month: monthly energy
// (MWh) and peak (MW) with 80% and 95% intervals, and the energy totals of
// the calendar quarters and years the horizon touches.
type Outlook struct {
	Name   string
	Origin Month // last month known
	Energy Prediction
	Peak   Prediction // Point is nil when the series has no peaks
	// Quarters and Years add up energy: months already known in the
	// period count as actuals, the rest as forecasts.
	Quarters, Years []Total
}

// Total is the energy of one calendar quarter or year.
type Total struct {
	Label     string  // "2019-Q1" or "2019"
	Known     int     // months of the period that are actuals
	Forecast  int     // months of the period that are forecasts
	Point     float64 // MWh
	Lo, Hi    [2]float64
	Truncated bool // the horizon ends before the period does: Point misses months
}

// Forecast forecasts the months after the end of s with m. Energy is
// forecast per day and scaled by the days of each month; the intervals
// of a total combine the months' interval half-widths in quadrature
// (errors of different months taken as independent, which is about right
// for weather-driven errors and too narrow when a trend error dominates).
func Forecast(s Series, m Method, cfg Config) (Outlook, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Outlook{}, err
	}
	if cfg.Years > 0 {
		s = s.Truncate(12 * cfg.Years)
	}
	n := s.Len()
	if n < m.MinHistory() {
		return Outlook{}, fmt.Errorf("%w: %s has %d months; %s needs %d", ErrShortHistory, s.Name, n, m.Name(), m.MinHistory())
	}
	if k := positiveMonths(s.Energy); k < 12 {
		return Outlook{}, fmt.Errorf("%w: %s has %d months above zero; forecasting needs 12", ErrShortHistory, s.Name, k)
	}
	out := Outlook{Name: s.Name, Origin: s.End() - 1}
	pe, err := newPredictor(m, s, energyKind, cfg)
	if err != nil {
		return out, err
	}
	out.Energy = pe.predict(n - 1)
	for h := range out.Energy.Point {
		d := float64((out.Energy.Start + Month(h)).Days())
		out.Energy.Point[h] *= d
		for l := range Levels {
			out.Energy.Lo[l][h] *= d
			out.Energy.Hi[l][h] *= d
		}
	}
	if hasPeaks(s) {
		pp, err := newPredictor(m, s, peakKind, cfg)
		if err != nil {
			return out, err
		}
		out.Peak = pp.predict(n - 1)
	}
	out.Quarters = totals(s, out.Energy, 3)
	out.Years = totals(s, out.Energy, 12)
	return out, nil
}

// totals adds energy by calendar period of `months` months (3 or 12).
func totals(s Series, p Prediction, months int) []Total {
	var out []Total
	last := p.Start + Month(len(p.Point)) - 1
	for first := p.Start - p.Start%Month(months); first <= last; first += Month(months) {
		t := Total{Label: periodLabel(first, months)}
		var v [2]float64
		for mo := first; mo < first+Month(months); mo++ {
			switch {
			case mo < p.Start:
				if i := int(mo - s.Start); i >= 0 && !math.IsNaN(s.Energy[i]) {
					t.Point += s.Energy[i]
					t.Known++
				}
			case mo <= last:
				h := int(mo - p.Start)
				t.Point += p.Point[h]
				for l := range Levels {
					w := (p.Hi[l][h] - p.Lo[l][h]) / 2
					v[l] += w * w
				}
				t.Forecast++
			default:
				t.Truncated = true
			}
		}
		for l := range Levels {
			t.Lo[l], t.Hi[l] = t.Point-math.Sqrt(v[l]), t.Point+math.Sqrt(v[l])
		}
		out = append(out, t)
	}
	return out
}

func periodLabel(first Month, months int) string {
	if months == 12 {
		return fmt.Sprintf("%d", first.Year())
	}
	return fmt.Sprintf("%d-Q%d", first.Year(), int(first.Calendar()-1)/3+1)
}

// positiveMonths counts the months of v above zero (zeros and gaps are
// filled for fitting, so a forecast needs a year of real ones).
func positiveMonths(v []float64) int {
	n := 0
	for _, x := range v {
		if x > 0 {
			n++
		}
	}
	return n
}
