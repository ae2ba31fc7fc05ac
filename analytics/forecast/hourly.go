package forecast

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrMalformed matches every error ReadHourly answers for a row it refuses;
// the message names the source and the line.
var ErrMalformed = errors.New("forecast: malformed hourly row")

// Hour is one hourly reading: the wall-clock hour as written in the file
// (no zone: PJM writes local time, so daylight saving shows up as a missing
// or a doubled hour) and the load in MW.
type Hour struct {
	At time.Time // UTC-tagged wall clock, minute and second zero
	MW float64
}

// Hourly is a cleaned hourly series: sorted by At, one reading per hour.
type Hourly struct {
	Name       string // e.g. "AEP", from the header or the file name
	Hours      []Hour
	Duplicates int // hours that appeared more than once (averaged)
}

// timestamp formats seen in the PJM copies: day-first with minutes, and
// ISO with seconds.
var layouts = []string{"02-01-2006 15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

func parseStamp(s string) (time.Time, bool) {
	for _, l := range layouts {
		if len(s) != len(l) {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ReadHourly reads a two-column CSV of (timestamp, MW): an optional header
// line, then rows in any order. Timestamps may be "31-12-2005 01:00" or
// "2005-12-31 01:00:00" (both in one file too). A row with a bad timestamp,
// a time that is not on the hour, a missing, non-numeric, negative or
// non-finite load, or a wrong number of fields is refused: the error wraps
// ErrMalformed and names source and line. Blank lines are skipped.
//
// Duplicated hours (the daylight-saving fall-back hour, or the same row
// twice) are averaged, so the result does not depend on row order; missing
// hours stay missing (Monthly counts the hours it has).
func ReadHourly(r io.Reader, source string) (Hourly, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	type acc struct {
		sum float64
		n   int
	}
	byHour := map[time.Time]*acc{}
	name := ""
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if line == 1 {
			if _, ok := parseStamp(strings.TrimSpace(fields[0])); !ok {
				if len(fields) == 2 {
					name = strings.TrimSuffix(strings.TrimSpace(fields[1]), "_MW")
				}
				continue // header
			}
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s line %d: %s", ErrMalformed, source, line, fmt.Sprintf(format, args...))
		}
		if len(fields) != 2 {
			return Hourly{}, bad("want 2 fields (timestamp,MW), got %d in %q", len(fields), text)
		}
		at, ok := parseStamp(strings.TrimSpace(fields[0]))
		if !ok {
			return Hourly{}, bad("timestamp %q is neither DD-MM-YYYY hh:mm nor YYYY-MM-DD hh:mm:ss", fields[0])
		}
		if at.Minute() != 0 || at.Second() != 0 {
			return Hourly{}, bad("timestamp %q is not on the hour", fields[0])
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(fields[1]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return Hourly{}, bad("load %q is not a finite non-negative number", fields[1])
		}
		a := byHour[at]
		if a == nil {
			a = &acc{}
			byHour[at] = a
		}
		a.sum += v
		a.n++
	}
	if err := sc.Err(); err != nil {
		return Hourly{}, fmt.Errorf("forecast: %s: %w", source, err)
	}
	h := Hourly{Name: name, Hours: make([]Hour, 0, len(byHour))}
	for at, a := range byHour {
		if a.n > 1 {
			h.Duplicates++
		}
		h.Hours = append(h.Hours, Hour{At: at, MW: a.sum / float64(a.n)})
	}
	sort.Slice(h.Hours, func(i, j int) bool { return h.Hours[i].At.Before(h.Hours[j].At) })
	return h, nil
}
