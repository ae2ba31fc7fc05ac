package crm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// OwnerIndex is the index every record carries on its owner region, so
// upper tiers can list one region or a whole subtree (codes nest by prefix).
const OwnerIndex = "owner"

// SplitRecordKey parses r/<collection>/<id>.
func SplitRecordKey(key string) (coll, id string, ok bool) {
	rest, ok := strings.CutPrefix(key, "r/")
	if !ok {
		return "", "", false
	}
	coll, id, ok = strings.Cut(rest, "/")
	return coll, id, ok && coll != "" && id != ""
}

// ApplyReplica writes a copy of a record owned by another region (rolled up
// from below or pushed down from above) together with the indexes this
// replica derives from it; value nil deletes it. It does not validate or
// check ownership: the owner did, and the copy must follow the owner
// exactly. Unique constraints are the owner's business and are not kept
// for copies. Keys of collections this version does not know are stored as
// they come (so a newer child can roll up to an older parent).
func ApplyReplica(tx Txn, key string, value []byte) error {
	coll, id, ok := SplitRecordKey(key)
	if !ok {
		return invalid("key", "%q is not a record key", key)
	}
	kind := Kinds[coll]
	if kind == nil {
		if value == nil {
			return tx.Delete([]byte(key))
		}
		return tx.Set([]byte(key), value)
	}
	old, err := tx.Get([]byte(key))
	if err != nil {
		return err
	}
	if old != nil {
		rec := kind.New()
		if unmarshal(old, rec) == nil {
			for _, ix := range rec.Indexes() {
				if err := tx.Delete(indexKey(coll, ix.Field, ix.Value, id)); err != nil {
					return err
				}
			}
		}
	}
	if value == nil {
		return tx.Delete([]byte(key))
	}
	rec := kind.New()
	if err := unmarshal(value, rec); err != nil {
		return invalid("value", "replica of %s is not a %s: %v", key, singular(coll), err)
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

// ValidRecord reports whether raw decodes as a record of collection coll
// (true for collections this version does not know).
func ValidRecord(coll string, raw []byte) error {
	kind := Kinds[coll]
	if kind == nil || raw == nil {
		return nil
	}
	return unmarshal(raw, kind.New())
}
