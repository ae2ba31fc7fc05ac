package link

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gridcrm/replication"
	"gridcrm/store"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the scenario scripts in testdata/")

// TestScenarios runs the link scenarios in testdata/*.txt, each on its own
// Pebble store in a temporary directory, with the fake domain: no raft, no
// cluster. A script is a sequence of steps:
//
//	# a comment
//	command arg=value …
//	input lines (a batch's JSON, records to write, …)
//	----
//	the expected output
//	(a blank line ends the step)
//
// Commands (see scenario.run): region, local, uplink, downlink,
// screen-uplink, screen-downlink, serve-downlink, prune, prune-plan, state,
// feed, rejects. `go test -run TestScenarios -rewrite` rewrites the
// expected outputs from what the code does now (read the diff!).
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata/: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScript(t, f) })
	}
}

type step struct {
	line     int
	cmd      string
	args     map[string]string
	argv     []string // as written
	input    []string
	expected []string
	comments []string // before the step
}

func parseScript(t *testing.T, path string) (steps []step, tail []string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	var pending []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pending = append(pending, l)
			continue
		}
		s := step{line: i + 1, args: map[string]string{}, comments: pending}
		pending = nil
		f := strings.Fields(l)
		s.cmd = f[0]
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			s.args[k] = v
			s.argv = append(s.argv, a)
		}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			s.input = append(s.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %s without ----", path, s.line, s.cmd)
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			s.expected = append(s.expected, lines[i])
		}
		i-- // the blank line is the next step's
		steps = append(steps, s)
	}
	return steps, pending
}

