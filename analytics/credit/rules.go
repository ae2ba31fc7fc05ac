package credit

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// ErrRuleSet matches every error about a rule set that cannot be used.
var ErrRuleSet = errors.New("credit: bad rule set")

// Grades from best to worst. The coarse grades A, B, C are the only ones.
const (
	GradeA = "A"
	GradeB = "B"
	GradeC = "C"
)

// Veto is a regulation that forces the lowest grade whatever the score.
type Veto struct {
	Code   string `json:"code"`   // shown in reasons as "veto:<code>"
	Rule   string `json:"rule"`   // what it says, for people
	Kind   string `json:"kind"`   // "theft" or "arrears"
	Months int    `json:"months"` // theft: look-back; arrears: consecutive unpaid months
}

// RuleSet is a versioned credit rule set (信用评价规则): the fitted default
// and churn models, the grade cut-offs and the veto rules. It is data,
// like the other versioned rule sets of gridcrm: a new fit is a new
// version, never an edit of an old one.
type RuleSet struct {
	Version  string   `json:"version"` // e.g. "v2026-12.2"
	About    string   `json:"about"`
	FittedOn string   `json:"fitted_on"` // file, as-of month, customers
	Features []string `json:"features"`  // names, in the order of the weights
	Default  logit    `json:"default_model"`
	// ChurnFeatures name the churn model's inputs (churn.go), in the order
	// of its weights; ChurnSeason is the calendar-month profile of log kWh
	// (January first) that its consumption input takes out.
	ChurnFeatures []string  `json:"churn_features"`
	ChurnSeason   []float64 `json:"churn_season"`
	Churn         logit     `json:"churn_model"` // business customers only
	// Cutoffs: score ≥ A is grade A, ≥ B is B, below is C.
	Cutoffs struct {
		A int `json:"A"`
		B int `json:"B"`
	} `json:"cutoffs"`
	Vetoes []Veto `json:"vetoes"`
	// RecordedViolations is what a recorded 违约用电 costs (marks.go).
	RecordedViolations RecordedViolations `json:"recorded_violations"`
	// ChurnEvents are the odds multipliers of the churn risk for the
	// records beyond the bills (events.go): set by hand, not fitted.
	ChurnEvents ChurnEventRules `json:"churn_events"`
	// Fit is what the fit measured (cross-validation, train AUC), for
	// the record; grading does not read it.
	Fit map[string]float64 `json:"fit,omitempty"`
}

//go:embed rules_v2026-12.2.json
var shippedRules []byte

// Shipped is the rule set built into the binary ("rules v2026-12.2"),
// fitted on the shared training file; see doc.go for how to regenerate it.
func Shipped() (*RuleSet, error) { return ParseRuleSet(shippedRules) }

// ParseRuleSet reads and checks a rule set: its feature names must be the
// ones this code computes, in order; bad-behaviour weights must not be
// negative; cut-offs must be ordered; vetoes must be known kinds.
func ParseRuleSet(raw []byte) (*RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRuleSet, err)
	}
	return &rs, rs.Validate()
}

