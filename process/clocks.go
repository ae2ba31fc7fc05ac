package process

import (
	"strings"

	"gridcrm/crm"
)

// A deadline that needs a calendar year nobody has loaded yet is left unset
// and the record says why (clock_error). When a calendar directive reaches
// a region — written there, or pushed down from above — the region counts
// those clocks again at once, in the same batch, instead of waiting for the
// next stage action or transition: RecountClocks. It is deterministic (the
// state, the directive and its time), so every replica writes the same.

func init() { crm.OnDirective(recountFor) }

// recountFor runs RecountClocks in region when d is a calendar directive
// addressed to it, stamped with d's time.
func recountFor(tx crm.Txn, region string, d *crm.Directive) *crm.Error {
	if d.Kind != "calendar" || !(crm.InRegion(region, d.Scope) || crm.InRegion(d.Scope, region)) {
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
func RecountClocks(tx crm.Txn, region string, d *crm.Directive) (int, *crm.Error) {
	scope := region
	if crm.InRegion(d.Scope, region) {
		scope = d.Scope // a directive for part of this region's subtree
	}
	at := d.UpdatedAt
	n := 0
	for _, coll := range []string{"projects", "work_orders"} {
		kind := crm.Kinds[coll]
		var stale [][]byte
		if err := crm.ScanOwned(tx, coll, scope, true, func(raw []byte) error {
			if strings.Contains(string(raw), `"clock_error":`) {
				stale = append(stale, raw)
			}
			return nil
		}); err != nil {
			return n, crm.AsError(err)
		}
		for _, raw := range stale {
			old, rec := kind.New(), kind.New()
			if err := crm.Unmarshal(raw, old); err != nil {
				return n, crm.AsError(err)
			}
			if err := crm.Unmarshal(raw, rec); err != nil {
				return n, crm.AsError(err)
			}
			m := rec.RecordMeta()
			if w, _, err := crm.WriterOf(tx, m.Owner); err != nil {
				return n, crm.AsError(err)
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
			m.UpdatedAt, m.UpdatedBy = at, crm.SystemActor
			if _, e := crm.Rewrite(tx, kind, rec, old); e != nil {
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
func recount(r crm.Reader, rec crm.Record, d *crm.Directive) (changed bool, e *crm.Error) {
	switch x := rec.(type) {
	case *Project:
		before := x.derived()
		rs, e := RuleSetByID(r, x.RuleSet)
		if e != nil {
			return false, e
		}
		cal, err := calendarWith(r, x.Region, d)
		if err != nil {
			return false, crm.AsError(err)
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
			return false, crm.AsError(err)
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
