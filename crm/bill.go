package crm

import (
	"math"
	"sort"
)

// Bill is one customer's consumption and bill for one month (电量电费).
type Bill struct {
	Meta
	CustomerID string  `json:"customer_id"`
	Period     string  `json:"period"`               // YYYY-MM
	KWh        float64 `json:"kwh"`                  // total energy
	KWhPeak    float64 `json:"kwh_peak,omitempty"`   // 峰
	KWhFlat    float64 `json:"kwh_flat,omitempty"`   // 平
	KWhValley  float64 `json:"kwh_valley,omitempty"` // 谷
	Billed     float64 `json:"billed"`               // amount billed, yuan
	Paid       float64 `json:"paid"`                 // amount paid, yuan
	PayDate    Date    `json:"pay_date,omitempty"`   // day of the (last) payment
	Arrears    float64 `json:"arrears"`              // billed - paid, derived
	// Derived on create from the customer, never written by a client: the
	// category and voltage class the month was billed under, so that every
	// tier counts kWh and yuan per category and class from the bill alone
	// (market.go). A later change of the customer leaves its bills as billed.
	Category     string `json:"category,omitempty"`
	VoltageClass string `json:"voltage_class,omitempty"`
}

func init() {
	register(&Kind{Name: "bills", IDPrefix: "bil", New: func() Record { return &Bill{} },
		Filters: []string{"customer_id", "period"}, OnCreate: billOnCreate, Guard: billGuard, Counters: billCounters})
}

// Normalize implements Record.
func (b *Bill) Normalize() {
	trim(&b.CustomerID)
	trim(&b.Period)
	b.Billed = round2(b.Billed)
	b.Paid = round2(b.Paid)
	b.Arrears = round2(math.Max(0, b.Billed-b.Paid))
}

// Validate implements Record.
func (b *Bill) Validate() *Error {
	if b.CustomerID == "" {
		return invalid("customer_id", "is required")
	}
	if !Kinds["customers"].ValidID(b.CustomerID) {
		return invalid("customer_id", "%q is not a customer id", b.CustomerID)
	}
	if b.Period == "" {
		return invalid("period", "is required (YYYY-MM)")
	}
	if !periodRe.MatchString(b.Period) {
		return invalid("period", "%q is not a month of the form YYYY-MM", b.Period)
	}
	const maxKWh = 1e10
	if e := firstErr(nonNegative("kwh", b.KWh, maxKWh), nonNegative("kwh_peak", b.KWhPeak, maxKWh),
		nonNegative("kwh_flat", b.KWhFlat, maxKWh), nonNegative("kwh_valley", b.KWhValley, maxKWh),
		nonNegative("billed", b.Billed, 1e10), nonNegative("paid", b.Paid, 1e10)); e != nil {
		return e
	}
	if tou := b.KWhPeak + b.KWhFlat + b.KWhValley; tou > 0 && math.Abs(tou-b.KWh) > math.Max(0.5, b.KWh*1e-6) {
		return invalid("kwh", "is %v but kwh_peak + kwh_flat + kwh_valley = %v; they must add up", b.KWh, tou)
	}
	if b.Category != "" {
		if e := oneOf("category", b.Category, Categories...); e != nil {
			return e
		}
	}
	if b.VoltageClass != "" {
		if e := oneOf("voltage_class", b.VoltageClass, "low", "medium", "high"); e != nil {
			return e
		}
	}
	if b.Paid > 0 && b.PayDate == "" {
		return invalid("pay_date", "is required when paid > 0")
	}
	return validDate("pay_date", b.PayDate, true)
}

// Indexes implements Record.
func (b *Bill) Indexes() []Index {
	return []Index{{"customer_id", b.CustomerID}, {"period", b.Period}, {OwnerIndex, b.Owner}}
}

// Uniques implements Record: one bill per customer and month.
func (b *Bill) Uniques() []Unique {
	return []Unique{{Name: "period", Scope: b.CustomerID, Value: b.Period, Field: "period"}}
}

// Refs implements Record.
func (b *Bill) Refs() []Ref { return []Ref{{"customer_id", "customers", b.CustomerID}} }

// billOnCreate derives the bill's category and voltage class from its
// customer (one record read in the command's batch). A client may leave
// them out or send the customer's own; another value is refused naming
// the field. A missing or unreadable customer is left to check (Refs)
// to report.
func billOnCreate(r Reader, rec Record, _ *Command) *Error {
	b := rec.(*Bill)
	raw, err := r.Get(recordKey("customers", b.CustomerID))
	if err != nil {
		return AsError(err)
	}
	if raw == nil {
		return nil
	}
	var c Customer
	if unmarshal(raw, &c) != nil || c.Category == "" || c.VoltageKV <= 0 {
		return nil // check reads the customer's owner and reports what is wrong
	}
	class := VoltageClass(c.VoltageKV)
	if b.Category != "" && b.Category != c.Category {
		return invalid("category", "%q: a bill's category is its customer's (%s), derived by the server; leave it out", b.Category, c.Category)
	}
	if b.VoltageClass != "" && b.VoltageClass != class {
		return invalid("voltage_class", "%q: a bill's voltage class is its customer's (%s), derived by the server; leave it out", b.VoltageClass, class)
	}
	b.Category, b.VoltageClass = c.Category, class
	return nil
}

// billGuard keeps a bill's derived category and voltage class through an
// update: a replace that leaves them out keeps the stored ones; a change
// is refused.
func billGuard(old, new Record) *Error {
	o, n := old.(*Bill), new.(*Bill)
	if n.Category == "" {
		n.Category = o.Category
	}
	if n.VoltageClass == "" {
		n.VoltageClass = o.VoltageClass
	}
	return firstErr(immutable("category", o.Category, n.Category), immutable("voltage_class", o.VoltageClass, n.VoltageClass))
}

// CustomerBills answers customer id's bills sorted by period (its
// customer_id index: the customer's bills only).
func CustomerBills(r Reader, id string) ([]Bill, *Error) {
	out, e := byIndex[Bill](r, "bills", "customer_id", id)
	if e != nil {
		return nil, e
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	return out, nil
}
