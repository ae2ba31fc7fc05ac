package process

import (
	"math/rand/v2"
	"testing"
	"time"

	"gridcrm/crm/workday"
)

// TestDayCounts_SameAsCalendar: the working days a supervision read counts
// from its prefix counts (overdue: a deadline back to now; left: now to a
// deadline) equal the calendar's own walk, error included, for deadlines
// at any hour from two years back to two years ahead, across the shipped
// calendar's years and past them (a year not loaded: the calendar's
// error), and for several nows.
func TestDayCounts_SameAsCalendar(t *testing.T) {
	cal := workday.Default()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, now := range []time.Time{
		time.Date(2025, 10, 9, 10, 30, 0, 0, workday.CST),
		time.Date(2026, 1, 1, 0, 0, 0, 0, workday.CST),
		time.Date(2026, 12, 31, 23, 59, 0, 0, workday.CST),
		time.Date(2025, 2, 3, 8, 0, 0, 0, time.UTC),
	} {
		s := newSupervisor(nil)
		errs, n := 0, 0
		for i := 0; i < 3000; i++ {
			deadline := now.Add(time.Duration(rng.Int64N(int64(2*365*24*time.Hour))) - 365*24*time.Hour)
			if i%3 == 0 {
				deadline = now.Add(-time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
			}
			gotN, gotNote := s.overdueBy(cal, deadline, now)
			wantN, wantNote := overdueBy(cal, deadline, now)
			if gotN != wantN || gotNote != wantNote {
				t.Fatalf("now %s, deadline %s: overdue by %d %q; the calendar counts %d %q", now, deadline, gotN, gotNote, wantN, wantNote)
			}
			got, err1 := s.dayCounts(cal, now).between(now, deadline.Add(-time.Nanosecond))
			want, err2 := cal.WorkingDaysBetween(now, deadline.Add(-time.Nanosecond))
			if got != want || (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
				t.Fatalf("now %s, deadline %s: %d working days left (%v); the calendar counts %d (%v)", now, deadline, got, err1, want, err2)
			}
			if err2 != nil || wantNote != "" {
				errs++
			}
			n += want + wantN
		}
		if n == 0 || errs == 0 {
			t.Fatalf("now %s: %d working days counted, %d errors: a test of nothing", now, n, errs)
		}
	}
}

// BenchmarkDayCounts: the working days overdue of 15,000 items (deadlines
// a minute apart from 18 days before now), by the calendar's walk per item
// (as before) and by the read's counts.
func BenchmarkDayCounts(b *testing.B) {
	cal := workday.Default()
	now := time.Date(2026, 3, 20, 10, 0, 0, 0, workday.CST)
	deadlines := make([]time.Time, 15000)
	for i := range deadlines {
		deadlines[i] = time.Date(2026, 3, 2, 9, 0, 0, 0, workday.CST).Add(time.Duration(i) * time.Minute)
	}
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			for _, d := range deadlines {
				overdueBy(cal, d, now)
			}
		}
	})
	b.Run("counts", func(b *testing.B) {
		for b.Loop() {
			s := newSupervisor(nil)
			for _, d := range deadlines {
				s.overdueBy(cal, d, now)
			}
		}
	})
}
