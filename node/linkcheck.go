package node

import (
	"encoding/json"
	"fmt"
	"net/http"

	"gridcrm/crm"
	"gridcrm/replication"
)

// The rules of what may cross a link. Each batch is checked twice with the
// same functions: by the receiving node before it is proposed (the parent's
// uplink handler, the child's downlink loop), so that nothing invalid
// enters the raft log, and again by every replica when it applies the
// entry, against the state the entry commits on, so that a committed entry
// that breaks them (proposed by an older version, or by a bug) is rejected
// identically everywhere: nothing of it is written, and the link goes on.
// Only a failing store stops a node.

// Why a batch or one of its changes is refused: the reason label of
// gridcrm_link_rejected_total.
const (
	rejectLink      = "link"      // the sender is not this region's child (uplink) or parent (downlink)
	rejectRange     = "range"     // the batch's sequences do not match the changes it carries
	rejectInvalid   = "invalid"   // the key or the value is not a valid record of its collection
	rejectOwner     = "owner"     // the owner the change names is not the record's
	rejectAuthority = "authority" // the sender may not write this record
)

// reject is why a batch or a change is refused: the reason, and what the
// sender is told.
type reject struct {
	reason string
	err    *crm.Error
}

func rejected(reason, code, field, format string, args ...any) *reject {
	return &reject{reason: reason, err: &crm.Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}}
}

// isChild reports whether link is a region directly below region.
func isChild(link, region string) bool {
	return len(link) == len(region)+2 && crm.InRegion(link, region) && crm.ValidRegion(link)
}

// checkLink: uplinks come from this region's children, downlinks from its parent.
func checkLink(region, parent, dir, link string) *reject {
	switch {
	case dir == "up" && !isChild(link, region):
		return rejected(rejectLink, "forbidden", "link", "region %q is not a child of %s", link, region)
	case dir == "down" && (parent == "" || link != parent):
		return rejected(rejectLink, "forbidden", "link", "region %q is not the parent of %s", link, region)
	}
	return nil
}

// checkRange: a batch covers the sender's feed (From, To] and carries its
// changes in order inside it. An uplink moves the cursor by exactly the
// entries it carries: To is its last change (an uplink carrying nothing
// moves nothing). A downlink may end past its last change, because the
// parent filters its feed for the child that pulls it.
func checkRange(dir string, b *linkBatch) *reject {
	if b.To < b.From || (b.Head > 0 && b.To > b.Head) {
		return rejected(rejectRange, crm.CodeInvalid, "to", "a batch covers (from, to] up to the sender's head")
	}
	last := b.From
	for i := range b.Changes {
		if s := b.Changes[i].Seq; s <= last || s > b.To {
			return rejected(rejectRange, crm.CodeInvalid, fmt.Sprintf("changes[%d].s", i), "sequence %d is out of order or outside (from, to]", s)
		}
		last = b.Changes[i].Seq
	}
	if dir == "up" && last != b.To {
		return rejected(rejectRange, crm.CodeInvalid, "to", "an uplink batch ends at the last change it carries")
	}
	return nil
}

// changeCheck checks the changes of one batch in order. It reads the state
// the batch would commit on, and follows the management setting of this
// region through the batch (a downlink may carry the setting and then the
// records the parent writes under it).
type changeCheck struct {
	region, dir, link string
	r                 crm.Reader
	full              bool // down: this region's setting says full, so the parent writes its records
}

func newChangeCheck(r crm.Reader, region, dir, link string) (*changeCheck, error) {
	c := &changeCheck{region: region, dir: dir, link: link, r: r}
	if dir == "down" {
		raw, err := r.Get([]byte(crm.MgmtKey(region)))
		if err != nil {
			return nil, err
		}
		c.follow(raw)
	}
	return c, nil
}

// follow notes this region's management setting as stored (raw).
func (c *changeCheck) follow(raw []byte) {
	var m crm.Management
	c.full = raw != nil && json.Unmarshal(raw, &m) == nil && m.Mode == crm.ModeFull
}

