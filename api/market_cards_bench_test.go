package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
)

// BenchmarkMarketLists_AfterChange: the card-based market lists of a county
// of n generated customers (GRIDCRM_BENCH_CUSTOMERS, default 10,000; 24
// months of bills, through Pebble as in analytics_bench_test.go), each
// read timed right after one bill changed (a replicated correction: its
// kWh and amount, its card with it), so every read is the first after a
// change. Not run by make test:
//
//	GRIDCRM_BENCH_CUSTOMERS=10000 go test -run XXX -bench MarketLists_AfterChange -timeout 1h ./api/
func BenchmarkMarketLists_AfterChange(b *testing.B) {
	n := benchCustomers(10_000)
	const county = "320723"
	st, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	loadCounty(b, st, county, n, 24)
	_, _, admin := benchServer(b, st, county, true)
	var keys []string
	replication.StateReaderOf(st).Iterate([]byte("r/bills/"), []byte("r/bills0"), func(k, _ []byte) bool {
		keys = append(keys, string(k))
		return len(keys) < 2000
	})
	change := func(i int) {
		key := keys[(i*7919)%len(keys)]
		r := replication.StateReaderOf(st)
		old, err := r.Get([]byte(key))
		if err != nil || old == nil {
			b.Fatalf("%s: %v", key, err)
		}
		var bl map[string]any
		json.Unmarshal(old, &bl)
		bl["kwh"] = bl["kwh"].(float64) + float64(1+i%5)
		bl["billed"] = bl["billed"].(float64) + float64(1+i%3)
		raw, _ := json.Marshal(bl)
		tx, commit := replication.NewBatchTxn(st)
		if err := crm.ApplyReplica(tx, key, raw); err != nil {
			b.Fatal(err)
		}
		if err := crm.ApplyDeltas(tx, crm.AggregateDeltas(key, old, raw)); err != nil {
			b.Fatal(err)
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	for _, path := range []string{"/api/v1/analysis/market/top?period=2025-12", "/api/v1/analysis/tariff/effect?at=2025-07&months=6"} {
		name := strings.TrimPrefix(path, "/api/v1/")
		b.Run(name, func(b *testing.B) {
			admin.on(b).must(200, "GET", path, nil) // the memo warmed
			var took []time.Duration
			for i := range b.N {
				b.StopTimer()
				change(i)
				b.StartTimer()
				t := time.Now()
				admin.on(b).must(200, "GET", path, nil)
				took = append(took, time.Since(t))
			}
			reportP99(b, took)
		})
	}
}