func runScript(t *testing.T, path string) {
	steps, tail := parseScript(t, path)
	sc := &scenario{t: t}
	defer sc.close()
	var out bytes.Buffer
	for _, s := range steps {
		got := sc.run(s)
		for _, c := range s.comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(strings.Join(append([]string{s.cmd}, s.argv...), " ") + "\n")
		for _, l := range s.input {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		for _, l := range got {
			out.WriteString(l + "\n")
		}
		if !*rewrite && strings.Join(got, "\n") != strings.Join(s.expected, "\n") {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, s.line, s.cmd, strings.Join(got, "\n"), strings.Join(s.expected, "\n"))
		}
	}
	for _, c := range tail {
		out.WriteString(c + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scenario is one region's replica under test.
type scenario struct {
	t      *testing.T
	st     *store.Store
	region string
	parent string
	m      *Metrics
	a      *Applier
	ids    int
}

func (sc *scenario) close() {
	if sc.st != nil {
		sc.st.Close()
	}
}

func (sc *scenario) fail(s step, format string, args ...any) []string {
	sc.t.Fatalf("line %d: %s: %s", s.line, s.cmd, fmt.Sprintf(format, args...))
	return nil
}

func (sc *scenario) uintArg(s step, name string, def uint64) uint64 {
	v, ok := s.args[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		sc.fail(s, "%s=%q: %v", name, v, err)
	}
	return n
}

// at is the time steps are stamped with (Unix ms): at=… or 2026-01-01.
func (sc *scenario) at(s step) int64 {
	return int64(sc.uintArg(s, "at", 1767225600000))
}

// apply applies one entry on a fresh batch and commits it.
func (sc *scenario) apply(entry []byte) []byte {
	tx, commit := replication.NewBatchTxn(sc.st)
	out := sc.a.Apply(tx, entry[0], entry[1:])
	if err := commit(); err != nil {
		sc.t.Fatal(err)
	}
	return out
}

func (sc *scenario) newID() string {
	sc.ids++
	return fmt.Sprintf("rs%d", sc.ids)
}

func (sc *scenario) run(s step) []string {
	if s.cmd != "region" && sc.st == nil {
		return sc.fail(s, "no region yet")
	}
	input := strings.Join(s.input, "\n")
	switch s.cmd {
	case "region":
		// region code=3207 parent=32: a fresh replica.
		sc.close()
		st, err := store.Open(store.Config{Dir: sc.t.TempDir()})
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		sc.st, sc.region, sc.parent = st, s.args["code"], s.args["parent"]
		sc.m = NewMetrics(nil)
		sc.a = NewApplier(sc.region, sc.parent, fakeDomain{}, sc.m)
		return []string{"ok"}
	case "local":
		// local [at=ms]: records written here (one "key value" a line,
		// value "-" deletes), as a command applied here would.
		tx, commit := replication.NewBatchTxn(sc.st)
		ft := NewFeedTxn(tx, fakeDomain{}, sc.region, sc.at(s), sc.at(s))
		for _, l := range s.input {
			k, v, _ := strings.Cut(l, " ")
			var err error
			if v == "-" {
				err = ft.Delete([]byte(k))
			} else {
				err = ft.Set([]byte(k), []byte(v))
			}
			if err != nil {
				return sc.fail(s, "%v", err)
			}
		}
		if err := ft.Flush(); err != nil {
			return sc.fail(s, "%v", err)
		}
		if err := commit(); err != nil {
			return sc.fail(s, "%v", err)
		}
		return []string{"ok"}
	case "uplink", "downlink":
		// uplink [at=ms]: the batch (JSON) as a committed entry; the answer.
		kind := EntryUplink
		if s.cmd == "downlink" {
			kind = EntryDownlink
		}
		return []string{string(sc.apply(Entry(kind, time.UnixMilli(sc.at(s)), []byte(input))))}
	case "prune":
		raw, _ := json.Marshal(Prune{Upto: sc.uintArg(s, "upto", 0)})
		return []string{string(sc.apply(append([]byte{EntryPrune}, raw...)))}
	case "screen-uplink":
		// What the parent's handler decides before proposing the batch.
		var b Batch
		if err := json.Unmarshal([]byte(input), &b); err != nil {
			return []string{"undecodable: " + err.Error()}
		}
		rj, c, err := screenUplink(fakeDomain{}, replication.StateReaderOf(sc.st), sc.region, &b)
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		if rj == nil {
			ans, refused, err := epochRefusal(replication.StateReaderOf(sc.st), &b)
			if err != nil {
				return sc.fail(s, "%v", err)
			}
			if refused {
				raw, _ := json.Marshal(ans)
				return []string{"answer " + string(raw)}
			}
			return []string{"propose"}
		}
		key := ""
		if c != nil {
			key = " " + c.Key
		}
		return []string{fmt.Sprintf("refuse %s%s: %s", rj.Reason, key, rj.Err.Message)}
	case "screen-downlink":
		// What the child's leader proposes of what the parent answered.
		var b Batch
		if err := json.Unmarshal([]byte(input), &b); err != nil {
			return []string{"undecodable: " + err.Error()}
		}
		ok, err := screenDownlink(fakeDomain{}, sc.m, replication.StateReaderOf(sc.st), sc.region, &b)
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		if !ok {
			return []string{"malformed"}
		}
		raw, _ := json.Marshal(b)
		return []string{"propose " + string(raw)}
	case "serve-downlink":
		// serve-downlink for=… from=… [max=…] [epoch=…] [past=confirmed]: the parent's answer
		// to a pull (past=confirmed: a read barrier confirmed a cursor past the head).
		snap := sc.st.DB().NewSnapshot()
		defer snap.Close()
		req := DownlinkRequest{For: s.args["for"], From: sc.uintArg(s, "from", 0), Max: int(sc.uintArg(s, "max", 0)), Epoch: s.args["epoch"]}
		ans, err := downlinkFor(fakeDomain{}, replication.SnapshotReader(snap), sc.region, req, s.args["past"] == "confirmed", sc.newID)
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		raw, _ := json.Marshal(ans)
		return []string{string(raw)}
	case "prune-plan":
		// prune-plan acked=… keep=… [age=…] [now=ms]: how far the uplink's
		// prune would go, given the parent's ack and the retention bounds.
		r := replication.StateReaderOf(sc.st)
		first, head, err := replication.FeedBounds(r)
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		age, _ := time.ParseDuration(s.args["age"])
		now := time.UnixMilli(int64(sc.uintArg(s, "now", uint64(sc.at(s)))))
		floor := retentionFloor(r, first, head, sc.uintArg(s, "keep", 1_000_000), age, now)
		pulled := childrenPulled(r)
		upto := max(min(sc.uintArg(s, "acked", 0), pulled), floor)
		p := "none"
		if pulled != ^uint64(0) {
			p = strconv.FormatUint(pulled, 10)
		}
		return []string{fmt.Sprintf("feed (%d, %d] children pulled %s retention floor %d: prune up to %d", first-1, head, p, floor, upto)}
	case "state":
		// state [prefix=…]: the replica's keys and values.
		return sc.state(s.args["prefix"])
	case "feed":
		var out []string
		cs, _, err := replication.ReadFeed(replication.StateReaderOf(sc.st), 0, 1000, 1<<30, nil)
		if err != nil {
			return sc.fail(s, "%v", err)
		}
		for _, c := range cs {
			raw, _ := json.Marshal(c)
			out = append(out, string(raw))
		}
		if len(out) == 0 {
			out = []string{"(empty)"}
		}
		return out
	case "rejects":
		// rejects peer=… dir=from-child|down: what this node refused.
		n, items := sc.m.Rejections(s.args["peer"], s.args["dir"])
		out := []string{fmt.Sprintf("%d refused", n)}
		for _, it := range items {
			key := ""
			if it.Key != "" {
				key = " " + it.Key
			}
			out = append(out, fmt.Sprintf("%s seq %d%s %s: %s", it.Stage, it.Seq, key, it.Reason, it.Message))
		}
		return out
	}
	return sc.fail(s, "unknown command")
}

// printable: a value shown as it is (records, resync progress); anything
// else of 8 bytes is a counter or cursor (replication.PutUint).
func printable(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c >= 0x7f {
			return utf8.Valid(v) && c >= 0x80
		}
	}
	return true
}

func (sc *scenario) state(prefix string) []string {
	var out []string
	err := replication.StateReaderOf(sc.st).Iterate([]byte(prefix), nil, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, []byte(prefix)) {
			return false
		}
		key := string(k)
		switch {
		case bytes.HasPrefix(k, []byte("f/")) || key == "m/applied":
			return true // the feed has its own command
		case printable(v):
			out = append(out, fmt.Sprintf("%s = %s", key, v))
		case len(v) == 8:
			out = append(out, fmt.Sprintf("%s = %d", key, binary.BigEndian.Uint64(v)))
		default:
			out = append(out, fmt.Sprintf("%s = %x", key, v))
		}
		return true
	})
	if err != nil {
		sc.t.Fatal(err)
	}
	if len(out) == 0 {
		return []string{"(empty)"}
	}
	return out
}
