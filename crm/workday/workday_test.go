package workday

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, CST)
	if err != nil {
		panic(err)
	}
	return t
}

func TestIsWorkingDay(t *testing.T) {
	c := Default()
	cases := []struct {
		day  string
		want bool
	}{
		{"2025-09-26", true},  // Friday
		{"2025-09-27", false}, // Saturday
		{"2025-09-28", true},  // Sunday, make-up working day
		{"2025-10-01", false}, // National Day
		{"2025-10-08", false}, // last day of the run (a Wednesday)
		{"2025-10-09", true},  // Thursday after the holiday
		{"2025-10-11", true},  // make-up Saturday
		{"2025-10-12", false}, // Sunday
		{"2026-01-02", false}, // New Year (a Friday)
		{"2026-01-04", true},  // make-up Sunday
		{"2026-02-14", true},  // make-up Saturday before Spring Festival
		{"2026-02-23", false}, // Spring Festival Monday
		{"2026-10-10", true},  // make-up Saturday
	}
	for _, tc := range cases {
		got, err := c.IsWorkingDay(day(tc.day))
		if err != nil || got != tc.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.day, got, err, tc.want)
		}
	}
	// The day is the day in China: 2025-09-30T20:00Z is 1 October 04:00 CST.
	if ok, _ := c.IsWorkingDay(time.Date(2025, 9, 30, 20, 0, 0, 0, time.UTC)); ok {
		t.Error("2025-09-30T20:00Z is National Day in CST, not a working day")
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := Default()
	cases := []struct {
		name  string
		from  string
		n     int
		want  string // the n-th working day
		until string // Deadline: the end of it (exclusive)
	}{
		{"zero is the day itself", "2025-10-03", 0, "2025-10-03", "2025-10-04"},
		{"plain week", "2025-03-03", 4, "2025-03-07", "2025-03-08"},
		{"over a weekend", "2025-03-06", 3, "2025-03-11", "2025-03-12"},
		{"accepted before National Day falls due after it", "2025-09-30", 1, "2025-10-09", "2025-10-10"},
		{"a make-up Saturday counts", "2025-09-30", 3, "2025-10-11", "2025-10-12"},
		{"make-up Sunday before the holiday counts", "2025-09-26", 1, "2025-09-28", "2025-09-29"},
		{"Spring Festival 2026", "2026-02-13", 2, "2026-02-24", "2026-02-25"},
		{"across the year end", "2025-12-30", 3, "2026-01-05", "2026-01-06"},
		{"22 working days over National Day 2026", "2026-09-21", 22, "2026-10-28", "2026-10-29"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.AddWorkingDays(day(tc.from).Add(15*time.Hour), tc.n)
			if err != nil || !got.Equal(day(tc.want)) {
				t.Errorf("AddWorkingDays(%s, %d) = %v, %v; want %s", tc.from, tc.n, got, err, tc.want)
			}
			dl, err := c.Deadline(day(tc.from), tc.n)
			if err != nil || !dl.Equal(day(tc.until)) {
				t.Errorf("Deadline(%s, %d) = %v, %v; want %s", tc.from, tc.n, dl, err, tc.until)
			}
			if tc.n > 0 {
				back, err := c.WorkingDaysBetween(day(tc.from), got)
				if err != nil || back != tc.n {
					t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", tc.from, tc.want, back, err, tc.n)
				}
			}
		})
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := Default()
	cases := []struct {
		a, b string
		want int
	}{
		{"2025-10-01", "2025-10-01", 0},
		{"2025-10-02", "2025-10-01", 0},
		{"2025-09-30", "2025-10-08", 0},
		{"2025-09-30", "2025-10-12", 3},
		{"2025-09-25", "2025-09-30", 3}, // Fri, Sun (make-up), Mon, Tue = 4? see below
	}
	cases[4].want = 4 // 26 (Fri), 28 (make-up Sun), 29 (Mon), 30 (Tue)
	for _, tc := range cases {
		got, err := c.WorkingDaysBetween(day(tc.a), day(tc.b))
		if err != nil || got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
		}
	}
}

