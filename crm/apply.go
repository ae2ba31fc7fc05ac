package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"gridcrm/store/keyspace"
)

// Op is what a Command does.
type Op string

// Operations.
const (
	OpCreate  Op = "create"   // Body is a new record; ID was assigned by the proposer
	OpUpdate  Op = "update"   // Body is a merge patch of top-level fields; Version is expected
	OpReplace Op = "replace"  // Body is the whole new record; Version is expected
	OpDelete  Op = "delete"   // Version, when non-zero, is expected
	OpImport  Op = "import"   // Rows are new records with ids IDs; all or nothing
	OpInitSys Op = "init_sys" // sets system value ID to Body unless it is set; answers the value held
	OpManage  Op = "manage"   // Body is a ManageRequest: this region sets a child's management mode
	OpResolve Op = "resolve"  // Body is a ResolveRequest: close a conflict with the chosen version
	OpForward Op = "forward"  // Body is a ForwardRequest, ID a command id: a write of a child's record, sent down
)

// MaxImportRows is the most rows one import Command may hold.
const MaxImportRows = 10_000

// Command is one replicated write. Everything non-deterministic (ids, time,
// password hashes) is filled in by the proposer.
type Command struct {
	Op         Op                `json:"op"`
	Collection string            `json:"coll,omitempty"`
	ID         string            `json:"id,omitempty"`
	Version    uint64            `json:"ver,omitempty"`
	Body       json.RawMessage   `json:"body,omitempty"`
	Rows       []json.RawMessage `json:"rows,omitempty"`
	IDs        []string          `json:"ids,omitempty"`
	Region     string            `json:"region"` // region of the raft group that applies it
	Actor      string            `json:"actor"`  // username, for created_by/updated_by
	Time       time.Time         `json:"time"`
	Audit      *AuditContext     `json:"audit,omitempty"` // the request it came from: Apply writes its audit entry (audit.go)
}

// Result is what Apply answers; exactly one of Err and the others is set.
type Result struct {
	Record json.RawMessage `json:"record,omitempty"` // the record as stored
	IDs    []string        `json:"ids,omitempty"`    // ids of imported rows
	Err    *Error          `json:"error,omitempty"`
	Audit  uint64          `json:"audit,omitempty"` // the seq of the audit entry written for it, 0 for none
}

// Apply executes cmd on tx. It is deterministic: the same Command on the
// same state gives the same writes and Result on every replica. A Command
// that fails leaves tx untouched.
func Apply(tx Txn, cmd *Command) Result {
	if cmd.Op != OpInitSys && !ValidRegion(cmd.Region) { // a system value belongs to no region
		return Result{Err: invalid("region", "%q is not a region code: a command names the region that applies it", cmd.Region)}
	}
	o := newOverlay(tx)
	defer o.release()
	res := apply(o, cmd)
	if res.Err != nil {
		auditRefused(tx, cmd, &res) // audit.go: the refusal is audited, nothing else is written
		return res
	}
	if e := auditApplied(o, cmd, &res); e != nil { // audit.go: the entry commits with the write
		return Result{Err: e}
	}
	if err := o.flush(); err != nil {
		return Result{Err: AsError(err)}
	}
	return res
}

func apply(tx *overlay, cmd *Command) Result {
	switch cmd.Op {
	case OpInitSys:
		return initSys(tx, cmd)
	case OpManage:
		return manage(tx, cmd)
	case OpResolve:
		return resolve(tx, cmd)
	case OpForward:
		return forward(tx, cmd)
	case OpSession:
		return sessionOp(tx, cmd) // session.go
	case OpTokenKey:
		return rotateTokenKey(tx, cmd) // tokenkey.go
	case OpAudit:
		return auditEvents(tx, cmd) // audit.go
	}
	kind, ok := Kinds[cmd.Collection]
	if !ok {
		return Result{Err: &Error{Code: CodeNotFound, Message: fmt.Sprintf("no collection %q", cmd.Collection)}}
	}
	switch cmd.Op {
	case OpCreate:
		rec, err := create(tx, kind, cmd.ID, cmd.Body, cmd)
		if err != nil {
			return Result{Err: err}
		}
		return Result{Record: rec}
	case OpUpdate, OpReplace:
		rec, err := update(tx, kind, cmd)
		if err != nil {
			return Result{Err: err}
		}
		return Result{Record: rec}
	case OpDelete:
		return Result{Err: remove(tx, kind, cmd)}
	case OpImport:
		return importRows(tx, kind, cmd)
	case OpAction:
		return act(tx, kind, cmd) // action.go
	}
	return Result{Err: &Error{Code: CodeInvalid, Field: "op", Message: fmt.Sprintf("unknown operation %q", cmd.Op)}}
}