// Validate reports the first problem of the rule set.
func (rs *RuleSet) Validate() error {
	if rs.Version == "" {
		return fmt.Errorf("%w: version is empty", ErrRuleSet)
	}
	names := featureNames()
	if !slices.Equal(rs.Features, names) {
		return fmt.Errorf("%w: %s: features %v; this code computes %v", ErrRuleSet, rs.Version, rs.Features, names)
	}
	if cn := churnFeatureNames(); !slices.Equal(rs.ChurnFeatures, cn) {
		return fmt.Errorf("%w: %s: churn features %v; this code computes %v", ErrRuleSet, rs.Version, rs.ChurnFeatures, cn)
	}
	if len(rs.ChurnSeason) != 12 {
		return fmt.Errorf("%w: %s: churn_season has %d months; want 12", ErrRuleSet, rs.Version, len(rs.ChurnSeason))
	}
	for _, m := range []struct {
		name string
		l    logit
		p    int
	}{{"default_model", rs.Default, len(names)}, {"churn_model", rs.Churn, len(churnFeatures)}} {
		if len(m.l.Weights) != m.p || len(m.l.Mean) != m.p || len(m.l.Scale) != m.p {
			return fmt.Errorf("%w: %s: %s has %d weights; want %d", ErrRuleSet, rs.Version, m.name, len(m.l.Weights), m.p)
		}
		for j, s := range m.l.Scale {
			if !(s > 0) {
				return fmt.Errorf("%w: %s: %s.scale[%d] = %v; must be > 0", ErrRuleSet, rs.Version, m.name, j, s)
			}
		}
	}
	for j, f := range features {
		if f.Bad && rs.Default.Weights[j] < 0 {
			return fmt.Errorf("%w: %s: default weight of %s is %v; a bad-behaviour weight must be ≥ 0", ErrRuleSet, rs.Version, f.Name, rs.Default.Weights[j])
		}
	}
	if rs.Cutoffs.A <= rs.Cutoffs.B {
		return fmt.Errorf("%w: %s: cut-off A %d must be above B %d", ErrRuleSet, rs.Version, rs.Cutoffs.A, rs.Cutoffs.B)
	}
	if err := rs.RecordedViolations.validate(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRuleSet, rs.Version, err)
	}
	if err := rs.ChurnEvents.validate(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRuleSet, rs.Version, err)
	}
	for i, v := range rs.Vetoes {
		if (v.Kind != "theft" && v.Kind != "arrears") || v.Months < 1 || v.Code == "" {
			return fmt.Errorf("%w: %s: vetoes[%d] %+v: kind theft|arrears, months ≥ 1, a code", ErrRuleSet, rs.Version, i, v)
		}
	}
	return nil
}

func featureNames() []string {
	out := make([]string, len(features))
	for i, f := range features {
		out[i] = f.Name
	}
	return out
}

// DefaultVetoes are the regulations of rules v2026-12: theft (窃电) in the
// last 24 months; arrears (欠费) of three months or more, read as a bill
// unpaid at the next bill in three consecutive months up to as-of.
func DefaultVetoes() []Veto {
	return []Veto{
		{Code: "theft_24m", Rule: "窃电 theft in the last 24 months", Kind: "theft", Months: 24},
		{Code: "arrears_3m", Rule: "欠费 arrears: unpaid at the next bill in 3 consecutive months", Kind: "arrears", Months: 3},
	}
}

// Result is the grade of one customer as of a month.
type Result struct {
	ID       string
	Category Category
	Score    int    // 300..900, higher is better credit
	Grade    string // A, B or C
	PD       float64
	// ChurnRisk is the probability of closing within 12 months for
	// business customers (the churn model's logistic output, fitted on
	// stacked as-of months: calibrated on average); NaN for residential.
	ChurnRisk float64
	Reasons   []string // veto codes first ("veto:theft_24m"), then the factors that lowered the score most
	// Strengths are the factors that raised the score most against the
	// average customer (on time, no arrears, steady consumption…), the
	// other half of what moved it; never shown for a vetoed grade.
	Strengths []string
	Closed    bool // the account closed at or before as-of
}

// scoreOf maps the default log-odds to points: 500 at even odds, 40
// points less for every doubling of the odds of default, clipped to
// 300..900 and rounded (both keep it monotone).
func scoreOf(eta float64) int {
	s := 500 - 40/math.Ln2*eta
	return int(math.Round(math.Min(900, math.Max(300, s))))
}

