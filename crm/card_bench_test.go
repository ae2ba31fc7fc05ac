package crm

import (
	"fmt"
	"testing"

	"gridcrm/store/keyspace"
)

// BenchmarkScanCards reads every card of an owner of 20,000 customers with
// 36 billed months each, for a 12-month window: the full read a memo miss
// makes (OwnerCards, the class memos), allocations reported.
//
//	go test -run '^$' -bench ScanCards -benchmem ./crm/
func BenchmarkScanCards(b *testing.B) {
	const owner = "320722"
	r := NewMemTxn()
	for i := range 20_000 {
		c := card{HasCustomer: true, AccountNo: fmt.Sprintf("3207220%07d", i), Name: fmt.Sprintf("客户%d", i), Region: owner, Category: "commercial", VoltageKV: 10}
		for m := range 36 {
			c.Months = append(c.Months, cardMonth{Period: fmt.Sprintf("%04d-%02d", 2023+m/12, m%12+1), KWh: float64(1000 + i%97), Billed: 700, Bills: 1})
		}
		if err := r.Set([]byte(keyspace.Card(owner, fmt.Sprintf("cus_%020d", i))), c.encode()); err != nil {
			b.Fatal(err)
		}
	}
	r.Iterate(nil, nil, func(k, v []byte) bool { return false }) // sort the keys before timing
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := ScanCards(r, owner, "2025-01", "2025-12", func(*CardCustomer) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != 20_000 {
			b.Fatalf("%d customers", n)
		}
	}
}
