package records

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// ConsumptionWarning is one warning of one customer and month, written by
// the monthly warning run where the customer is owned (never by a
// client) and replicated up like every record, so that every tier lists a
// month's warnings, a region's or an account manager's, from an index
// instead of reading customers and bills:
//
//   - kind abnormal: the month's reading against the customer's own
//     forecast (analytics/warning.Detect): reasons zero, drop or rise, with
//     the expected kWh, the normal band and the change;
//   - kind churn: a business customer's churn risk of the month from its
//     credit grade (analytics/credit), with the grade's reasons; written for
//     every business customer graded, the list applies its threshold.
//
// The customer's name, category, capacity and gold manager are copied as
// they were at the run: the list needs no customer read.
type ConsumptionWarning struct {
	crm.Meta
	CustomerID  string   `json:"customer_id"`
	Period      string   `json:"period"` // the month judged, YYYY-MM
	Kind        string   `json:"kind"`   // abnormal or churn
	Reasons     []string `json:"reasons"`
	ManagerID   string   `json:"manager_id,omitempty"` // the customer's active gold manager (staff) at the run
	Name        string   `json:"name,omitempty"`
	Category    string   `json:"category,omitempty"`
	CapacityKVA float64  `json:"capacity_kva,omitempty"`
	VoltageKV   float64  `json:"voltage_kv,omitempty"`
	KWh         *float64 `json:"kwh,omitempty"`
	Expected    *float64 `json:"expected_kwh,omitempty"` // the customer's own forecast of the month
	Lo          *float64 `json:"lo_kwh,omitempty"`       // the normal band
	Hi          *float64 `json:"hi_kwh,omitempty"`
	Change      *float64 `json:"change,omitempty"` // kwh / expected_kwh - 1
	Score       *float64 `json:"score,omitempty"`  // deviations from the forecast (log scale)
	Method      string   `json:"method,omitempty"` // the forecast's method
	ChurnRisk   *float64 `json:"churn_risk,omitempty"`
	Grade       string   `json:"grade,omitempty"`
	Detector    string   `json:"detector"` // the detector's or rule set's version
}

// Warning reasons of an abnormal month (analytics/warning's names).
var AbnormalReasons = []string{"zero", "drop", "rise"}

// registerWarnings registers the warnings kind (records.go).
func registerWarnings() {
	crm.Register(&crm.Kind{Programme: "analytics", Name: "consumption_warnings", IDPrefix: "cwn", New: func() crm.Record { return &ConsumptionWarning{} },
		Filters: []string{"customer_id", "period", "kind", "manager_id"}})
}

// Normalize implements Record.
func (w *ConsumptionWarning) Normalize() {
	trim(&w.CustomerID)
	trim(&w.Period)
	trim(&w.ManagerID)
	trim(&w.Name)
	trim(&w.Method)
	trim(&w.Detector)
	w.Kind = strings.ToLower(strings.TrimSpace(w.Kind))
	w.Category = strings.ToLower(strings.TrimSpace(w.Category))
	w.Grade = strings.ToUpper(strings.TrimSpace(w.Grade))
}

