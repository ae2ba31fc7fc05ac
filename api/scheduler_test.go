package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
)

// TestSchedule_MonthlyRuns: the leader runs the grades and then the
// warnings of the previous month once the day has come, records both runs,
// and skips a month already run; a follower, a disabled schedule and a day
// before cfg.Day run nothing.
func TestSchedule_MonthlyRuns(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	const months = 36 // 2023-01 .. 2025-12
	big := admin.create("customers", customerBody("SCH-1").with("category", "industrial", "voltage_kv", 10, "capacity_kva", 1000))
	billsFor(admin, big, months, func(i int) float64 {
		if i == months-1 {
			return 0 // stopped in December
		}
		return seasonal(i, 50000)
	}, onTime)
	ctx := context.Background()
	cfg := api.DefaultScheduleConfig()
	at := func(day int) time.Time { return time.Date(2026, 1, day, 10, 0, 0, 0, time.UTC) }

	if out, err := f.srv.ScheduleOnce(ctx, cfg, at(4)); err != nil || out.Period != "" || out.Grades != nil || out.Warnings != nil {
		t.Fatalf("before day %d: %+v %v", cfg.Day, out, err)
	}
	f.b.follower.Store(true)
	if out, err := f.srv.ScheduleOnce(ctx, cfg, at(6)); err != nil || out.Leader || out.Grades != nil || out.Warnings != nil {
		t.Fatalf("on a follower: %+v %v", out, err)
	}
	f.b.follower.Store(false)
	off := cfg
	off.Disabled = true
	if out, err := f.srv.ScheduleOnce(ctx, off, at(6)); err != nil || out.Grades != nil || out.Warnings != nil {
		t.Fatalf("disabled: %+v %v", out, err)
	}

	out, err := f.srv.ScheduleOnce(ctx, cfg, at(6))
	if err != nil || out.Period != "2025-12" || out.Grades == nil || out.Grades.Graded != 1 || out.Warnings == nil || out.Warnings.Abnormal != 1 || out.Warnings.Churn != 1 {
		t.Fatalf("the first check of January: %+v %+v %+v %v", out, out.Grades, out.Warnings, err)
	}
	ws := admin.must(200, "GET", "/api/v1/warnings/abnormal?period=2025-12", nil)["warnings"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["reasons"].([]any)[0] != "zero" {
		t.Errorf("the list after the scheduled run: %v", ws)
	}
	runs := admin.must(200, "GET", "/api/v1/analytics_runs?period=2025-12", nil)["items"].([]any)
	if len(runs) != 2 {
		t.Errorf("runs recorded: %v", runs)
	}
	before := len(f.b.commands())
	again, err := f.srv.ScheduleOnce(ctx, cfg, at(20))
	if err != nil || again.Period != "2025-12" || again.Grades != nil || again.Warnings != nil || len(f.b.commands()) != before {
		t.Errorf("a month already run: %+v, %d commands written", again, len(f.b.commands())-before)
	}

	// RunSchedule returns when disabled, and when its context ends.
	done := make(chan struct{})
	go func() { f.srv.RunSchedule(ctx, off); close(done) }()
	<-done
	cctx, cancel := context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { f.srv.RunSchedule(cctx, api.ScheduleConfig{Every: time.Second}); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunSchedule did not return after its context ended")
	}
	// A month run by hand is not run again by the schedule.
	admin.must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-11"})
	admin.must(200, "POST", "/api/v1/warnings/run", obj{"period": "2025-11"})
	if out, err := f.srv.ScheduleOnce(ctx, cfg, time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)); err != nil || out.Period != "2025-11" || out.Grades != nil || out.Warnings != nil {
		t.Errorf("a month run by hand: %+v %v", out, err)
	}
	if err := (api.ScheduleConfig{Day: 29}).Validate(); err == nil {
		t.Error("day 29 accepted")
	}
}

// BenchmarkSchedule_MonthlyRun: one month's scheduled run (the credit
// grades, then the warnings and trends) over a county of
// GRIDCRM_BENCH_CUSTOMERS customers (default 2,000; the county is
// 100,000) with 25 months of bills each (the month judged and 24 before),
// one in five a business customer,
// on the fake backend (crm.Apply on a MemTxn: no raft, no Pebble). Run:
//
//	GRIDCRM_BENCH_CUSTOMERS=20000 go test -run XXX -bench Schedule_MonthlyRun -benchtime 1x -benchmem ./api/
func BenchmarkSchedule_MonthlyRun(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("GRIDCRM_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	cfg := api.DefaultScheduleConfig()
	for b.Loop() {
		b.StopTimer()
		f := newFake(b, region)
		propose := func(coll, prefix string, rows []json.RawMessage) []string {
			ids := make([]string, len(rows))
			now := time.Now()
			for i := range ids {
				ids[i] = crm.NewID(prefix, now)
			}
			res, err := f.b.Propose(ctx, &crm.Command{Op: crm.OpImport, Collection: coll, Rows: rows, IDs: ids, Region: region, Actor: crm.SystemActor, Time: now.UTC()})
			if err != nil || res.Err != nil {
				b.Fatalf("import %s: %v %v", coll, err, res.Err)
			}
			return ids
		}
		r := rand.New(rand.NewPCG(7, 7))
		for done := 0; done < n; {
			k := min(n-done, crm.MaxImportRows/25)
			var cus []json.RawMessage
			for i := range k {
				body := customerBody(fmt.Sprintf("BN-%07d", done+i))
				if (done+i)%5 == 0 {
					body = body.with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100)
				}
				cus = append(cus, json.RawMessage(body.String()))
			}
			ids := propose("customers", "cus", cus)
			var bills []json.RawMessage
			for _, id := range ids {
				scale := 100 + 10000*r.Float64()
				for m := range 25 { // 2023-12 .. 2025-12: the month judged and 24 before it
					kwh := math.Round(seasonal(11+m, scale) * math.Exp(0.05*r.NormFloat64()))
					bills = append(bills, json.RawMessage(obj{"customer_id": id, "period": period(11 + m), "kwh": kwh, "billed": math.Round(kwh * 0.6), "paid": 0}.String()))
				}
			}
			propose("bills", "bil", bills)
			done += k
		}
		b.StartTimer()
		out, err := f.srv.ScheduleOnce(ctx, cfg, time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC))
		if err != nil || out.Grades == nil || out.Warnings == nil || out.Grades.Graded != n {
			b.Fatalf("run: %+v %v", out, err)
		}
		b.ReportMetric(float64(out.Warnings.Abnormal)/float64(n), "abnormal/customer")
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/customer")
	}
	b.ReportMetric(float64(n), "customers")
}
