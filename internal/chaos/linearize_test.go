package chaos

import (
	"reflect"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// A tiny language for register histories on key k.
func hCreate(key string) Op {
	return Op{Kind: OpCreate, Key: key, Value: "init", Outcome: Applied, Start: at(0), End: at(1)}
}

func hUpdate(client, start, end int, expect uint64, value string, out Outcome) Op {
	op := Op{Client: client, Kind: OpUpdate, Key: "k", Version: expect, Value: value, Outcome: out, Start: at(start), End: at(end)}
	switch out {
	case Applied:
		op.NewVersion = expect + 1
	case Refused:
		op.Code = "conflict"
	}
	return op
}

func hRead(client, start, end int, version uint64, value string) Op {
	return Op{Client: client, Kind: OpRead, Key: "k", Version: version, Value: value, Outcome: Applied, Start: at(start), End: at(end)}
}

func check(t *testing.T, ops ...Op) porcupine.CheckResult {
	t.Helper()
	return CheckRegisterHistories(RegisterOps(ops, t0), 5*time.Second, "").Result
}

func TestRegisterModel(t *testing.T) {
	cases := []struct {
		name string
		ops  []Op
		want porcupine.CheckResult
	}{
		{"write then read", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Applied), hRead(2, 30, 40, 2, "a")}, porcupine.Ok},
		{"stale read", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Applied), hRead(2, 30, 40, 1, "init")}, porcupine.Illegal},
		{"lost write: an acknowledged version disappears", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Applied),
			hUpdate(1, 30, 40, 2, "b", Applied), hRead(2, 50, 60, 2, "a")}, porcupine.Illegal},
		{"lost update: two compare-and-sets from one version both acknowledged", []Op{hCreate("k"),
			hUpdate(1, 10, 20, 1, "a", Applied), hUpdate(2, 30, 40, 1, "b", Applied)}, porcupine.Illegal},
		{"read concurrent with the write may see either", []Op{hCreate("k"), hUpdate(1, 10, 50, 1, "a", Applied),
			hRead(2, 20, 30, 1, "init"), hRead(3, 25, 35, 2, "a")}, porcupine.Ok},
		{"unknown write that took effect late", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Unknown),
			hRead(2, 30, 40, 1, "init"), hRead(2, 50, 60, 2, "a")}, porcupine.Ok},
		{"unknown write that never took effect", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Unknown),
			hUpdate(2, 30, 40, 1, "b", Applied), hRead(2, 50, 60, 2, "b")}, porcupine.Ok},
		{"a write refused as stale that was applied", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Refused),
			hRead(2, 30, 40, 2, "a")}, porcupine.Illegal},
		{"a write answered not-applied leaves no trace in the model", []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", NotApplied),
			hRead(2, 30, 40, 1, "init")}, porcupine.Ok},
		{"a read of a value nobody wrote", []Op{hCreate("k"), hRead(2, 30, 40, 2, "ghost")}, porcupine.Illegal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := check(t, c.ops...); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestCheckRegisterHistories_NamesTheBadKey(t *testing.T) {
	good := []Op{hCreate("good"), {Client: 1, Kind: OpRead, Key: "good", Version: 1, Value: "init", Outcome: Applied, Start: at(5), End: at(6)}}
	bad := []Op{hCreate("k"), hUpdate(1, 10, 20, 1, "a", Applied), hRead(2, 30, 40, 1, "init")}
	res := CheckRegisterHistories(RegisterOps(append(good, bad...), t0), 5*time.Second, t.TempDir())
	if res.Result != porcupine.Illegal || !reflect.DeepEqual(res.Keys, []string{"k"}) {
		t.Fatalf("got %s on keys %v, want Illegal on [k]", res.Result, res.Keys)
	}
	if res.Visual == "" {
		t.Error("no visualisation written")
	}
}

func TestRegisterOps_LeavesOutWhatChangedNothing(t *testing.T) {
	failedRead := Op{Kind: OpRead, Key: "k", Outcome: Unknown, Start: at(1), End: at(2)}
	plainCreate := Op{Kind: OpCreate, Account: "W00-000001", Outcome: Applied, Start: at(1), End: at(2)}
	ops := RegisterOps([]Op{hCreate("k"), failedRead, plainCreate, hUpdate(1, 10, 20, 1, "a", NotApplied), hUpdate(1, 10, 20, 1, "b", Unknown)}, t0)
	if len(ops) != 2 {
		t.Fatalf("got %d operations, want the create and the unknown update", len(ops))
	}
	if ops[1].Return <= at(1000000).Sub(t0).Nanoseconds() {
		t.Errorf("an unknown write returns at %d, want +∞", ops[1].Return)
	}
}
