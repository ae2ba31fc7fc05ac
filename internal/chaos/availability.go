package chaos

import (
	"slices"
	"time"
)

// Availability is how writes fared while faults of one kind were active.
type Availability struct {
	Kind      Kind    `json:"kind"`
	Windows   int     `json:"windows"`   // fault instances (or periods) measured
	Attempts  int     `json:"attempts"`  // write attempts started in them
	Succeeded int     `json:"succeeded"` // answered applied, or refused by the domain (the system answered)
	Fraction  float64 `json:"fraction"`  // Succeeded / Attempts
	// Creates begun in the windows (first attempts), and how many of them
	// were acknowledged in the end, after the client's retries.
	Creates      int           `json:"creates"`
	CreatesAcked int           `json:"creates_acknowledged"`
	Longest      time.Duration `json:"longest_outage"`
	// LongestAt is when the longest outage began.
	LongestAt time.Time `json:"longest_outage_at"`
}

// Window is a stretch of the run attributed to one fault kind, measured on
// the writes to one region.
type Window struct {
	Kind       Kind
	Region     string
	Start, End time.Time
}

// FaultWindows cuts the run into windows: before the first fault
// (startup), each fault from its start until the next fault starts (so
// the recovery after healing counts against it), and the settle period.
// A fault is measured on the writes to the region it hit (the 3-node
// county for tier outages and cuts, whose county writes must go on).
func FaultWindows(l Layout, faults []FaultEvent, runStart, settleStart, end time.Time) []Window {
	var ws []Window
	prev := Window{Kind: startup, Region: County, Start: runStart}
	for _, f := range faults {
		if f.Skipped != "" {
			continue
		}
		prev.End = f.Start
		ws = append(ws, prev)
		region := County
		if len(f.Targets) > 0 {
			if n, ok := l.Node(f.Targets[0]); ok && (n.Region == County || n.Region == County2) {
				region = n.Region
			}
		}
		prev = Window{Kind: f.Kind, Region: region, Start: f.Start}
	}
	prev.End = settleStart
	ws = append(ws, prev, Window{Kind: settle, Region: County, Start: settleStart, End: end})
	return ws
}

// isWrite reports whether op is a write attempt.
func isWrite(op Op) bool { return op.Kind == OpCreate || op.Kind == OpUpdate }

// answered reports whether the system gave a write a definite answer:
// applied, or refused by the domain (a stale version, a duplicate).
func answered(op Op) bool { return op.Outcome == Applied || op.Outcome == Refused }

// MeasureAvailability sums, per kind, the write attempts started in each
// window, how many were answered, the creates begun in it and how many of
// them were acknowledged in the end, and the longest stretch in a window
// without an answered write.
func MeasureAvailability(ops []Op, creates []Create, windows []Window) []Availability {
	acked := map[string]bool{}
	for _, c := range creates {
		acked[c.Account] = c.Outcome == Applied
	}
	byKind := map[Kind]*Availability{}
	var order []Kind
	for _, w := range windows {
		if w.End.Before(w.Start) {
			continue
		}
		av := byKind[w.Kind]
		if av == nil {
			av = &Availability{Kind: w.Kind}
			byKind[w.Kind] = av
			order = append(order, w.Kind)
		}
		av.Windows++
		var done []time.Time
		for _, op := range ops {
			if !isWrite(op) || op.Region != w.Region || op.Start.Before(w.Start) || !op.Start.Before(w.End) {
				continue
			}
			av.Attempts++
			if op.Kind == OpCreate && op.Attempt == 0 && op.Client >= 0 {
				av.Creates++
				if acked[op.Account] {
					av.CreatesAcked++
				}
			}
			if answered(op) {
				av.Succeeded++
				done = append(done, op.End)
			}
		}
		gap, at := longestGap(w.Start, w.End, done)
		if gap > av.Longest {
			av.Longest, av.LongestAt = gap, at
		}
	}
	out := make([]Availability, 0, len(order))
	for _, k := range order {
		av := byKind[k]
		if av.Attempts > 0 {
			av.Fraction = float64(av.Succeeded) / float64(av.Attempts)
		}
		out = append(out, *av)
	}
	return out
}

// longestGap answers the longest stretch of [start, end) without one of
// the times in done, and when it began.
func longestGap(start, end time.Time, done []time.Time) (time.Duration, time.Time) {
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	last, best, at := start, time.Duration(0), start
	for _, t := range append(done, end) {
		if t.After(end) {
			t = end
		}
		if d := t.Sub(last); d > best {
			best, at = d, last
		}
		if t.After(last) {
			last = t
		}
	}
	return best, at
}
