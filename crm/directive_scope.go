package crm

import (
	"encoding/json"
	"sort"
)

// directivesOf answers the directives of a kind that address region (their
// scope holds it), broadest scope first, then by effective date and id.
func directivesOf(r Reader, kind, region string) ([]Directive, error) {
	all, e := byIndex[Directive](r, "directives", "kind", kind)
	if e != nil {
		return nil, e
	}
	var out []Directive
	for _, d := range all {
		if InRegion(region, d.Scope) {
			out = append(out, d)
		}
	}
	sortDirectives(out)
	return out, nil
}

// sortDirectives orders directives broadest scope first, then by
// effective date and id.
func sortDirectives(out []Directive) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Scope) != len(b.Scope) {
			return len(a.Scope) < len(b.Scope)
		}
		if a.EffectiveFrom != b.EffectiveFrom {
			return a.EffectiveFrom < b.EffectiveFrom
		}
		return a.ID < b.ID
	})
}

// DirectivesOf answers the directives of a kind that address region
// (directivesOf), for a programme's package reading the directive kinds
// it registered (RegisterDirectiveBody).
func DirectivesOf(r Reader, kind, region string) ([]Directive, error) {
	return directivesOf(r, kind, region)
}

// SortDirectives orders directives as DirectivesOf answers them.
func SortDirectives(ds []Directive) { sortDirectives(ds) }

// A directive hook is told of every directive a region stores, in the
// batch that stores it: written there (Apply) or pushed down from above
// (DirectiveArrived). It may write on tx (Rewrite), as the region's own
// writes; it must be deterministic (the state, the directive and its
// time). The process package's calendar restarts stopped clocks so.
var directiveHooks []func(tx Txn, region string, d *Directive) *Error

// OnDirective adds a directive hook; call it from an init function.
func OnDirective(fn func(tx Txn, region string, d *Directive) *Error) {
	directiveHooks = append(directiveHooks, fn)
}

// directiveStored runs the directive hooks for d stored in region.
func directiveStored(tx *overlay, region string, d *Directive) *Error {
	for _, fn := range directiveHooks {
		if e := fn(tx, region, d); e != nil {
			return e
		}
	}
	return nil
}

// DirectiveArrived is called when a record pushed down to region has been
// stored there (crm.ApplyReplica): a directive runs the directive hooks
// (OnDirective), as the region's own writes. Anything else is left alone.
func DirectiveArrived(tx Txn, region, key string, value []byte) error {
	coll, _, ok := SplitRecordKey(key)
	if !ok || coll != "directives" || value == nil {
		return nil
	}
	var d Directive
	if err := json.Unmarshal(value, &d); err != nil {
		return nil // the link validated it; a newer format is not ours to read
	}
	o := newOverlay(tx)
	if e := directiveStored(o, region, &d); e != nil {
		return e
	}
	return o.flush()
}