// Validate implements Record.
func (w *ConsumptionWarning) Validate() *crm.Error {
	if !crm.Kinds["customers"].ValidID(w.CustomerID) {
		return crm.Invalid("customer_id", "%q is not a customer id", w.CustomerID)
	}
	if !crm.ValidPeriod(w.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", w.Period)
	}
	if e := crm.OneOf("kind", w.Kind, WarningAbnormal, WarningChurn); e != nil {
		return e
	}
	if len(w.Reasons) == 0 || len(w.Reasons) > 20 {
		return crm.Invalid("reasons", "want 1 to 20 reasons, got %d", len(w.Reasons))
	}
	for _, r := range w.Reasons {
		if r == "" || len(r) > 100 {
			return crm.Invalid("reasons", "%q: want 1 to 100 bytes", r)
		}
	}
	if w.Kind == WarningAbnormal {
		if e := crm.OneOf("reasons", w.Reasons[0], AbnormalReasons...); e != nil {
			return e
		}
		if w.KWh == nil {
			return crm.Invalid("kwh", "is required for an abnormal-consumption warning")
		}
	}
	if w.Kind == WarningChurn && w.ChurnRisk == nil {
		return crm.Invalid("churn_risk", "is required for a churn warning")
	}
	if w.ManagerID != "" && !crm.Kinds["staff"].ValidID(w.ManagerID) {
		return crm.Invalid("manager_id", "%q is not a staff id", w.ManagerID)
	}
	if w.Category != "" {
		if e := crm.OneOf("category", w.Category, crm.Categories...); e != nil {
			return e
		}
	}
	if e := crm.FirstErr(crm.MaxLen("name", w.Name, 100), crm.MaxLen("method", w.Method, 32), crm.Required("detector", w.Detector, 64),
		crm.NonNegative("capacity_kva", w.CapacityKVA, 10_000_000), crm.NonNegative("voltage_kv", w.VoltageKV, 1000)); e != nil {
		return e
	}
	for _, f := range []struct {
		name string
		v    *float64
		lo   float64
	}{{"kwh", w.KWh, 0}, {"expected_kwh", w.Expected, 0}, {"lo_kwh", w.Lo, 0}, {"hi_kwh", w.Hi, 0}, {"change", w.Change, -1}, {"score", w.Score, -1e12}} {
		if f.v != nil && !(*f.v >= f.lo && *f.v <= 1e12) {
			return crm.Invalid(f.name, "%v: want a finite number from %v", *f.v, f.lo)
		}
	}
	if w.ChurnRisk != nil && !(*w.ChurnRisk >= 0 && *w.ChurnRisk <= 1) {
		return crm.Invalid("churn_risk", "%v: want 0..1", *w.ChurnRisk)
	}
	if w.Grade != "" {
		if e := crm.OneOf("grade", w.Grade, CreditGrades...); e != nil {
			return e
		}
	}
	return nil
}

// The composite indexes the lists read: a month's warnings of one kind by
// owner region (a subtree is a prefix of it), and an account manager's;
// and a month's churn warnings by owner, riskiest first (churnRankIndex:
// <period>/<owner>/<rank>), and an account manager's the same way, so that
// the churn list reads the riskiest of each owner and stops (ChurnTop).
const (
	warningScopeIndex   = "kind_period_owner"
	warningManagerIndex = "manager_kind_period"
	churnRankIndex      = "churn_rank"
	churnManagerIndex   = "manager_churn_rank"
)

// churnRank is a churn risk as a key part that sorts riskiest first: seven
// digits of 1 − risk in millionths (risk clipped to [0, 1]).
func churnRank(risk float64) string {
	return fmt.Sprintf("%07d", 1_000_000-int(math.Round(min(1, max(0, risk))*1_000_000)))
}

// Indexes implements Record.
func (w *ConsumptionWarning) Indexes() []crm.Index {
	ix := []crm.Index{{Field: "customer_id", Value: w.CustomerID}, {Field: "period", Value: w.Period}, {Field: "kind", Value: w.Kind}, {Field: crm.OwnerIndex, Value: w.Owner},
		{Field: warningScopeIndex, Value: w.Kind + "/" + w.Period + "/" + w.Owner}}
	if w.ManagerID != "" {
		ix = append(ix, crm.Index{Field: "manager_id", Value: w.ManagerID}, crm.Index{Field: warningManagerIndex, Value: w.ManagerID + "/" + w.Kind + "/" + w.Period})
	}
	if w.Kind == WarningChurn && w.ChurnRisk != nil {
		rank := churnRank(*w.ChurnRisk)
		ix = append(ix, crm.Index{Field: churnRankIndex, Value: w.Period + "/" + w.Owner + "/" + rank})
		if w.ManagerID != "" {
			ix = append(ix, crm.Index{Field: churnManagerIndex, Value: w.ManagerID + "/" + w.Period + "/" + rank})
		}
	}
	return ix
}

