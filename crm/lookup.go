package crm

import (
	"encoding/json"
	"strings"

	"gridcrm/store/keyspace"
)

// Reads of stored records the rules of crm's kinds and the programmes'
// hooks share (ByIndex and ScanOwned, programme.go).

// loadRecord reads a record of coll into v; found is false when it does
// not exist.
func loadRecord(r Reader, coll, id string, v any) (found bool, e *Error) {
	raw, err := r.Get(recordKey(coll, id))
	if err != nil {
		return false, AsError(err)
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, AsError(err)
	}
	return true, nil
}

// byIndex loads the records of coll whose indexed field equals value, in
// id order; an index entry whose record is gone is skipped.
func byIndex[T any](r Reader, coll, field, value string) ([]T, *Error) {
	p := indexPrefix(coll, field, value)
	var ids []string
	if err := r.Iterate(p, prefixEnd(p), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(p):]))
		return true
	}); err != nil {
		return nil, AsError(err)
	}
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		var v T
		found, e := loadRecord(r, coll, id, &v)
		if e != nil {
			return nil, e
		}
		if found {
			out = append(out, v)
		}
	}
	return out, nil
}

// scanOwned calls fn with every record of coll owned by region (or its
// subtree), in (owner, id) order, through the owner index.
func scanOwned(r Reader, coll, region string, subtree bool, fn func(raw []byte) error) error {
	prefix := []byte(keyspace.IndexField(coll, OwnerIndex) + region)
	if !subtree {
		prefix = append(prefix, 0)
	}
	var ferr error
	err := r.Iterate(prefix, prefixEnd(prefix), func(k, _ []byte) bool {
		_, id, ok := strings.Cut(string(k[len(keyspace.IndexField(coll, OwnerIndex)):]), "\x00")
		if !ok {
			return true
		}
		raw, err := r.Get(recordKey(coll, id))
		if err != nil {
			ferr = err
			return false
		}
		if raw == nil {
			return true
		}
		if err := fn(raw); err != nil {
			ferr = err
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	return ferr
}
