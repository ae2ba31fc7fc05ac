package netnstest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"gridcrm/internal/load"
)

// catchUp is what one mode measured.
type catchUp struct {
	rowsPerSec float64       // replicated rows per second after the first batch
	upToFirst  time.Duration // county's start line (tunnel up) → first rows in the city's replica
	total      time.Duration // county's start line → all rows in the city's replica
}

// BenchmarkReplication_Tunnels: replication from a county 320722 to its
// city 3207, each a `gridcrm node` process, without a tunnel (direct),
// through netstack WireGuard and through tun-mode WireGuard, in one run.
// As root the two nodes sit in two network namespaces joined by a veth pair
// (direct: the county dials the city's internal address on the veth);
// otherwise on the host's loopback, and tun is skipped (it needs root).
//
// For each mode: the county starts alone (its parent unreachable) and
// imports GRIDCRM_BENCH_ROWS customers (default 50,000) through its API, and
// stops; the city starts; the county starts again. Measured, polling the
// city's aggregates every 10 ms: the time from the county's start line
// (printed once its tunnel is up; it includes the county's raft election
// and the first WireGuard handshake) to the first rows in the city's
// replica, and the rate of the rest. Reported per mode and as ratios to
// direct. Run with -benchtime 1x; b.N is ignored.
func BenchmarkReplication_Tunnels(b *testing.B) {
	rows := 50_000
	if s := os.Getenv("GRIDCRM_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("GRIDCRM_BENCH_ROWS=%q: want a number ≥ 1000", s)
		}
		rows = n / 1000 * 1000
	}
	bin := gridcrmBin(b)
	why := Missing()
	netns := why == ""
	if !netns {
		b.Logf("on the host's loopback; tun mode skipped: %s", why)
	}
	got := map[string]catchUp{}
	for _, mode := range []string{"direct", "netstack", "tun"} {
		if mode == "tun" && !netns {
			continue
		}
		r := measureCatchUp(b, bin, mode, netns, rows)
		got[mode] = r
		b.Logf("%-8s %8.0f rows/s; county up → first rows %6.0f ms, → all %d rows %6.0f ms",
			mode, r.rowsPerSec, ms(r.upToFirst), rows, ms(r.total))
		b.ReportMetric(r.rowsPerSec, mode+"-rows/s")
		b.ReportMetric(ms(r.upToFirst), mode+"-up-to-first-ms")
	}
	for _, mode := range []string{"netstack", "tun"} {
		if r, ok := got[mode]; ok {
			b.ReportMetric(r.rowsPerSec/got["direct"].rowsPerSec, mode+"/direct")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measureCatchUp runs one mode as BenchmarkReplication_Tunnels describes.
func measureCatchUp(b *testing.B, bin, mode string, netns bool, rows int) catchUp {
	dir := b.TempDir()
	city, county := pair(b, bin, dir, netns, mode)
	cityCfg := writeConfig(b, dir, city, county, mode)
	countyCfg := writeConfig(b, dir, county, city, mode)

	kp := start(b, bin, county, countyCfg, dir)
	kp.login()
	for i := 0; i < rows/1000; i++ {
		if st, body := kp.do("POST", "/api/v1/customers/import", load.Customers("320722", "B", i, 1000)); st != 201 {
			b.Fatalf("%s: import at the county: %d %.300s", mode, st, body)
		}
	}
	kp.stop()

	cp := start(b, bin, city, cityCfg, dir)
	defer cp.stop()
	cp.login()
	kp = start(b, bin, county, countyCfg, dir)
	defer kp.stop()
	up := kp.started

	var first time.Time
	var firstRows int64
	deadline := time.Now().Add(10 * time.Minute)
	for {
		n, err := cp.customers("320722")
		now := time.Now()
		if err == nil && n > 0 && first.IsZero() {
			first, firstRows = now, n
		}
		if err == nil && n >= int64(rows) {
			r := catchUp{upToFirst: first.Sub(up), total: now.Sub(up)}
			if rest := now.Sub(first); rest > 0 {
				r.rowsPerSec = float64(int64(rows)-firstRows) / rest.Seconds()
			}
			if r.rowsPerSec == 0 { // everything came in the first poll
				r.rowsPerSec = float64(rows) / now.Sub(up).Seconds()
			}
			return r
		}
		if now.After(deadline) {
			b.Fatalf("%s: the city holds %d of %d rows after 10 minutes (%v)\ncounty:\n%s\ncity:\n%s", mode, n, rows, err, kp.tail(), cp.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