// ChurnTop answers the month's churn warnings of region (subtree: and the
// regions under it; manager not "": that account manager's, kept to the
// scope) whose risk is at least minRisk and that keep accepts, riskiest
// first (then by owner and id), at most limit of them, and whether more
// are. It reads the churn_rank index owner by owner, riskiest first, and
// stops each owner at its limit-th accepted warning or below minRisk: the
// cost is at most limit warnings an owner in scope, whatever the number
// of customers. ok is false when an owner in scope holds churn warnings of
// the month but none in that index, or the manager's month has fewer rank
// entries than churn warnings (written before the index existed, by a
// node not yet upgraded): the caller then lists them the old way
// (WarningsOf), so that none is left out.
func ChurnTop(r crm.Reader, period, region string, subtree bool, manager string, minRisk float64, limit int,
	keep func(w *ConsumptionWarning) (bool, error)) (top []*ConsumptionWarning, more bool, ok bool, err error) {
	stop := churnRank(minRisk)
	inScope := func(owner string) bool { return owner == region || subtree && crm.InRegion(owner, region) }
	// walk reads the index entries under prefix in order, accepting up to
	// limit+1 warnings.
	walk := func(prefix []byte, rankAt func(k string) (owner, rank string)) (seen bool, err error) {
		n := 0
		var ferr error
		err = r.Iterate(prefix, prefixEnd(prefix), func(k, _ []byte) bool {
			i := strings.LastIndexByte(string(k), 0)
			if i < 0 {
				return true
			}
			seen = true
			owner, rank := rankAt(string(k[:i]))
			if rank > stop {
				return false // below minRisk, and so is the rest of this walk
			}
			if owner != "" && !inScope(owner) {
				return true
			}
			w, err := warningOfEntry(r, k)
			if err != nil {
				ferr = err
				return false
			}
			if w == nil || w.ChurnRisk == nil || *w.ChurnRisk < minRisk || !inScope(w.Owner) {
				return true // gone; the rank's rounding; a manager's warning outside the scope
			}
			if yes, err := keep(w); err != nil {
				ferr = err
				return false
			} else if yes {
				top = append(top, w)
				n++
			}
			return n <= limit
		})
		if err == nil {
			err = ferr
		}
		return seen, err
	}
	if manager != "" {
		// The manager's index names no owner: the scope is asked of the
		// record. Warnings written before the rank index (fewer rank entries
		// than churn entries of the manager's month) are read the old way.
		prefix := keyspace.IndexField("consumption_warnings", churnManagerIndex) + cleanNUL(manager+"/"+period+"/")
		ranked, err := countKeys(r, []byte(prefix))
		if err != nil {
			return nil, false, false, err
		}
		all, err := countKeys(r, indexPrefix("consumption_warnings", warningManagerIndex, manager+"/"+WarningChurn+"/"+period))
		if err != nil {
			return nil, false, false, err
		}
		if ranked != all {
			return nil, false, false, nil
		}
		if _, err := walk([]byte(prefix), func(k string) (string, string) { return "", k[len(prefix):] }); err != nil {
			return nil, false, false, err
		}
	} else {
		// One walk an owner: the owners are those of the month's churn
		// warnings in scope (kind_period_owner, one seek each); an owner
		// whose warnings have no rank entry (written before the index) sends
		// the caller the old way, so that no warning is left out.
		scope := keyspace.IndexField("consumption_warnings", warningScopeIndex) + cleanNUL(WarningChurn+"/"+period+"/")
		lower := []byte(scope + cleanNUL(region))
		if !subtree {
			lower = []byte(scope + cleanNUL(region) + "\x00")
		}
		upper := prefixEnd(lower)
		base := keyspace.IndexField("consumption_warnings", churnRankIndex) + cleanNUL(period+"/")
		for {
			var owner string
			if err := r.Iterate(lower, upper, func(k, _ []byte) bool {
				rest := string(k[len(scope):])
				if j := strings.IndexByte(rest, 0); j > 0 {
					owner = rest[:j]
				}
				return false
			}); err != nil {
				return nil, false, false, err
			}
			if owner == "" {
				break
			}
			prefix := base + owner + "/"
			seen, err := walk([]byte(prefix), func(k string) (string, string) { return owner, k[len(prefix):] })
			if err != nil {
				return nil, false, false, err
			}
			if !seen {
				return nil, false, false, nil
			}
			lower = prefixEnd([]byte(scope + owner + "\x00"))
			if upper != nil && string(lower) >= string(upper) {
				break
			}
		}
	}
	slices.SortStableFunc(top, func(a, b *ConsumptionWarning) int {
		switch {
		case *a.ChurnRisk != *b.ChurnRisk:
			return cmp.Compare(*b.ChurnRisk, *a.ChurnRisk)
		case a.Owner != b.Owner:
			return strings.Compare(a.Owner, b.Owner)
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(top) > limit {
		top, more = top[:limit], true
	}
	return top, more, true, nil
}

// countKeys answers how many keys begin with prefix.
func countKeys(r crm.Reader, prefix []byte) (int, error) {
	n := 0
	err := r.Iterate(prefix, prefixEnd(prefix), func(_, _ []byte) bool { n++; return true })
	return n, err
}

// Uniques implements Record: one warning per customer, kind and month.
func (w *ConsumptionWarning) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "warning", Scope: w.CustomerID, Value: w.Kind + "/" + w.Period, Field: "period"}}
}

