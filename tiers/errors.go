package tiers

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Each error carries a full message that
// names the offending code or field and says what would be right; test for
// the kind with errors.Is.
var (
	// ErrInvalidRegion: a string is not a GB/T 2260 region code of 2, 4 or 6
	// digits (for example "3200", "320700" or "3a07").
	ErrInvalidRegion = errors.New("tiers: invalid region code")
	// ErrInvalidTier: a tier is not one of province, city, county, or does
	// not fit the length of its region code.
	ErrInvalidTier = errors.New("tiers: invalid tier")
	// ErrWrongParent: a parent is not the region's code prefix, is of the
	// wrong tier, is the region itself, or is given for a province.
	ErrWrongParent = errors.New("tiers: wrong parent")
	// ErrParentNodes: the parent link lists no nodes, a node that is not
	// host:port, or the same node twice.
	ErrParentNodes = errors.New("tiers: bad parent nodes")
	// ErrDuplicateRegion: a tree lists the same region code twice.
	ErrDuplicateRegion = errors.New("tiers: duplicate region")
	// ErrMissingParent: a tree holds a region whose parent it lacks, where
	// that region cannot be a root (several roots must all be provinces).
	ErrMissingParent = errors.New("tiers: parent not in tree")
)

// tierError is an error of one of the kinds above with its own message.
type tierError struct {
	kind error
	msg  string
}

func (e *tierError) Error() string { return e.msg }
func (e *tierError) Unwrap() error { return e.kind }

// errorf returns an error of kind whose message is "tiers: " and the
// formatted text.
func errorf(kind error, format string, args ...any) error {
	return &tierError{kind: kind, msg: "tiers: " + fmt.Sprintf(format, args...)}
}
