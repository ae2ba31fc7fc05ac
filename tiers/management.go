package tiers

import (
	"slices"
	"strconv"
	"strings"
)

// Mode is how a parent manages a child region.
type Mode string

// The management modes. A region whose parent never set its mode is
// autonomous.
const (
	Autonomous Mode = "autonomous" // the child writes its records; the parent reads the roll-up
	Partial    Mode = "partial"    // the child still writes them; the parent's writes in granted collections are forwarded to it
	Full       Mode = "full"       // the parent writes the child's records; the child is read-only
)

// Valid reports whether m is one of Autonomous, Partial, Full.
func (m Mode) Valid() bool { return m == Autonomous || m == Partial || m == Full }

// Management is what one replica holds about the management of one region
// (the owner of the records in question): the setting its parent wrote, and
// the epoch of the region's own acknowledgement of a setting. The zero value
// is a region whose mode was never set (autonomous, epoch 0). The rules
// below are functions of it alone, so every replica of a region that holds
// the same state gives the same answer (invariant 4).
type Management struct {
	Manager RegionCode // the parent that wrote the setting; "" when never set
	Mode    Mode       // "" when never set (autonomous)
	Epoch   uint64     // raised by every setting, from 1
	Forced  bool       // full mode taken without waiting for the region's acknowledgement
	Granted []string   // partial: the collections the parent may write, through the region
	Acked   uint64     // the epoch of the region's acknowledgement held here; 0 for none. Read only under Full: callers may leave it 0 otherwise
}

// IsSet reports whether a setting was ever written.
func (m Management) IsSet() bool { return m.Mode != "" }

// Writer answers which region writes the records owned by owner, as a
// replica holding m (owner's management) sees it: owner itself, unless m is
// full and the acknowledgement of its epoch is held here or the takeover was
// forced, in which case m.Manager; "" while a full takeover waits for the
// acknowledgement (nobody writes: the epoch fences the old writer from the
// new one).
func Writer(owner RegionCode, m Management) RegionCode {
	if m.Mode != Full {
		return owner
	}
	if m.Forced || (m.Acked > 0 && m.Acked >= m.Epoch) {
		return m.Manager
	}
	return ""
}

// Fenced reports whether a change that here receives up its link for a
// record of owner must be kept aside (as a conflict) rather than applied:
// here took owner over by force and does not hold owner's acknowledgement
// of that epoch yet, so owner wrote the change under an older epoch while
// here was already writing.
func Fenced(here, owner RegionCode, m Management) bool {
	return m.Forced && Writer(owner, m) == here && m.Acked < m.Epoch
}

// Write is one write of a record, as the write and routing rules see it.
type Write struct {
	Here       RegionCode // the region whose raft group would apply it
	Owner      RegionCode // the record's owner region; "" when it names none
	Collection string     // the record's collection ("" for a write that is about a region, not a collection)
	Managed    bool       // whether management moves the collection's writer (false for users and directives: only their owner writes them)
	Standing   bool       // whether any region above the owner may forward the write whatever the mode (unified acceptance: a work order's creation and actions)
}

// Verdict is the answer of [MayWrite]: Allowed, or why not.
type Verdict uint8

// The verdicts. Each refusal names whom the writer should go to; the
// caller words it.
const (
	Allowed          Verdict = iota // here writes the record
	NotOwner                        // the record is another region's, which writes it itself (or it names no owner): write at the owner
	InHandover                      // here owns it and its parent is taking it into full management: nobody writes until the handover is acknowledged; write at the manager
	AwaitingAck                     // here took the owner into full management, which the owner has not acknowledged: writes wait for it (or a forced takeover)
	ReadOnly                        // here owns it and is under its parent's full management: write at the manager
	NotGranted                      // here manages the owner partially without granting the collection: write at the owner
	WrittenElsewhere                // a third region writes it: write at the writer
)

var verdictNames = [...]string{"allowed", "not_owner", "in_handover", "awaiting_ack", "read_only", "not_granted", "written_elsewhere"}

