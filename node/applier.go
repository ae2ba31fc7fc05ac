package node

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"gridcrm/crm"
	"gridcrm/replication"
)

// Entry types: the first byte of every raft command.
const (
	entryCommand  byte = 1 // a crm.Command as JSON: a write made here
	entryUplink   byte = 2 // a linkBatch from a child
	entryDownlink byte = 3 // a linkBatch of directives from the parent
	entryPrune    byte = 4 // pruneFeed: drop feed entries the parent has
	entryCanary   byte = 5 // canary: this region's heartbeat record
)

// applier turns committed raft entries into domain writes. It is called by
// the FSM goroutine only and must be deterministic. Content never stops it:
// an entry it cannot use is answered with an error (and leaves nothing
// behind); a link change it must not apply is rejected, counted and skipped.
// Only the store failing makes it panic (mustStore).
type applier struct {
	region string // this region
	parent string // its parent region; "" for a province or a standalone region

	traffic *linkTraffic // counts applied link batches (metrics only; nil in tests)
	rejects *linkRejects // counts and logs rejected link changes (nil in tests)
}

type pruneFeed struct {
	Upto uint64 `json:"upto"`
}

// ApplyEntry implements replication.Applier. The answer is JSON: a
// crm.Result for commands, a linkAnswer for the others.
func (a *applier) ApplyEntry(tx *replication.Txn, _ uint64, data []byte) []byte {
	if len(data) == 0 {
		return mustJSON(crm.Result{Err: &crm.Error{Code: "internal", Message: "empty raft entry"}})
	}
	body := data[1:]
	switch data[0] {
	case entryCommand:
		var cmd crm.Command
		if err := json.Unmarshal(body, &cmd); err != nil {
			return mustJSON(crm.Result{Err: &crm.Error{Code: "internal", Message: fmt.Sprintf("undecodable command: %v", err)}})
		}
		if e := activeActor(tx, &cmd); e != nil {
			return mustJSON(crm.Result{Err: e})
		}
		ct := &changeTxn{Txn: tx, origin: a.region, time: cmd.Time.UnixMilli(), now: cmd.Time.UnixMilli()}
		res := crm.Apply(ct, &cmd)
		mustStore("aggregates", ct.flush())
		return mustJSON(res)
	case entryUplink, entryDownlink:
		if len(body) < 8 {
			return mustJSON(linkAnswer{Err: &crm.Error{Code: crm.CodeInvalid, Message: "short link entry"}})
		}
		var b linkBatch
		if err := json.Unmarshal(body[8:], &b); err != nil {
			return mustJSON(linkAnswer{Err: &crm.Error{Code: crm.CodeInvalid, Message: fmt.Sprintf("undecodable link batch: %v", err)}})
		}
		b.At = int64(binary.BigEndian.Uint64(body[:8])) // the proposer's stamp
		dir := "up"
		if data[0] == entryDownlink {
			dir = "down"
		}
		a.traffic.applied(peerLabel(a.region, a.parent, b.Link), directionOf(dir), len(body), len(b.Changes))
		return mustJSON(a.applyLinkBatch(tx, dir, &b))
	case entryPrune:
		var p pruneFeed
		if err := json.Unmarshal(body, &p); err != nil {
			return mustJSON(linkAnswer{Err: crm.AsError(err)})
		}
		mustStore("prune the feed", replication.PruneFeed(tx, p.Upto))
		return mustJSON(linkAnswer{Acked: p.Upto})
	case entryCanary:
		var c crm.Canary
		if err := json.Unmarshal(body, &c); err != nil {
			return mustJSON(linkAnswer{Err: crm.AsError(err)})
		}
		if c.At <= 0 {
			return mustJSON(linkAnswer{Err: &crm.Error{Code: crm.CodeInvalid, Field: "at", Message: "a heartbeat needs its time"}})
		}
		ct := &changeTxn{Txn: tx, origin: a.region, time: c.At, now: c.At}
		mustStore("heartbeat", ct.Set([]byte(crm.CanaryKey(a.region)), mustJSON(crm.Canary{Region: a.region, At: c.At, Leader: c.Leader, Term: c.Term})))
		mustStore("heartbeat aggregates", ct.flush())
		return mustJSON(linkAnswer{})
	}
	return mustJSON(crm.Result{Err: &crm.Error{Code: "internal", Message: fmt.Sprintf("unknown entry type %d", data[0])}})
}

// mustStore stops the node when its store fails: the batch the entry was
// being applied on is broken, and the replica would no longer be what its
// raft log says. It is the only reason the applier panics.
func mustStore(what string, err error) {
	if err != nil {
		panic(fmt.Sprintf("node: %s: the store failed: %v", what, err))
	}
}

func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		out, _ = json.Marshal(crm.Result{Err: &crm.Error{Code: "internal", Message: err.Error()}})
	}
	return out
}

func encodeEntry(kind byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{kind}, b...), nil
}

func encodeCommand(cmd *crm.Command) ([]byte, error) { return encodeEntry(entryCommand, cmd) }

// activeActor refuses a command whose actor is a user that is disabled (or
// gone) in the state the command commits on: a disable takes effect for
// writes at the moment it commits, on every node alike.
func activeActor(tx *replication.Txn, cmd *crm.Command) *crm.Error {
	if cmd.Actor == "system" || cmd.Op == crm.OpInitSys {
		return nil
	}
	u, err := crm.UserByName(tx, cmd.Actor)
	if err != nil {
		return crm.AsError(err)
	}
	if u == nil || u.Disabled {
		return &crm.Error{Code: "forbidden", Message: "user " + cmd.Actor + " is disabled or no longer exists; nothing was written"}
	}
	return nil
}
