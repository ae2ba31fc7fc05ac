package chaos

import (
	"fmt"
	"hash/fnv"
	"math"
	"path/filepath"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// regState is one register's state: the record's version and the value of
// the field the writers set (the customer's name).
type regState struct {
	Version uint64
	Value   string
}

// regInput is a register operation as the model sees it.
type regInput struct {
	Kind   OpKind
	Key    string
	Expect uint64 // update: the version sent
	Value  string // create, update: the value written
}

// regOutput is what the operation answered.
type regOutput struct {
	Outcome Outcome // Applied, Refused (stale version) or Unknown; reads are Applied
	Version uint64  // read: the version read; update: the version answered
	Value   string  // read: the value read
}

// registerModel is the sequential specification of one customer record
// updated with compare-and-set on its version (PATCH {"version": v}) and
// read linearizably. It is nondeterministic in one place only: a write
// whose outcome is unknown may or may not take effect (its return time is
// unbounded, so it may take effect at any point after its call).
var registerModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(regInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{regState{}} },
	Step: func(state, input, output any) []any {
		s, in, out := state.(regState), input.(regInput), output.(regOutput)
		switch in.Kind {
		case OpCreate:
			if s.Version != 0 {
				return nil
			}
			return []any{regState{Version: 1, Value: in.Value}}
		case OpRead:
			if s.Version == out.Version && s.Value == out.Value {
				return []any{s}
			}
			return nil
		case OpUpdate:
			applied := regState{Version: in.Expect + 1, Value: in.Value}
			switch out.Outcome {
			case Applied:
				if s.Version == in.Expect && out.Version == in.Expect+1 {
					return []any{applied}
				}
				return nil
			case Refused: // 409: the version was not the current one
				if s.Version != in.Expect {
					return []any{s}
				}
				return nil
			case Unknown:
				if s.Version == in.Expect {
					return []any{s, applied}
				}
				return []any{s}
			}
			return []any{s} // certainly not applied
		}
		return nil
	},
	Hash: func(state any) uint64 {
		s := state.(regState)
		h := fnv.New64a()
		fmt.Fprintf(h, "%d\x00%s", s.Version, s.Value)
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		switch in.Kind {
		case OpRead:
			return fmt.Sprintf("read → v%d %q", out.Version, out.Value)
		case OpCreate:
			return fmt.Sprintf("create %q", in.Value)
		}
		return fmt.Sprintf("cas(v%d, %q) → %s v%d", in.Expect, in.Value, out.Outcome, out.Version)
	},
	DescribeState: func(state any) string {
		s := state.(regState)
		return fmt.Sprintf("v%d %q", s.Version, s.Value)
	},
}

// RegisterOps turns the history's operations on registers into porcupine
// operations: acknowledged reads, updates with an answer (acknowledged,
// refused as stale, or unknown), and each register's initial create.
// Failed reads and writes that were certainly not applied are left out
// (they changed nothing); unknown writes return at +∞.
func RegisterOps(ops []Op, t0 time.Time) []porcupine.Operation {
	var out []porcupine.Operation
	ts := func(t time.Time) int64 { return t.Sub(t0).Nanoseconds() }
	for _, op := range ops {
		if op.Key == "" {
			continue
		}
		p := porcupine.Operation{ClientId: op.Client, Call: ts(op.Start), Return: ts(op.End), Metadata: op.ID}
		in := regInput{Kind: op.Kind, Key: op.Key, Expect: op.Version, Value: op.Value}
		switch op.Kind {
		case OpCreate:
			if op.Outcome != Applied {
				continue
			}
			p.Output = regOutput{Outcome: Applied, Version: 1}
		case OpRead:
			if op.Outcome != Applied {
				continue
			}
			in = regInput{Kind: OpRead, Key: op.Key}
			p.Output = regOutput{Outcome: Applied, Version: op.Version, Value: op.Value}
		case OpUpdate:
			switch {
			case op.Outcome == Applied:
				p.Output = regOutput{Outcome: Applied, Version: op.NewVersion}
			case op.Outcome == Refused && op.Code == "conflict":
				p.Output = regOutput{Outcome: Refused}
			case op.Outcome == Unknown:
				p.Output = regOutput{Outcome: Unknown}
				p.Return = math.MaxInt64
			default:
				continue
			}
		}
		p.Input = in
		out = append(out, p)
	}
	return out
}

// LinearizabilityResult is the verdict on the registers' histories.
type LinearizabilityResult struct {
	Result  porcupine.CheckResult `json:"result"` // Ok, Illegal or Unknown (timed out)
	Ops     int                   `json:"ops"`
	Keys    []string              `json:"illegal_keys,omitempty"`
	Visual  string                `json:"visualization,omitempty"` // HTML file, when not Ok
	Elapsed time.Duration         `json:"elapsed"`
}

// CheckRegisterHistories checks the register histories with porcupine. When
// the result is not Ok and dir is not empty it writes porcupine's
// visualisation to dir/linearizability.html.
func CheckRegisterHistories(ops []porcupine.Operation, timeout time.Duration, dir string) LinearizabilityResult {
	model := registerModel.ToModel()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	lr := LinearizabilityResult{Result: res, Ops: len(ops), Elapsed: time.Since(start)}
	if res == porcupine.Ok {
		return lr
	}
	if res == porcupine.Illegal {
		lr.Keys = illegalKeys(model, ops, timeout)
	}
	if dir != "" {
		path := filepath.Join(dir, "linearizability.html")
		if err := porcupine.VisualizePath(model, info, path); err == nil {
			lr.Visual = path
		}
	}
	return lr
}

// illegalKeys checks each register alone to name the ones that fail.
func illegalKeys(model porcupine.Model, ops []porcupine.Operation, timeout time.Duration) []string {
	var keys []string
	for _, part := range model.Partition(ops) {
		if porcupine.CheckOperationsTimeout(model, part, timeout) == porcupine.Illegal {
			keys = append(keys, part[0].Input.(regInput).Key)
		}
	}
	return keys
}