// String names v in snake case ("read_only").
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// MayWrite decides whether w.Here may write the record w describes, under
// m, the management of w.Owner as held here. A collection management does
// not move is written by its owner alone. Otherwise only the record's
// [Writer] writes it; the refusals say why, in this order: no owner and no
// setting (NotOwner); a handover under way, seen by the owner (InHandover)
// or by the manager (AwaitingAck); the owner under full management
// (ReadOnly); a partial manager outside its grant (NotGranted); the owner
// writing its own records (NotOwner, for a write naming a collection); any
// other writer (WrittenElsewhere).
func MayWrite(w Write, m Management) Verdict {
	if !w.Managed {
		if w.Owner != w.Here {
			return NotOwner
		}
		return Allowed
	}
	writer := Writer(w.Owner, m)
	switch {
	case writer == w.Here:
		return Allowed
	case writer == "" && !m.IsSet():
		return NotOwner
	case writer == "" && w.Here == w.Owner:
		return InHandover
	case writer == "":
		return AwaitingAck
	case w.Here == w.Owner:
		return ReadOnly
	case m.Mode == Partial && m.Manager == w.Here && !slices.Contains(m.Granted, w.Collection):
		return NotGranted
	case writer == w.Owner && w.Collection != "":
		return NotOwner
	}
	return WrittenElsewhere
}

// MayForward reports whether w.Here may have w.Owner execute the write w
// as a forwarded command (stored in here's log, carried down the downlink,
// applied by the owner as its own write): the owner lies below here and
// writes its records itself, and either the write is standing (any region
// above may forward it) or here is the owner's parent, managing it
// partially with the collection granted. A collection management does not
// move (users) is written by its owner whatever the mode, so a standing
// write of it goes down under full management too (central
// administration: an upper tier's admin manages the users below).
func MayForward(w Write, m Management) bool {
	if w.Owner == w.Here || !within(w.Owner, w.Here) {
		return false
	}
	if !w.Managed {
		return w.Standing
	}
	if Writer(w.Owner, m) != w.Owner {
		return false
	}
	if w.Standing {
		return true
	}
	return w.Managed && m.Mode == Partial && parentOf(w.Owner) == w.Here && slices.Contains(m.Granted, w.Collection)
}

// Route is where a region sends a write.
type Route uint8

// The routes.
const (
	Local   Route = iota // propose it in here's raft group: here writes the record
	Forward              // forward it to the owner as a command (MayForward)
	Refuse               // neither: another region writes it (MayWrite says why)
)

var routeNames = [...]string{"local", "forward", "refuse"}

// String names r ("forward").
func (r Route) String() string {
	if int(r) < len(routeNames) {
		return routeNames[r]
	}
	return "route(" + strconv.Itoa(int(r)) + ")"
}

// RouteWrite answers where w goes from w.Here, given m, the management of
// w.Owner as held here: forwarded when MayForward, local when MayWrite
// allows it, refused otherwise. An API may still propose a refused write
// locally and let the state machine refuse it: the state machine decides
// on committed state, with the same rules.
func RouteWrite(w Write, m Management) Route {
	switch {
	case MayForward(w, m):
		return Forward
	case MayWrite(w, m) == Allowed:
		return Local
	}
	return Refuse
}

// within reports whether region is code or lies in code's subtree, as a
// prefix test of the strings (code non-empty). Unlike [RegionCode.Contains]
// it does not validate either code: the rules answer for whatever a record
// or a change names, and validation is the caller's (a record's owner is
// checked when it is written or received).
func within(region, code RegionCode) bool {
	return code != "" && strings.HasPrefix(string(region), string(code))
}

// parentOf is region's code prefix without validation ("" for a code of two
// characters or fewer).
func parentOf(region RegionCode) RegionCode {
	if len(region) <= 2 {
		return ""
	}
	return region[:len(region)-2]
}
