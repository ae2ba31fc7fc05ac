package crm

import (
	"encoding/json"
	"strings"
)

// A deadline that needs a calendar year nobody has loaded yet is left unset
// and the record says why (clock_error). When a calendar directive reaches
// a region — written there, or pushed down from above — the region counts
// those clocks again at once, in the same batch, instead of waiting for the
// next stage action or transition: RecountClocks. It is deterministic (the
// state, the directive and its time), so every replica writes the same.

// DirectiveArrived is called when a record pushed down to region has been
// stored there (crm.ApplyReplica): a calendar directive addressed to the
// region makes it count its stopped clocks again (RecountClocks), as the
// region's own writes. Anything else is left alone.
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
	if e := recountFor(o, region, &d); e != nil {
		return e
	}
	return o.flush()
}

// recountFor runs RecountClocks in region when d is a calendar directive
// addressed to it, stamped with d's time.
func recountFor(tx *overlay, region string, d *Directive) *Error {
	if d.Kind != "calendar" || !(InRegion(region, d.Scope) || InRegion(d.Scope, region)) {
		return nil
	}
	_, e := RecountClocks(tx, region, d)
	return e
}

// RecountClocks counts again the deadlines of the projects and work orders
// region writes (its own, and those of children it took into full
// management) whose clock stopped for want of a calendar year, within the
// scope of calendar directive d (the one that arrived), and writes those
// that changed as an update by the system at d's time. It answers how many
// it wrote.
func RecountClocks(tx *overlay, region string, d *Directive) (int, *Error) {
	scope := region
	if InRegion(d.Scope, region) {
		scope = d.Scope // a directive for part of this region's subtree
	}
	at := d.UpdatedAt
	n := 0
	for _, coll := range []string{"projects", "work_orders"} {
		kind := Kinds[coll]
		var stale [][]byte
		if err := scanOwned(tx, coll, scope, true, func(raw []byte) error {
			if strings.Contains(string(raw), `"clock_error":`) {
				stale = append(stale, raw)
			}
			return nil
		}); err != nil {
			return n, AsError(err)
		}
		for _, raw := range stale {
			old, rec := kind.New(), kind.New()
			if err := unmarshal(raw, old); err != nil {
				return n, AsError(err)
			}
			if err := unmarshal(raw, rec); err != nil {
				return n, AsError(err)
			}
			m := rec.RecordMeta()
			if w, _, err := WriterOf(tx, m.Owner); err != nil {
				return n, AsError(err)
			} else if w != region {
				continue // a copy: its writer counts it
			}
			changed, e := recount(tx, rec, d)
			if e != nil {
				return n, e
			}
			if !changed {
				continue
			}
			m.Version++
			m.UpdatedAt, m.UpdatedBy = at, SystemActor
			if _, e := write(tx, kind, rec, old); e != nil {
				return n, e
			}
			n++
		}
	}
	return n, nil
}

// recount counts rec's deadlines again on the calendar in force now (with
// d, which may not be visible to iteration yet) and the rule set it was
// opened under; changed reports whether anything moved.
func recount(r Reader, rec Record, d *Directive) (changed bool, e *Error) {
	switch x := rec.(type) {
	case *Project:
		before := x.derived()
		rs, e := RuleSetByID(r, x.RuleSet)
		if e != nil {
			return false, e
		}
		cal, err := calendarWith(r, x.Region, d)
		if err != nil {
			return false, AsError(err)
		}
		RecomputeProject(x, rs, cal)
		return !sameJSON(before, x.derived()), nil
	case *WorkOrder:
		if x.ClockError == "" || x.AnswerDue != nil {
			return false, nil
		}
		rs, e := RuleSetByID(r, x.RuleSet)
		if e != nil {
			return false, e
		}
		sla := rs.WorkOrderSLA(x.Kind, x.Subtype)
		if sla.AnswerWorkingDays <= 0 {
			return false, nil
		}
		cal, err := calendarWith(r, x.Region, d)
		if err != nil {
			return false, AsError(err)
		}
		dl, err := cal.Deadline(x.ReceivedAt, sla.AnswerWorkingDays)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "workday: ")
			changed, x.ClockError = msg != x.ClockError, msg
			return changed, nil
		}
		x.AnswerDue, x.ClockError = tp(dl), ""
		return true, nil
	}
	return false, nil
}
