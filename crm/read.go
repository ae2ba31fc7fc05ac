package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gridcrm/store/keyspace"
)

// Get returns the stored JSON of one record.
func Get(r Reader, coll, id string) (json.RawMessage, *Error) {
	kind, ok := Kinds[coll]
	if !ok {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no collection %q", coll)}
	}
	if !kind.ValidID(id) {
		return nil, notFound(coll, id)
	}
	raw, err := r.Get(recordKey(coll, id))
	if err != nil {
		return nil, AsError(err)
	}
	if raw == nil {
		return nil, notFound(coll, id)
	}
	return raw, nil
}

// Query selects records of one collection.
type Query struct {
	Filters map[string]string // JSON field → exact value
	After   string            // cursor: the Next of the previous page
	Limit   int               // page size; 0 means DefaultLimit
	Owner   string            // only records owned by this region ("" = any)
	Subtree bool              // with Owner: also records owned anywhere below it
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page is one page of a list.
type Page struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next,omitempty"` // cursor for the next page; empty at the end
}

// List returns records in id order (creation order) that match every filter.
// One filter on an indexed field is served from its index; the others are
// checked on the records read.
func List(r Reader, coll string, q Query) (Page, *Error) {
	kind, ok := Kinds[coll]
	if !ok {
		return Page{}, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no collection %q", coll)}
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return Page{}, invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	for f := range q.Filters {
		if !kind.HasField(f) {
			return Page{}, invalid(f, "%s cannot be filtered by %q: no such field", coll, f)
		}
		for _, p := range kind.Private {
			if f == p {
				return Page{}, invalid(f, "%s cannot be filtered by %q", coll, f)
			}
		}
	}
	afterID, afterOwner, _ := strings.Cut(q.After, "@")
	if q.After != "" && (!kind.ValidID(afterID) || (afterOwner != "" && !ValidRegion(afterOwner))) {
		return Page{}, invalid("after", "%q is not a cursor from a previous page", q.After)
	}
	indexed := ""
	for _, f := range kind.Filters {
		if v, ok := q.Filters[f]; ok && v != "" { // empty values are not indexed
			indexed = f
			break
		}
	}
	ownerPrefix := ""
	if q.Owner != "" {
		// A subtree holding every record of the collection here (the
		// node's own region, typically) with a filter on an indexed field
		// walks that field's index, checking owners, instead of every
		// record of the subtree: its pages are in id order, its cursor an
		// id, as without an owner.
		if !q.Subtree || indexed == "" || afterOwner != "" || !holdsOnly(r, coll, q.Owner) {
			return listByOwner(r, kind, q, afterID, afterOwner)
		}
		ownerPrefix = q.Owner
	}
	pg := &pager{page: Page{Items: []json.RawMessage{}}, limit: q.Limit, filters: q.Filters, skip: indexed, owner: ownerPrefix}
	take := pg.take
	if indexed != "" {
		prefix := indexPrefix(coll, indexed, q.Filters[indexed])
		start := prefix
		if q.After != "" {
			start = append(append([]byte(nil), prefix...), afterID+"\x00"...)
		}
		err := r.Iterate(start, prefixEnd(prefix), func(k, _ []byte) bool {
			raw, ok := pg.fetch(r, coll, string(k[len(prefix):]))
			if !ok || raw == nil {
				return ok
			}
			return take(raw)
		})
		if err != nil {
			return Page{}, AsError(err)
		}
	} else {
		prefix := recordPrefix(coll)
		start := prefix
		if q.After != "" {
			start = append(recordKey(coll, afterID), 0)
		}
		err := r.Iterate(start, prefixEnd(prefix), func(_, v []byte) bool {
			return take(v)
		})
		if err != nil {
			return Page{}, AsError(err)
		}
	}
	if pg.err != nil {
		return Page{}, AsError(pg.err)
	}
	page := pg.page
	if pg.more && len(page.Items) > 0 {
		var m Meta
		if err := json.Unmarshal(page.Items[len(page.Items)-1], &m); err != nil {
			return Page{}, AsError(err)
		}
		page.Next = m.ID
	}
	return page, nil
}

// matches reports whether the record holds every filter value, skipping the
// field already selected by an index.
func matches(raw []byte, filters map[string]string, skip string) (bool, error) {
	if len(filters) == 0 || (len(filters) == 1 && skip != "") {
		return true, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return false, err
	}
	for f, want := range filters {
		if f == skip {
			continue
		}
		if !valueEquals(m[f], want) {
			return false, nil
		}
	}
	return true, nil
}

func valueEquals(v any, want string) bool {
	switch x := v.(type) {
	case nil:
		return want == ""
	case string:
		return x == want
	case float64:
		w, err := strconv.ParseFloat(want, 64)
		return err == nil && w == x
	case bool:
		return strconv.FormatBool(x) == want
	case []any:
		for _, e := range x {
			if valueEquals(e, want) {
				return true
			}
		}
	}
	return false
}

// Public strips the kind's private fields from a stored record.
func (k *Kind) Public(raw json.RawMessage) json.RawMessage {
	if len(k.Private) == 0 {
		return raw
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return raw
	}
	for _, p := range k.Private {
		delete(m, p)
	}
	out, _ := json.Marshal(m)
	return out
}

// holdsOnly reports whether every record of coll held here is owned in
// region's subtree: the owner index has no entry before or after the
// subtree's (codes nest by prefix, so the entries between share it).
func holdsOnly(r Reader, coll, region string) bool {
	all := []byte(keyspace.IndexField(coll, OwnerIndex))
	scope := []byte(keyspace.IndexField(coll, OwnerIndex) + region)
	outside := false
	stop := func(_, _ []byte) bool { outside = true; return false }
	if err := r.Iterate(all, scope, stop); err != nil || outside {
		return false
	}
	if err := r.Iterate(prefixEnd(scope), prefixEnd(all), stop); err != nil {
		return false
	}
	return !outside
}

// listByOwner scans the owner index: one region's records, or with Subtree
// every region whose code starts with the owner's (codes nest by prefix),
// in (owner, id) order. Its cursor is "id@owner".
func listByOwner(r Reader, kind *Kind, q Query, afterID, afterOwner string) (Page, *Error) {
	coll := kind.Name
	prefix := []byte(keyspace.IndexField(coll, OwnerIndex) + q.Owner)
	if !q.Subtree {
		prefix = append(prefix, 0)
	}
	start := prefix
	if afterID != "" {
		if afterOwner == "" {
			afterOwner = q.Owner
		}
		start = indexKey(coll, OwnerIndex, afterOwner, afterID+"\x00")
	}
	pg := &pager{page: Page{Items: []json.RawMessage{}}, limit: q.Limit, filters: q.Filters}
	var lastOwner, lastID string
	err := r.Iterate(start, prefixEnd(prefix), func(k, _ []byte) bool {
		rest := string(k[len(keyspace.IndexField(coll, OwnerIndex)):])
		owner, id, ok := strings.Cut(rest, "\x00")
		if !ok {
			return true
		}
		raw, ok := pg.fetch(r, coll, id)
		if !ok || raw == nil {
			return ok
		}
		n := len(pg.page.Items)
		more := pg.take(raw)
		if len(pg.page.Items) > n {
			lastOwner, lastID = owner, id
		}
		return more
	})
	if err == nil {
		err = pg.err
	}
	if err != nil {
		return Page{}, AsError(err)
	}
	page := pg.page
	if pg.more {
		page.Next = lastID + "@" + lastOwner
	}
	return page, nil
}

// pager fills one page: it keeps records that match the filters (but the
// one an index already selected), and stops at the first match beyond a
// full page, which proves there is a next one.
type pager struct {
	page    Page
	limit   int
	filters map[string]string
	skip    string // filter already applied by the index scanned
	owner   string // "" or the region whose subtree owns the records taken
	more    bool   // a match beyond the page exists
	err     error
}

// fetch reads the record an index entry points at; ok is false (and err
// set) when the read fails; a nil record (the entry outlived it) is skipped.
func (p *pager) fetch(r Reader, coll, id string) (raw []byte, ok bool) {
	raw, err := r.Get(recordKey(coll, id))
	if err != nil {
		p.err = err
		return nil, false
	}
	return raw, true
}

// take answers false to stop the scan.
func (p *pager) take(raw []byte) bool {
	if p.owner != "" && !InRegion(RecordOwner(raw), p.owner) {
		return true
	}
	ok, err := matches(raw, p.filters, p.skip)
	if err != nil {
		p.err = err
		return false
	}
	if !ok {
		return true
	}
	if len(p.page.Items) == p.limit {
		p.more = true
		return false
	}
	p.page.Items = append(p.page.Items, bytes.Clone(raw))
	return true
}
