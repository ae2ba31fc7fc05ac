// Package workday is the working-day calendar of the PRC: statutory
// holidays (法定节假日) and the weekend days that are made-up working days
// (调休上班), as data per year. Deadlines of connection projects and work
// orders are counted on it.
//
// The official schedules it ships (2025 and 2026, from the State Council
// General Office notices) are embedded from data/cn-workday-calendar.json;
// later years arrive as "calendar" directives pushed down from the province
// and are merged over the shipped data with Calendar.With. A year that is
// not loaded is never guessed: every function that would need it answers an
// error naming the year (ErrYearNotLoaded).
//
// The package is pure Go and deterministic: it reads no clock. Days are
// counted in China Standard Time (UTC+8, no daylight saving).
//
// What it is not: it knows no regional (provincial) holidays and no shift
// patterns; a region that needs them pushes its own calendar directive.
package workday
