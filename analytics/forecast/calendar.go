package forecast

import (
	"fmt"
	"time"

	"gridcrm/crm/workday"
)

// WorkingDays counts the working days of a month. It is the optional
// calendar regressor of the seasonal regression: for a Chinese series it
// comes from the official calendar (Spring Festival moves between January
// and February, National Day sits in October); for the US zones the
// weekday count stands in.
type WorkingDays func(Month) (int, error)

// Weekdays counts Monday..Friday of the month: no holidays.
func Weekdays(m Month) (int, error) {
	n := 0
	for d := 1; d <= m.Days(); d++ {
		switch time.Date(m.Year(), m.Calendar(), d, 12, 0, 0, 0, time.UTC).Weekday() {
		case time.Saturday, time.Sunday:
		default:
			n++
		}
	}
	return n, nil
}

// ChineseWorkingDays counts the working days of a month on the PRC
// calendar (statutory holidays off, make-up Saturdays and Sundays on). A
// month of a year the calendar has not loaded answers an error wrapping
// workday.ErrYearNotLoaded: the regressor is never guessed.
func ChineseWorkingDays(cal *workday.Calendar) WorkingDays {
	return func(m Month) (int, error) {
		first := time.Date(m.Year(), m.Calendar(), 1, 0, 0, 0, 0, workday.CST)
		// WorkingDaysBetween counts the days after first up to and including last.
		n, err := cal.WorkingDaysBetween(first.AddDate(0, 0, -1), first.AddDate(0, 1, -1))
		if err != nil {
			return 0, fmt.Errorf("forecast: working days of %s: %w", m, err)
		}
		return n, nil
	}
}

// workShare is the share of working days in each month from start for n
// months; nil when wd is nil.
func workShare(wd WorkingDays, start Month, n int) ([]float64, error) {
	if wd == nil {
		return nil, nil
	}
	out := make([]float64, n)
	for i := range out {
		m := start + Month(i)
		k, err := wd(m)
		if err != nil {
			return nil, err
		}
		out[i] = float64(k) / float64(m.Days())
	}
	return out, nil
}
