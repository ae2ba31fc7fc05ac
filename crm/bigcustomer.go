package crm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Big-customer management (大客户管理): the records of the "four ones"
// (四个一), the "1+N" service model, the managed pool and its grid cells,
// and VIP value-added services. They are owned by the region of the
// customer they concern and roll up like every other record. The files:
//
//	bigcustomer.go  the collections, life cycles (lifecycle), shared helpers
//	classify.go     customer class and grade from class_thresholds directives, Pareto report
//	fourones.go     key projects, gold manager assignments, service plans and memos, bulletins
//	onen.go         back-office teams, service requests and their tasks, pool entries
//	gridplan.go     grid-cell divisions of a region's pool (optimiser in crm/grid); VIP value-added services
//	bulletin.go     the monthly work bulletin's content and HTML (PDF in report/)
//	consumption.go  consumption analysis report of one customer

// BigCustomerCollections are the collections of big-customer management.
var BigCustomerCollections = []string{"key_projects", "gold_assignments", "service_plans", "service_memos", "bulletins",
	"backoffice_teams", "service_requests", "pool_entries", "grid_plans", "vip_services"}

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

// idField checks an optional id of kind coll; required makes it mandatory.
func idField(field, coll, id string, required bool) *Error {
	if id == "" {
		if required {
			return invalid(field, "is required (a %s id)", singular(coll))
		}
		return nil
	}
	if !Kinds[coll].ValidID(id) {
		return invalid(field, "%q is not a %s id", id, singular(coll))
	}
	return nil
}

// regionField checks a record's region field; defaults were filled in.
func regionFieldOK(region string) *Error {
	if region == "" {
		return invalid("region", "is required (GB/T 2260 code such as 320722)")
	}
	if !ValidRegion(region) {
		return invalid("region", "%q is not a GB/T 2260 region code", region)
	}
	return nil
}

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

// staffWithRole checks that staff id (when it exists) has one of roles.
func staffWithRole(r Reader, field, id string, roles ...string) *Error {
	if id == "" {
		return nil
	}
	var s Staff
	found, e := loadRecord(r, "staff", id, &s)
	if e != nil || !found {
		return e
	}
	if !slices.Contains(roles, s.Role) {
		return invalid(field, "staff member %s (%s) is a %s; this needs a %s", id, s.Name, s.Role, strings.Join(roles, " or "))
	}
	if s.Active != nil && !*s.Active {
		return invalid(field, "staff member %s (%s) is inactive", id, s.Name)
	}
	return nil
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// dateOf parses a validated Date (zero time for "").
func dateOf(d Date) time.Time {
	t, _ := time.Parse("2006-01-02", string(d))
	return t
}

// trimAll trims every string of a slice and drops empty ones.
func trimAll(xs []string) []string {
	out := xs[:0]
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// textList checks a list of free-text entries.
func textList(field string, xs []string, maxItems, maxChars int) *Error {
	if len(xs) > maxItems {
		return invalid(field, "has %d entries; at most %d allowed", len(xs), maxItems)
	}
	for _, x := range xs {
		if e := maxLen(field, x, maxChars); e != nil {
			return e
		}
	}
	return nil
}
