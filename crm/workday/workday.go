package workday

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CST is China Standard Time, the zone days are counted in.
var CST = time.FixedZone("CST", 8*3600)

// ErrYearNotLoaded matches the error every function answers when it needs a
// year the calendar holds no data for.
var ErrYearNotLoaded = errors.New("workday: year not loaded")

// FieldError is a validation error of calendar data; Field names the JSON
// field (e.g. "years.2027.workdays[1]").
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return "workday: " + e.Field + ": " + e.Message }

// Day is a calendar day as YYYY-MM-DD.
type Day = string

// Year is the official schedule of one year as published: named holiday
// runs (days off, including the weekend days inside a run) and the weekend
// days that are working days.
type Year struct {
	Source   string           `json:"source,omitempty"`
	Holidays map[string][]Day `json:"holidays"`
	Workdays []Day            `json:"workdays"`
}

// Data is the file and directive-body format: {"years": {"2025": Year, ...}}.
type Data struct {
	About string          `json:"about,omitempty"`
	Years map[string]Year `json:"years"`
}

// Calendar answers questions about working days. The zero value holds no
// year. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	years map[int]*yearSet
}

type yearSet struct {
	off, on map[string]bool // holidays; make-up working days
	source  string
}

//go:embed data/cn-workday-calendar.json
var shipped []byte

var defaultCal = func() *Calendar {
	c, err := Parse(shipped, "")
	if err != nil {
		panic("workday: shipped calendar is invalid: " + err.Error())
	}
	return c
}()

// Default is the shipped calendar (2025 and 2026 as published).
func Default() *Calendar { return defaultCal }

// Parse reads calendar data (the file or a directive body). prefix is put
// before field names in errors ("body." for a directive). Every problem is
// a *FieldError: a bad date, a date outside its year, a day listed twice or
// both as holiday and working day, a make-up working day that is not a
// weekend day, a year with no holidays.
func Parse(raw []byte, prefix string) (*Calendar, error) {
	var d Data
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &FieldError{Field: prefix + "years", Message: "is not calendar data ({\"years\": {\"2027\": {\"holidays\": {...}, \"workdays\": [...]}}}): " + err.Error()}
	}
	return FromData(d, prefix)
}

// FromData checks d and builds its Calendar.
func FromData(d Data, prefix string) (*Calendar, error) {
	if len(d.Years) == 0 {
		return nil, &FieldError{Field: prefix + "years", Message: "holds no year; give at least one, e.g. {\"2027\": {...}}"}
	}
	c := &Calendar{years: map[int]*yearSet{}}
	for _, ys := range slices.Sorted(mapKeys(d.Years)) {
		y := d.Years[ys]
		f := prefix + "years." + ys
		yr, err := strconv.Atoi(ys)
		if err != nil || yr < 2000 || yr > 2100 || len(ys) != 4 {
			return nil, &FieldError{Field: f, Message: fmt.Sprintf("%q is not a year from 2000 to 2100", ys)}
		}
		if len(y.Holidays) == 0 {
			return nil, &FieldError{Field: f + ".holidays", Message: "a year without holidays is not a published schedule"}
		}
		set := &yearSet{off: map[string]bool{}, on: map[string]bool{}, source: y.Source}
		for _, name := range slices.Sorted(mapKeys(y.Holidays)) {
			days := y.Holidays[name]
			if strings.TrimSpace(name) == "" {
				return nil, &FieldError{Field: f + ".holidays", Message: "a holiday has an empty name"}
			}
			if len(days) == 0 {
				return nil, &FieldError{Field: f + ".holidays." + name, Message: "lists no days"}
			}
			for i, day := range days {
				ff := fmt.Sprintf("%s.holidays.%s[%d]", f, name, i)
				if err := checkDay(day, yr, ff); err != nil {
					return nil, err
				}
				if set.off[day] {
					return nil, &FieldError{Field: ff, Message: day + " is listed twice"}
				}
				set.off[day] = true
			}
		}
		for i, day := range y.Workdays {
			ff := fmt.Sprintf("%s.workdays[%d]", f, i)
			if err := checkDay(day, yr, ff); err != nil {
				return nil, err
			}
			if set.on[day] {
				return nil, &FieldError{Field: ff, Message: day + " is listed twice"}
			}
			if set.off[day] {
				return nil, &FieldError{Field: ff, Message: day + " is also listed as a holiday"}
			}
			t, _ := time.Parse(time.DateOnly, day)
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
				return nil, &FieldError{Field: ff, Message: day + " is a " + wd.String() + "; make-up working days are weekend days"}
			}
			set.on[day] = true
		}
		c.years[yr] = set
	}
	return c, nil
}

func checkDay(day string, year int, field string) error {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return &FieldError{Field: field, Message: fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", day)}
	}
	if t.Year() != year {
		return &FieldError{Field: field, Message: fmt.Sprintf("%s is not in year %d", day, year)}
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// With answers a calendar holding c's years with o's years over them (a
// year in o replaces the same year in c).
func (c *Calendar) With(o *Calendar) *Calendar {
	out := &Calendar{years: map[int]*yearSet{}}
	if c != nil {
		for y, s := range c.years {
			out.years[y] = s
		}
	}
	if o != nil {
		for y, s := range o.years {
			out.years[y] = s
		}
	}
	return out
}

// Years lists the loaded years in order.
func (c *Calendar) Years() []int {
	var ys []int
	for y := range c.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

func notLoaded(y int) error {
	return fmt.Errorf("%w: %d has no holiday schedule here; the province pushes it as a calendar directive (body.years.%d)", ErrYearNotLoaded, y, y)
}

// IsWorkingDay reports whether the day of t (in CST) is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	t = t.In(CST)
	s := c.years[t.Year()]
	if s == nil {
		return false, notLoaded(t.Year())
	}
	d := t.Format(time.DateOnly)
	switch {
	case s.off[d]:
		return false, nil
	case s.on[d]:
		return true, nil
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

// dayStart is midnight CST of t's day.
func dayStart(t time.Time) time.Time {
	t = t.In(CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, CST)
}

// AddWorkingDays answers the start (midnight CST) of the n-th working day
// after the day of t; the day of t itself does not count, whatever the hour.
// n = 0 answers the start of t's day. A time limit of n working days from
// t ends at AddWorkingDays(t, n+1) exclusive, which Deadline answers.
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	if n < 0 {
		return time.Time{}, fmt.Errorf("workday: n = %d; must not be negative", n)
	}
	d := dayStart(t)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			n--
		}
	}
	return d, nil
}

// Deadline answers the end of a limit of n working days counted from t:
// midnight CST at the end of the n-th working day after t's day (a limit
// that starts on 30 September 2025 with 3 working days ends with 11
// October, the make-up Saturday after the National Day holiday).
func (c *Calendar) Deadline(t time.Time, n int) (time.Time, error) {
	d, err := c.AddWorkingDays(t, n)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1), nil
}

// WorkingDaysBetween counts the working days after a's day up to and
// including b's day (0 when b's day is not after a's). It is the n for
// which AddWorkingDays(a, n) is the last working day not after b.
func (c *Calendar) WorkingDaysBetween(a, b time.Time) (int, error) {
	d, end := dayStart(a), dayStart(b)
	n := 0
	for d.Before(end) {
		d = d.AddDate(0, 0, 1)
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
