package crm

import (
	"errors"
	"fmt"
)

// Error codes. The API maps each code to an HTTP status in one table.
const (
	CodeInvalid    = "invalid"     // a field fails validation (400)
	CodeNotFound   = "not_found"   // no record with that id (404)
	CodeConflict   = "conflict"    // expected version differs from the stored one (409)
	CodeDuplicate  = "duplicate"   // a unique field already holds that value (409)
	CodeWrongOwner = "wrong_owner" // the record is owned by another region (403)
	CodeReference  = "reference"   // a referenced record does not exist (422)
	CodeInUse      = "in_use"      // the record is referenced by others (409)
	CodeTooLarge   = "too_large"   // a request holds too many rows (413)
)

// Error is a domain error that survives the trip through the raft log and
// across nodes: it is plain data. Field names the offending JSON field, Owner
// the region that owns the record where that matters, Rows the per-row
// errors of a bulk import.
type Error struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Field   string     `json:"field,omitempty"`
	Owner   string     `json:"owner,omitempty"`
	ID      string     `json:"id,omitempty"`  // the record a write of unknown outcome was for
	IDs     []string   `json:"ids,omitempty"` // an import of unknown outcome: its records (all or nothing, so ID, the first, tells)
	Rows    []RowError `json:"rows,omitempty"`
}

// RowError is one rejected row of a bulk import; Row counts from 0. Line
// is the row's line (from 1) in an NDJSON body, when the API knows it.
type RowError struct {
	Row     int    `json:"row"`
	Line    int    `json:"line,omitempty"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("crm: %s: %s", e.Field, e.Message)
	}
	return "crm: " + e.Message
}

// Is lets errors.Is match on the code: errors.Is(err, &Error{Code: CodeNotFound}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	// ErrNotFound matches every not-found error.
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	// ErrConflict matches every version conflict.
	ErrConflict = &Error{Code: CodeConflict, Message: "version conflict"}
)

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(coll, id string) *Error {
	return &Error{Code: CodeNotFound, Field: "id", Message: fmt.Sprintf("no %s with id %q", Singular(coll), id)}
}

// AsError returns err as a *Error, wrapping foreign errors as internal ones.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "internal", Message: err.Error()}
}
