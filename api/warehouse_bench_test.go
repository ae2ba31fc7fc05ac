package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/ops"
	"gridcrm/replication"
	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// BenchmarkWarehouseExport streams GET /api/v1/export/bills of
// $GRIDCRM_BENCH_EXPORT_ROWS bills (default 1,000,000) of one county, as
// Parquet and as CSV, over HTTP on loopback into a byte counter, and
// reports rows/s, the file's bytes and the process's peak RSS during the
// export (VmHWM after a reset through /proc/self/clear_refs) next to its
// RSS before. The bills are in a Pebble store (written directly, as a
// restore does: crm.ApplyReplica on a batch), read through the node's
// state reader as a node reads them; users and sessions are the fake
// backend's. Not part of make test:
//
//	go test -run '^$' -bench 'BenchmarkWarehouseExport/parquet' -benchtime 1x -timeout 30m ./api/
//	go test -run '^$' -bench 'BenchmarkWarehouseExport/csv' -benchtime 1x -timeout 30m ./api/
//
// (one format a process: the second's RSS would start from the first's).
func BenchmarkWarehouseExport(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("GRIDCRM_BENCH_EXPORT_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	f := newFake(b, region)
	admin := f.admin(b)
	// GRIDCRM_BENCH_CACHE_MB sets Pebble's block cache (the node's default
	// otherwise): the cache fills with the blocks the export reads, outside
	// the Go heap, and is most of the RSS the export adds.
	cfg := store.Config{Dir: b.TempDir()}
	if v := os.Getenv("GRIDCRM_BENCH_CACHE_MB"); v != "" {
		mb, _ := strconv.Atoi(v)
		cfg.CacheSize = int64(mb) << 20
	}
	st, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 20_000
	for off := 0; off < n; off += chunk {
		tx, commit := replication.NewBatchTxn(st)
		for i := off; i < min(off+chunk, n); i++ {
			kwh := float64(100 + i%900)
			bl := &crm.Bill{Meta: crm.Meta{ID: crm.NewID("bil", t0.Add(time.Duration(i)*time.Second)), Owner: region, Version: 1,
				CreatedAt: t0.Add(time.Duration(i) * time.Second), UpdatedAt: t0.Add(time.Duration(i) * time.Second), CreatedBy: "import", UpdatedBy: "import"},
				CustomerID: crm.NewID("cus", t0.Add(time.Duration(i/12)*time.Second)), Period: fmt.Sprintf("2025-%02d", i%12+1),
				KWh: kwh, KWhPeak: kwh / 2, KWhFlat: kwh / 4, KWhValley: kwh / 4, Billed: kwh * 0.5283, Paid: kwh * 0.5283,
				PayDate: crm.Date(fmt.Sprintf("2025-%02d-15", i%12+1)), Category: "residential", VoltageClass: "0.4kV"}
			raw, _ := json.Marshal(bl)
			if err := crm.ApplyReplica(tx, keyspace.Record("bills", bl.ID), raw); err != nil {
				b.Fatal(err)
			}
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	// Compacted, as a node's store is long after its bills arrived: the
	// load's compactions would otherwise run during the export and count
	// in its RSS.
	if err := st.DB().Compact(context.Background(), store.StatePrefix, store.StateUpper, true); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d bills written to Pebble and compacted in %.1f s", n, time.Since(start).Seconds())
	acfg := f.cfg
	acfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})) // an export that ends short says why
	ts := httptest.NewServer(api.New(acfg, billsInPebble{f.b, replication.StateReaderOf(st)}, ops.NewRegistry()).Handler())
	defer ts.Close()

	for _, format := range []string{"parquet", "csv"} {
		b.Run(format, func(b *testing.B) {
			for range b.N {
				debug.FreeOSMemory() // the loading's garbage back to the OS: RSS before is what the export starts from
				rssBefore := procStatus(b, "VmRSS")
				if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
					b.Logf("cannot reset the peak RSS: %v", err)
				}
				req, _ := http.NewRequestWithContext(context.Background(), "GET", ts.URL+"/api/v1/export/bills?region="+region+"&format="+format, nil)
				req.Header.Set("Authorization", admin.auth)
				began := time.Now()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				size, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				secs := time.Since(began).Seconds()
				if err != nil || resp.StatusCode != 200 || resp.Trailer.Get("X-Export-Rows") != strconv.Itoa(n) {
					b.Fatalf("export: %d, %v, trailer %q", resp.StatusCode, err, resp.Trailer.Get("X-Export-Rows"))
				}
				peak := procStatus(b, "VmHWM")
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				cache := st.DB().Metrics().BlockCache.Size
				b.ReportMetric(float64(cache)/(1<<20), "blockcache-MiB")
				b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heapsys-MiB")
				b.ReportMetric(float64(n)/secs, "rows/s")
				b.ReportMetric(float64(size)/float64(n), "bytes/row")
				b.ReportMetric(float64(peak)/(1<<20), "peakRSS-MiB")
				b.ReportMetric(float64(rssBefore)/(1<<20), "RSSbefore-MiB")
				b.Logf("%s: %d rows, %d bytes in %.1f s; RSS %d MiB before, peak %d MiB during; after: Pebble's block cache %d MiB, Go heap from the OS %d MiB", format, n, size, secs, rssBefore>>20, peak>>20, cache>>20, ms.HeapSys>>20)
			}
		})
	}
}

// procStatus answers a /proc/self/status size field (kB) in bytes.
func procStatus(b *testing.B, field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// billsInPebble is the fake backend with the bills (their records and
// indexes) read from a Pebble store through a node's state reader.
type billsInPebble struct {
	*fakeBackend
	pebble crm.Reader
}

func (b billsInPebble) Reader() crm.Reader { return splitReader(b) }

type splitReader billsInPebble

var billKeys = [][]byte{[]byte(keyspace.Collection("bills")), []byte(keyspace.IndexPrefix + "bills/")}

func (r splitReader) of(key []byte) crm.Reader {
	for _, p := range billKeys {
		if bytes.HasPrefix(key, p) {
			return r.pebble
		}
	}
	return lockedReader{r.fakeBackend}
}

func (r splitReader) Get(key []byte) ([]byte, error) { return r.of(key).Get(key) }

func (r splitReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	return r.of(lower).Iterate(lower, upper, fn)
}
