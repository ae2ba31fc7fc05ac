package records

import (
	"encoding/json"
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
// owner region (a subtree is a prefix of it), and an account manager's.
const (
	warningScopeIndex   = "kind_period_owner"
	warningManagerIndex = "manager_kind_period"
)

// Indexes implements Record.
func (w *ConsumptionWarning) Indexes() []crm.Index {
	ix := []crm.Index{{Field: "customer_id", Value: w.CustomerID}, {Field: "period", Value: w.Period}, {Field: "kind", Value: w.Kind}, {Field: crm.OwnerIndex, Value: w.Owner},
		{Field: warningScopeIndex, Value: w.Kind + "/" + w.Period + "/" + w.Owner}}
	if w.ManagerID != "" {
		ix = append(ix, crm.Index{Field: "manager_id", Value: w.ManagerID}, crm.Index{Field: warningManagerIndex, Value: w.ManagerID + "/" + w.Kind + "/" + w.Period})
	}
	return ix
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
	prefix := keyspace.IndexField("consumption_warnings", warningScopeIndex) + cleanNUL(kind+"/"+period+"/"+region)
	if !subtree {
		prefix += "\x00"
	}
	return warningsAt(r, []byte(prefix), fn)
}

// ManagerWarnings calls fn with every stored warning of kind and period
// whose customer had manager (a staff id) as its gold manager at the run.
func ManagerWarnings(r crm.Reader, manager, kind, period string, fn func(w *ConsumptionWarning) bool) error {
	return warningsAt(r, indexPrefix("consumption_warnings", warningManagerIndex, manager+"/"+kind+"/"+period), fn)
}

func warningsAt(r crm.Reader, prefix []byte, fn func(w *ConsumptionWarning) bool) error {
	var ferr error
	err := r.Iterate(prefix, prefixEnd(prefix), func(k, _ []byte) bool {
		i := strings.LastIndexByte(string(k), 0)
		if i < 0 {
			return true
		}
		raw, err := r.Get(recordKey("consumption_warnings", string(k[i+1:])))
		if err != nil {
			ferr = err
			return false
		}
		if raw == nil {
			return true // the entry outlived its record
		}
		var w ConsumptionWarning
		if err := json.Unmarshal(raw, &w); err != nil {
			ferr = err
			return false
		}
		return fn(&w)
	})
	if err == nil {
		err = ferr
	}
	return err
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