func TestYearNotLoaded(t *testing.T) {
	c := Default()
	if _, err := c.IsWorkingDay(day("2027-01-04")); !errors.Is(err, ErrYearNotLoaded) || !strings.Contains(err.Error(), "2027") {
		t.Errorf("2027 answered %v; want ErrYearNotLoaded naming 2027", err)
	}
	if _, err := c.AddWorkingDays(day("2026-12-28"), 10); !errors.Is(err, ErrYearNotLoaded) {
		t.Errorf("a limit running into 2027 answered %v; want ErrYearNotLoaded", err)
	}
	if _, err := c.IsWorkingDay(day("2024-12-31")); !errors.Is(err, ErrYearNotLoaded) {
		t.Errorf("2024 answered %v; want ErrYearNotLoaded", err)
	}
	// A pushed year fills the gap and wins over shipped data.
	y27, err := Parse([]byte(`{"years":{"2027":{"holidays":{"元旦":["2027-01-01"]},"workdays":[]}}}`), "body.")
	if err != nil {
		t.Fatal(err)
	}
	m := c.With(y27)
	if ok, err := m.IsWorkingDay(day("2027-01-04")); err != nil || !ok {
		t.Errorf("2027-01-04 with a pushed 2027: %v, %v", ok, err)
	}
	over, _ := Parse([]byte(`{"years":{"2025":{"holidays":{"x":["2025-03-03"]}}}}`), "")
	if ok, _ := c.With(over).IsWorkingDay(day("2025-10-01")); !ok {
		t.Error("a pushed 2025 must replace the shipped 2025 (1 October is then a working day)")
	}
	if got := m.Years(); len(got) != 3 || got[2] != 2027 {
		t.Errorf("Years() = %v", got)
	}
}

func TestParse_BadInput(t *testing.T) {
	cases := []struct {
		name, body, field string
	}{
		{"not JSON", `{"years":`, "body.years"},
		{"unknown field", `{"yeers":{}}`, "body.years"},
		{"no years", `{"years":{}}`, "body.years"},
		{"bad year", `{"years":{"27":{"holidays":{"a":["2027-01-01"]}}}}`, "body.years.27"},
		{"year without holidays", `{"years":{"2027":{"holidays":{},"workdays":["2027-02-06"]}}}`, "body.years.2027.holidays"},
		{"holiday with no days", `{"years":{"2027":{"holidays":{"元旦":[]}}}}`, "body.years.2027.holidays.元旦"},
		{"bad date", `{"years":{"2027":{"holidays":{"元旦":["2027-13-01"]}}}}`, "body.years.2027.holidays.元旦[0]"},
		{"date in another year", `{"years":{"2027":{"holidays":{"元旦":["2026-01-01"]}}}}`, "body.years.2027.holidays.元旦[0]"},
		{"duplicate holiday", `{"years":{"2027":{"holidays":{"a":["2027-01-01"],"b":["2027-01-01"]}}}}`, "body.years.2027.holidays.b[0]"},
		{"duplicate workday", `{"years":{"2027":{"holidays":{"a":["2027-01-01"]},"workdays":["2027-02-06","2027-02-06"]}}}`, "body.years.2027.workdays[1]"},
		{"workday also a holiday", `{"years":{"2027":{"holidays":{"a":["2027-02-06"]},"workdays":["2027-02-06"]}}}`, "body.years.2027.workdays[0]"},
		{"workday on a weekday", `{"years":{"2027":{"holidays":{"a":["2027-01-01"]},"workdays":["2027-02-08"]}}}`, "body.years.2027.workdays[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body), "body.")
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse answered %v; want a *FieldError", err)
			}
			if fe.Field != tc.field || fe.Message == "" {
				t.Errorf("field %q (%s); want %q", fe.Field, fe.Message, tc.field)
			}
		})
	}
}

func TestAddWorkingDays_Negative(t *testing.T) {
	if _, err := Default().AddWorkingDays(day("2025-03-03"), -1); err == nil {
		t.Error("a negative count must be refused")
	}
}