func initSys(tx *overlay, cmd *Command) Result {
	key := []byte(keyspace.Sys(cmd.ID))
	cur, err := tx.Get(key)
	if err != nil {
		return Result{Err: AsError(err)}
	}
	if cur != nil {
		return Result{Record: cur}
	}
	if err := tx.Set(key, bytes.Clone(cmd.Body)); err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: cmd.Body}
}

// StampOf answers how a write by cmd's actor is stamped (created_by,
// updated_by) on a record owned by owner: the username when the owner's
// own raft group writes it, else username@region of the region that wrote
// it (a parent writing a child under full management), as a write a
// parent forwards is stamped by the child (ExecuteForwarded). An actor
// already naming its region, and the system, stay as they are.
func StampOf(cmd *Command, owner string) string {
	if owner == "" || owner == cmd.Region || cmd.Actor == SystemActor || strings.Contains(cmd.Actor, "@") {
		return cmd.Actor
	}
	return cmd.Actor + "@" + cmd.Region
}

// System reads a system value set by OpInitSys; nil if unset.
func System(r Reader, name string) ([]byte, error) { return r.Get([]byte(keyspace.Sys(name))) }

func create(tx *overlay, kind *Kind, id string, body []byte, cmd *Command) (json.RawMessage, *Error) {
	if !kind.ValidID(id) {
		return nil, invalid("id", "%q is not a valid %s id", id, Singular(kind.Name))
	}
	rec := kind.New()
	if err := DecodeStrict(body, rec); err != nil {
		return nil, err
	}
	m := rec.RecordMeta()
	*m = Meta{ID: id, Owner: cmd.Region, Version: 1, CreatedAt: cmd.Time, UpdatedAt: cmd.Time, CreatedBy: cmd.Actor, UpdatedBy: cmd.Actor}
	if kind.Regional {
		defaultRegion(rec, cmd.Region)
		if r := regionOf(rec); r != cmd.Region && parentOf(r) == cmd.Region {
			if w, _, err := WriterOf(tx, r); err == nil && w == cmd.Region {
				m.Owner = r // a child in full management: created here, owned there
			}
		}
	}
	m.CreatedBy = StampOf(cmd, m.Owner)
	m.UpdatedBy = m.CreatedBy
	if e := mayWrite(tx, kind.Name, id, m.Owner, cmd.Region); e != nil {
		return nil, e
	}
	cur, gerr := tx.Get(tx.recordKey(kind.Name, id))
	if gerr != nil {
		return nil, AsError(gerr)
	}
	if cur != nil {
		// The same Command applied again (a proposer retried after an
		// ambiguous failure) answers the record it created: creates are
		// idempotent by id.
		rec.Normalize()
		if kind.OnCreate != nil {
			_ = kind.OnCreate(tx, rec, cmd)
		}
		if replayOf(cur, rec) {
			return cur, nil
		}
		return nil, &Error{Code: CodeDuplicate, Field: "id", Message: fmt.Sprintf("a %s with id %q exists", Singular(kind.Name), id)}
	}
	rec.Normalize()
	if kind.OnCreate != nil {
		if err := rec.Validate(); err != nil {
			return nil, err
		}
		if err := kind.OnCreate(tx, rec, cmd); err != nil {
			return nil, err
		}
	}
	if err := check(tx, kind, rec, nil, m.Owner); err != nil {
		return nil, err
	}
	return write(tx, kind, rec, nil)
}

// replayOf reports whether stored is what rec (a create) wrote: the same
// Command applied twice. A record updated since counts when its creation
// metadata matches.
func replayOf(stored []byte, rec Record) bool {
	var m Meta
	if unmarshal(stored, &m) != nil {
		return false
	}
	want := rec.RecordMeta()
	if !m.CreatedAt.Equal(want.CreatedAt) || m.CreatedBy != want.CreatedBy {
		return false
	}
	if m.Version > 1 {
		return true
	}
	raw, err := marshalRecord(rec)
	return err == nil && bytes.Equal(raw, stored)
}

