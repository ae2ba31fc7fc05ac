package node

import (
	"testing"
	"time"
)

// TestWarmPolicy: the class memos are read again only after enough card
// writes, once the writes stand still for warmQuiet or have kept coming
// for warmMaxWait after that many, and not sooner than nine times the last warm-up's
// length after it ended.
func TestWarmPolicy(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	var p warmPolicy
	p.warmed(100, t0, 10*time.Millisecond)

	// Nothing written: never due, however long it waits.
	for s := 1; s <= 300; s++ {
		if p.due(100, at(float64(s))) {
			t.Fatalf("due at %d s with no card written", s)
		}
	}
	// A few writes (the first reader patches them in): not due.
	if p.due(100+warmMinWrites-1, at(301)) || p.due(100+warmMinWrites-1, at(400)) {
		t.Fatal("due after fewer than warmMinWrites card writes")
	}
	// Enough writes: due once they have stood still for warmQuiet.
	if p.due(100+warmMinWrites, at(401)) {
		t.Fatal("due while the writes are still moving")
	}
	if p.due(100+warmMinWrites, at(401).Add(warmQuiet-time.Millisecond)) {
		t.Fatal("due before the writes stood still for warmQuiet")
	}
	if !p.due(100+warmMinWrites, at(401).Add(warmQuiet)) {
		t.Fatal("not due after the writes stood still for warmQuiet")
	}

	// Writes that keep coming: due after warmMaxWait, not before.
	p.warmed(5000, at(500), 10*time.Millisecond)
	w := uint64(5000)
	var dueAt time.Time
	for s := 501.0; s < 1000; s += 1 {
		w += 500
		if p.due(w, at(s)) {
			dueAt = at(s)
			break
		}
	}
	if want := at(502).Add(warmMaxWait); !dueAt.Equal(want) { // 1,000 written at 502 s
		t.Fatalf("with writes every second: due at %v, want %v (warmMaxWait after warmMinWrites)", dueAt.Sub(t0), want.Sub(t0))
	}

	// A warm-up of 5 s: at most a tenth of the time, so not due within 45 s of its end.
	p.warmed(w, at(1000), 5*time.Second)
	w += 10 * warmMinWrites
	for s := 1001.0; s < 1045; s += 1 {
		if p.due(w, at(s)) {
			t.Fatalf("due %v s after a warm-up of 5 s ended", s-1000)
		}
	}
	if !p.due(w, at(1045)) {
		t.Fatal("not due 45 s after a warm-up of 5 s, the writes long still")
	}
}
