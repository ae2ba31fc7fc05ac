package crm

import (
	"fmt"
	"slices"
	"strings"
)

// The life cycle of a record's status field, which crm's records (bills,
// capacity changes) and the programmes' (Lifecycle, programme.go) check
// their changes against.

// CodeTransition is the error code of a state change a record's life cycle
// does not allow (409).
const CodeTransition = "illegal_transition"

// lifecycle lists, per state, the states it may move to; a state with no
// entry is final.
type lifecycle map[string][]string

// change checks a move from -> to of field; from "" is a create, which
// must start in one of initial.
func (l lifecycle) change(field, from, to string, initial ...string) *Error {
	if from == "" {
		if slices.Contains(initial, to) {
			return nil
		}
		return &Error{Code: CodeTransition, Field: field,
			Message: fmt.Sprintf("a new record starts as %s, not %q", strings.Join(initial, " or "), to)}
	}
	if from == to || slices.Contains(l[from], to) {
		return nil
	}
	if len(l[from]) == 0 {
		return &Error{Code: CodeTransition, Field: field,
			Message: fmt.Sprintf("%s is %q, which is final; it cannot become %q", field, from, to)}
	}
	return &Error{Code: CodeTransition, Field: field,
		Message: fmt.Sprintf("%s cannot go from %q to %q; from %q it may go to %s", field, from, to, from, strings.Join(l[from], ", "))}
}

// immutable refuses a change of a field that is fixed after create.
func immutable(field, old, new string) *Error {
	if old != new {
		return &Error{Code: CodeTransition, Field: field,
			Message: fmt.Sprintf("cannot change from %q to %q after creation; create a new record instead", old, new)}
	}
	return nil
}
