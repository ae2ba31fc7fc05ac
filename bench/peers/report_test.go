package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRow(t *testing.T) {
	k, v := row("R1W0", 42)
	if !json.Valid(v) || !strings.HasSuffix(k, "/R1W000000042") {
		t.Fatalf("key %q, value %s", k, v)
	}
	if n := len(v); n < 270 || n > 330 {
		t.Fatalf("row is %d bytes, want about 300", n)
	}
}

func TestMedianThousands(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatal(m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatal(m)
	}
	for v, want := range map[float64]string{0: "0", 999.6: "1,000", 23434.2: "23,434", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestCPUTime(t *testing.T) {
	end := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(end) {
	}
	if d, err := cpuTime([]int{os.Getpid()}); err != nil || d <= 0 {
		t.Fatalf("cpuTime: %v %v", d, err)
	}
}

type fakePeer struct{ name string }

func (f fakePeer) Name() string                             { return f.name }
func (f fakePeer) Label() string                            { return f.name + " 1.0" }
func (f fakePeer) Start(context.Context, string) error      { return nil }
func (f fakePeer) PIDs() []int                              { return nil }
func (f fakePeer) Dial(context.Context, bool) (Conn, error) { return nil, nil }
func (f fakePeer) BulkNote(rows int) string                 { return "batch" }
func (f fakePeer) Settings() string                         { return "defaults" }
func (f fakePeer) Stop()                                    {}

func TestReport(t *testing.T) {
	ws := []Workload{{Name: "seq", Label: "1 client, writes/s (p99)", Clients: 1, Requests: 10, Rows: 1},
		{Name: "bulk", Label: "bulk", Clients: 8, Requests: 10, Rows: 100}}
	var runs []Run
	for r := 1; r <= 3; r++ {
		runs = append(runs,
			Run{Peer: "a", Workload: "seq", Round: r, WritesPS: 100 * float64(r), RowsPS: 100 * float64(r), P99ms: 5},
			Run{Peer: "b", Workload: "seq", Round: r, WritesPS: 400, RowsPS: 400, P99ms: 2},
			Run{Peer: "a", Workload: "bulk", Round: r, WritesPS: 10, RowsPS: 1000, CPUusRow: 20},
			Run{Peer: "b", Workload: "bulk", Round: r, WritesPS: 20, RowsPS: 2000, CPUusRow: 10})
	}
	rep := newReport([]Peer{fakePeer{"a"}, fakePeer{"b"}}, ws, runs, 3, time.Now(), 1, 2, "")
	tab := rep.Table()
	for _, want := range []string{"| work (to the leader) | b 1.0 | a 1.0 | a / b |", "| 1 client, writes/s (p99) | 400 (2.0 ms) | 200 (5.0 ms) | 0.50× |",
		"| bulk | 2,000 (p99 0.0 ms a request) | 1,000 (p99 0.0 ms a request) | 0.50× |", "| bulk | 10 µs | 20 µs | 2.00× |"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}