// Grade grades c on its bills up to asOf; ok is false when c has none.
func (rs *RuleSet) Grade(c Customer, asOf Month) (r Result, ok bool) {
	x, w, ok := vector(c, asOf)
	if !ok {
		return Result{}, false
	}
	r = Result{ID: c.ID, Category: c.Category, Closed: closedBy(w), ChurnRisk: math.NaN()}
	eta := rs.Default.eta(x)
	rv := rs.RecordedViolations
	nv := min(marksIn(c.Marks, asOf, rv.Months, false), rv.Max)
	eta += float64(nv) * rv.LogOdds
	r.PD = sigmoid(eta)
	r.Score = scoreOf(eta)
	switch {
	case r.Score >= rs.Cutoffs.A:
		r.Grade = GradeA
	case r.Score >= rs.Cutoffs.B:
		r.Grade = GradeB
	default:
		r.Grade = GradeC
	}
	for _, v := range rs.Vetoes {
		if v.applies(w) {
			r.Grade = GradeC
			r.Score = min(r.Score, rs.Cutoffs.B-1)
			r.Reasons = append(r.Reasons, "veto:"+v.Code)
		}
	}
	if nv > 0 && rv.LogOdds > 0 {
		r.Reasons = append(r.Reasons, rv.Code)
	}
	for _, code := range rs.reasons(x, 1) {
		if !slices.Contains(r.Reasons, code) {
			r.Reasons = append(r.Reasons, code)
		}
	}
	if len(r.Reasons) == 0 || !strings.HasPrefix(r.Reasons[0], "veto:") {
		for _, code := range rs.reasons(x, -1) {
			r.Strengths = append(r.Strengths, strengthCode(code))
		}
	}
	if c.Category.Business() {
		r.ChurnRisk = sigmoid(rs.Churn.eta(churnVector(w, rs.ChurnSeason)))
	}
	return r, true
}

func (v Veto) applies(w window) bool {
	switch v.Kind {
	case "theft":
		return w.count(v.Months, theft) > 0 || marksIn(w.marks, w.asOf, v.Months, true) > 0
	case "arrears":
		return unpaidStreak(w) >= v.Months
	}
	return false
}

// reasons are the codes of the (up to three) features that moved the
// default log-odds most against the average customer, each by at least
// 0.15 (about 9 points): up (sign 1: what lowered the score) or down (sign
// −1: what raised it).
func (rs *RuleSet) reasons(x []float64, sign float64) []string {
	type contrib struct {
		code string
		v    float64
	}
	byCode := map[string]float64{}
	for j, f := range features {
		byCode[f.Code] += sign * rs.Default.Weights[j] * (x[j] - rs.Default.Mean[j]) / rs.Default.Scale[j]
	}
	var cs []contrib
	for code, v := range byCode {
		if v >= 0.15 {
			cs = append(cs, contrib{code, v})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].v != cs[j].v {
			return cs[i].v > cs[j].v
		}
		return cs[i].code < cs[j].code
	})
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].code)
	}
	return out
}

// strengthCode is a reason code as a strength: "+" and the code, read as
// "better than the average customer on it" (+late_12m: fewer late months),
// but for the two codes named after the worse side.
func strengthCode(code string) string {
	switch code {
	case "no_direct_debit":
		return "+direct_debit"
	case "short_tenure":
		return "+long_tenure"
	}
	return "+" + code
}

// Payment is the payment method and security recommended for a grade.
type Payment struct {
	Method   string // how bills are settled
	Security string // deposit or guarantee asked for
}

// Recommend answers the payment method and security for a grade and
// category (按信用等级确定缴费方式): A settles monthly after use with no
// security; B settles monthly with direct debit and reminders (business:
// split settlement within the month); C prepays — a prepaid (费控) meter
// for residential customers, prepayment or a deposit / bank guarantee of
// about one to two months' bills for business customers.
func Recommend(grade string, cat Category) Payment {
	switch grade {
	case GradeA:
		return Payment{Method: "monthly settlement after use (按月结算)", Security: "none"}
	case GradeB:
		if cat.Business() {
			return Payment{Method: "split settlement within the month (分次结算) by direct debit", Security: "none; arrears reminders"}
		}
		return Payment{Method: "monthly settlement by direct debit (代扣)", Security: "none; arrears reminders"}
	default:
		if cat.Business() {
			return Payment{Method: "prepayment (预付电费) before supply", Security: "deposit or bank guarantee (保证金/履约保函) of 1–2 months' bills"}
		}
		return Payment{Method: "prepaid smart meter (费控预购电)", Security: "prepaid balance"}
	}
}
