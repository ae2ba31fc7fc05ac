package forecast

import (
	"fmt"
	"math"
	"time"
)

// Month is a calendar month counted from year 0: year*12 + (month-1).
type Month int

// MonthOf is the Month of t's calendar date.
func MonthOf(t time.Time) Month { return Month(t.Year()*12 + int(t.Month()) - 1) }

// MakeMonth builds a Month from a year and a month number 1..12.
func MakeMonth(year int, m time.Month) Month { return Month(year*12 + int(m) - 1) }

// Year of the month.
func (m Month) Year() int { return int(m) / 12 }

// Calendar month 1..12.
func (m Month) Calendar() time.Month { return time.Month(int(m)%12 + 1) }

// Days in the month (28..31).
func (m Month) Days() int {
	return time.Date(m.Year(), m.Calendar()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String is YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year(), int(m.Calendar())) }

// MinDays is the default coverage a month needs to be kept: at least 27
// days' worth of hours (27×24 = 648 hourly readings). Months with less are
// dropped, not estimated: a partial month's sum is not its energy, and
// scaling it up would invent data. In the PJM files this drops only the
// first and last (partial) months.
const MinDays = 27

// Series is monthly energy and peak of one zone (or customer group),
// contiguous from Start. A month that was dropped (too few hours) is NaN in
// Energy and Peak and is never used as a target; models fill it for fitting
// only (see Fill).
type Series struct {
	Name   string
	Start  Month
	Energy []float64 // MWh: sum of hourly MW over the month
	Peak   []float64 // MW: highest hourly reading of the month; NaN if unknown
	Hours  []int     // hourly readings the month had (0 for a monthly source)
}

// Len is the number of months.
func (s Series) Len() int { return len(s.Energy) }

// End is the month after the last one.
func (s Series) End() Month { return s.Start + Month(len(s.Energy)) }

// Monthly aggregates an hourly series into months: energy is the sum of the
// hourly MW (MWh), peak the largest reading. A month with fewer than
// minDays×24 readings is dropped (NaN); leading and trailing dropped months
// are trimmed away, so the series starts and ends on a kept month.
func Monthly(h Hourly, minDays int) Series {
	s := Series{Name: h.Name}
	if len(h.Hours) == 0 {
		return s
	}
	first, last := MonthOf(h.Hours[0].At), MonthOf(h.Hours[len(h.Hours)-1].At)
	n := int(last-first) + 1
	energy, peak, hours := make([]float64, n), make([]float64, n), make([]int, n)
	for _, r := range h.Hours {
		i := int(MonthOf(r.At) - first)
		energy[i] += r.MW
		hours[i]++
		if r.MW > peak[i] {
			peak[i] = r.MW
		}
	}
	lo, hi := -1, -1
	for i := range n {
		if hours[i] < minDays*24 {
			energy[i], peak[i] = math.NaN(), math.NaN()
			continue
		}
		if lo < 0 {
			lo = i
		}
		hi = i
	}
	if lo < 0 {
		return s
	}
	s.Start = first + Month(lo)
	s.Energy, s.Peak, s.Hours = energy[lo:hi+1], peak[lo:hi+1], hours[lo:hi+1]
	return s
}

// Truncate keeps only the last n months (all of them if n ≤ 0 or n ≥ Len).
func (s Series) Truncate(n int) Series {
	if n <= 0 || n >= s.Len() {
		return s
	}
	k := s.Len() - n
	s.Start += Month(k)
	s.Energy, s.Peak, s.Hours = s.Energy[k:], s.Peak[k:], s.Hours[k:]
	return s
}
