package crm

import (
	"slices"
	"strings"
)

// Violation is one 违约用电 (use of electricity against the supply
// contract) or 窃电 (electricity theft) found at a customer, with what was
// charged back (供电营业规则: the back-charged energy and bill, and the
// 违约使用电费 penalty) and whether it is settled. It is a customer-linked
// record like a contact: written where the customer is owned, indexed by
// customer, replicated up the tiers like any record. The credit grade
// reads a customer's violations through the customer index: a theft in
// the rule set's window forces grade C, a violation lowers the score
// (analytics/credit, marks.go).
type Violation struct {
	Meta
	CustomerID   string  `json:"customer_id"`
	Kind         string  `json:"kind"`    // ViolationTheft or ViolationBreach
	Subtype      string  `json:"subtype"` // one of ViolationSubtypes[Kind]
	FoundOn      Date    `json:"found_on"`
	KWhRecovered float64 `json:"kwh_recovered,omitempty"` // 追补电量, kWh
	BackCharge   float64 `json:"back_charge,omitempty"`   // 追补电费, yuan
	Penalty      float64 `json:"penalty,omitempty"`       // 违约使用电费, yuan
	Status       string  `json:"status"`                  // open (default) or settled
	Note         string  `json:"note,omitempty"`
}

// Violation kinds.
const (
	ViolationTheft  = "theft"     // 窃电
	ViolationBreach = "violation" // 违约用电
)

// Violation statuses.
const (
	ViolationOpen    = "open"
	ViolationSettled = "settled"
)

// ViolationSubtypes are the subtypes of each kind, after the 供电营业规则:
// violations (第一百条) — private capacity increase (私增容量), changing the
// category of use (擅自改变用电类别), exceeding the allotted quota (超计划
// 用电), using sealed or suspended equipment (擅自启用封存/暂停设备),
// moving or operating the company's metering or supply equipment (擅自
// 迁移更动计量装置或供电设施), supplying others (擅自转供电) and
// connecting one's own generation (自备电源擅自并网); thefts (第一百零一
// 条) — a connection around the meter or on the line (私拉乱接/绕越计量),
// a forged or opened seal (伪造或开启封印), a damaged meter (损坏计量装置),
// a meter made inaccurate (使计量不准或失效), and other means.
var ViolationSubtypes = map[string][]string{
	ViolationBreach: {"capacity_increase", "category_change", "over_quota", "sealed_equipment", "metering_interference", "resupply", "own_generation"},
	ViolationTheft:  {"bypass", "seal_tampering", "meter_damage", "meter_inaccurate", "other"},
}

func init() {
	register(&Kind{Name: "violations", IDPrefix: "vio", New: func() Record { return &Violation{} },
		Filters: []string{"customer_id", "kind", "status"}}) // a customer with violations cannot be deleted: customers' Children
}

// Normalize implements Record.
func (v *Violation) Normalize() {
	trim(&v.CustomerID)
	trim(&v.Note)
	v.Kind = strings.ToLower(strings.TrimSpace(v.Kind))
	v.Subtype = strings.ToLower(strings.TrimSpace(v.Subtype))
	v.Status = strings.ToLower(strings.TrimSpace(v.Status))
	if v.Status == "" {
		v.Status = ViolationOpen
	}
	v.FoundOn = Date(strings.TrimSpace(string(v.FoundOn)))
	v.KWhRecovered, v.BackCharge, v.Penalty = round2(v.KWhRecovered), round2(v.BackCharge), round2(v.Penalty)
}

// Validate implements Record.
func (v *Violation) Validate() *Error {
	if e := customerRef(v.CustomerID); e != nil {
		return e
	}
	if e := oneOf("kind", v.Kind, ViolationBreach, ViolationTheft); e != nil {
		return e
	}
	if e := oneOf("subtype", v.Subtype, ViolationSubtypes[v.Kind]...); e != nil {
		return e
	}
	if e := validDate("found_on", v.FoundOn, false); e != nil {
		return e
	}
	if e := firstErr(nonNegative("kwh_recovered", v.KWhRecovered, 1e12), nonNegative("back_charge", v.BackCharge, 1e12),
		nonNegative("penalty", v.Penalty, 1e12)); e != nil {
		return e
	}
	if e := oneOf("status", v.Status, ViolationOpen, ViolationSettled); e != nil {
		return e
	}
	return maxLen("note", v.Note, 2000)
}

// Indexes implements Record.
func (v *Violation) Indexes() []Index {
	return []Index{{"customer_id", v.CustomerID}, {"kind", v.Kind}, {"status", v.Status}, {OwnerIndex, v.Owner}}
}

// Uniques implements Record.
func (v *Violation) Uniques() []Unique { return nil }

// Refs implements Record.
func (v *Violation) Refs() []Ref { return []Ref{{"customer_id", "customers", v.CustomerID}} }

// CustomerViolations answers customer id's violations and thefts, read
// through the customer_id index (the customer's records only), sorted by
// the day found.
func CustomerViolations(r Reader, id string) ([]Violation, *Error) {
	var out []Violation
	q := Query{Filters: map[string]string{"customer_id": id}, Limit: MaxLimit}
	for {
		pg, e := List(r, "violations", q)
		if e != nil {
			return nil, e
		}
		for _, raw := range pg.Items {
			var v Violation
			if err := unmarshal(raw, &v); err != nil {
				return nil, AsError(err)
			}
			out = append(out, v)
		}
		if pg.Next == "" {
			break
		}
		q.After = pg.Next
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return strings.Compare(string(a.FoundOn), string(b.FoundOn)) })
	return out, nil
}
