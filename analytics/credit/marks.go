package credit

import (
	"fmt"
	"math"
)

// Mark is a 违约用电 violation or a 窃电 theft recorded for a customer
// (the violations records of gridcrm), in the month it was found. The
// credit file's bills carry the same facts as per-month flags; a mark is
// the stored record, read beside the bills: a theft mark within the theft
// veto's window forces the lowest grade like a flagged bill, and a
// violation mark costs RecordedViolations' points.
type Mark struct {
	Month Month
	Theft bool   // 窃电; otherwise a 违约用电 violation
	Kind  string // the violation's subtype (e.g. 私增容量), for people
}

// RecordedViolations is the rule set's price of a recorded violation: its
// log-odds of default added per violation found in the Months months to
// as-of, up to Max, with Code among the reasons (the code of the file's
// violation flag, so the console and exports name it 违约用电). It is
// not fitted: the credit file's violation flag gets a fitted weight of 0
// on the shared data (its generator's violations do not foretell
// default), while the regulations count a 违约用电 against a customer's
// credit; so a recorded one costs a fixed amount (ln 2: the odds of default
// doubled, 40 points), and the flags of the file are read as before.
type RecordedViolations struct {
	Code    string  `json:"code"`
	Months  int     `json:"months"`
	LogOdds float64 `json:"log_odds"`
	Max     int     `json:"max"`
}

// DefaultRecordedViolations is the price of rules v2026-12.
func DefaultRecordedViolations() RecordedViolations {
	return RecordedViolations{Code: "violation_24m", Months: 24, LogOdds: math.Ln2, Max: 3}
}

func (v RecordedViolations) validate() error {
	if v.Code == "" || v.Months < 1 || !(v.LogOdds >= 0) || v.Max < 0 {
		return fmt.Errorf("recorded_violations %+v: a code, months ≥ 1, log_odds ≥ 0, max ≥ 0", v)
	}
	return nil
}

// marksIn counts the marks found in the last k months to asOf, (asOf-k, asOf].
func marksIn(marks []Mark, asOf Month, k int, theft bool) int {
	n := 0
	for _, m := range marks {
		if m.Theft == theft && m.Month <= asOf && m.Month > asOf-Month(k) {
			n++
		}
	}
	return n
}
