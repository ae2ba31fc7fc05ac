package link

import (
	"errors"
	"fmt"
	"strings"

	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// The rules of what may cross a link. Each batch is checked twice with the
// same functions: by the receiving node before it is proposed (the parent's
// uplink handler, the child's downlink loop), so that nothing invalid
// enters the raft log, and again by every replica when it applies the
// entry, against the state the entry commits on, so that a committed entry
// that breaks them (proposed by an older version, or by a bug) is rejected
// identically everywhere: nothing of it is written, and the link goes on.
// Only a failing store stops a node.

// Reason is why a batch or one of its changes is refused: the reason label
// of gridcrm_link_rejected_total.
type Reason string

// The reasons.
const (
	ReasonAuth      Reason = "auth"      // the Authenticate hook refused the caller for the region it claims
	ReasonLink      Reason = "link"      // the sender is not this region's child (uplink) or parent (downlink)
	ReasonRange     Reason = "range"     // the batch's sequences do not match the changes it carries
	ReasonEpoch     Reason = "epoch"     // the batch is of another epoch of the sender's feed than its cursor counts in
	ReasonInvalid   Reason = "invalid"   // the key or the value is not a valid record of its collection
	ReasonOwner     Reason = "owner"     // the owner the change names is not the record's
	ReasonAuthority Reason = "authority" // the sender may not write this record
)

// Reject is why a batch or a change is refused: the reason, and what the
// sender is told.
type Reject struct {
	Reason Reason
	Err    *Error
}

func rejected(reason Reason, code, field, format string, args ...any) *Reject {
	return &Reject{Reason: reason, Err: &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}}
}

// Collections the link rules name.
const (
	collUsers      = "users"
	collDirectives = "directives"
	collMgmt       = "_mgmt"
	collCmd        = "_cmd"
)

// splitKey splits a record key r/<collection>/<id>.
func splitKey(key string) (coll, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, keyspace.RecordPrefix)
	if !ok {
		return "", "", false
	}
	coll, id, ok = strings.Cut(rest, "/")
	return coll, id, ok && coll != "" && id != ""
}

// mgmtKey is where region's management setting is stored.
func mgmtKey(region string) string { return keyspace.Mgmt(region) }

// inRegion reports whether region is code or lies below it. It is not
// tiers.RegionCode.Contains, which also requires both codes to be valid:
// like the tier rules' own subtree test it compares strings, and the
// codes it is given are checked where they are written or received.
func inRegion(region, code string) bool { return code != "" && strings.HasPrefix(region, code) }

// isChild reports whether link is a region directly below region
// (tiers.RegionCode.ChildOf).
func isChild(link, region string) bool {
	return tiers.RegionCode(link).ChildOf(tiers.RegionCode(region))
}

// addressedTo reports whether a directive of scope is addressed to
// region's branch: the scope contains region or lies inside it (the rule
// tiers.Link.Admit applies to a directive that comes down). The parent's
// side (downFor, a downlink snapshot) asks it of a scope alone, before any
// change is built, so it stays a copy of that one case of Admit.
func addressedTo(scope, region string) bool {
	return scope != "" && (inRegion(region, scope) || inRegion(scope, region))
}

// checkLink: uplinks come from this region's children, downlinks from its parent.
func checkLink(region, parent string, dir Direction, link string) *Reject {
	switch {
	case dir == Up && !isChild(link, region):
		return rejected(ReasonLink, CodeForbidden, "link", "region %q is not a child of %s", link, region)
	case dir == Down && (parent == "" || link != parent):
		return rejected(ReasonLink, CodeForbidden, "link", "region %q is not the parent of %s", link, region)
	}
	return nil
}

