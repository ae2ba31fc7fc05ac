package ops_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
	"gridcrm/ops"
)

// BenchmarkDomainCollector_Province scrapes the domain counters of a
// province five years in: 100 counties, each with 20 counters without a
// period and 60 series with one (kWh, billed and bills by category,
// voltage class and month, as market.go keeps them) over 60 months —
// 362,000 counters, of which a scrape exports 20,000.
func BenchmarkDomainCollector_Province(b *testing.B) {
	keys := map[string][]byte{}
	for c := range 100 {
		region := fmt.Sprintf("32%04d", c)
		for i := range 20 {
			keys[fmt.Sprintf("a/%s/customers.status.s%d", region, i)] = f64(float64(i))
		}
		for s := range 60 {
			for m := range 60 {
				keys[fmt.Sprintf("a/%s/mkt.kwh.category.c%d.%04d-%02d", region, s, 2022+m/12, m%12+1)] = f64(float64(m))
			}
		}
	}
	// crm.MemTxn iterates a sorted key list, as the store does.
	tx := crm.NewMemTxn()
	for k, v := range keys {
		_ = tx.Set([]byte(k), v)
	}
	c := ops.NewDomainCollector("32", "n1", func() crm.Reader { return tx })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ch := make(chan prometheus.Metric, 1024)
		done := make(chan int)
		go func() {
			n := 0
			for range ch {
				n++
			}
			done <- n
		}()
		c.Collect(ch)
		close(ch)
		if n := <-done; n != 100*(20+60*ops.PeriodsKept) {
			b.Fatalf("%d series exported, want %d", n, 100*(20+60*ops.PeriodsKept))
		}
	}
}
