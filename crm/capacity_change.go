package crm

import (
	"slices"
	"strings"
)

// CapacityChange is one 变更用电 of a customer's contracted capacity
// after the 供电营业规则: a capacity reduction (减容: transformers stopped
// or replaced by smaller ones, the contracted capacity lowered from
// FromKVA to ToKVA) or a suspension (暂停: all or part of the capacity
// stopped for a time, ToKVA still running, 0 for all). It is the business
// process's record, not a connection project (projects are new
// connections and capacity increases, 业扩报装): written where the customer
// is owned, indexed by customer, replicated up the tiers like any record,
// holding the customer against deletion. The records of a customer are its
// capacity history; the churn risk of a business customer reads them
// (api: a reduction or suspension begun in the rule set's event months to
// the as-of month, or still in force in it).
type CapacityChange struct {
	Meta
	CustomerID string  `json:"customer_id"`
	Kind       string  `json:"kind"`             // CapacityReduction or CapacitySuspension
	FromKVA    float64 `json:"from_kva"`         // contracted capacity before, kVA
	ToKVA      float64 `json:"to_kva"`           // after (减容) or still running (暂停), kVA; below from_kva
	StartOn    Date    `json:"start_on"`         // in force from this day
	EndOn      Date    `json:"end_on,omitempty"` // restored (恢复) on this day; empty: not planned (a suspension needs it)
	Note       string  `json:"note,omitempty"`
}

// Capacity change kinds.
const (
	CapacityReduction  = "reduction"  // 减容
	CapacitySuspension = "suspension" // 暂停
)

func init() {
	register(&Kind{Name: "capacity_changes", IDPrefix: "cpc", New: func() Record { return &CapacityChange{} },
		Filters: []string{"customer_id", "kind"}}) // a customer with capacity changes cannot be deleted: customers' Children
}

// Normalize implements Record.
func (c *CapacityChange) Normalize() {
	trim(&c.CustomerID)
	trim(&c.Note)
	c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
	c.StartOn = Date(strings.TrimSpace(string(c.StartOn)))
	c.EndOn = Date(strings.TrimSpace(string(c.EndOn)))
	c.FromKVA, c.ToKVA = round2(c.FromKVA), round2(c.ToKVA)
}

// Validate implements Record.
func (c *CapacityChange) Validate() *Error {
	if e := customerRef(c.CustomerID); e != nil {
		return e
	}
	if e := oneOf("kind", c.Kind, CapacityReduction, CapacitySuspension); e != nil {
		return e
	}
	if e := nonNegative("from_kva", c.FromKVA, 10_000_000); e != nil {
		return e
	}
	if c.FromKVA == 0 {
		return invalid("from_kva", "is required: the contracted capacity before the change, in kVA")
	}
	if e := nonNegative("to_kva", c.ToKVA, 10_000_000); e != nil {
		return e
	}
	if c.ToKVA >= c.FromKVA {
		return invalid("to_kva", "%v kVA must be below from_kva %v: a %s lowers the capacity (a rise is a capacity_increase project)", c.ToKVA, c.FromKVA, c.Kind)
	}
	if c.Kind == CapacityReduction && c.ToKVA == 0 {
		return invalid("to_kva", "is required for a reduction: the capacity kept, above 0 (stopping all of it is a suspension, or closing the account)")
	}
	if e := firstErr(validDate("start_on", c.StartOn, false), validDate("end_on", c.EndOn, c.Kind == CapacityReduction)); e != nil {
		return e
	}
	if c.EndOn != "" && c.EndOn <= c.StartOn {
		return invalid("end_on", "%s must be after start_on %s", c.EndOn, c.StartOn)
	}
	return maxLen("note", c.Note, 2000)
}

// Indexes implements Record.
func (c *CapacityChange) Indexes() []Index {
	return []Index{{"customer_id", c.CustomerID}, {"kind", c.Kind}, {OwnerIndex, c.Owner}}
}

// Uniques implements Record.
func (c *CapacityChange) Uniques() []Unique { return nil }

// Refs implements Record.
func (c *CapacityChange) Refs() []Ref { return []Ref{{"customer_id", "customers", c.CustomerID}} }

// InForce reports whether the change holds on some day of [from, to]
// (both YYYY-MM-DD): it started by to and ends, if it does, after from.
func (c CapacityChange) InForce(from, to Date) bool {
	return c.StartOn <= to && (c.EndOn == "" || c.EndOn > from)
}

// StartedIn reports whether the change started in [from, to].
func (c CapacityChange) StartedIn(from, to Date) bool { return c.StartOn >= from && c.StartOn <= to }

// CustomerCapacityChanges answers customer id's capacity changes, read
// through the customer_id index (the customer's records only), sorted by
// start day.
func CustomerCapacityChanges(r Reader, id string) ([]CapacityChange, *Error) {
	var out []CapacityChange
	q := Query{Filters: map[string]string{"customer_id": id}, Limit: MaxLimit}
	for {
		pg, e := List(r, "capacity_changes", q)
		if e != nil {
			return nil, e
		}
		for _, raw := range pg.Items {
			var c CapacityChange
			if err := unmarshal(raw, &c); err != nil {
				return nil, AsError(err)
			}
			out = append(out, c)
		}
		if pg.Next == "" {
			break
		}
		q.After = pg.Next
	}
	slices.SortStableFunc(out, func(a, b CapacityChange) int { return strings.Compare(string(a.StartOn), string(b.StartOn)) })
	return out, nil
}