func update(tx *overlay, kind *Kind, cmd *Command) (json.RawMessage, *Error) {
	raw, err := tx.Get(tx.recordKey(kind.Name, cmd.ID))
	if err != nil {
		return nil, AsError(err)
	}
	if raw == nil {
		return nil, notFound(kind.Name, cmd.ID)
	}
	old := kind.New()
	if err := unmarshal(raw, old); err != nil {
		return nil, AsError(err)
	}
	om := *old.RecordMeta()
	if e := mayWrite(tx, kind.Name, cmd.ID, om.Owner, cmd.Region); e != nil {
		return nil, e
	}
	if cmd.Version == 0 {
		return nil, invalid("version", "is required: send the version you read (the stored one is %d)", om.Version)
	}
	if cmd.Version != om.Version {
		return nil, &Error{Code: CodeConflict, Field: "version", Message: fmt.Sprintf("%s %s is at version %d, not %d: read it again and retry", Singular(kind.Name), cmd.ID, om.Version, cmd.Version)}
	}
	body := []byte(cmd.Body)
	if cmd.Op == OpUpdate {
		merged, e := mergePatch(raw, cmd.Body)
		if e != nil {
			return nil, e
		}
		body = merged
	}
	rec := kind.New()
	if e := DecodeStrict(body, rec); e != nil {
		return nil, e
	}
	m := rec.RecordMeta()
	*m = om
	m.Version++
	m.UpdatedAt, m.UpdatedBy = cmd.Time, StampOf(cmd, om.Owner)
	if kind.Regional {
		defaultRegion(rec, om.Owner)
	}
	rec.Normalize()
	if kind.Guard != nil {
		if e := kind.Guard(old, rec); e != nil {
			return nil, e
		}
	}
	if e := check(tx, kind, rec, old, om.Owner); e != nil {
		return nil, e
	}
	if kind.OnUpdate != nil {
		if e := kind.OnUpdate(tx, old, rec, cmd); e != nil {
			return nil, e
		}
	}
	return write(tx, kind, rec, old)
}

func remove(tx *overlay, kind *Kind, cmd *Command) *Error {
	raw, err := tx.Get(tx.recordKey(kind.Name, cmd.ID))
	if err != nil {
		return AsError(err)
	}
	if raw == nil {
		return notFound(kind.Name, cmd.ID)
	}
	old := kind.New()
	if err := unmarshal(raw, old); err != nil {
		return AsError(err)
	}
	om := old.RecordMeta()
	if e := mayWrite(tx, kind.Name, cmd.ID, om.Owner, cmd.Region); e != nil {
		return e
	}
	if cmd.Version != 0 && cmd.Version != om.Version {
		return &Error{Code: CodeConflict, Field: "version", Message: fmt.Sprintf("%s %s is at version %d, not %d", Singular(kind.Name), cmd.ID, om.Version, cmd.Version)}
	}
	for _, child := range kind.Children {
		p := indexPrefix(child.Collection, child.Field, cmd.ID)
		found := false
		if err := tx.Iterate(p, prefixEnd(p), func(k, v []byte) bool { found = true; return false }); err != nil {
			return AsError(err)
		}
		if found {
			return &Error{Code: CodeInUse, Field: "id", Message: fmt.Sprintf("%s %s is still referenced by %s (%s); delete those first or mark it inactive", Singular(kind.Name), cmd.ID, child.Collection, child.Field)}
		}
	}
	if kind.OnDelete != nil {
		if e := kind.OnDelete(tx, old, cmd); e != nil {
			return e
		}
	}
	return dropRecord(tx, kind, cmd.ID, old)
}

// dropRecord deletes record id (stored as old) with its index and unique keys.
func dropRecord(tx *overlay, kind *Kind, id string, old Record) *Error {
	if c, ok := old.(*Customer); ok { // accounts.go
		if err := noteAccount(tx, c.AccountNo, c.ID, c.Owner, false); err != nil {
			return AsError(err)
		}
		if err := searchChange(tx, c, nil); err != nil { // search.go
			return AsError(err)
		}
	}
	if err := cardChange(tx, old, nil); err != nil { // card.go
		return AsError(err)
	}
	for _, ix := range old.Indexes() {
		if err := tx.Delete(tx.indexKey(kind.Name, ix.Field, ix.Value, id)); err != nil {
			return AsError(err)
		}
	}
	for _, u := range old.Uniques() {
		if err := tx.Delete(tx.uniqueKey(kind.Name, u.Name, u.Scope, u.Value)); err != nil {
			return AsError(err)
		}
	}
	return AsError(tx.Delete(tx.recordKey(kind.Name, id)))
}

