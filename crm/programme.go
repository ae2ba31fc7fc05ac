package crm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// What a programme's package (process, …) uses of crm beyond Register and
// the Kind hooks: the field checks every record's Validate is made of, so
// that its records answer bad input as crm's do, and the few reads and
// writes its hooks need on the Txn or Reader they are handed. Each is the
// function crm's own records use.

// Invalid answers a CodeInvalid error naming field.
func Invalid(field, format string, args ...any) *Error { return invalid(field, format, args...) }

// Required refuses an empty v or one longer than max characters.
func Required(field, v string, max int) *Error { return required(field, v, max) }

// MaxLen refuses a v longer than max characters, not UTF-8, or with NULs.
func MaxLen(field, v string, max int) *Error { return maxLen(field, v, max) }

// OneOf refuses a v not among allowed.
func OneOf(field, v string, allowed ...string) *Error { return oneOf(field, v, allowed...) }

// NonNegative refuses a v that is not a number, negative, or above max.
func NonNegative(field string, v, max float64) *Error { return nonNegative(field, v, max) }

// FirstErr answers the first non-nil error of errs.
func FirstErr(errs ...*Error) *Error { return firstErr(errs...) }

// ValidDate refuses a d that is not YYYY-MM-DD (or empty, unless optional).
func ValidDate(field string, d Date, optional bool) *Error { return validDate(field, d, optional) }

// Immutable refuses a change of a field that is fixed after create
// (CodeTransition).
func Immutable(field, old, new string) *Error { return immutable(field, old, new) }

// ValidPeriod reports whether s is a month, YYYY-MM (1900-2099).
func ValidPeriod(s string) bool { return periodRe(s) }

// RegionField refuses a region that is not a GB/T 2260 code.
func RegionField(region string) *Error { return regionField(region) }

// CustomerRef refuses a customer_id that is not a customer id.
func CustomerRef(id string) *Error { return customerRef(id) }

// JSONError turns an encoding/json error into a field-level *Error.
func JSONError(err error) *Error { return jsonError(err) }

// RegionHolder is a record whose "region" field is its owner: Apply
// fills it with the writing region when it is empty and checks it.
type RegionHolder interface{ RegionField() *string }

// Unmarshal decodes a stored record's JSON into v (a new record), as
// Apply does.
func Unmarshal(raw []byte, v any) error { return unmarshal(raw, v) }

// LoadRecord reads the record id of coll into v; found is false when it
// does not exist.
func LoadRecord(r Reader, coll, id string, v any) (found bool, e *Error) {
	return loadRecord(r, coll, id, v)
}

// ByIndex loads the records of coll whose indexed field equals value, in
// id order.
func ByIndex[T any](r Reader, coll, field, value string) ([]T, *Error) {
	return byIndex[T](r, coll, field, value)
}

// ScanOwned calls fn with every record of coll owned by region (or its
// subtree), in (owner, id) order.
func ScanOwned(r Reader, coll, region string, subtree bool, fn func(raw []byte) error) error {
	return scanOwned(r, coll, region, subtree, fn)
}

// Rewrite stores rec in place of old, both of kind, on tx (the Txn a hook
// was handed) with its indexes, uniques, cards and counters, as Apply
// writes an update; the caller has set its Meta (version, time, actor).
// For a hook that writes records of its own (a calendar directive
// restarting stopped clocks).
func Rewrite(tx Txn, kind *Kind, rec, old Record) (json.RawMessage, *Error) {
	if o, ok := tx.(*overlay); ok {
		return write(o, kind, rec, old)
	}
	o := newOverlay(tx)
	out, e := write(o, kind, rec, old)
	if e != nil {
		return nil, e
	}
	if err := o.flush(); err != nil {
		return nil, AsError(err)
	}
	return out, nil
}

// DecodeAction decodes an action body (OpAction) strictly into v.
func DecodeAction(body []byte, v any) *Error { return decodeAction(body, v) }

// Lifecycle lists, per state, the states it may move to; a state with no
// entry is final.
type Lifecycle map[string][]string

// Change checks a move from -> to of field (CodeTransition); from "" is a
// create, which must start in one of initial.
func (l Lifecycle) Change(field, from, to string, initial ...string) *Error {
	return lifecycle(l).change(field, from, to, initial...)
}

// SumCounters calls fn with every aggregate counter of region (subtree:
// and of the regions under it) whose metric begins with prefix, with the
// rest of the metric's name, and answers the regions holding such
// counters; where the subtree totals of region are kept, it reads them
// (reg "" for the regions below region) instead of every region's
// counters. For a programme's reads of the counters its kinds' Counters
// hooks keep (package analytics/records: the credit grades).
func SumCounters(r Reader, region string, subtree bool, prefix string, fn func(reg, rest string, v float64) bool) ([]string, error) {
	return sumCounters(r, region, subtree, prefix, fn)
}

// RecordBatches calls fn with the records of coll in id order, n at a
// time (their ids and bytes, copied), each batch read by one iteration:
// for a layout migration that writes a batch's derived keys in one commit
// (MigrateSearch; package process's Migrate).
func RecordBatches(r Reader, coll string, n int, fn func(ids []string, raws [][]byte) error) error {
	prefix := recordPrefix(coll)
	lower, upper := prefix, prefixEnd(prefix)
	for {
		var ids []string
		var raws [][]byte
		if err := r.Iterate(lower, upper, func(k, v []byte) bool {
			ids = append(ids, string(k[len(prefix):]))
			raws = append(raws, bytes.Clone(v))
			return len(ids) < n
		}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		lower = append(append(prefix[:len(prefix):len(prefix)], ids[len(ids)-1]...), 0)
		if err := fn(ids, raws); err != nil {
			return err
		}
	}
}

// DeleteKeys deletes the keys in [lo, hi) that drop answers true for (nil:
// every key), one by one, in batches of at most 10,000: for a layout
// migration that drops what an earlier layout kept.
func DeleteKeys(r Reader, batch func() (Txn, func() error), lo, hi []byte, drop func(k []byte) bool) error {
	const most = 10_000
	for {
		var keys [][]byte
		var last []byte
		if err := r.Iterate(lo, hi, func(k, _ []byte) bool {
			last = bytes.Clone(k)
			if drop == nil || drop(k) {
				keys = append(keys, last)
			}
			return len(keys) < most
		}); err != nil {
			return err
		}
		if len(keys) > 0 {
			tx, commit := batch()
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			if err := commit(); err != nil {
				return err
			}
		}
		if len(keys) < most {
			return nil
		}
		lo = append(last, 0)
	}
}

// EachOwner calls fn with every owner region at or below region that
// holds a key under prefix (keys <prefix><owner>/…: counters, tallies, an
// index whose values begin with the owner), in code order: one seek an
// owner, not a read of its keys.
func EachOwner(r Reader, prefix, region string, fn func(owner string) error) error {
	start := []byte(prefix + region)
	end := prefixEnd(start)
	for {
		owner := ""
		if err := r.Iterate(start, end, func(k, _ []byte) bool {
			owner, _, _ = strings.Cut(string(k[len(prefix):]), "/")
			return false
		}); err != nil || owner == "" {
			return err
		}
		if err := fn(owner); err != nil {
			return err
		}
		start = prefixEnd([]byte(prefix + owner + "/")) // past owner's own: '/' sorts before the digits
	}
}
