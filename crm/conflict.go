package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gridcrm/store/keyspace"
)

// Conflict states and resolutions.
const (
	ConflictOpen     = "open"
	ConflictResolved = "resolved"

	KeepChild  = "child"
	KeepParent = "parent"
	KeepMerged = "merged"
)

const conflictPrefix = keyspace.ConflictPrefix

// Conflict is a write a child made under an old epoch, after its parent
// took it over by force: kept at the parent with both versions, never
// applied and never dropped, until someone chooses (OpResolve).
type Conflict struct {
	Owner      string          `json:"owner"`  // the parent, where it is kept and resolved
	ID         string          `json:"id"`     // "<region>/<child feed sequence>"
	Region     string          `json:"region"` // the child that wrote it
	Key        string          `json:"key"`    // the record's key, r/<collection>/<id>
	Epoch      uint64          `json:"epoch"`  // the forced epoch it conflicts with
	Child      json.RawMessage `json:"child"`  // the child's version; null if the child deleted it
	ChildBy    string          `json:"child_by,omitempty"`
	ChildAt    time.Time       `json:"child_at"`
	Parent     json.RawMessage `json:"parent"` // the parent's version when the conflict arrived; null if none
	Status     string          `json:"status"`
	Resolution string          `json:"resolution,omitempty"`
	ResolvedBy string          `json:"resolved_by,omitempty"`
	ResolvedAt time.Time       `json:"resolved_at,omitzero"`
}

// ConflictKey is where conflict id is stored ("<region>/<seq>").
func ConflictKey(id string) string { return conflictPrefix + id }

// ConflictID names the conflict made by the child's change with sequence
// oseq: deterministic, so a batch applied twice records it once.
func ConflictID(region string, oseq uint64) string { return fmt.Sprintf("%s/%020d", region, oseq) }

// RecordConflict keeps a child's change (key, value, written at ms by the
// child's feed sequence oseq) as an open conflict instead of applying it.
func RecordConflict(tx Txn, parent, region string, epoch, oseq uint64, key string, value []byte, ms int64) error {
	cur, err := tx.Get([]byte(key))
	if err != nil {
		return err
	}
	c := Conflict{Owner: parent, ID: ConflictID(region, oseq), Region: region, Key: key, Epoch: epoch,
		Child: json.RawMessage(nullIfNil(value)), ChildAt: time.UnixMilli(ms).UTC(), Parent: json.RawMessage(nullIfNil(cur)), Status: ConflictOpen}
	var m Meta
	if value != nil && json.Unmarshal(value, &m) == nil {
		c.ChildBy = m.UpdatedBy
	}
	raw, _ := json.Marshal(c)
	return tx.Set([]byte(ConflictKey(c.ID)), raw)
}

func nullIfNil(b []byte) []byte {
	if b == nil {
		return []byte("null")
	}
	return bytes.Clone(b)
}

// ResolveRequest is the body of OpResolve.
type ResolveRequest struct {
	ID   string          `json:"id"`
	Keep string          `json:"keep"`           // child, parent or merged
	Body json.RawMessage `json:"body,omitempty"` // merged: the record's fields (no meta)
}

