//go:build unix

package node

import (
	"encoding/json"
	"testing"
	"time"

	"gridcrm/replication"
	"gridcrm/replication/link"
)

// BenchmarkResyncSweep is the FSM of a city (3207) taking a resync of its
// county (320722, b.N customers it already holds, rolled up as uplink
// batches), the snapshot carrying every record again: the parts are
// applied untimed, then the timed part is the last part's sweep, entry by
// entry (100,000 records an entry, as a sender asks), which looks at every
// record the city holds for those the snapshot did not carry. It reports
// the longest sweep entry and the sweep's cost per record looked at: what
// bounds how long the city's FSM is held, and what a resync at a city of
// 52 M records adds.
//
//	go test -run '^$' -bench BenchmarkResyncSweep -benchtime 200000x ./node/
func BenchmarkResyncSweep(b *testing.B) {
	city, r, head, t0 := countyFeed(b, b.N, "RS")
	a := newApplier("3207", "32", nil)
	const sweepMax = 100_000 // what a sender of this version asks for (link.SetMaxSweep's default)
	index := uint64(0)
	apply := func(body any) link.Answer {
		b.Helper()
		raw, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		index++
		tx, commit := replication.NewBatchTxn(city)
		out := a.ApplyEntry(tx, index, link.Entry(link.EntryUplink, t0.Add(time.Hour), raw))
		var ans link.Answer
		if err := json.Unmarshal(out, &ans); err != nil || ans.Err != nil || ans.Rejected > 0 {
			b.Fatalf("entry %d: %s", index, out)
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
		return ans
	}
	var changes []link.Change
	for from := uint64(0); from < head; {
		cs, scanned, err := replication.ReadFeed(r, from, 2000, 4<<20, nil)
		if err != nil || len(cs) == 0 {
			b.Fatal(err, len(cs))
		}
		apply(link.Batch{Link: "320722", From: from, To: cs[len(cs)-1].Seq, Head: head, Changes: cs})
		changes = append(changes, cs...)
		from = scanned
	}
	// The snapshot: every record the county's feed left (its last value).
	last := map[string]link.Change{}
	for _, c := range changes {
		last[c.Key] = link.Change{Origin: c.Origin, Key: c.Key, Value: c.Value}
	}
	part := 0
	var items []link.Change
	send := func(final bool) link.Answer {
		ans := apply(link.Batch{Link: "320722", Resync: &link.ResyncPart{ID: "bench", Part: part, Last: final, Seq: head + 1, Items: items, SweepMax: sweepMax}})
		part++
		items = nil
		return ans
	}
	for _, c := range last {
		if c.Value == nil {
			continue
		}
		if items = append(items, c); len(items) == 2000 {
			send(false)
		}
	}
	looked := 0
	replication.StateReaderOf(city).Iterate([]byte("r/"), []byte("r0"), func(_, _ []byte) bool { looked++; return true })
	b.ResetTimer()
	var longest time.Duration
	entries := 0
	for ans, sweep := (link.Answer{Sweeping: true}), false; ans.Sweeping; sweep = true {
		start := time.Now()
		if sweep {
			ans = apply(link.Batch{Link: "320722", Resync: &link.ResyncPart{ID: "bench", Part: part, Last: true, Sweep: true, Seq: head + 1, SweepMax: sweepMax}})
		} else {
			ans = send(true) // its items and the first sweep entry
		}
		longest = max(longest, time.Since(start))
		entries++
	}
	b.StopTimer()
	b.ReportMetric(float64(longest.Milliseconds()), "longest-entry-ms")
	b.ReportMetric(float64(entries), "sweep-entries")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(looked), "µs/record")
	b.Logf("swept %d records in %d entries, %s, the longest %s", looked, entries, b.Elapsed().Round(time.Millisecond), longest.Round(time.Millisecond))
}
