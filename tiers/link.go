package tiers

import "strconv"

// Direction is the way a change crosses a link between a parent region and
// one of its children.
type Direction string

// The two directions.
const (
	Up   Direction = "up"   // from a child to its parent: the roll-up of the child's subtree
	Down Direction = "down" // from a parent to a child: what the parent has authority over
)

// Valid reports whether d is Up or Down.
func (d Direction) Valid() bool { return d == Up || d == Down }

// ChildOf reports whether c is a valid region directly below p: "320722"
// below "3207", "3207" below "32"; not "320722" below "32", nor p below
// itself. A region takes uplinks from its children only.
func (c RegionCode) ChildOf(p RegionCode) bool {
	return p != "" && c.Valid() && c.Parent() == p
}

// Class is what a change carries, as far as the link rules care. The
// domain classifies its collections; the rules know only these.
type Class uint8

// The classes.
const (
	ClassRecord    Class = iota + 1 // a record of a collection management moves (customers, work orders, …)
	ClassDirective                  // a directive, addressed to a scope (a region and its subtree)
	ClassSetting                    // a region's management setting, written by that region's parent
	ClassCommand                    // a command forwarded to a region below the one that wrote it
	ClassUser                       // a user: credentials of one region, never sent over a link
	ClassOther                      // anything else the domain keeps (acknowledgements, outcomes, heartbeats, conflicts): it rolls up only
)

// Change is one change offered to a link, as the link rules see it.
type Change struct {
	Class  Class
	Origin RegionCode // the region where the change was made
	Owner  RegionCode // the record's owner after the change; for a delete, the owner of what it deletes
	Delete bool       // the change deletes the record
	Held   bool       // the receiving region holds a copy of the record now
	Prev   RegionCode // the owner of that copy ("" when it names none)
	For    RegionCode // ClassSetting: the region the setting governs; ClassCommand: the region the command is forwarded to
	Scope  RegionCode // ClassDirective: the region (and subtree) it is addressed to; "" when it names none
}

// Link is a link as the receiving region sees it.
type Link struct {
	Dir  Direction
	Here RegionCode // the receiving region
	Peer RegionCode // the sender: a child of Here (Up) or Here's parent (Down)
	Full bool       // Down: Here's own management setting says full, as of the change in question (a batch may carry the setting, then the records written under it)
}

// Crossing is the answer of [Link.Admit]: Crosses, or why not.
type Crossing uint8

// The crossings.
const (
	Crosses       Crossing = iota // the receiving region applies the change
	UserStays                     // users never cross a link
	ForeignOrigin                 // Up: made outside the child's subtree; Down: made inside the receiver's own subtree (nothing comes back where it came from)
	NotAddressed                  // Down: a directive not addressed to the receiver's branch
	NotCarried                    // Down: nothing the parent has authority to send, or a direction that is neither Up nor Down
	ForeignOwner                  // the record's owner after the change is one the sender may not write
	ForeignCopy                   // the copy the receiver holds belongs to an owner the sender may not write
)

var crossingNames = [...]string{"crosses", "user_stays", "foreign_origin", "not_addressed", "not_carried", "foreign_owner", "foreign_copy"}

// String names c in snake case ("foreign_owner").
func (c Crossing) String() string {
	if int(c) < len(crossingNames) {
		return crossingNames[c]
	}
	return "crossing(" + strconv.Itoa(int(c)) + ")"
}

// Admit decides whether the receiving region l.Here may apply c, which
// l.Peer sent it. Users never cross. Up, the child may send every change
// made in its subtree to records owned there, before and after the change.
// Down, the parent may send only what it has authority over: directives of
// an ancestor addressed to l.Here's branch (the scope contains l.Here or
// lies inside it); l.Here's own management setting, written by the parent;
// commands forwarded into l.Here's subtree by an ancestor; and l.Here's
// records while l.Full. Nothing made in l.Here's subtree comes down. A
// setting or a command is never deleted over a link, and a deleted
// directive's scope is not asked.
//
// Admit is the receiver's rule; a sender may filter its feed with it too.
// It does not check that l.Peer is Here's child or parent (see ChildOf) nor
// that the record is valid: those are the caller's.
func (l Link) Admit(c Change) Crossing {
	if c.Class == ClassUser {
		return UserStays
	}
	var may func(owner RegionCode) bool
	switch l.Dir {
	case Up:
		if !within(c.Origin, l.Peer) {
			return ForeignOrigin
		}
		may = func(o RegionCode) bool { return within(o, l.Peer) }
	case Down:
		if within(c.Origin, l.Here) {
			return ForeignOrigin
		}
		ancestor := func(o RegionCode) bool { return o != "" && within(l.Peer, o) }
		switch {
		case c.Class == ClassDirective:
			if !c.Delete && !within(l.Here, c.Scope) && !within(c.Scope, l.Here) {
				return NotAddressed
			}
			may = ancestor
		case c.Class == ClassSetting && c.For == l.Here && !c.Delete:
			may = func(o RegionCode) bool { return o == l.Peer }
		case c.Class == ClassCommand && !c.Delete && within(c.For, l.Here):
			may = ancestor
		case c.Class == ClassRecord && l.Full:
			may = func(o RegionCode) bool { return o == l.Here }
		default:
			return NotCarried
		}
	default:
		return NotCarried
	}
	if !may(c.Owner) {
		return ForeignOwner
	}
	if c.Held && !may(c.Prev) {
		return ForeignCopy
	}
	return Crosses
}