// resolve applies OpResolve at the parent: the chosen version becomes the
// record's next version, written by the parent as any write (it rolls up
// and is pushed down to the child), and the conflict is closed. Only the
// record's current writer can resolve.
func resolve(tx *overlay, cmd *Command) Result {
	var req ResolveRequest
	if err := DecodeStrict(cmd.Body, &req); err != nil {
		return Result{Err: err}
	}
	raw, err := tx.Get([]byte(ConflictKey(req.ID)))
	if err != nil {
		return Result{Err: AsError(err)}
	}
	if raw == nil {
		return Result{Err: &Error{Code: CodeNotFound, Field: "id", Message: fmt.Sprintf("no conflict %q", req.ID)}}
	}
	var c Conflict
	if err := json.Unmarshal(raw, &c); err != nil {
		return Result{Err: AsError(err)}
	}
	if c.Status != ConflictOpen {
		return Result{Err: &Error{Code: CodeConflict, Field: "id", Message: fmt.Sprintf("conflict %s was already resolved (%s, by %s)", c.ID, c.Resolution, c.ResolvedBy)}}
	}
	if e := mayWrite(tx, "", "", c.Region, cmd.Region); e != nil {
		return Result{Err: e}
	}
	coll, id, _ := SplitRecordKey(c.Key)
	kind := Kinds[coll]
	if kind == nil {
		return Result{Err: &Error{Code: CodeInvalid, Field: "id", Message: fmt.Sprintf("conflict %s is about %s, which this version does not know", c.ID, c.Key)}}
	}
	var chosen []byte
	switch req.Keep {
	case KeepChild:
		chosen = c.Child
	case KeepParent:
		chosen, err = tx.Get([]byte(c.Key)) // the parent's version as it is now
		if err != nil {
			return Result{Err: AsError(err)}
		}
		if chosen == nil {
			chosen = []byte("null")
		}
	case KeepMerged:
		if len(req.Body) == 0 || string(req.Body) == "null" {
			return Result{Err: invalid("body", "a merged resolution needs the record's fields")}
		}
		if coll == "bulletins" { // generated documents: only a version that was generated may stand
			return Result{Err: invalid("keep", "a bulletin cannot be merged by hand; keep the child's or the parent's")}
		}
		chosen = req.Body
	default:
		return Result{Err: invalid("keep", "%q is not one of child, parent, merged", req.Keep)}
	}
	cur, err := tx.Get([]byte(c.Key))
	if err != nil {
		return Result{Err: AsError(err)}
	}
	var version uint64
	var created Meta
	for _, v := range [][]byte{cur, c.Child, c.Parent} {
		var m Meta
		if len(v) > 0 && string(v) != "null" && json.Unmarshal(v, &m) == nil {
			version = max(version, m.Version)
			if created.ID == "" {
				created = m
			}
		}
	}
	var out json.RawMessage
	if string(chosen) == "null" {
		if cur != nil {
			old := kind.New()
			if err := unmarshal(cur, old); err != nil {
				return Result{Err: AsError(err)}
			}
			if e := dropRecord(tx, kind, id, old); e != nil {
				return Result{Err: e}
			}
		}
	} else {
		rec := kind.New()
		if e := DecodeStrict(stripMeta(chosen), rec); e != nil {
			return Result{Err: e}
		}
		m := rec.RecordMeta()
		*m = Meta{ID: id, Owner: c.Region, Version: version + 1, CreatedAt: created.CreatedAt, CreatedBy: created.CreatedBy, UpdatedAt: cmd.Time, UpdatedBy: StampOf(cmd, c.Region)}
		if m.CreatedAt.IsZero() {
			m.CreatedAt, m.CreatedBy = cmd.Time, m.UpdatedBy
		}
		rec.Normalize()
		var old Record
		if cur != nil {
			old = kind.New()
			if err := unmarshal(cur, old); err != nil {
				return Result{Err: AsError(err)}
			}
		}
		if e := check(tx, kind, rec, old, c.Region); e != nil {
			return Result{Err: e}
		}
		rec.RecordMeta().Owner = c.Region
		w, e := write(tx, kind, rec, old)
		if e != nil {
			return Result{Err: e}
		}
		out = w
	}
	c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt = ConflictResolved, req.Keep, cmd.Actor, cmd.Time
	craw, _ := json.Marshal(c)
	if err := tx.Set([]byte(ConflictKey(c.ID)), craw); err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: out}
}

// stripMeta drops the Meta fields from a record's JSON, so that a stored
// version can be decoded strictly as a new body.
func stripMeta(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	for _, k := range []string{"id", "owner", "version", "created_at", "updated_at", "created_by", "updated_by"} {
		delete(m, k)
	}
	out, _ := json.Marshal(m)
	return out
}

// Conflicts lists the conflicts kept here, of region's subtree ("" for
// all), in id order.
func Conflicts(r Reader, region string, onlyOpen bool) ([]Conflict, error) {
	var out []Conflict
	p := []byte(conflictPrefix)
	err := r.Iterate(p, prefixEnd(p), func(k, v []byte) bool {
		var c Conflict
		if json.Unmarshal(v, &c) != nil || !strings.HasPrefix(c.Region, region) || (onlyOpen && c.Status != ConflictOpen) {
			return true
		}
		out = append(out, c)
		return true
	})
	return out, err
}