func importRows(tx *overlay, kind *Kind, cmd *Command) Result {
	if len(cmd.Rows) == 0 {
		return Result{Err: invalid("rows", "no rows to import")}
	}
	if len(cmd.Rows) > MaxImportRows {
		return Result{Err: &Error{Code: CodeTooLarge, Field: "rows", Message: fmt.Sprintf("%d rows; at most %d per request", len(cmd.Rows), MaxImportRows)}}
	}
	if len(cmd.IDs) != len(cmd.Rows) {
		return Result{Err: invalid("ids", "%d ids for %d rows", len(cmd.IDs), len(cmd.Rows))}
	}
	tx.reserve(8 * len(cmd.Rows)) // a row writes its record, its uniques and its indexes
	var rowErrs []RowError
	seen := make(map[string]int, len(cmd.IDs))
	for i, id := range cmd.IDs {
		if j, dup := seen[id]; dup {
			return Result{Err: &Error{Code: CodeInvalid, Field: "rows", Rows: []RowError{{Row: i, Code: CodeDuplicate, Field: "id", Message: fmt.Sprintf("id %s repeats row %d", id, j)}},
				Message: fmt.Sprintf("row %d repeats the id of row %d; nothing was imported", i, j)}}
		}
		seen[id] = i
	}
	for i, row := range cmd.Rows {
		if _, err := create(tx, kind, cmd.IDs[i], row, cmd); err != nil {
			if len(rowErrs) < 100 {
				rowErrs = append(rowErrs, RowError{Row: i, Code: err.Code, Field: err.Field, Message: err.Message})
			} else {
				break
			}
		}
	}
	if len(rowErrs) > 0 {
		return Result{Err: &Error{Code: CodeInvalid, Field: "rows", Rows: rowErrs,
			Message: fmt.Sprintf("%d of %d rows rejected (first: row %d: %s); nothing was imported", len(rowErrs), len(cmd.Rows), rowErrs[0].Row, rowErrs[0].Message)}}
	}
	return Result{IDs: cmd.IDs}
}

// check validates rec against its fields and against the state: uniques,
// references and ownership. old is the stored version on update, else nil.
func check(tx *overlay, kind *Kind, rec, old Record, region string) *Error {
	if e := rec.Validate(); e != nil {
		return e
	}
	if kind.Check != nil { // life cycles, cross-record rules
		if e := kind.Check(tx, rec, old, region); e != nil {
			return e
		}
	}
	if kind.Regional {
		if r := regionOf(rec); r != region {
			if old != nil {
				return invalid("region", "moving a %s from region %s to %s is not supported here", Singular(kind.Name), region, r)
			}
			return &Error{Code: CodeWrongOwner, Field: "region", Owner: r,
				Message: fmt.Sprintf("region %s is not written here (this is region %s): send the write to region %s, which owns it", r, region, r)}
		}
	}
	id := rec.RecordMeta().ID
	var oldU []Unique
	if old != nil {
		oldU = old.Uniques()
	}
	for _, u := range rec.Uniques() {
		if slices.Contains(oldU, u) {
			continue
		}
		cur, err := tx.Get(tx.uniqueKey(kind.Name, u.Name, u.Scope, u.Value))
		if err != nil {
			return AsError(err)
		}
		if cur != nil && string(cur) != id {
			return &Error{Code: CodeDuplicate, Field: u.Field, Message: fmt.Sprintf("%s %q is taken by %s %s", u.Field, u.Value, Singular(kind.Name), cur)}
		}
	}
	for _, ref := range rec.Refs() {
		raw, err := tx.Get(tx.recordKey(ref.Collection, ref.ID))
		if err != nil {
			return AsError(err)
		}
		if raw == nil {
			return &Error{Code: CodeReference, Field: ref.Field, Message: fmt.Sprintf("no %s with id %q", Singular(ref.Collection), ref.ID)}
		}
		var m Meta
		if err := unmarshal(raw, &m); err != nil {
			return AsError(err)
		}
		if m.Owner != region {
			return &Error{Code: CodeWrongOwner, Field: ref.Field, Owner: m.Owner,
				Message: fmt.Sprintf("%s %s is owned by region %s; write there", Singular(ref.Collection), ref.ID, m.Owner)}
		}
	}
	return nil
}

