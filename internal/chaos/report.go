package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Report is the run's result, written as report.json and report.md in
// the run directory and summed up on the terminal.
type Report struct {
	Seed     int64     `json:"seed"`
	Dir      string    `json:"dir"`
	Network  string    `json:"network"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Replay   string    `json:"replay"` // the command that replays the schedule

	Schedule   []Fault                  `json:"schedule"`
	Faults     []FaultEvent             `json:"faults"`
	FaultKinds []KindCount              `json:"fault_kinds"`
	Writes     WriteCounts              `json:"writes"`
	Available  []Availability           `json:"availability"`
	Checks     CheckResults             `json:"checks"`
	Shutdowns  map[string]time.Duration `json:"final_shutdown_times"`
	Anomalies  []Anomaly                `json:"anomalies"`
}

// KindCount is how many faults of a kind ran and were skipped.
type KindCount struct {
	Kind    Kind `json:"kind"`
	Ran     int  `json:"ran"`
	Skipped int  `json:"skipped"`
	// MaxExit is the longest SIGTERM exit among its faults.
	MaxExit time.Duration `json:"max_exit,omitempty"`
}

// WriteCounts sums the clients' writes up.
type WriteCounts struct {
	Creates      int `json:"creates"`       // creates tried (over all attempts)
	Acknowledged int `json:"acknowledged"`  // creates acknowledged (2xx)
	ViaDuplicate int `json:"via_duplicate"` // creates found applied by a retry refused as a duplicate
	Unknown      int `json:"unknown"`       // creates whose outcome stayed unknown
	NotApplied   int `json:"not_applied"`   // creates every attempt of which was answered "not applied"
	Refused      int `json:"refused"`       // creates refused by the domain
	// Attempts by outcome, over creates and updates.
	AttemptOutcomes map[string]int `json:"attempt_outcomes"`
	// AnswersByStatus counts write answers by "status code" ("0 transport" without one).
	AnswersByStatus map[string]int `json:"answers_by_status"`
	Updates         int            `json:"updates"`
	UpdatesApplied  int            `json:"updates_applied"`
	UpdatesUnknown  int            `json:"updates_unknown"`
	Reads           int            `json:"reads"`
	ReadsOK         int            `json:"reads_ok"`
}

// countWrites sums up the creates and operations.
func countWrites(creates []Create, ops []Op) WriteCounts {
	w := WriteCounts{AttemptOutcomes: map[string]int{}, AnswersByStatus: map[string]int{}}
	for _, c := range creates {
		if c.Writer < 0 {
			continue // the registers, made before the faults
		}
		w.Creates++
		switch {
		case c.Outcome == Applied && c.ViaDuplicate:
			w.ViaDuplicate++
		case c.Outcome == Applied:
			w.Acknowledged++
		case c.Outcome == Unknown:
			w.Unknown++
		case c.Outcome == NotApplied:
			w.NotApplied++
		case c.Outcome == Refused:
			w.Refused++
		}
	}
	for _, op := range ops {
		switch op.Kind {
		case OpRead:
			w.Reads++
			if op.Outcome == Applied {
				w.ReadsOK++
			}
			continue
		case OpUpdate:
			w.Updates++
			switch op.Outcome {
			case Applied:
				w.UpdatesApplied++
			case Unknown:
				w.UpdatesUnknown++
			}
		}
		if op.Client < 0 {
			continue
		}
		w.AttemptOutcomes[op.Outcome.String()]++
		key := fmt.Sprintf("%d %s", op.Status, op.Code)
		if op.Status == 0 {
			key = "0 transport: " + op.Why
		}
		w.AnswersByStatus[strings.TrimSpace(key)]++
	}
	return w
}

// kindCounts counts the faults that ran and were skipped, per kind.
func kindCounts(faults []FaultEvent) []KindCount {
	m := map[Kind]*KindCount{}
	for _, k := range AllKinds {
		m[k] = &KindCount{Kind: k}
	}
	for _, f := range faults {
		kc := m[f.Kind]
		if f.Skipped != "" {
			kc.Skipped++
			continue
		}
		kc.Ran++
		for _, d := range f.ExitTimes {
			kc.MaxExit = max(kc.MaxExit, d)
		}
	}
	var out []KindCount
	for _, k := range AllKinds {
		if kc := m[k]; kc.Ran+kc.Skipped > 0 {
			out = append(out, *kc)
		}
	}
	return out
}

// Write writes report.json and report.md into the run directory.
func (r *Report) Write() error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "report.json"), raw, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(r.Dir, "report.md"))
	if err != nil {
		return err
	}
	defer f.Close()
	r.markdown(f)
	return f.Close()
}

func (r *Report) markdown(w io.Writer) {
	fmt.Fprintf(w, "# Chaos run, seed %d\n\n", r.Seed)
	fmt.Fprintf(w, "- started %s, finished %s (%v)\n- network: %s\n- replay: `%s`\n- anomalies: **%d**\n\n",
		r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Second), r.Network, r.Replay, len(r.Anomalies))
	fmt.Fprintf(w, "## Faults\n\n| kind | ran | skipped | longest SIGTERM exit |\n|---|---:|---:|---:|\n")
	for _, k := range r.FaultKinds {
		fmt.Fprintf(w, "| %s | %d | %d | %s |\n", k.Kind, k.Ran, k.Skipped, durOrDash(k.MaxExit))
	}
	fmt.Fprintf(w, "\n## Availability of writes\n\nFrom a fault's start to the next fault's start, on the writes to the region it hit (the 3-node county for tier outages and cuts). "+
		"An attempt is answered when it was acknowledged or refused by the domain; a create is acknowledged in the end after the client's retries on other nodes. "+
		"The longest outage includes waiting out the client timeout when every writer happens to be held by an unresponsive (paused or cut-off) node.\n\n"+
		"| kind | windows | write attempts | answered | fraction | creates acknowledged | longest outage | began |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, a := range r.Available {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.3f | %d/%d | %v | %s |\n", a.Kind, a.Windows, a.Attempts, a.Succeeded, a.Fraction,
			a.CreatesAcked, a.Creates, a.Longest.Round(time.Millisecond), a.LongestAt.Format("15:04:05.000"))
	}
	wc := r.Writes
	fmt.Fprintf(w, "\n## Writes\n\n| creates | acknowledged | applied (found by a duplicate) | unknown | not applied | refused | updates | updates applied | updates unknown | reads | reads ok |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n", wc.Creates, wc.Acknowledged, wc.ViaDuplicate, wc.Unknown,
		wc.NotApplied, wc.Refused, wc.Updates, wc.UpdatesApplied, wc.UpdatesUnknown, wc.Reads, wc.ReadsOK)
	fmt.Fprintf(w, "Write answers: \n\n| answer | count |\n|---|---:|\n")
	for _, k := range slices.Sorted(mapKeys(wc.AnswersByStatus)) {
		fmt.Fprintf(w, "| %s | %d |\n", k, wc.AnswersByStatus[k])
	}
	lr := r.Checks.Linearizability
	fmt.Fprintf(w, "\n## Checks\n\n- linearizability (porcupine): %s over %d operations in %v\n- replica divergences: %d\n- customers per node: %v\n- final SIGTERM exit times: %v\n\n",
		lr.Result, lr.Ops, lr.Elapsed.Round(time.Millisecond), r.Checks.Divergences, r.Checks.RecordsPerNode, r.Shutdowns)
	for _, warn := range r.Checks.Warnings {
		fmt.Fprintf(w, "**Warning:** %s\n\n", warn)
	}
	fmt.Fprintf(w, "## Anomalies\n\n")
	if len(r.Anomalies) == 0 {
		fmt.Fprintf(w, "None.\n")
	} else {
		fmt.Fprintf(w, "| time | check | node | what |\n|---|---|---|---|\n")
		for _, a := range r.Anomalies {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", a.At.Format("15:04:05.000"), a.Check, a.Node, strings.ReplaceAll(a.Message, "|", `\|`))
		}
	}
	fmt.Fprintf(w, "\n## Fault log\n\n| # | kind | targets | start | healed | notes |\n|---:|---|---|---|---|---|\n")
	for _, f := range r.Faults {
		notes := strings.Join(f.Notes, "; ")
		if f.Skipped != "" {
			notes = "skipped: " + f.Skipped
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", f.Seq, f.Kind, strings.Join(f.Targets, " "), f.Start.Format("15:04:05.000"),
			f.Healed.Format("15:04:05.000"), strings.ReplaceAll(notes, "|", `\|`))
	}
}

func durOrDash(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return d.Round(time.Millisecond).String()
}

// Summary prints the report's essentials on the terminal.
func (r *Report) Summary(w io.Writer) {
	fmt.Fprintf(w, "\n==== chaos: seed %d, %v, network %s\n", r.Seed, r.Finished.Sub(r.Started).Round(time.Second), r.Network)
	fmt.Fprintf(w, "faults:")
	for _, k := range r.FaultKinds {
		fmt.Fprintf(w, " %s=%d", k.Kind, k.Ran)
		if k.Skipped > 0 {
			fmt.Fprintf(w, "(+%d skipped)", k.Skipped)
		}
	}
	wc := r.Writes
	fmt.Fprintf(w, "\ncreates: %d tried, %d acknowledged, %d applied (found by a duplicate), %d unknown, %d not applied, %d refused\n",
		wc.Creates, wc.Acknowledged, wc.ViaDuplicate, wc.Unknown, wc.NotApplied, wc.Refused)
	fmt.Fprintf(w, "updates: %d (%d applied, %d unknown); reads: %d (%d ok)\n", wc.Updates, wc.UpdatesApplied, wc.UpdatesUnknown, wc.Reads, wc.ReadsOK)
	fmt.Fprintf(w, "write answers: %v\n", wc.AnswersByStatus)
	fmt.Fprintf(w, "availability (write attempts answered; creates acknowledged after retries; longest stretch without an answered write):\n")
	for _, a := range r.Available {
		fmt.Fprintf(w, "  %-17s %3d windows  attempts %5d/%-5d = %.3f  creates %5d/%-5d  longest %v\n", a.Kind, a.Windows,
			a.Succeeded, a.Attempts, a.Fraction, a.CreatesAcked, a.Creates, a.Longest.Round(time.Millisecond))
	}
	lr := r.Checks.Linearizability
	fmt.Fprintf(w, "linearizability: %s (%d ops, %v); divergences: %d; customers per node: %v\n", lr.Result, lr.Ops,
		lr.Elapsed.Round(time.Millisecond), r.Checks.Divergences, r.Checks.RecordsPerNode)
	for _, warn := range r.Checks.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
	fmt.Fprintf(w, "anomalies: %d\n", len(r.Anomalies))
	for _, a := range r.Anomalies {
		node := ""
		if a.Node != "" {
			node = " [" + a.Node + "]"
		}
		fmt.Fprintf(w, "  %s %s%s %s\n", a.At.Format("15:04:05.000"), a.Check, node, a.Message)
	}
	fmt.Fprintf(w, "report: %s/report.md, %s/report.json; logs: %s/logs/\nreplay: %s\n", r.Dir, r.Dir, r.Dir, r.Replay)
}