// Refs implements Record.
func (w *ConsumptionWarning) Refs() []crm.Ref {
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: w.CustomerID}}
}

// WarningsOf calls fn with every stored warning of kind and period owned
// by region (subtree: or by a region under it), in (owner, id) order,
// until fn answers false. It reads the kind_period_owner index and the
// warnings it points at, nothing else: the cost is the number of warnings
// listed, whatever the number of customers.
func WarningsOf(r crm.Reader, kind, period, region string, subtree bool, fn func(w *ConsumptionWarning) bool) error {
	return WarningsFrom(r, kind, period, region, subtree, "", "", "", fn)
}

// ManagerWarnings calls fn with every stored warning of kind and period
// whose customer had manager (a staff id) as its gold manager at the run.
func ManagerWarnings(r crm.Reader, manager, kind, period string, fn func(w *ConsumptionWarning) bool) error {
	return WarningsFrom(r, kind, period, "", false, manager, "", "", fn)
}

// WarningsFrom is WarningsOf (manager "") or ManagerWarnings (manager a
// staff id; region and subtree unused) resumed after the warning afterID
// owned by afterOwner (both "": from the first), in the same order: a
// list's next page starts where the last one ended, reading nothing
// before it.
func WarningsFrom(r crm.Reader, kind, period, region string, subtree bool, manager, afterOwner, afterID string, fn func(w *ConsumptionWarning) bool) error {
	var prefix, lower string
	if manager != "" {
		prefix = string(indexPrefix("consumption_warnings", warningManagerIndex, manager+"/"+kind+"/"+period))
		lower = prefix
		if afterID != "" {
			lower = prefix + afterID + "\x00"
		}
	} else {
		base := keyspace.IndexField("consumption_warnings", warningScopeIndex) + cleanNUL(kind+"/"+period+"/")
		prefix = base + cleanNUL(region)
		if !subtree {
			prefix += "\x00"
		}
		lower = prefix
		if afterID != "" {
			lower = max(prefix, base+cleanNUL(afterOwner)+"\x00"+afterID+"\x00")
		}
	}
	return warningsAt(r, []byte(prefix), []byte(lower), fn)
}

func warningsAt(r crm.Reader, prefix, lower []byte, fn func(w *ConsumptionWarning) bool) error {
	var ferr error
	err := r.Iterate(lower, prefixEnd(prefix), func(k, _ []byte) bool {
		w, err := warningOfEntry(r, k)
		if err != nil {
			ferr = err
			return false
		}
		return w == nil || fn(w)
	})
	if err == nil {
		err = ferr
	}
	return err
}

// warningOfEntry reads the warning an index entry (…\x00<id>) points at;
// nil when the key names no id or the entry outlived its record.
func warningOfEntry(r crm.Reader, k []byte) (*ConsumptionWarning, error) {
	i := strings.LastIndexByte(string(k), 0)
	if i < 0 {
		return nil, nil
	}
	raw, err := r.Get(recordKey("consumption_warnings", string(k[i+1:])))
	if err != nil || raw == nil {
		return nil, err
	}
	var w ConsumptionWarning
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// GoldManagerOf answers the staff id of customer id's active gold manager
// (gold_assignments, package bigcustomer's: its staff_id), "" without
// one. One unique-key read and one record read.
func GoldManagerOf(r crm.Reader, customerID string) (string, error) {
	id, err := r.Get(uniqueKey("gold_assignments", "active", customerID, "active"))
	if err != nil || id == nil {
		return "", err
	}
	raw, err := r.Get(recordKey("gold_assignments", string(id)))
	if err != nil || raw == nil {
		return "", err
	}
	var g struct {
		StaffID string `json:"staff_id"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return "", err
	}
	return g.StaffID, nil
}