func write(tx *overlay, kind *Kind, rec, old Record) (json.RawMessage, *Error) {
	id := rec.RecordMeta().ID
	if old != nil {
		for _, ix := range old.Indexes() {
			if err := tx.Delete(tx.indexKey(kind.Name, ix.Field, ix.Value, id)); err != nil {
				return nil, AsError(err)
			}
		}
		for _, u := range old.Uniques() {
			if err := tx.Delete(tx.uniqueKey(kind.Name, u.Name, u.Scope, u.Value)); err != nil {
				return nil, AsError(err)
			}
		}
	}
	for _, ix := range rec.Indexes() {
		if err := tx.Set(tx.indexKey(kind.Name, ix.Field, ix.Value, id), nil); err != nil {
			return nil, AsError(err)
		}
	}
	if err := cardChange(tx, old, rec); err != nil { // card.go
		return nil, AsError(err)
	}
	for _, u := range rec.Uniques() {
		if err := tx.Set(tx.uniqueKey(kind.Name, u.Name, u.Scope, u.Value), tx.cat(id)); err != nil {
			return nil, AsError(err)
		}
	}
	raw, err := tx.marshal(rec)
	if err != nil {
		return nil, AsError(err)
	}
	if err := tx.Set(tx.recordKey(kind.Name, id), raw); err != nil {
		return nil, AsError(err)
	}
	switch x := rec.(type) {
	case *Directive: // the directive hooks (OnDirective): a calendar restarts stopped clocks
		if e := directiveStored(tx, x.Owner, x); e != nil {
			return nil, e
		}
	case *Customer: // accounts.go: who holds the account number
		if err := customerWritten(tx, old, x); err != nil {
			return nil, AsError(err)
		}
		oc, _ := old.(*Customer)
		if err := searchChange(tx, oc, x); err != nil { // search.go: the entries that changed
			return nil, AsError(err)
		}
	}
	return raw, nil
}

func wrongOwner(kind *Kind, id, owner, here string) *Error {
	return &Error{Code: CodeWrongOwner, Field: "id", Owner: owner,
		Message: fmt.Sprintf("%s %s is owned by region %s, not %s: write it there", Singular(kind.Name), id, owner, here)}
}

func regionOf(rec Record) string {
	switch r := rec.(type) {
	case *Customer:
		return r.Region
	case *Staff:
		return r.Region
	case *User:
		return r.Region
	case RegionHolder: // a programme's package's records (programme.go): projects, analytics runs, …
		return *r.RegionField()
	}
	return ""
}

func defaultRegion(rec Record, region string) {
	switch r := rec.(type) {
	case *Customer:
		if strings.TrimSpace(r.Region) == "" {
			r.Region = region
		}
	case *Staff:
		if strings.TrimSpace(r.Region) == "" {
			r.Region = region
		}
	case *User:
		if strings.TrimSpace(r.Region) == "" {
			r.Region = region
		}
	case RegionHolder:
		if p := r.RegionField(); strings.TrimSpace(*p) == "" {
			*p = region
		}
	}
}

// mergePatch applies a JSON merge patch of top-level fields (RFC 7386 at one
// level: null removes a field) to a stored record.
func mergePatch(stored, patch []byte) ([]byte, *Error) {
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(stored, &cur); err != nil {
		return nil, AsError(err)
	}
	if cur == nil {
		return nil, &Error{Code: "internal", Message: "the stored record is not a JSON object"}
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, jsonError(err)
	}
	if p == nil {
		return nil, invalid("", "the body must be a JSON object")
	}
	for k, v := range p {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	for _, k := range MetaFields {
		delete(cur, k)
	}
	delete(cur, "version")
	out, err := json.Marshal(cur)
	if err != nil {
		return nil, AsError(err)
	}
	return out, nil
}

// DecodeStrict decodes one JSON object into v, refusing unknown fields, type
// mismatches and trailing data with an error that names the field. A new
// record of a registered kind is decoded by the record codec (codec.go)
// when it can; anything else, and every error, is encoding/json's.
func DecodeStrict(data []byte, v any) *Error {
	if decodeFast(data, v, false) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		e := jsonError(err)
		if e.Field == "" {
			e.Field = badTimeField(data, v)
		}
		return e
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", "unexpected data after the JSON object")
	}
	return nil
}