// checkRange: a batch covers the sender's feed (From, To] and carries its
// changes in order inside it. An uplink moves the cursor by exactly the
// entries it carries: To is its last change (an uplink carrying nothing
// moves nothing). A downlink may end past its last change, because the
// parent filters its feed for the child that pulls it.
func checkRange(dir Direction, b *Batch) *Reject {
	if b.To < b.From || (b.Head > 0 && b.To > b.Head) {
		return rejected(ReasonRange, CodeInvalid, "to", "a batch covers (from, to] up to the sender's head")
	}
	last := b.From
	for i := range b.Changes {
		if s := b.Changes[i].Seq; s <= last || s > b.To {
			return rejected(ReasonRange, CodeInvalid, fmt.Sprintf("changes[%d].s", i), "sequence %d is out of order or outside (from, to]", s)
		}
		last = b.Changes[i].Seq
	}
	if dir == Up && last != b.To {
		return rejected(ReasonRange, CodeInvalid, "to", "an uplink batch ends at the last change it carries")
	}
	return nil
}

// changeCheck checks the changes of one batch in order. It reads the state
// the batch would commit on, and follows the management setting of this
// region through the batch (a downlink may carry the setting and then the
// records the parent writes under it).
type changeCheck struct {
	d            Domain
	region, link string
	dir          Direction
	r            Reader
	full         bool // down: this region's setting says full, so the parent writes its records
}

func newChangeCheck(d Domain, r Reader, region string, dir Direction, link string) (*changeCheck, error) {
	c := &changeCheck{d: d, region: region, dir: dir, link: link, r: r}
	if dir == Down {
		raw, err := r.Get([]byte(mgmtKey(region)))
		if err != nil {
			return nil, err
		}
		c.full = c.d.FullManagement(raw)
	}
	return c, nil
}

// class is what a change to coll carries, for the tier rules.
func (c *changeCheck) class(coll string) tiers.Class {
	switch {
	case coll == collUsers:
		return tiers.ClassUser
	case coll == collDirectives:
		return tiers.ClassDirective
	case coll == collMgmt:
		return tiers.ClassSetting
	case coll == collCmd:
		return tiers.ClassCommand
	case c.d.IsKind(coll):
		return tiers.ClassRecord
	}
	return tiers.ClassOther
}

// check answers why ch may not be applied, nil if it may; the error is
// the store's. It checks the key and the value (the Domain's Validate),
// then asks the tier rules (tiers.Link.Admit) whether the change crosses.
// On an uplink the child may send every change of its
// subtree except users: records whose owner, before and after, is inside
// it. On a downlink the parent may send only what it has authority over:
// directives of this region's ancestors addressed to its branch, this
// region's management setting, commands forwarded to its branch, and this
// region's records while it is under the parent's full management.
func (c *changeCheck) check(ch *Change) (*Reject, error) {
	coll, id, ok := splitKey(ch.Key)
	if !ok {
		return rejected(ReasonInvalid, CodeInvalid, "key", "%q is not a record key", ch.Key), nil
	}
	if coll == collUsers { // tiers.UserStays, said before the value is decoded
		return rejected(ReasonAuthority, CodeForbidden, "key", "users do not cross links"), nil
	}
	owner := ch.Owner
	if ch.Value != nil {
		o, err := c.d.Validate(ch.Key, ch.Value)
		if err != nil {
			return &Reject{Reason: ReasonInvalid, Err: &Error{Code: CodeInvalid, Field: "value", Message: err.Error()}}, nil
		}
		if owner != "" && owner != o {
			return rejected(ReasonOwner, CodeInvalid, "w", "%s names owner %s but the record's is %s", ch.Key, owner, o), nil
		}
		owner = o
	}
	stored, err := c.r.Get([]byte(ch.Key))
	if err != nil {
		return nil, err
	}
	prev := ""
	if stored != nil {
		prev = c.d.StoredOwner(ch.Key, stored)
	}
	if ch.Value == nil && owner == "" {
		owner = prev // a delete names the owner of what it deletes
	}
	l := tiers.Link{Dir: c.dir.Rule(), Here: tiers.RegionCode(c.region), Peer: tiers.RegionCode(c.link), Full: c.full}
	tc := tiers.Change{Class: c.class(coll), Origin: tiers.RegionCode(ch.Origin), Owner: tiers.RegionCode(owner), Delete: ch.Value == nil,
		Held: stored != nil, Prev: tiers.RegionCode(prev)}
	switch tc.Class {
	case tiers.ClassSetting:
		tc.For = tiers.RegionCode(id)
	case tiers.ClassCommand:
		if ch.Value != nil {
			tc.For = tiers.RegionCode(c.d.ForwardedRegion(ch.Value))
		}
	case tiers.ClassDirective:
		if ch.Value != nil {
			tc.Scope = tiers.RegionCode(c.d.DirectiveScope(ch.Value))
		}
	}
	switch l.Admit(tc) {
	case tiers.Crosses:
	case tiers.UserStays:
		return rejected(ReasonAuthority, CodeForbidden, "key", "users do not cross links"), nil
	case tiers.ForeignOrigin:
		if c.dir == Up {
			return rejected(ReasonAuthority, CodeForbidden, "o", "child %s may not send changes made in %q", c.link, ch.Origin), nil
		}
		return rejected(ReasonAuthority, CodeForbidden, "o", "a change made in %q does not come down to %s", ch.Origin, c.region), nil
	case tiers.NotAddressed:
		return rejected(ReasonAuthority, CodeForbidden, "v", "%s is not addressed to %s's branch", ch.Key, c.region), nil
	case tiers.NotCarried:
		return rejected(ReasonAuthority, CodeForbidden, "k", "%s may not come down to %s", ch.Key, c.region), nil
	case tiers.ForeignOwner:
		return rejected(ReasonAuthority, CodeForbidden, "k", "%s is a record of %q, which %s may not write here", ch.Key, owner, c.link), nil
	case tiers.ForeignCopy: // whose it is stays unsaid: the sender may not know
		return rejected(ReasonAuthority, CodeForbidden, "k", "%s is not a record %s may write here", ch.Key, c.link), nil
	default:
		return rejected(ReasonAuthority, CodeForbidden, "k", "%s may not cross to %s", ch.Key, c.region), nil
	}
	if c.dir == Down && coll == collMgmt {
		c.full = c.d.FullManagement(ch.Value) // the records after it are checked under it
	}
	return nil, nil
}

