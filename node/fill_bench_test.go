//go:build unix

package node

import (
	"bytes"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/replication"
	"gridcrm/store"
)

// BenchmarkApplyFill is the FSM of one node (crm.Apply on a link.FeedTxn
// over a Pebble batch, 32 creates a batch, as BenchmarkApplyAudit) filling
// a region with b.N customers, logged per window of 20,000: the process's
// CPU per create (Pebble's flushes and compactions included) and the
// bytes Pebble's compactions wrote per create. It shows what a write
// costs as the region fills, without raft or HTTP.
//
//	go test -run '^$' -bench BenchmarkApplyFill -benchtime 200000x -v ./node/
func BenchmarkApplyFill(b *testing.B) {
	st, err := store.Open(store.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	db := st.DB()
	a := newApplier("320722", "", nil)
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	const window = 20_000
	compacted := func() uint64 {
		var n uint64
		for _, l := range db.Metrics().Levels {
			n += l.TableBytesCompacted + l.TableBytesFlushed
		}
		return n
	}
	b.ResetTimer()
	cpu0, w0, start := cpuTime(), compacted(), time.Now()
	for i := 0; i < b.N; i += 32 {
		applyCreates(b, st, a, "FL", t0, i, min(i+32, b.N))
		if done := i + 32; done%window == 0 || done >= b.N {
			n := done - (done-1)/window*window
			cpu, w := cpuTime(), compacted()
			m := db.Metrics()
			b.Logf("customers %7d: %6.0f µs CPU/create, %5.0f creates/s, tables written %6.0f B/create, L0 files %d, read amp %d",
				done, float64((cpu-cpu0).Microseconds())/float64(n), float64(n)/time.Since(start).Seconds(), float64(w-w0)/float64(n), m.Levels[0].TablesCount, m.ReadAmp())
			cpu0, w0, start = cpu, w, time.Now()
		}
	}
	b.StopTimer()
	b.Logf("%s", db.Metrics())
}

// applyCreates applies customer creates from..to-1 of county 320722 (tag
// keeps their 户号 apart) through a's FSM as one batch on st, as the FSM
// applies a group commit: the raft entry decoded, crm.Apply on the feed's
// transaction, one Pebble batch.
func applyCreates(b *testing.B, st *store.Store, a *applier, tag string, t0 time.Time, from, to int) {
	tx, commit := replication.NewBatchTxn(st)
	for j := from; j < to; j++ {
		at := t0.Add(time.Duration(j) * time.Millisecond)
		cmd := crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", at), Region: "320722", Actor: crm.SystemActor, Time: at,
			Body: load.Customer("320722", tag, j)}
		entry, err := encodeCommand(&cmd)
		if err != nil {
			b.Fatal(err)
		}
		if out := a.ApplyEntry(tx, uint64(j+1), entry); bytes.Contains(out, []byte(`"error"`)) {
			b.Fatalf("create %d: %s", j, out)
		}
	}
	if err := commit(); err != nil {
		b.Fatal(err)
	}
}
