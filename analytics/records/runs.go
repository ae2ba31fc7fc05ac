package records

import (
	"strings"

	"gridcrm/crm"
)

// AnalyticsRun records that a monthly analytics run (the credit grades or
// the warnings of a month) was done for its region, written by the
// scheduler after the run so that the next check of the month skips it
// (one per region, kind and month) and replicated up like every record:
// an upper tier sees which of its regions have run a month.
type AnalyticsRun struct {
	crm.Meta
	Region  string `json:"region"` // the region whose customers were judged (the owner)
	Kind    string `json:"kind"`   // grades or warnings
	Period  string `json:"period"` // the month judged, YYYY-MM
	Written int    `json:"written"`
	Skipped int    `json:"skipped,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Kinds of analytics run.
const (
	RunGrades   = "grades"
	RunWarnings = "warnings"
)

// registerRuns registers the runs kind (records.go).
func registerRuns() {
	crm.Register(&crm.Kind{Programme: "analytics", Name: "analytics_runs", IDPrefix: "arn", New: func() crm.Record { return &AnalyticsRun{} },
		Filters: []string{"region", "kind", "period"}, Regional: true})
}

// Normalize implements Record.
func (a *AnalyticsRun) Normalize() {
	trim(&a.Region)
	trim(&a.Period)
	trim(&a.Note)
	a.Kind = strings.ToLower(strings.TrimSpace(a.Kind))
}

// Validate implements Record.
func (a *AnalyticsRun) Validate() *crm.Error {
	if !crm.ValidRegion(a.Region) {
		return crm.Invalid("region", "%q is not a GB/T 2260 region code", a.Region)
	}
	if e := crm.OneOf("kind", a.Kind, RunGrades, RunWarnings); e != nil {
		return e
	}
	if !crm.ValidPeriod(a.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", a.Period)
	}
	if a.Written < 0 || a.Skipped < 0 {
		return crm.Invalid("written", "counts are ≥ 0")
	}
	return crm.MaxLen("note", a.Note, 500)
}

// Indexes implements Record.
func (a *AnalyticsRun) Indexes() []crm.Index {
	return []crm.Index{{Field: "region", Value: a.Region}, {Field: "kind", Value: a.Kind}, {Field: "period", Value: a.Period}, {Field: crm.OwnerIndex, Value: a.Owner}}
}

// Uniques implements Record: one run per region, kind and month.
func (a *AnalyticsRun) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "run", Scope: a.Region, Value: a.Kind + "/" + a.Period, Field: "period"}}
}

// Refs implements Record.
func (a *AnalyticsRun) Refs() []crm.Ref { return nil }

// RunDone reports whether region's run of kind for period is recorded:
// one unique-key read.
func RunDone(r crm.Reader, region, kind, period string) (bool, error) {
	v, err := r.Get(uniqueKey("analytics_runs", "run", region, kind+"/"+period))
	return v != nil, err
}

// RegionField makes the record a RegionHolder: its region is its owner.
func (a *AnalyticsRun) RegionField() *string { return &a.Region }
