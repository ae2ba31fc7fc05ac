package records

import (
	"math"
	"strings"

	"gridcrm/crm"
)

// Credit grades as the rule sets of analytics/credit name them.
var CreditGrades = []string{"A", "B", "C"}

// CreditGrade is one customer's credit grade (客户信用评价) as of a month.
type CreditGrade struct {
	crm.Meta
	CustomerID string   `json:"customer_id"`
	Period     string   `json:"period"` // as-of month YYYY-MM: bills up to it were read
	Score      int      `json:"score"`  // 300..900, higher is better credit
	Grade      string   `json:"grade"`  // A, B or C
	ChurnRisk  *float64 `json:"churn_risk,omitempty"`
	Reasons    []string `json:"reasons,omitempty"`
	// ChurnReasons are the records beyond the bills that raised the churn
	// risk (complaints, a capacity reduction or suspension, a contract
	// ending: the rule set's churn_events, analytics/credit.ChurnEventRules).
	ChurnReasons []string `json:"churn_reasons,omitempty"`
	Payment      string   `json:"payment,omitempty"`  // recommended payment method
	Security     string   `json:"security,omitempty"` // recommended deposit or guarantee
	Rules        string   `json:"rules"`              // the rule set's version
}

// Warning kinds.
const (
	WarningAbnormal = "abnormal" // abnormal consumption (用电异常)
	WarningChurn    = "churn"    // churn risk (流失预警)
)

// Warning answers.
const (
	AckAcknowledged = "acknowledged"
	AckDismissed    = "dismissed"
)

// WarningAck is an account manager's answer to one warning.
type WarningAck struct {
	crm.Meta
	CustomerID string `json:"customer_id"`
	Kind       string `json:"kind"`   // abnormal or churn
	Period     string `json:"period"` // the month the warning is about, YYYY-MM
	Status     string `json:"status"` // acknowledged or dismissed
	Note       string `json:"note,omitempty"`
}

// registerGrades registers the credit grades and the warning answers
// (records.go).
func registerGrades() {
	crm.Register(&crm.Kind{Programme: "analytics", Name: "credit_grades", IDPrefix: "crg", New: func() crm.Record { return &CreditGrade{} },
		Filters: []string{"customer_id", "period", "grade"}, Counters: creditCounters})
	crm.Register(&crm.Kind{Programme: "analytics", Name: "warning_acks", IDPrefix: "wak", New: func() crm.Record { return &WarningAck{} },
		Filters: []string{"customer_id", "period", "kind"}})
}

// Normalize implements Record.
func (g *CreditGrade) Normalize() {
	trim(&g.CustomerID)
	trim(&g.Period)
	g.Grade = strings.ToUpper(strings.TrimSpace(g.Grade))
	trim(&g.Rules)
}

// Validate implements Record.
func (g *CreditGrade) Validate() *crm.Error {
	if !crm.Kinds["customers"].ValidID(g.CustomerID) {
		return crm.Invalid("customer_id", "%q is not a customer id", g.CustomerID)
	}
	if !crm.ValidPeriod(g.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", g.Period)
	}
	if g.Score < 300 || g.Score > 900 {
		return crm.Invalid("score", "%d: want 300..900", g.Score)
	}
	if e := crm.OneOf("grade", g.Grade, CreditGrades...); e != nil {
		return e
	}
	if g.ChurnRisk != nil && !(*g.ChurnRisk >= 0 && *g.ChurnRisk <= 1) {
		return crm.Invalid("churn_risk", "%v: want 0..1", *g.ChurnRisk)
	}
	if g.Rules == "" {
		return crm.Invalid("rules", "is required: the rule set's version")
	}
	return nil
}

// Indexes implements Record.
func (g *CreditGrade) Indexes() []crm.Index {
	return []crm.Index{{Field: "customer_id", Value: g.CustomerID}, {Field: "period", Value: g.Period}, {Field: "grade", Value: g.Grade}, {Field: crm.OwnerIndex, Value: g.Owner}}
}

// Uniques implements Record: one grade per customer and month.
func (g *CreditGrade) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "period", Scope: g.CustomerID, Value: g.Period, Field: "period"}}
}

// Refs implements Record.
func (g *CreditGrade) Refs() []crm.Ref {
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: g.CustomerID}}
}

// Normalize implements Record.
func (a *WarningAck) Normalize() {
	trim(&a.CustomerID)
	trim(&a.Period)
	trim(&a.Note)
	a.Kind = strings.ToLower(strings.TrimSpace(a.Kind))
	a.Status = strings.ToLower(strings.TrimSpace(a.Status))
}

// Validate implements Record.
func (a *WarningAck) Validate() *crm.Error {
	if !crm.Kinds["customers"].ValidID(a.CustomerID) {
		return crm.Invalid("customer_id", "%q is not a customer id", a.CustomerID)
	}
	if e := crm.OneOf("kind", a.Kind, WarningAbnormal, WarningChurn); e != nil {
		return e
	}
	if !crm.ValidPeriod(a.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", a.Period)
	}
	if e := crm.OneOf("status", a.Status, AckAcknowledged, AckDismissed); e != nil {
		return e
	}
	if len(a.Note) > 2000 {
		return crm.Invalid("note", "is longer than 2000 bytes")
	}
	return nil
}

// Indexes implements Record.
func (a *WarningAck) Indexes() []crm.Index {
	return []crm.Index{{Field: "customer_id", Value: a.CustomerID}, {Field: "period", Value: a.Period}, {Field: "kind", Value: a.Kind}, {Field: crm.OwnerIndex, Value: a.Owner}}
}

// Uniques implements Record: one answer per customer, kind and month
// (change it with PATCH).
func (a *WarningAck) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "warning", Scope: a.CustomerID, Value: a.Kind + "/" + a.Period, Field: "period"}}
}

// Refs implements Record.
func (a *WarningAck) Refs() []crm.Ref {
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: a.CustomerID}}
}

// GradeDone reports whether customer id's grade of period is stored: one
// key read (the grade's unique entry).
func GradeDone(r crm.Reader, id, period string) (bool, error) {
	v, err := r.Get(uniqueKey("credit_grades", "period", id, period))
	return v != nil, err
}

// creditMetrics counts a grade in its region's aggregates.
func creditMetrics(g *CreditGrade) map[string]float64 {
	return map[string]float64{"credit." + g.Period + "." + g.Grade: 1}
}

// GradeCounts is the credit-grade distribution of a region or subtree by
// as-of month, read from the aggregates: month → grade → customers.
type GradeCounts map[string]map[string]int64

// CreditDistribution adds up the credit.<YYYY-MM>.<grade> counters of
// region (subtree: and every region under it). It reads counters only.
func CreditDistribution(r crm.Reader, region string, subtree bool) (GradeCounts, []string, error) {
	out := GradeCounts{}
	regions, err := crm.SumCounters(r, region, subtree, "credit.", func(_, rest string, x float64) bool {
		month, grade, ok := strings.Cut(rest, ".")
		if !ok {
			return false
		}
		if out[month] == nil {
			out[month] = map[string]int64{}
		}
		out[month][grade] += int64(math.Round(x))
		return true
	})
	return out, regions, err
}

// creditCounters is the credit grades' Counters hook: a grade counts in
// its region's aggregates (creditMetrics).
func creditCounters(raw []byte) (string, map[string]float64) {
	var g CreditGrade
	if crm.Unmarshal(raw, &g) != nil {
		return "", nil
	}
	return g.Owner, creditMetrics(&g)
}
