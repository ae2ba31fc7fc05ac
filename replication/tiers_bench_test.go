package replication_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/store"
)

// BenchmarkRollupLag: four counties each write 1,000 customers a second
// (an import of 100 every 100 ms); for the last row of every import, the
// time from the county's acknowledgement to the record's arrival in the
// province's replica. Run with -benchtime 1x.
func BenchmarkRollupLag(b *testing.B) {
	h := testcluster.NewHierarchy(b, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{
		{Code: "32"}, {Code: "3207"}, {Code: "3208"}, {Code: "320722"}, {Code: "320723"}, {Code: "320803"}, {Code: "320804"}}})
	prov := h.Region("32").Node(0)
	var mu sync.Mutex
	var lags []time.Duration
	var wg sync.WaitGroup
	const seconds = 10
	for ci, county := range []string{"320722", "320723", "320803", "320804"} {
		cl := h.Region(county).Client(0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < seconds*10; i++ {
				<-tick.C
				st, body := cl.Do("POST", "/api/v1/customers/import", json.RawMessage(load.Customers(county, fmt.Sprintf("L%d", ci), i, 100)))
				acked := time.Now()
				if st != 201 {
					b.Errorf("import at %s: %d %.200s", county, st, body)
					return
				}
				var out struct{ IDs []string }
				json.Unmarshal(body, &out)
				key := []byte("r/customers/" + out.IDs[len(out.IDs)-1])
				wg.Add(1)
				go func() {
					defer wg.Done()
					for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
						if v, _ := prov.Group().Reader().Get(key); v != nil {
							mu.Lock()
							lags = append(lags, time.Since(acked))
							mu.Unlock()
							return
						}
					}
					b.Errorf("%s never reached the province", key)
				}()
			}
		}()
	}
	wg.Wait()
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lags)*100)/seconds, "rows/s")
	b.Logf("roll-up lag county → province over %d samples: p50 %.1f ms, p99 %.1f ms, max %.1f ms", len(lags), q(0.5), q(0.99), q(1))
}

// BenchmarkCatchUp: a county writes 300,000 changes while cut off from its
// city; after the heal, how fast the city applies them (over mutual TLS, as
// deployed; BenchmarkMTLS compares it with plaintext).
func BenchmarkCatchUp(b *testing.B) {
	n, el := catchUp(b, false, 300_000)
	b.ReportMetric(float64(n)/el.Seconds(), "changes/s")
	b.ReportMetric(el.Seconds(), "catchup-s")
	b.Logf("caught up %d changes in %.1fs: %.0f changes/s", n, el.Seconds(), float64(n)/el.Seconds())
}

// BenchmarkResync: a county writes 300,000 customers while cut off from
// its city, keeping only 1,000 feed entries; after the heal the city,
// which holds nothing of the county, takes it from a snapshot (the
// county's records in key order, 2,000 or 4 MB a part). Reported per
// record (the snapshot carries the records, not the changes).
func BenchmarkResync(b *testing.B) {
	const customers = 300_000
	_, el := catchUpOrResync(b, false, customers, 1000)
	b.ReportMetric(float64(customers)/el.Seconds(), "records/s")
	b.ReportMetric(el.Seconds(), "resync-s")
	b.Logf("resynced %d customers from scratch in %.1fs: %.0f records/s", customers, el.Seconds(), float64(customers)/el.Seconds())
}

// BenchmarkSummary: a province replica holding 1,000,000 customers of 40
// counties; the subtree summary from aggregates against a full scan of the
// customers, in the same run.
func BenchmarkSummary(b *testing.B) {
	st, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const total = 1_000_000
	counties := make([]string, 40)
	for i := range counties {
		counties[i] = fmt.Sprintf("32%02d%02d", 1+i/5, 1+i%5)
	}
	cats := crm.Categories
	for start := 0; start < total; start += 20_000 {
		tx, commit := replication.NewBatchTxn(st)
		for i := start; i < start+20_000; i++ {
			c := crm.Customer{AccountNo: fmt.Sprintf("A%08d", i), Name: "客户", Category: cats[i%len(cats)], VoltageKV: 10, CapacityKVA: 100, Status: "active"}
			c.Region = counties[i%len(counties)]
			c.Meta = crm.Meta{ID: crm.NewID("cus", time.Now()), Owner: c.Region, Version: 1}
			raw, _ := json.Marshal(&c)
			key := "r/customers/" + c.ID
			if err := crm.ApplyReplica(tx, key, raw); err != nil {
				b.Fatal(err)
			}
			if err := crm.ApplyDeltas(tx, crm.AggregateDeltas(key, nil, raw)); err != nil {
				b.Fatal(err)
			}
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	r := replication.StateReaderOf(st)
	b.Run("aggregates", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := crm.Summarize(r, "32", true)
			if err != nil || s.Customers != total {
				b.Fatalf("summary: %d customers, %v", s.Customers, err)
			}
		}
	})
	b.Run("full-scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n := 0
			byCat := map[string]int{}
			r.Iterate([]byte("r/customers/"), []byte("r/customers0"), func(_, v []byte) bool {
				var c struct{ Category, Owner string }
				json.Unmarshal(v, &c)
				byCat[c.Category]++
				n++
				return true
			})
			if n != total {
				b.Fatalf("scan: %d", n)
			}
		}
	})
}

var _ = node.DefaultConfig
