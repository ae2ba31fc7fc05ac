package chaos

import (
	"fmt"
	"testing"
	"time"
)

func TestLongestGap(t *testing.T) {
	gap, from := longestGap(at(0), at(100), []time.Time{at(10), at(20), at(70), at(95)})
	if gap != 50*time.Millisecond || !from.Equal(at(20)) {
		t.Fatalf("got %v from %v, want 50ms from 20ms", gap, from.Sub(t0))
	}
	if gap, _ := longestGap(at(0), at(100), nil); gap != 100*time.Millisecond {
		t.Fatalf("no success at all: got %v, want the whole window", gap)
	}
	if gap, _ := longestGap(at(0), at(100), []time.Time{at(150)}); gap != 100*time.Millisecond {
		t.Fatalf("a success after the window: got %v", gap)
	}
}

func TestMeasureAvailability(t *testing.T) {
	w := func(start, end int, out Outcome) Op {
		return Op{Kind: OpCreate, Client: 1, Region: County, Account: fmt.Sprint(start), Outcome: out, Start: at(start), End: at(end)}
	}
	ops := []Op{
		w(0, 5, Applied), w(10, 15, Applied), // startup
		w(100, 103, Unknown), w(104, 300, NotApplied), w(350, 360, Applied), // kill-leader: out from 100 to 360
		w(400, 410, Applied), w(420, 430, Refused), // settle
		{Kind: OpCreate, Region: County2, Outcome: Unknown, Start: at(120), End: at(130)}, // another region: not counted
		{Kind: OpRead, Region: County, Outcome: Unknown, Start: at(120), End: at(130)},    // a read: not counted
	}
	windows := []Window{{startup, County, at(0), at(100)}, {KillLeader, County, at(100), at(400)}, {settle, County, at(400), at(500)}}
	creates := []Create{{Account: "0", Outcome: Applied}, {Account: "100", Outcome: Unknown}, {Account: "104", Outcome: NotApplied}, {Account: "350", Outcome: Applied}}
	got := MeasureAvailability(ops, creates, windows)
	if len(got) != 3 {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	kl := got[1]
	if kl.Kind != KillLeader || kl.Attempts != 3 || kl.Succeeded != 1 || kl.Longest != 260*time.Millisecond || kl.Creates != 3 || kl.CreatesAcked != 1 {
		t.Fatalf("kill-leader: %+v, want 3 attempts, 1 answered, longest 260ms, 1 of 3 creates acknowledged", kl)
	}
	if s := got[2]; s.Attempts != 2 || s.Succeeded != 2 || s.Fraction != 1 {
		t.Fatalf("settle: %+v", s)
	}
}

func TestFaultWindows(t *testing.T) {
	l := NewLayout(t.TempDir(), 1, func(i int) (string, int, int, string) { return "127.0.0.1", 1000 + i, 2000 + i, "" })
	faults := []FaultEvent{
		{Fault: Fault{Kind: KillNode}, Targets: []string{"gy1"}, Start: at(100)},
		{Fault: Fault{Kind: PartitionNode}, Skipped: "no netns", Start: at(200)},
		{Fault: Fault{Kind: KillCity}, Targets: []string{"c3207"}, Start: at(300)},
	}
	ws := FaultWindows(l, faults, at(0), at(500), at(600))
	want := []Window{{startup, County, at(0), at(100)}, {KillNode, County2, at(100), at(300)}, {KillCity, County, at(300), at(500)}, {settle, County, at(500), at(600)}}
	if len(ws) != len(want) {
		t.Fatalf("got %+v", ws)
	}
	for i := range want {
		if ws[i] != want[i] {
			t.Errorf("window %d: %+v, want %+v", i, ws[i], want[i])
		}
	}
}
