package link

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"gridcrm/replication"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// Change is one entry of a region's change feed, as it crosses a link.
type Change = replication.Change

// Direction is which way a batch travelled to the region that applies it.
type Direction uint8

// The two directions, as the receiving region sees them.
const (
	Up   Direction = 1 // from a child: an uplink batch (the child's feed, rolled up)
	Down Direction = 2 // from the parent: a downlink batch (directives, settings, forwarded commands)
)

// String names d as the store keys do ("up", "down": m/link/<dir>/<peer>).
func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Rule is d as the tier rules name it (tiers.Up, tiers.Down); "" (which
// tiers.Link.Admit carries nothing for) when d is neither.
func (d Direction) Rule() tiers.Direction {
	switch d {
	case Up:
		return tiers.Up
	case Down:
		return tiers.Down
	}
	return ""
}

// Label names d as the status and the metrics of the receiving side do:
// "from-child" for a batch from a child, "down" for one from the parent.
func (d Direction) Label() string {
	if d == Up {
		return "from-child"
	}
	return d.String()
}

// Entry types: the first byte of the raft entries this package proposes
// and applies. The applier of the region (node) dispatches on them; the
// other values (1: a domain command, 5: a heartbeat) are node's.
const (
	EntryUplink   byte = 2 // a Batch from a child (Entry: the proposal time, then the JSON)
	EntryDownlink byte = 3 // a Batch from the parent
	EntryPrune    byte = 4 // Prune: drop feed entries nobody needs any longer
)

// Entry is a link batch as a raft entry: the type byte, the time the
// receiving node proposed it (8 bytes, Unix ms: when the changes are
// appended to this region's feed), then the batch's JSON as it arrived, so
// a large batch is decoded once, by the FSM.
func Entry(kind byte, at time.Time, batchJSON []byte) []byte {
	out := make([]byte, 9, 9+len(batchJSON))
	out[0] = kind
	binary.BigEndian.PutUint64(out[1:9], uint64(at.UnixMilli()))
	return append(out, batchJSON...)
}

// Batch is a batch of changes crossing a link: an uplink batch from a
// child, or a downlink batch from the parent. It covers the sender's feed
// sequences (From, To]; Changes are the ones in that range meant for the
// receiver (checkRange says how they must fit).
type Batch struct {
	Link    string      `json:"link"` // the sender's region
	From    uint64      `json:"from"`
	To      uint64      `json:"to"`
	Head    uint64      `json:"head,omitempty"` // the sender's feed head when it sent
	At      int64       `json:"-"`              // when the receiving node proposed it, Unix ms (carried before the JSON; see Entry)
	Changes []Change    `json:"changes,omitempty"`
	Resync  *ResyncPart `json:"resync,omitempty"`
	// DownAcked, on an uplink, is the sender's downlink cursor on the
	// receiver's feed: a middle tier keeps the entries its children have
	// not pulled yet, whatever its own parent has acknowledged.
	DownAcked uint64 `json:"down_acked,omitempty"`
	// Epoch is the epoch of the feed the batch comes from (the sender's on
	// an uplink; on a downlink, the parent's as it answered the pull). The
	// receiver keeps it with the cursor and refuses a batch of another
	// epoch (CodeEpoch): that feed's sequences are not the cursor's. ""
	// (an older sender, or a feed begun before epochs): not checked.
	Epoch string `json:"epoch,omitempty"`
}

// ResyncPart is one step of a snapshot resync: the sender's records in key
// order, and, on the last part, the feed sequence the snapshot is at.
type ResyncPart struct {
	ID    string   `json:"id"`    // one resync, for idempotent parts
	Part  int      `json:"part"`  // 0, 1, 2 … in order
	Last  bool     `json:"last"`  // the final part: drop what was not sent, set the cursor
	Seq   uint64   `json:"seq"`   // the sender's feed sequence the snapshot reflects
	Items []Change `json:"items"` // records (Key, Value, Origin)
	// Sweep asks the receiver to go on with the last part's sweep (Answer.Sweeping); no items.
	Sweep bool `json:"sweep,omitempty"`
	// SweepMax is how many records the receiver's sweep looks at in one
	// entry; 0 (an older sender, which knows no Sweep parts): all of them
	// in the last part's entry. Carried in the entry, so that every replica
	// stops where the others do, whatever its version.
	SweepMax int `json:"sweep_max,omitempty"`
}

// validEpoch says whether e is an epoch as replication makes them (16
// lower-case hex digits). Whatever else a peer sends for one is not kept
// or compared: "" and anything malformed count as no epoch.
func validEpoch(e string) bool {
	if len(e) != 16 {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Answer is the receiver's answer to a link batch (and to a prune).
type Answer struct {
	Acked    uint64 `json:"acked"`              // the receiver's cursor for the link after the batch
	Rejected int    `json:"rejected,omitempty"` // changes rejected on apply: not written, the cursor moved past them
	Err      *Error `json:"error,omitempty"`
	// Sweeping: a resync's last part was applied and its sweep of what the
	// snapshot did not carry stopped part way; send Sweep parts until it ends.
	// With a gap error: a batch or cursor question came while a resync
	// sweeps (its sender lost its leadership, say); start a resync again.
	Sweeping bool `json:"sweeping,omitempty"`
	// Epoch is the epoch of the sender's feed that Acked counts in, as the
	// receiver keeps it ("" when it keeps none).
	Epoch string `json:"epoch,omitempty"`
}

// DownlinkRequest asks the parent for what goes down after From.
type DownlinkRequest struct {
	For  string `json:"for"` // the child region pulling
	From uint64 `json:"from"`
	Max  int    `json:"max"`
	// Epoch is the epoch of the parent's feed From counts in, as the child
	// keeps it; another one than the parent's feed has is answered with a
	// snapshot ("": not checked).
	Epoch string `json:"epoch,omitempty"`
}

// DownlinkAnswer is the parent's answer to a DownlinkRequest.
type DownlinkAnswer struct {
	Changes []Change    `json:"changes,omitempty"`
	Scanned uint64      `json:"scanned"`
	Head    uint64      `json:"head"`
	Resync  *ResyncPart `json:"resync,omitempty"` // the feed no longer reaches back to From, or From is not of this feed
	Epoch   string      `json:"epoch,omitempty"`  // this feed's epoch
}

// Prune is the body of an EntryPrune: drop feed entries up to Upto.
type Prune struct {
	Upto uint64 `json:"upto"`
}

// Freshness is what a node knows of how current its copy of a region is,
// stored at m/fresh/<region> (keyspace.Fresh).
type Freshness struct {
	AppliedSeq uint64 `json:"applied_seq"` // the region's own feed sequence applied here
	Time       int64  `json:"time"`        // commit time of that change, Unix ms
}

// Error is a link error as it crosses the wire: the same JSON shape as the
// domain's errors (code, message, field).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error codes of the link protocol.
const (
	CodeGap       = "gap"       // the batch starts after the receiver's cursor: resend from Answer.Acked
	CodeEpoch     = "epoch"     // the batch is of another feed than the receiver's cursor counts in: resync
	CodeInvalid   = "invalid"   // the batch or a change is malformed
	CodeForbidden = "forbidden" // the sender may not send this (not a child or parent, no authority)
)

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("link: %s: %s", e.Field, e.Message)
	}
	return "link: " + e.Message
}

// mustJSON marshals an answer; it cannot fail for this package's types.
func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		out, _ = json.Marshal(Answer{Err: &Error{Code: "internal", Message: err.Error()}})
	}
	return out
}

// cursorKey is the receiver's cursor on peer's feed (keyspace.LinkCursor).
func cursorKey(dir Direction, peer string) string { return keyspace.LinkCursor(dir.String(), peer) }

// headKey is the sender's feed head as last reported (keyspace.LinkHead).
func headKey(dir Direction, peer string) string { return keyspace.LinkHead(dir.String(), peer) }