// check answers why ch may not be applied, nil if it may; the error is
// the store's. On an uplink the child may send every change of its
// subtree except users: records whose owner, before and after, is inside
// it. On a downlink the parent may send only what it has authority over:
// directives of this region's ancestors addressed to its branch, this
// region's management setting, commands forwarded to its branch, and this
// region's records while it is under the parent's full management.
func (c *changeCheck) check(ch *replication.Change) (*reject, error) {
	coll, id, ok := crm.SplitRecordKey(ch.Key)
	if !ok {
		return rejected(rejectInvalid, crm.CodeInvalid, "key", "%q is not a record key", ch.Key), nil
	}
	if coll == "users" {
		return rejected(rejectAuthority, "forbidden", "key", "users do not cross links"), nil
	}
	owner := ch.Owner
	if ch.Value != nil {
		o, err := crm.ValidRecord(ch.Key, ch.Value)
		if err != nil {
			return &reject{reason: rejectInvalid, err: &crm.Error{Code: crm.CodeInvalid, Field: "value", Message: err.Error()}}, nil
		}
		if owner != "" && owner != o {
			return rejected(rejectOwner, crm.CodeInvalid, "w", "%s names owner %s but the record's is %s", ch.Key, owner, o), nil
		}
		owner = o
	}
	stored, err := c.r.Get([]byte(ch.Key))
	if err != nil {
		return nil, err
	}
	prev := ""
	if stored != nil {
		prev = crm.StoredOwner(ch.Key, stored)
	}
	if ch.Value == nil && owner == "" {
		owner = prev // a delete names the owner of what it deletes
	}
	var may func(owner string) bool
	switch c.dir {
	case "up":
		if !crm.InRegion(ch.Origin, c.link) {
			return rejected(rejectAuthority, "forbidden", "o", "child %s may not send changes made in %q", c.link, ch.Origin), nil
		}
		may = func(o string) bool { return crm.InRegion(o, c.link) }
	case "down":
		if crm.InRegion(ch.Origin, c.region) {
			return rejected(rejectAuthority, "forbidden", "o", "a change made in %q does not come down to %s", ch.Origin, c.region), nil
		}
		ancestor := func(o string) bool { return o != "" && crm.InRegion(c.link, o) }
		switch {
		case coll == "directives":
			may = ancestor
			if ch.Value != nil && !crm.DirectiveFor(ch.Value, c.region) {
				return rejected(rejectAuthority, "forbidden", "v", "%s is not addressed to %s's branch", ch.Key, c.region), nil
			}
		case coll == "_mgmt" && id == c.region && ch.Value != nil:
			may = func(o string) bool { return o == c.link }
		case coll == "_cmd" && ch.Value != nil && crm.InRegion(crm.ForwardedRegion(ch.Value), c.region):
			may = ancestor
		case crm.Kinds[coll] != nil && c.full:
			may = func(o string) bool { return o == c.region }
		default:
			return rejected(rejectAuthority, "forbidden", "k", "%s may not come down to %s", ch.Key, c.region), nil
		}
	}
	if !may(owner) {
		return rejected(rejectAuthority, "forbidden", "k", "%s is a record of %q, which %s may not write here", ch.Key, owner, c.link), nil
	}
	if stored != nil && !may(prev) { // whose it is stays unsaid: the sender may not know
		return rejected(rejectAuthority, "forbidden", "k", "%s is not a record %s may write here", ch.Key, c.link), nil
	}
	if c.dir == "down" && coll == "_mgmt" {
		c.follow(ch.Value) // the records after it are checked under it
	}
	return nil, nil
}

// authorizeLink decides whether a request to a link endpoint may speak for
// link, the child region it names (the sender of an uplink batch, the
// region pulling a downlink). It is the one place that lets a request in:
// with mutual TLS it will also match the peer's certificate against link.
// Until then any caller may claim a child, so nothing answered before this
// check passes tells a caller anything of this region's state.
func (n *Node) authorizeLink(_ *http.Request, link string) *reject {
	if !isChild(link, n.cfg.Region) {
		return rejected(rejectLink, "forbidden", "link", "region %q is not a child of %s", link, n.cfg.Region)
	}
	return nil
}

// screenUplink checks an uplink batch before it is proposed, against this
// node's replica (the replicas check it again when they apply it). A batch
// that ends at or before the cursor goes to the state machine as it is: it
// answers the duplicate with the cursor.
func (n *Node) screenUplink(b *linkBatch) (*reject, *replication.Change, error) {
	r := n.group.Reader()
	cur, err := replication.GetUint(r, cursorKey("up", b.Link))
	if err != nil {
		return nil, nil, err
	}
	items := b.Changes
	if b.Resync != nil {
		items = b.Resync.Items
	} else if b.To <= cur {
		return nil, nil, nil
	} else if rj := checkRange("up", b); rj != nil {
		return rj, nil, nil
	}
	chk, err := newChangeCheck(r, n.cfg.Region, "up", b.Link)
	if err != nil {
		return nil, nil, err
	}
	for i := range items {
		if b.Resync == nil && items[i].Seq <= cur {
			continue
		}
		if rj, err := chk.check(&items[i]); rj != nil || err != nil {
			return rj, &items[i], err
		}
	}
	return nil, nil, nil
}

// screenDownlink drops from a downlink batch, before it is proposed, the
// changes this region must not take from its parent, and counts them: the
// parent's feed keeps them, so refusing the whole batch would stop the link
// for good. It answers false when the batch itself is malformed.
func (n *Node) screenDownlink(b *linkBatch) (bool, error) {
	if b.Resync == nil {
		if rj := checkRange("down", b); rj != nil {
			n.rejects.add(b.Link, "down", b.To, "", rj, "proposal")
			return false, nil
		}
	}
	chk, err := newChangeCheck(n.group.Reader(), n.cfg.Region, "down", b.Link)
	if err != nil {
		return false, err
	}
	keep := func(items []replication.Change) ([]replication.Change, error) {
		out := items[:0:0]
		for i := range items {
			rj, err := chk.check(&items[i])
			if err != nil {
				return nil, err
			}
			if rj != nil {
				n.rejects.add(b.Link, "down", items[i].Seq, items[i].Key, rj, "proposal")
				continue
			}
			out = append(out, items[i])
		}
		return out, nil
	}
	if b.Resync != nil {
		b.Resync.Items, err = keep(b.Resync.Items)
	} else {
		b.Changes, err = keep(b.Changes)
	}
	return err == nil, err
}

// directionOf names a link direction as the status and the metrics do.
func directionOf(dir string) string {
	if dir == "up" {
		return "from-child"
	}
	return dir
}

// peerLabel is link as a metrics label: a claimed link that is not a
// child of region is "other", so that callers cannot add series at will.
func peerLabel(region, parent, link string) string {
	if isChild(link, region) || (link == parent && parent != "") {
		return link
	}
	return "other"
}
