//go:build unix

package node

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/replication"
	"gridcrm/store"
)

// cpuTime is the CPU time this process has used (user and system, every
// thread: the GC's and Pebble's background work included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApplyAudit is what the FSM does for a customer create proposed
// through the API, without and with its audit entry: the raft entry
// decoded, crm.Apply on a link.FeedTxn (the change feed and aggregates)
// over a Pebble batch, 32 commands a batch as raft hands them over. It
// reports the bytes the store's WAL took per create (wal-B/op) and, after a
// flush and a full compaction, the bytes written to tables per create
// (table-B/op), and the process's CPU time per create from the first apply
// to the end of that compaction (cpu-ns/op: the GC and Pebble's background
// work included; a machine shared with other work stretches ns/op, not
// this): what the audit entry adds, free of the raft timing that makes
// BenchmarkAPI noisy on a loaded machine.
//
//	go test -run '^$' -bench BenchmarkApplyAudit -benchtime 20000x ./node/
func BenchmarkApplyAudit(b *testing.B) {
	for _, audited := range []bool{false, true} {
		b.Run(fmt.Sprintf("audit=%v", audited), func(b *testing.B) {
			st, err := store.Open(store.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			a := newApplier("320722", "", nil)
			t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			entries := make([][]byte, b.N)
			for i := range entries {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				cmd := crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", at), Region: "320722", Actor: crm.SystemActor, Time: at,
					Body: load.Customer("320722", "AB", i)}
				if audited {
					cmd.Audit = &crm.AuditContext{Route: "POST /api/v1/customers", Source: "10.32.7.21", Node: "dh1", Role: "agent", UserRegion: "320722"}
				}
				if entries[i], err = encodeCommand(&cmd); err != nil {
					b.Fatal(err)
				}
			}
			db := st.DB()
			wal0 := db.Metrics().WAL.BytesWritten
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i += 32 {
				tx, commit := replication.NewBatchTxn(st)
				for j := i; j < min(i+32, b.N); j++ {
					if out := a.ApplyEntry(tx, uint64(j+1), entries[j]); bytes.Contains(out, []byte(`"error"`)) {
						b.Fatalf("create %d: %s", j, out)
					}
				}
				if err := commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			m := db.Metrics()
			b.ReportMetric(float64(m.WAL.BytesWritten-wal0)/float64(b.N), "wal-B/op")
			if err := db.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := db.Compact(b.Context(), []byte{0}, []byte{0xff}, true); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			m = db.Metrics()
			var written uint64
			for _, l := range m.Levels {
				written += l.TableBytesFlushed + l.TableBytesCompacted
			}
			b.ReportMetric(float64(written)/float64(b.N), "table-B/op")
		})
	}
}
