package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// OwnerIndex is the index every record carries on its owner region, so
// upper tiers can list one region or a whole subtree (codes nest by prefix).
const OwnerIndex = "owner"

// SplitRecordKey parses r/<collection>/<id>.
func SplitRecordKey(key string) (coll, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, keyspace.RecordPrefix)
	if !ok {
		return "", "", false
	}
	coll, id, ok = strings.Cut(rest, "/")
	return coll, id, ok && coll != "" && id != ""
}

// ApplyReplica writes a copy of a record owned by another region (rolled up
// from below or pushed down from above) together with the indexes this
// replica derives from it; value nil deletes it. It does not validate or
// check ownership: the link checks both first (ValidRecord), and the copy
// must follow the owner exactly. Unique constraints are the owner's
// business and are not kept for copies. Internal records (ValidRecord
// lists them) have no indexes and are stored as they come.
func ApplyReplica(tx Txn, key string, value []byte) error {
	coll, id, ok := SplitRecordKey(key)
	if !ok {
		return invalid("key", "%q is not a record key", key)
	}
	if coll == auditColl {
		return applyAuditReplica(tx, key, value) // audit.go: indexed, never deleted
	}
	kind := Kinds[coll]
	if kind == nil {
		if coll == "_cmd" || coll == "_cres" { // forward.go: the commands still waiting
			old, err := tx.Get([]byte(key))
			if err != nil {
				return err
			}
			if err := pendingChange(tx, coll, id, old, value); err != nil {
				return err
			}
		}
		if value == nil {
			return tx.Delete([]byte(key))
		}
		return tx.Set([]byte(key), value)
	}
	old, err := tx.Get([]byte(key))
	if err != nil {
		return err
	}
	var oldRec Record // nil unless old decodes
	if old != nil {
		rec := kind.New()
		if unmarshal(old, rec) == nil {
			oldRec = rec
			for _, ix := range rec.Indexes() {
				if err := tx.Delete(indexKey(coll, ix.Field, ix.Value, id)); err != nil {
					return err
				}
			}
		}
	}
	if coll == "customers" { // accounts.go: who holds the account number
		if err := accountChange(tx, old, value); err != nil {
			return err
		}
	}
	oldCus, _ := oldRec.(*Customer)
	if value == nil {
		if err := cardChange(tx, oldRec, nil); err != nil { // card.go
			return err
		}
		if err := searchChange(tx, oldCus, nil); err != nil { // search.go
			return err
		}
		return tx.Delete([]byte(key))
	}
	rec := kind.New()
	if err := unmarshal(value, rec); err != nil {
		return invalid("value", "replica of %s is not a %s: %v", key, Singular(coll), err)
	}
	if err := cardChange(tx, oldRec, rec); err != nil { // card.go
		return err
	}
	if c, ok := rec.(*Customer); ok {
		if err := searchChange(tx, oldCus, c); err != nil { // search.go: the entries that changed
			return err
		}
	}
	for _, ix := range rec.Indexes() {
		if err := tx.Set(indexKey(coll, ix.Field, ix.Value, id), nil); err != nil {
			return err
		}
	}
	return tx.Set([]byte(key), value)
}

