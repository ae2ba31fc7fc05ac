package bigcustomer

import (
	"fmt"
	"reflect"

	"gridcrm/crm"
)

// Test hooks of cardclass.go: the record-reading computations the cards
// replace, whether the cards cover a region, and the class memo against
// one read from every card.

// ClassifyRegionFromRecords is ClassifyRegion from the customers and bills.
func ClassifyRegionFromRecords(r crm.Reader, q ClassQuery) (*ClassReport, *crm.Error) {
	return classifyRegion(r, q, false)
}

// ParetoFromRecords is Pareto from the customers and bills.
func ParetoFromRecords(r crm.Reader, region string, subtree bool, day crm.Date, topN int) (*ParetoReport, *crm.Error) {
	return pareto(r, region, subtree, day, topN, false)
}

// CardsCover reports whether the cards hold every customer of the region
// (or subtree) the aggregates count, so that the reads use them.
func CardsCover(r crm.Reader, region string, subtree bool) bool {
	_, ok, err := cardCustomers(r, region, subtree, "2026-01-15")
	return ok && err == nil
}

// ConsumptionFromRecords is Consumption with the class comparison from a
// classification of the records.
func ConsumptionFromRecords(r crm.Reader, id string, day crm.Date) (*ConsumptionReport, *crm.Error) {
	return consumption(r, id, day, false)
}

// ClassMemoStats answers how many class memos were read from every card
// and how many were brought up to date from the cards changed since.
func ClassMemoStats() (full, patched int64) {
	return memoStats.full.Load(), memoStats.patched.Load()
}

// CheckClassMemo reads the class memos of region (or its subtree) for day
// as the reads do (from the memo, brought up to date or not), and the
// market's card lists for the same window, and compares each with one
// built from every card of its owner: the same customers, figures,
// classes, cells in the same order, counts and rules.
func CheckClassMemo(r crm.Reader, region string, subtree bool, day crm.Date) error {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return e
	}
	owners, customers, err := crm.CardOwners(r, region, subtree)
	if err != nil {
		return err
	}
	if sum, err := crm.Summarize(r, region, subtree); err != nil || sum.Customers != customers {
		return fmt.Errorf("%d customers counted; the summary has %d (%v)", customers, sum.Customers, err)
	}
	ocs, ok, err := cardClasses(r, region, subtree, day, book)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the cards of %s do not cover its customers", region)
	}
	if len(ocs) != len(owners) {
		return fmt.Errorf("%d memos for %d owners", len(ocs), len(owners))
	}
	from, to := crm.Window(day)
	for i, o := range owners {
		got := ocs[i]
		want, err := readClasses(r, o.Owner, o.Version, from, to, book)
		if err != nil {
			return err
		}
		if got.version != want.version || got.from != want.from || got.to != want.to || got.rulesKey != want.rulesKey ||
			!reflect.DeepEqual(got.rules, want.rules) || !reflect.DeepEqual(got.regions, want.regions) {
			return fmt.Errorf("owner %s: memo version/window/rules/regions %q %s..%s %v differ from the cards' %q %s..%s %v",
				o.Owner, got.version, got.from, got.to, got.regions, want.version, want.from, want.to, want.regions)
		}
		if got.byID.n != len(got.byID.flat().items) {
			return fmt.Errorf("owner %s: byID counts %d customers, holds %d", o.Owner, got.byID.n, len(got.byID.flat().items))
		}
		if err := sameItems("byID", got.byID.flat().items, want.byID.flat().items); err != nil {
			return fmt.Errorf("owner %s: %w", o.Owner, err)
		}
		for c := range want.cells {
			g, w := got.cells[c].flat(), want.cells[c].flat()
			if got.cells[c].n != len(g.items) {
				return fmt.Errorf("owner %s cell %d: counts %d customers, holds %d", o.Owner, c, got.cells[c].n, len(g.items))
			}
			if err := sameItems(fmt.Sprintf("cell %d", c), g.items, w.items); err != nil {
				return fmt.Errorf("owner %s: %w", o.Owner, err)
			}
			if !reflect.DeepEqual(g.kwh, w.kwh) || !reflect.DeepEqual(g.billed, w.billed) {
				return fmt.Errorf("owner %s cell %d: kWh/billed side lists differ", o.Owner, c)
			}
		}
		for n := range want.all {
			g, w := got.all[n].flat(), want.all[n].flat()
			if err := sameItems(fmt.Sprintf("order %d", n), g.items, w.items); err != nil {
				return fmt.Errorf("owner %s: %w", o.Owner, err)
			}
			if !reflect.DeepEqual(g.kwh, w.kwh) || !reflect.DeepEqual(g.billed, w.billed) {
				return fmt.Errorf("owner %s order %d: kWh/billed side lists differ", o.Owner, n)
			}
		}
		list, err := crm.OwnerCards(r, o.Owner, o.Version, from, to)
		if err != nil {
			return err
		}
		var full []crm.CardCustomer
		if err := crm.ScanCards(r, o.Owner, from, to, func(c *crm.CardCustomer) { full = append(full, *c) }); err != nil {
			return err
		}
		if len(list) != len(full) || len(full) > 0 && !reflect.DeepEqual(list, full) {
			return fmt.Errorf("owner %s: the card list (%d) differs from the cards' (%d)", o.Owner, len(list), len(full))
		}
	}
	return nil
}

func sameItems(what string, got, want []*classItem) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d customers; the cards give %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(*got[i], *want[i]) {
			return fmt.Errorf("%s[%d]: %+v; the cards give %+v", what, i, *got[i], *want[i])
		}
	}
	return nil
}

// SetClassMemoPatching turns bringing the class memo up to date from the
// changed cards on or off (off: every change reads every card of its
// region again, as before the journal); it answers the previous setting.
func SetClassMemoPatching(on bool) bool {
	was := !memoNoPatch.Load()
	memoNoPatch.Store(!on)
	return was
}

// SetMemoRunMax sets the length of the class memo's runs (new memos cut
// their lists into runs of n, an update cuts a run past 2n) and answers
// the previous one.
func SetMemoRunMax(n int) int {
	was := runMax
	runMax = n
	return was
}

// ClassMemoHolds reports whether the class memo holds owner's classes for
// the window of day.
func ClassMemoHolds(owner string, day crm.Date) bool {
	from, to := crm.Window(day)
	classMemo.Lock()
	defer classMemo.Unlock()
	return len(classMemo.m[memoKey{owner, from, to}]) > 0
}
