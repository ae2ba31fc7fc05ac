package warning

import (
	"fmt"
	"math"
)

// Reasons a month is flagged.
const (
	Zero    = "zero"
	DropMoM = "drop_mom"
	RiseMoM = "rise_mom"
	DropYoY = "drop_yoy"
	RiseYoY = "rise_yoy"
)

// DefaultThreshold is the change, as a share of the earlier month, that
// flags a month: 30%.
const DefaultThreshold = 0.3

// Check is the consumption of one month against its comparisons.
type Check struct {
	KWh      float64
	Previous *float64 // the month before, when known
	YearAgo  *float64 // the same month a year before, when known
	MoM, YoY *float64 // change as a share of Previous / YearAgo (-0.5: half)
	Reasons  []string // empty: nothing abnormal
}

// Abnormal checks month m of a customer whose monthly kWh kwh(m) answers
// ok=false when the month has no reading. threshold must be > 0.
func Abnormal(kwh func(m int) (float64, bool), m int, threshold float64) (Check, error) {
	if !(threshold > 0) || math.IsInf(threshold, 0) {
		return Check{}, fmt.Errorf("warning: threshold %v: want a number > 0", threshold)
	}
	cur, ok := kwh(m)
	if !ok {
		return Check{}, fmt.Errorf("warning: no reading for the month checked")
	}
	c := Check{KWh: cur}
	compare := func(m int, at **float64, chg **float64, drop, rise string) {
		prev, ok := kwh(m)
		if !ok {
			return
		}
		*at = &prev
		if prev <= 0 {
			return
		}
		d := cur/prev - 1
		*chg = &d
		switch {
		case cur == 0:
		case d <= -threshold:
			c.Reasons = append(c.Reasons, drop)
		case d >= threshold:
			c.Reasons = append(c.Reasons, rise)
		}
	}
	compare(m-1, &c.Previous, &c.MoM, DropMoM, RiseMoM)
	compare(m-12, &c.YearAgo, &c.YoY, DropYoY, RiseYoY)
	if cur == 0 && ((c.Previous != nil && *c.Previous > 0) || (c.YearAgo != nil && *c.YearAgo > 0)) {
		c.Reasons = append([]string{Zero}, c.Reasons...)
	}
	return c, nil
}
