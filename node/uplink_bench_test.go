//go:build unix

package node

import (
	"encoding/json"
	"testing"
	"time"

	"gridcrm/replication"
	"gridcrm/replication/link"
	"gridcrm/store"
)

// BenchmarkApplyUplink is the FSM of a city (3207) applying its county's
// (320722) uplink batches of 2,000 changes, as a catch-up does, without
// raft, HTTP or the county's own work: the county's feed is made first (b.N
// customer creates through its FSM, 32 a batch), then the timed part
// decodes each raft entry and runs the link applier (screening,
// crm.ApplyReplica with the city's indexes, search entries, cards and
// aggregates, the city's own feed) and commits. It reports the process's
// CPU per change, Pebble's flushes and compactions included.
//
//	go test -run '^$' -bench BenchmarkApplyUplink -benchtime 100000x ./node/
func BenchmarkApplyUplink(b *testing.B) {
	city, r, head, t0 := countyFeed(b, b.N, "UP")
	var entries [][]byte
	for from := uint64(0); from < head; {
		cs, scanned, err := replication.ReadFeed(r, from, 2000, 4<<20, nil)
		if err != nil || len(cs) == 0 {
			b.Fatal(err, len(cs))
		}
		body, err := json.Marshal(link.Batch{Link: "320722", From: from, To: cs[len(cs)-1].Seq, Head: head, Changes: cs})
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, link.Entry(link.EntryUplink, t0.Add(time.Hour), body))
		from = scanned
	}
	a := newApplier("3207", "32", nil)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i, e := range entries {
		tx, commit := replication.NewBatchTxn(city)
		out := a.ApplyEntry(tx, uint64(i+1), e)
		var ans link.Answer
		if err := json.Unmarshal(out, &ans); err != nil || ans.Err != nil || ans.Rejected > 0 {
			b.Fatalf("batch %d: %s", i, out)
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(head), "cpu-µs/change")
	b.ReportMetric(float64(head)/float64(b.N), "changes/customer")
}

// countyFeed makes a county's (320722, under 3207) feed of n customer
// creates through its FSM, 32 a batch (tag keeps their 户号 apart), and
// answers an empty store for its city, the county's reader, its feed head
// and the time the creates start from.
func countyFeed(b *testing.B, n int, tag string) (city *store.Store, r replication.StateReader, head uint64, t0 time.Time) {
	open := func() *store.Store {
		st, err := store.Open(store.Config{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	county, city := open(), open()
	ca := newApplier("320722", "3207", nil)
	t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i += 32 {
		applyCreates(b, county, ca, tag, t0, i, min(i+32, n))
	}
	r = replication.StateReaderOf(county)
	_, head, err := replication.FeedBounds(r)
	if err != nil {
		b.Fatal(err)
	}
	return city, r, head, t0
}