// unmarshal is json.Unmarshal(raw, v) for v a new record or Meta.
func unmarshal(raw []byte, v any) error {
	if decodeFast(raw, v, true) {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// jsonError turns a encoding/json error into a field-level *Error.
func jsonError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return invalid("", "the body must be a JSON object, not %s", typeErr.Value)
		}
		field = field[strings.LastIndex(field, ".")+1:]
		return invalid(field, "must be %s, not %s", jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &synErr):
		return invalid("", "malformed JSON at byte %d: %s", synErr.Offset, synErr.Error())
	case errors.Is(err, io.EOF):
		return invalid("", "the body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "malformed JSON: unexpected end of input")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return invalid(f, "unknown field %q", f)
	}
	if strings.Contains(msg, "Time") || strings.Contains(msg, "parsing time") {
		return invalid("", "a time field is not an RFC 3339 time string (e.g. 2026-11-25T09:30:00+08:00): %s", strings.TrimPrefix(msg, "json: "))
	}
	return invalid("", "malformed JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a number"
	case goType == "string", goType == "crm.Date":
		return "a string"
	case goType == "bool", goType == "*bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "time.Time":
		return "an RFC 3339 time string"
	}
	return goType
}

// CheckNew decodes a client's body for a new record of kind k and validates
// it as Apply will (without the state): unknown fields, wrong types,
// read-only fields and field rules all fail here, naming the field.
func (k *Kind) CheckNew(body []byte, region string) (Record, *Error) {
	rec := k.New()
	if e := DecodeStrict(body, rec); e != nil {
		return nil, e
	}
	if f := setMetaField(rec.RecordMeta(), false); f != "" {
		return nil, invalid(f, "is set by the server and cannot be written")
	}
	if k.Regional {
		defaultRegion(rec, region)
	}
	rec.Normalize()
	if e := rec.Validate(); e != nil {
		return nil, e
	}
	return rec, nil
}

// setMetaField names a metadata field a client set, or "" when none is;
// version may be allowed (replace carries it).
func setMetaField(m *Meta, versionOK bool) string {
	switch {
	case m.ID != "":
		return "id"
	case m.Owner != "":
		return "owner"
	case !versionOK && m.Version != 0:
		return "version"
	case !m.CreatedAt.IsZero():
		return "created_at"
	case !m.UpdatedAt.IsZero():
		return "updated_at"
	case m.CreatedBy != "":
		return "created_by"
	case m.UpdatedBy != "":
		return "updated_by"
	}
	return ""
}

// CheckReplace decodes a whole-record body for replace and answers the
// version it carries.
func (k *Kind) CheckReplace(body []byte, region string) (uint64, *Error) {
	rec := k.New()
	if e := DecodeStrict(body, rec); e != nil {
		return 0, e
	}
	m := rec.RecordMeta()
	if f := setMetaField(m, true); f != "" {
		return 0, invalid(f, "is set by the server and cannot be written")
	}
	if m.Version == 0 {
		return 0, invalid("version", "is required: send the version you read")
	}
	v := m.Version
	m.Version = 0
	if k.Regional {
		defaultRegion(rec, region)
	}
	rec.Normalize()
	return v, rec.Validate()
}

// CheckPatch checks a merge patch's field names and answers the version it
// carries and the patch without it. Field values are checked by Apply,
// against the merged record.
func (k *Kind) CheckPatch(body []byte) (uint64, []byte, *Error) {
	v, p, e := takeVersion(body)
	if e != nil {
		return 0, nil, e
	}
	for f := range p {
		if slices.Contains(MetaFields, f) {
			return 0, nil, invalid(f, "is set by the server and cannot be written")
		}
		if !k.HasField(f) || slices.Contains(k.Private, f) {
			return 0, nil, invalid(f, "unknown field %q", f)
		}
	}
	out, _ := json.Marshal(p)
	return v, out, nil
}

// badTimeField names the first time-typed field of v whose value in data
// does not parse, or "" if none: encoding/json does not say which field a
// time.Time failed on.
func badTimeField(data []byte, v any) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type != reflect.TypeOf(time.Time{}) {
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if raw, ok := m[name]; ok {
			var tm time.Time
			if json.Unmarshal(raw, &tm) != nil {
				return name
			}
		}
	}
	return ""
}
