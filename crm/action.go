package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// OpAction applies a process action (a stage completion, a work-order state
// transition) to a stored record: Body is the action, Version is expected.
// The kind's Act hook decides what it means; time is cmd.Time.
const OpAction Op = "action"

// act is OpAction: like update, but the change is the kind's to make.
func act(tx *overlay, kind *Kind, cmd *Command) Result {
	if kind.Act == nil {
		return Result{Err: invalid("op", "%s take no actions", kind.Name)}
	}
	raw, err := tx.Get(tx.recordKey(kind.Name, cmd.ID))
	if err != nil {
		return Result{Err: AsError(err)}
	}
	if raw == nil {
		return Result{Err: notFound(kind.Name, cmd.ID)}
	}
	old, rec := kind.New(), kind.New()
	if err := unmarshal(raw, old); err != nil {
		return Result{Err: AsError(err)}
	}
	if err := json.Unmarshal(raw, rec); err != nil {
		return Result{Err: AsError(err)}
	}
	om := *old.RecordMeta()
	if om.Owner != cmd.Region {
		return Result{Err: wrongOwner(kind, cmd.ID, om.Owner, cmd.Region)}
	}
	if cmd.Version == 0 {
		return Result{Err: invalid("version", "is required: send the version you read (the stored one is %d)", om.Version)}
	}
	if cmd.Version != om.Version {
		return Result{Err: &Error{Code: CodeConflict, Field: "version", Message: fmt.Sprintf("%s %s is at version %d, not %d: read it again and retry", Singular(kind.Name), cmd.ID, om.Version, cmd.Version)}}
	}
	if e := kind.Act(tx, rec, cmd); e != nil {
		return Result{Err: e}
	}
	m := rec.RecordMeta()
	*m = om
	m.Version++
	m.UpdatedAt, m.UpdatedBy = cmd.Time, cmd.Actor
	rec.Normalize()
	if e := check(tx, kind, rec, old, cmd.Region); e != nil {
		return Result{Err: e}
	}
	out, e := write(tx, kind, rec, old)
	if e != nil {
		return Result{Err: e}
	}
	return Result{Record: out}
}

// CheckAction takes the version out of an action body and answers it with
// the rest; the rest is checked by Apply against the stored record.
func CheckAction(body []byte) (uint64, []byte, *Error) {
	v, p, e := takeVersion(body)
	if e != nil {
		return 0, nil, e
	}
	out, _ := json.Marshal(p)
	return v, out, nil
}

// takeVersion decodes a JSON object body and takes its required "version"
// out of it.
func takeVersion(body []byte) (uint64, map[string]json.RawMessage, *Error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(body, &p); err != nil {
		return 0, nil, jsonError(err)
	}
	if p == nil {
		return 0, nil, invalid("", "the body must be a JSON object")
	}
	raw, ok := p["version"]
	if !ok {
		return 0, nil, invalid("version", "is required: send the version you read")
	}
	var v uint64
	if err := json.Unmarshal(raw, &v); err != nil || v == 0 {
		return 0, nil, invalid("version", "must be a positive whole number")
	}
	delete(p, "version")
	return v, p, nil
}

// decodeAction decodes an action body strictly into v.
func decodeAction(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// sameJSON reports whether a and b marshal alike.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func tp(t time.Time) *time.Time { return &t }
