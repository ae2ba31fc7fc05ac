package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Median is one workload's medians on one peer over the rounds.
type Median struct {
	Peer       string  `json:"peer"`
	Workload   string  `json:"workload"`
	WritesPS   float64 `json:"writes_per_s"`
	RowsPS     float64 `json:"rows_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	CPUusRow   float64 `json:"server_cpu_us_per_row"`
	MachineCPU float64 `json:"machine_cpu_busy"`
	// Ratio is the subject's (the first peer's) rate over this peer's
	// (writes/s, or rows/s in bulk); 1 for the subject itself.
	Ratio float64 `json:"subject_over_this"`
}

type peerInfo struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Bulk     string `json:"bulk_request"`
	Settings string `json:"settings"`
}

type report struct {
	Started     time.Time  `json:"started"`
	Finished    time.Time  `json:"finished"`
	CPUs        int        `json:"cpus"`
	LoadStart   float64    `json:"loadavg_1m_start"`
	LoadEnd     float64    `json:"loadavg_1m_end"`
	Note        string     `json:"note,omitempty"`
	Rounds      int        `json:"rounds"`
	Subject     string     `json:"subject"`
	Peers       []peerInfo `json:"peers"`
	Workloads   []Workload `json:"workloads"`
	Durability  string     `json:"durability"`
	Medians     []Median   `json:"medians"`
	Runs        []Run      `json:"runs"`
	workloadsBy map[string]Workload
}

const durability = "every peer at its default: an acknowledged write is fsynced to the log of a majority (2 of 3) of its nodes; " +
	"all nodes and the load on one machine, plaintext on loopback"

func newReport(ps []Peer, ws []Workload, runs []Run, rounds int, started time.Time, load0, load1 float64, note string) *report {
	r := &report{Started: started.UTC(), Finished: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadStart: load0, LoadEnd: load1,
		Note: note, Rounds: rounds, Subject: ps[0].Name(), Workloads: ws, Durability: durability, Runs: runs}
	for _, p := range ps {
		r.Peers = append(r.Peers, peerInfo{Name: p.Name(), Label: p.Label(), Bulk: p.BulkNote(100), Settings: p.Settings()})
	}
	subject := map[string]float64{}
	for _, w := range ws {
		for _, p := range ps {
			var wr, rr, p50, p99, cpu, busy []float64
			for _, x := range runs {
				if x.Peer == p.Name() && x.Workload == w.Name {
					wr, rr, p50, p99 = append(wr, x.WritesPS), append(rr, x.RowsPS), append(p50, x.P50ms), append(p99, x.P99ms)
					cpu, busy = append(cpu, x.CPUusRow), append(busy, x.MachineCPU)
				}
			}
			m := Median{Peer: p.Name(), Workload: w.Name, WritesPS: median(wr), RowsPS: median(rr), P50ms: median(p50),
				P99ms: median(p99), CPUusRow: median(cpu), MachineCPU: median(busy)}
			if p.Name() == r.Subject {
				subject[w.Name] = m.RowsPS
			}
			r.Medians = append(r.Medians, m)
		}
	}
	for i, m := range r.Medians {
		if m.RowsPS > 0 {
			r.Medians[i].Ratio = subject[m.Workload] / m.RowsPS
		}
	}
	return r
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *report) median(peer, wl string) Median {
	for _, m := range r.Medians {
		if m.Peer == peer && m.Workload == wl {
			return m
		}
	}
	return Median{}
}

// columns: the other peers first, then the subject (as the table).
func (r *report) columns() []peerInfo {
	var c []peerInfo
	for _, p := range r.Peers[1:] {
		c = append(c, p)
	}
	return append(c, r.Peers[0])
}

// Table is the report as text (Markdown tables).
func (r *report) Table() string {
	var b strings.Builder
	cols := r.columns()
	fmt.Fprintf(&b, "Peers side by side: 3-node clusters on loopback, %d interleaved rounds, medians; ~300-byte rows (gridcrm's customer JSON; etcd: the same bytes as values)\n", r.Rounds)
	fmt.Fprintf(&b, "%s .. %s, %d CPUs, load average (1 min) %.1f at start, %.1f at end; machine CPU busy during the runs (median; every process, these servers and this load included): ",
		r.Started.Format("2006-01-02 15:04"), r.Finished.Format("15:04 MST"), r.CPUs, r.LoadStart, r.LoadEnd)
	var busy []string
	for _, c := range cols {
		var v []float64
		for _, m := range r.Medians {
			if m.Peer == c.Name {
				v = append(v, m.MachineCPU)
			}
		}
		busy = append(busy, fmt.Sprintf("%s %.0f%%", c.Name, 100*median(v)))
	}
	b.WriteString(strings.Join(busy, ", ") + "\n")
	fmt.Fprintf(&b, "Durability: %s.\n", r.Durability)
	if r.Note != "" {
		b.WriteString(r.Note + "\n")
	}
	b.WriteString("\n| work (to the leader) |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.Label)
	}
	for _, c := range cols[:len(cols)-1] {
		fmt.Fprintf(&b, " %s / %s |", r.Subject, c.Name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", 2*len(cols)-1) + "\n")
	for _, w := range r.Workloads {
		fmt.Fprintf(&b, "| %s |", w.Label)
		for _, c := range cols {
			m := r.median(c.Name, w.Name)
			if w.Rows == 1 {
				fmt.Fprintf(&b, " %s (%s ms) |", thousands(m.WritesPS), dec(m.P99ms))
			} else {
				fmt.Fprintf(&b, " %s (p99 %s ms a request) |", thousands(m.RowsPS), dec(m.P99ms))
			}
		}
		for _, c := range cols[:len(cols)-1] {
			fmt.Fprintf(&b, " %.2f× |", r.median(c.Name, w.Name).Ratio)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nServer CPU per row (user+system of the three server processes, /proc/<pid>/stat, before and after each run):\n\n| work |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.Name)
	}
	for _, c := range cols[:len(cols)-1] {
		fmt.Fprintf(&b, " %s / %s |", r.Subject, c.Name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", 2*len(cols)-1) + "\n")
	for _, w := range r.Workloads {
		fmt.Fprintf(&b, "| %s |", w.Name)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s µs |", thousands(r.median(c.Name, w.Name).CPUusRow))
		}
		for _, c := range cols[:len(cols)-1] {
			o := r.median(c.Name, w.Name).CPUusRow
			if o > 0 {
				fmt.Fprintf(&b, " %.2f× |", r.median(r.Subject, w.Name).CPUusRow/o)
			} else {
				b.WriteString(" — |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nBulk requests: ")
	var notes []string
	for _, c := range cols {
		notes = append(notes, c.Name+": "+c.Bulk)
	}
	b.WriteString(strings.Join(notes, "; ") + ".\n")
	for _, c := range cols {
		fmt.Fprintf(&b, "%s: %s.\n", c.Name, c.Settings)
	}
	b.WriteString("\nEvery round (writes/s, or rows/s in bulk; p99 ms):\n")
	for _, w := range r.Workloads {
		for _, c := range cols {
			fmt.Fprintf(&b, "  %-11s %-8s", w.Name, c.Name)
			for _, x := range r.Runs {
				if x.Peer == c.Name && x.Workload == w.Name {
					v := x.WritesPS
					if w.Rows > 1 {
						v = x.RowsPS
					}
					fmt.Fprintf(&b, "  %8s (%s)", thousands(v), dec(x.P99ms))
				}
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nRequests per run:")
	for _, w := range r.Workloads {
		fmt.Fprintf(&b, " %s %d×%d rows (%d clients);", w.Name, w.Requests, w.Rows, w.Clients)
	}
	b.WriteString("\n")
	return b.String()
}

func (r *report) write(dir string) error {
	t := r.Table()
	fmt.Print("\n" + t)
	if err := os.WriteFile(filepath.Join(dir, "peers.txt"), []byte(t), 0o644); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "peers.json"), append(j, '\n'), 0o644)
}

// thousands formats v rounded, with commas: 23434.2 → "23,434".
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// dec formats a latency in ms: one decimal below 100.
func dec(v float64) string {
	if v >= 100 {
		return thousands(v)
	}
	return fmt.Sprintf("%.1f", v)
}