// errMessage is what a rejection says of a domain error: the message alone
// of an *Error (the Domain answers its refusals so), else the error's text.
func errMessage(err error) string {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// downFor selects what goes down to child: directives addressed to its
// branch, the management settings of regions in its branch, and records of
// its branch written above it (under full management, or a conflict's
// resolution). Nothing the child's subtree wrote goes back down.
//
// It is the sender's filter, not tiers.Link.Admit: it reads neither the
// child's setting nor the owners' authority (a record of the child's
// branch written above it goes down whatever the mode); the child's Admit
// decides those when it applies the batch.
func downFor(d Domain, c *Change, child string) bool {
	if inRegion(c.Origin, child) {
		return false
	}
	switch {
	case strings.HasPrefix(c.Key, keyspace.Collection(collDirectives)):
		return c.Value == nil || addressedTo(d.DirectiveScope(c.Value), child)
	case strings.HasPrefix(c.Key, keyspace.MgmtPrefix):
		return c.Key == mgmtKey(child) // a region's setting comes from its parent alone
	case strings.HasPrefix(c.Key, keyspace.CommandPrefix):
		return c.Value != nil && inRegion(d.ForwardedRegion(c.Value), child)
	case strings.HasPrefix(c.Key, keyspace.InternalPrefix), strings.HasPrefix(c.Key, usersPrefix):
		return false
	}
	return c.Owner != "" && inRegion(c.Owner, child)
}

// upFor selects the feed entries that go up from region: its subtree's,
// no users. It is the sender's filter, not tiers.Link.Admit: the owners a
// change names are the parent's Admit to judge.
func upFor(c *Change, region string) bool {
	return inRegion(c.Origin, region) && !strings.HasPrefix(c.Key, usersPrefix)
}

// peerLabel is link as a metrics label: a claimed link that is not a
// child of region nor its parent is "other", so that callers cannot add
// series at will.
func peerLabel(region, parent, link string) string {
	if isChild(link, region) || (link == parent && parent != "") {
		return link
	}
	return "other"
}
