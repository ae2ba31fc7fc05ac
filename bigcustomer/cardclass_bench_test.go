package bigcustomer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/replication"
	"gridcrm/store"
)

// The class memo benchmark: the first read after a change of one bill, at
// a county of GRIDCRM_MEMO_CUSTOMERS customers (default 1,000,000) with 12
// months of bills each (crm/sample), read at the province over its subtree
// as the console does, the class memo brought up to date from the changed
// card ("patched") or read again from every card as before the journal
// ("rebuilt", bigcustomer.SetClassMemoPatching(false)):
//
//	go test ./bigcustomer/ -run '^$' -bench 'BenchmarkClassMemo' -benchtime 5x -timeout 60m
//
// GRIDCRM_MEMO_COUNTIES=14 spreads the customers over 14 owner counties of
// the province (chunks of 10,000 in turn), the province's shape: its reads
// merge 14 owners' lists.
//
//	GRIDCRM_MEMO_COUNTIES=14 go test ./bigcustomer/ -run '^$' -bench 'BenchmarkClassMemo/patched/pareto' -benchtime 5x -timeout 60m
//
// The store (Pebble, in a temporary directory) holds the customers' cards
// (crm.WriteCard, as Apply keeps them; the memo reads nothing else of
// them) and their aggregates; one customer, whose bill each iteration
// changes through crm.ApplyReplica, also has its records. Each iteration
// writes that bill (not timed) and then makes the read; the memo is built
// once before the loop.

type memoBench struct {
	dir      string
	st       *store.Store
	r        crm.Reader
	n        int
	counties int
	subject  string
	bill     crm.Bill
	load     time.Duration
}

const memoCounty = "320722"

// memoCounties are the owner counties of the province's shape, memoCounty
// first (it holds the subject).
var memoCounties = []string{memoCounty, "320382", "320703", "320706", "320707", "320723", "320724",
	"320803", "320804", "320826", "320830", "320921", "320922", "321322"}

// loadMemoBench fills the benchmark's store.
func loadMemoBench(b *testing.B) *memoBench {
	n := 1_000_000
	if v := os.Getenv("GRIDCRM_MEMO_CUSTOMERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	counties := 1
	if v := os.Getenv("GRIDCRM_MEMO_COUNTIES"); v != "" {
		counties, _ = strconv.Atoi(v)
		counties = min(max(counties, 1), len(memoCounties))
	}
	dir, err := os.MkdirTemp("", "gridcrm-memo-bench-")
	if err != nil {
		b.Fatal(err)
	}
	cfg := store.DefaultConfig()
	cfg.Dir = dir
	st, err := store.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	mb := &memoBench{dir: dir, st: st, r: replication.StateReaderOf(st), n: n, counties: counties}
	start := time.Now()
	agg := map[[2]string]float64{}
	const chunk = 10_000
	for at := 0; at < n; at += chunk {
		owner := memoCounties[at/chunk%counties]
		d := sample.Generate(sample.Options{Region: owner, Customers: min(chunk, n-at), Months: 12, Seed: int64(at/chunk + 1)})
		tx, commit := replication.NewBatchTxn(st)
		for i := range d.Customers {
			c := &d.Customers[i]
			c.Meta = crm.Meta{ID: crm.NewID("cus", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(at+i)*time.Millisecond)), Owner: owner, Version: 1}
			c.AccountNo = fmt.Sprintf("%s%07d", owner, at+i)
			raw, _ := json.Marshal(c)
			for _, dl := range crm.AggregateDeltas("r/customers/"+c.ID, nil, raw) {
				agg[[2]string{dl.Region, dl.Metric}] += dl.Value
			}
			if at == 0 && i == 0 { // the subject: records too
				mb.subject = c.ID
				if err := crm.ApplyReplica(tx, "r/customers/"+c.ID, raw); err != nil {
					b.Fatal(err)
				}
				for j := range d.Bills[i] {
					bl := &d.Bills[i][j]
					bl.Meta = crm.Meta{ID: crm.NewID("bil", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(j)*time.Millisecond)), Owner: memoCounty, Version: 1}
					bl.CustomerID = c.ID
					braw, _ := json.Marshal(bl)
					if err := crm.ApplyReplica(tx, "r/bills/"+bl.ID, braw); err != nil {
						b.Fatal(err)
					}
				}
				mb.bill = d.Bills[i][len(d.Bills[i])-1]
				continue
			}
			if err := crm.WriteCard(tx, c, d.Bills[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	var ds []crm.Delta
	for k, v := range agg {
		ds = append(ds, crm.Delta{Region: k[0], Metric: k[1], Value: v})
	}
	tx, commit := replication.NewBatchTxn(st)
	if err := crm.ApplyDeltas(tx, ds); err != nil {
		b.Fatal(err)
	}
	if err := commit(); err != nil {
		b.Fatal(err)
	}
	mb.load = time.Since(start)
	return mb
}

// change writes the subject's last bill again with another kWh.
func (mb *memoBench) change(b *testing.B, i int) {
	old, _ := json.Marshal(&mb.bill)
	mb.bill.KWh = float64(1000 + i%7*250_000)
	mb.bill.Version++
	raw, _ := json.Marshal(&mb.bill)
	tx, commit := replication.NewBatchTxn(mb.st)
	key := "r/bills/" + mb.bill.ID
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

func BenchmarkClassMemo(b *testing.B) {
	mb := loadMemoBench(b)
	defer func() { // the store goes with the benchmark
		mb.st.Close()
		os.RemoveAll(mb.dir)
	}()
	const day = crm.Date("2026-01-15")
	b.Logf("%d customers of %d owner counties, loaded in %s", mb.n, mb.counties, mb.load.Round(time.Second))
	reads := []struct {
		name string
		read func() error
	}{
		{"classification", func() error {
			rep, e := bigcustomer.ClassifyRegion(mb.r, bigcustomer.ClassQuery{Region: "32", Subtree: true, Day: day, Class: "big", Limit: 50})
			if e == nil && rep.Counts["big"]["core"]+rep.Counts["big"]["key"]+rep.Counts["big"]["general"]+rep.Counts["ordinary"]["general"] != mb.n {
				return fmt.Errorf("classification counts %v, not %d customers", rep.Counts, mb.n)
			}
			return errOf(e)
		}},
		{"customer", func() error {
			rep, e := bigcustomer.Consumption(mb.r, mb.subject, day)
			if e == nil && rep.Compared.Peers == 0 {
				return fmt.Errorf("consumption: no peers")
			}
			return errOf(e)
		}},
		{"pareto", func() error {
			rep, e := bigcustomer.Pareto(mb.r, "32", true, day, 10)
			if e == nil && rep.Customers != mb.n {
				return fmt.Errorf("pareto of %d customers, not %d", rep.Customers, mb.n)
			}
			return errOf(e)
		}},
	}
	for _, mode := range []string{"patched", "rebuilt"} {
		for _, rd := range reads {
			b.Run(mode+"/"+rd.name, func(b *testing.B) {
				defer bigcustomer.SetClassMemoPatching(bigcustomer.SetClassMemoPatching(mode == "patched"))
				if err := rd.read(); err != nil { // the memo, built once
					b.Fatal(err)
				}
				full0, _ := bigcustomer.ClassMemoStats()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					mb.change(b, i)
					b.StartTimer()
					if err := rd.read(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				full, _ := bigcustomer.ClassMemoStats()
				b.ReportMetric(float64(full-full0)/float64(b.N), "full-reads/op")
			})
		}
	}
}

// errOf answers e as an error, nil for none.
func errOf(e *crm.Error) error {
	if e == nil {
		return nil
	}
	return e
}