// RecordOwner reads the owner region from a stored record ("" if none).
func RecordOwner(raw []byte) string {
	// Fast path: every stored record begins {"id":"…","owner":"…" (Meta is
	// marshalled first), and ids and region codes need no escaping.
	const head, mid = `{"id":"`, `","owner":"`
	if bytes.HasPrefix(raw, []byte(head)) {
		rest := raw[len(head):]
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.HasPrefix(rest[i:], []byte(mid)) {
			rest = rest[i+len(mid):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
				return string(rest[:j])
			}
		}
	}
	var m struct {
		Owner string `json:"owner"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Owner
}

// InRegion reports whether region is code or inside code's subtree (GB/T
// 2260 codes nest by prefix).
func InRegion(region, code string) bool { return code != "" && strings.HasPrefix(region, code) }

// ValidRecord checks a record copy that arrives over a link, before it is
// stored, and answers the record's owner region. key must be
// r/<collection>/<id> of a collection this version knows, and raw a JSON
// object of it:
//
//   - a domain collection: the record decodes, passes its field validation,
//     carries the key's id and names a valid owner region;
//   - an internal one, whose regions must agree with the key:
//     _mgmt/<region> a Management set by the region's parent (its Owner);
//     _mack/<region> the region's own ManagementAck; _canary/<region> the
//     region's Canary (owned by the region); _cmd/<id> a ForwardedCommand
//     from its Owner to a region below it; _cres/<id> the CommandResult of
//     the region that executed it; _conflict/<region>/<seq> a Conflict kept
//     by its Owner about its child region; _audit/<region>/<seq> an
//     AuditEntry of the region's chain, sealed by its own hash.
//
// A collection this version does not know is refused: a newer child rolls
// up to its parent once the parent runs its version. ValidRecord reads no
// state; whether the sender may write that owner's records is the link's
// business.
func ValidRecord(key string, raw []byte) (owner string, err error) {
	coll, id, ok := SplitRecordKey(key)
	if !ok {
		return "", invalid("key", "%q is not a record key", key)
	}
	if kind := Kinds[coll]; kind != nil {
		rec := kind.New()
		if err := unmarshal(raw, rec); err != nil {
			return "", invalid("value", "%s is not a %s: %v", key, Singular(coll), err)
		}
		m := rec.RecordMeta()
		if m.ID != id {
			return "", invalid("id", "%s holds a record with id %q", key, m.ID)
		}
		if !ValidRegion(m.Owner) {
			return "", invalid("owner", "%s: %q is not an owner region", key, m.Owner)
		}
		if e := rec.Validate(); e != nil {
			return "", e
		}
		return m.Owner, nil
	}
	check := internalRecords[coll]
	if check == nil {
		return "", invalid("key", "%s: no collection %q in this version", key, coll)
	}
	owner, msg := check(id, raw)
	if msg != "" {
		return "", invalid("value", "%s is not a valid %s record: %s", key, coll, msg)
	}
	return owner, nil
}

// internalRecords check the records of the internal collections: each
// answers the owner, or what is wrong.
var internalRecords = map[string]func(id string, raw []byte) (owner, wrong string){
	"_mgmt": func(id string, raw []byte) (string, string) {
		var m Management
		switch {
		case json.Unmarshal(raw, &m) != nil:
			return "", "not a management setting"
		case m.Region != id || !ValidRegion(id) || m.Owner != parentOf(id):
			return "", fmt.Sprintf("region %q set by %q; want %s set by its parent", m.Region, m.Owner, id)
		case !tiers.Mode(m.Mode).Valid() || m.Epoch == 0:
			return "", fmt.Sprintf("mode %q, epoch %d", m.Mode, m.Epoch)
		}
		for _, c := range m.Collections {
			if !slices.Contains(ManagedCollections(), c) {
				return "", fmt.Sprintf("collection %q cannot be granted", c)
			}
		}
		return m.Owner, ""
	},
	"_mack": func(id string, raw []byte) (string, string) {
		var a ManagementAck
		switch {
		case json.Unmarshal(raw, &a) != nil:
			return "", "not a management acknowledgement"
		case a.Region != id || a.Owner != id || !ValidRegion(id):
			return "", fmt.Sprintf("region %q, owner %q; want both %s", a.Region, a.Owner, id)
		case !tiers.Mode(a.Mode).Valid() || a.Epoch == 0:
			return "", fmt.Sprintf("mode %q, epoch %d", a.Mode, a.Epoch)
		}
		return a.Owner, ""
	},
	"_canary": func(id string, raw []byte) (string, string) {
		var c Canary
		switch {
		case json.Unmarshal(raw, &c) != nil:
			return "", "not a heartbeat"
		case c.Region != id || !ValidRegion(id):
			return "", fmt.Sprintf("region %q; want %s", c.Region, id)
		case c.At <= 0:
			return "", fmt.Sprintf("time %d", c.At)
		}
		return c.Region, ""
	},
	"_cmd": func(id string, raw []byte) (string, string) {
		var c ForwardedCommand
		switch {
		case json.Unmarshal(raw, &c) != nil:
			return "", "not a forwarded command"
		case c.ID != id:
			return "", fmt.Sprintf("id %q", c.ID)
		case !ValidRegion(c.Owner) || !ValidRegion(c.Region) || !InRegion(c.Region, c.Owner) || c.Region == c.Owner:
			return "", fmt.Sprintf("forwarded by %q to %q; want a region below the one forwarding", c.Owner, c.Region)
		case Kinds[c.Collection] == nil || !slices.Contains([]Op{OpCreate, OpUpdate, OpReplace, OpDelete, OpAction}, c.Op) && !(c.Op == OpList && c.Collection == "users"):
			return "", fmt.Sprintf("%s of %q cannot be forwarded", c.Op, c.Collection)
		}
		return c.Owner, ""
	},
	"_cres": func(id string, raw []byte) (string, string) {
		var r CommandResult
		switch {
		case json.Unmarshal(raw, &r) != nil:
			return "", "not a command result"
		case r.ID != id:
			return "", fmt.Sprintf("id %q", r.ID)
		case r.Owner != r.Region || !ValidRegion(r.Owner):
			return "", fmt.Sprintf("owner %q, region %q; want the region that executed it", r.Owner, r.Region)
		case r.Status != CommandApplied && r.Status != CommandRefused:
			return "", fmt.Sprintf("status %q", r.Status)
		}
		return r.Owner, ""
	},
	auditColl: validAudit, // audit.go
	"_conflict": func(id string, raw []byte) (string, string) {
		var c Conflict
		switch {
		case json.Unmarshal(raw, &c) != nil:
			return "", "not a conflict"
		case c.ID != id || !strings.HasPrefix(id, c.Region+"/"):
			return "", fmt.Sprintf("id %q of region %q", c.ID, c.Region)
		case !ValidRegion(c.Owner) || !ValidRegion(c.Region) || !InRegion(c.Region, c.Owner) || c.Region == c.Owner:
			return "", fmt.Sprintf("kept by %q about %q; want a parent about a region below it", c.Owner, c.Region)
		case c.Status != ConflictOpen && c.Status != ConflictResolved:
			return "", fmt.Sprintf("status %q", c.Status)
		}
		if _, _, ok := SplitRecordKey(c.Key); !ok {
			return "", fmt.Sprintf("key %q", c.Key)
		}
		return c.Owner, ""
	},
}

// StoredOwner answers the owner region of the record stored at key as raw
// (a heartbeat is owned by the region its key names); "" when it names none.
func StoredOwner(key string, raw []byte) string {
	if region, ok := strings.CutPrefix(key, CanaryPrefix); ok {
		return region
	}
	return RecordOwner(raw)
}
