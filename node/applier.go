package node

import (
	"encoding/json"
	"fmt"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/replication/link"
)

// Entry types: the first byte of every raft command. The link's (2–4) are
// replication/link's; node dispatches them there.
const (
	entryCommand  byte = 1                  // a crm.Command as JSON: a write made here
	entryUplink        = link.EntryUplink   // a link.Batch from a child
	entryDownlink      = link.EntryDownlink // a link.Batch from the parent
	entryPrune         = link.EntryPrune    // link.Prune: drop feed entries nobody needs
	entryCanary   byte = 5                  // canary: this region's heartbeat record
)

// applier turns committed raft entries into domain writes: commands and
// heartbeats through crm (on a link.FeedTxn, so every record write is fed
// and aggregated), link entries through the link package's Applier. It is
// called by the FSM goroutine only and must be deterministic. Content never
// stops it: an entry it cannot use is answered with an error (and leaves
// nothing behind); a link change it must not apply is rejected, counted and
// skipped. Only the store failing makes it panic (mustStore).
type applier struct {
	region string // this region
	link   *link.Applier

	// actors are the usernames found active in the state (activeActor),
	// so that an entry does not read and decode its actor again: a
	// command's actor is almost always one seen a moment before. Dropped
	// whenever a command writes a user's record or unique key, on every
	// link entry, and when the entries' indexes do not follow (after a
	// snapshot was restored, the state may be another one).
	actors map[string]bool
	index  uint64 // the index of the last entry applied
}

// newApplier returns the applier of region (parent: its parent, "" for
// none), counting link traffic and refusals on m (nil: not counted).
func newApplier(region, parent string, m *link.Metrics) *applier {
	return &applier{region: region, link: link.NewApplier(region, parent, linkDomain{region}, m)}
}

// feedTxn wraps tx for writes made here at ms (Unix ms).
func (a *applier) feedTxn(tx *replication.Txn, ms int64) *link.FeedTxn {
	return link.NewFeedTxn(tx, linkDomain{a.region}, a.region, ms, ms)
}

// ApplyEntry implements replication.Applier. The answer is JSON: a
// crm.Result for commands, a link.Answer for the others.
func (a *applier) ApplyEntry(tx *replication.Txn, index uint64, data []byte) []byte {
	if index != a.index && index != a.index+1 { // the parts of a group commit share an index
		clear(a.actors)
	}
	a.index = index
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
		if cmd.Region != a.region {
			// Writes made here are this region's: a command claiming another
			// region (the parent's, a sibling's) would write as that owner.
			// Forwarded commands arrive by the downlink, not as entries.
			return mustJSON(crm.Result{Err: &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: a.region, Message: fmt.Sprintf("a command of region %q cannot be applied in region %s", cmd.Region, a.region)}})
		}
		if !a.actors[cmd.Actor] {
			if e := activeActor(tx, &cmd); e != nil {
				return mustJSON(crm.Result{Err: e})
			}
			if a.actors == nil {
				a.actors = map[string]bool{}
			}
			a.actors[cmd.Actor] = true
		}
		ct := a.feedTxn(tx, cmd.Time.UnixMilli())
		res := crm.Apply(ct, &cmd)
		if ct.UsersWritten() {
			clear(a.actors)
		}
		mustStore("aggregates", ct.Flush())
		return mustJSON(res)
	case entryUplink, entryDownlink, entryPrune:
		clear(a.actors) // users do not cross links; kept simple all the same
		return a.link.Apply(tx, data[0], body)
	case entryCanary:
		var c crm.Canary
		if err := json.Unmarshal(body, &c); err != nil {
			return mustJSON(link.Answer{Err: &link.Error{Code: "internal", Message: err.Error()}})
		}
		if c.At <= 0 {
			return mustJSON(link.Answer{Err: &link.Error{Code: crm.CodeInvalid, Field: "at", Message: "a heartbeat needs its time"}})
		}
		ct := a.feedTxn(tx, c.At)
		mustStore("heartbeat", ct.Set([]byte(crm.CanaryKey(a.region)), mustJSON(crm.Canary{Region: a.region, At: c.At, Leader: c.Leader, Term: c.Term})))
		mustStore("heartbeat aggregates", ct.Flush())
		return mustJSON(link.Answer{})
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
