package process

import (
	"math"
	"strings"
	"time"

	"gridcrm/crm"

	"gridcrm/crm/workday"
)

// cstDay is the midnight (CST) that begins t's day.
func cstDay(t time.Time) time.Time {
	t = t.In(workday.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, workday.CST)
}

// StageDueDay answers the CST day (YYYY-MM-DD) from which a stage with
// this deadline is overdue: the deadline's day when it is a midnight (as
// workday.Deadline makes them), else the next day (counted from the first
// midnight after it).
func StageDueDay(deadline time.Time) string {
	d := cstDay(deadline)
	if d.Before(deadline) {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(time.DateOnly)
}

// ClockFigures are the clock-dependent process figures read from the
// process counters (ProcessCounters) at a time.
type ClockFigures struct {
	StagesOverdue    int64            // current stages on the clock whose due day has come
	StagesNoDeadline int64            // current stages whose clock stopped (clock_error)
	Outages          int64            // outages (not cancelled) starting in Month
	OutagesByType    map[string]int64 // the same by type
	Month            string           // the CST month of now
}

// ClockFiguresOf reads the clock-dependent figures from the process
// counters pc (ProcessCounters) at now.
func ClockFiguresOf(pc map[string]float64, now time.Time) ClockFigures {
	f := ClockFigures{OutagesByType: map[string]int64{}, Month: crm.MonthOf(now)}
	today := cstDay(now).Format(time.DateOnly)
	for m, v := range pc {
		n := int64(math.Round(v))
		switch {
		case strings.HasPrefix(m, "projects.stages_due."):
			if m[len("projects.stages_due."):] <= today {
				f.StagesOverdue += n
			}
		case m == "projects.stages_no_deadline":
			f.StagesNoDeadline += n
		case strings.HasPrefix(m, "outages.started.type."):
			rest := m[len("outages.started.type."):]
			i := strings.LastIndexByte(rest, '.')
			if i > 0 && rest[i+1:] == f.Month && n != 0 {
				f.OutagesByType[rest[:i]] += n
				f.Outages += n
			}
		}
	}
	return f
}

// OutagesByMonth answers the outages (not cancelled) by CST month of
// start from the process counters pc.
func OutagesByMonth(pc map[string]float64) map[string]int64 {
	out := map[string]int64{}
	for m, v := range pc {
		if rest, ok := strings.CutPrefix(m, "outages.started.type."); ok {
			if i := strings.LastIndexByte(rest, '.'); i > 0 {
				out[rest[i+1:]] += int64(math.Round(v))
			}
		}
	}
	return out
}
