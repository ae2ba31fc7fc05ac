package crm

import (
	"math"
	"sort"
	"strings"
)

// The records of the analytics programme (analytics/credit, the warning
// lists): what the analysis decided and what people answered, stored and
// replicated like every record so that an upper tier rolls them up from
// counters instead of recomputing them.
//
//	credit_grades  one customer's credit grade as of a month, written by
//	               the grade run where the customer is owned (never by a
//	               client); counted per region, month and grade in the
//	               aggregates (credit.<YYYY-MM>.<grade>)
//	warning_acks   an account manager's answer to a warning (abnormal
//	               consumption or churn) of one customer and month:
//	               acknowledged or dismissed, with a note
//	consumption_warnings abnormal consumption and churn warnings of a customer
//	               and month, written by the monthly warning run where the
//	               customer is owned (warnings.go)
//	analytics_runs a monthly run done (grades or warnings of a month), written
//	               by the scheduler so that it runs a month once (runs.go)
//	customer_trends a business customer's last 12 months against the 12
//	               before, written by the warning run, ranked for the market
//	               lists (market.go)

// AnalyticsCollections are the collections of the analytics programme.
var AnalyticsCollections = []string{"credit_grades", "warning_acks", "consumption_warnings", "analytics_runs", "customer_trends"}

// Credit grades as the rule sets of analytics/credit name them.
var CreditGrades = []string{"A", "B", "C"}

// CreditGrade is one customer's credit grade (客户信用评价) as of a month.
type CreditGrade struct {
	Meta
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
	Meta
	CustomerID string `json:"customer_id"`
	Kind       string `json:"kind"`   // abnormal or churn
	Period     string `json:"period"` // the month the warning is about, YYYY-MM
	Status     string `json:"status"` // acknowledged or dismissed
	Note       string `json:"note,omitempty"`
}

func init() {
	register(&Kind{Name: "credit_grades", IDPrefix: "crg", New: func() Record { return &CreditGrade{} },
		Filters: []string{"customer_id", "period", "grade"}, Counters: creditCounters})
	register(&Kind{Name: "warning_acks", IDPrefix: "wak", New: func() Record { return &WarningAck{} },
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
func (g *CreditGrade) Validate() *Error {
	if !Kinds["customers"].ValidID(g.CustomerID) {
		return invalid("customer_id", "%q is not a customer id", g.CustomerID)
	}
	if !periodRe.MatchString(g.Period) {
		return invalid("period", "%q is not a month of the form YYYY-MM", g.Period)
	}
	if g.Score < 300 || g.Score > 900 {
		return invalid("score", "%d: want 300..900", g.Score)
	}
	if e := oneOf("grade", g.Grade, CreditGrades...); e != nil {
		return e
	}
	if g.ChurnRisk != nil && !(*g.ChurnRisk >= 0 && *g.ChurnRisk <= 1) {
		return invalid("churn_risk", "%v: want 0..1", *g.ChurnRisk)
	}
	if g.Rules == "" {
		return invalid("rules", "is required: the rule set's version")
	}
	return nil
}

// Indexes implements Record.
func (g *CreditGrade) Indexes() []Index {
	return []Index{{"customer_id", g.CustomerID}, {"period", g.Period}, {"grade", g.Grade}, {OwnerIndex, g.Owner}}
}

// Uniques implements Record: one grade per customer and month.
func (g *CreditGrade) Uniques() []Unique {
	return []Unique{{Name: "period", Scope: g.CustomerID, Value: g.Period, Field: "period"}}
}

// Refs implements Record.
func (g *CreditGrade) Refs() []Ref { return []Ref{{"customer_id", "customers", g.CustomerID}} }

// Normalize implements Record.
func (a *WarningAck) Normalize() {
	trim(&a.CustomerID)
	trim(&a.Period)
	trim(&a.Note)
	a.Kind = strings.ToLower(strings.TrimSpace(a.Kind))
	a.Status = strings.ToLower(strings.TrimSpace(a.Status))
}

// Validate implements Record.
func (a *WarningAck) Validate() *Error {
	if !Kinds["customers"].ValidID(a.CustomerID) {
		return invalid("customer_id", "%q is not a customer id", a.CustomerID)
	}
	if e := oneOf("kind", a.Kind, WarningAbnormal, WarningChurn); e != nil {
		return e
	}
	if !periodRe.MatchString(a.Period) {
		return invalid("period", "%q is not a month of the form YYYY-MM", a.Period)
	}
	if e := oneOf("status", a.Status, AckAcknowledged, AckDismissed); e != nil {
		return e
	}
	if len(a.Note) > 2000 {
		return invalid("note", "is longer than 2000 bytes")
	}
	return nil
}

// Indexes implements Record.
func (a *WarningAck) Indexes() []Index {
	return []Index{{"customer_id", a.CustomerID}, {"period", a.Period}, {"kind", a.Kind}, {OwnerIndex, a.Owner}}
}

// Uniques implements Record: one answer per customer, kind and month
// (change it with PATCH).
func (a *WarningAck) Uniques() []Unique {
	return []Unique{{Name: "warning", Scope: a.CustomerID, Value: a.Kind + "/" + a.Period, Field: "period"}}
}

// Refs implements Record.
func (a *WarningAck) Refs() []Ref { return []Ref{{"customer_id", "customers", a.CustomerID}} }

// GradeDone reports whether customer id's grade of period is stored: one
// key read (the grade's unique entry).
func GradeDone(r Reader, id, period string) (bool, error) {
	v, err := r.Get(uniqueKey("credit_grades", "period", id, period))
	return v != nil, err
}

// creditMetrics counts a grade in its region's aggregates.
func creditMetrics(g *CreditGrade) map[string]float64 {
	return map[string]float64{"credit." + g.Period + "." + g.Grade: 1}
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

// GradeCounts is the credit-grade distribution of a region or subtree by
// as-of month, read from the aggregates: month → grade → customers.
type GradeCounts map[string]map[string]int64

// CreditDistribution adds up the credit.<YYYY-MM>.<grade> counters of
// region (subtree: and every region under it). It reads counters only.
func CreditDistribution(r Reader, region string, subtree bool) (GradeCounts, []string, error) {
	out := GradeCounts{}
	regions, err := sumCounters(r, region, subtree, "credit.", func(_, rest string, x float64) bool {
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
