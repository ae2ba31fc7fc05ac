package process

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"

	"gridcrm/crm/workday"
)

// Supply classes a rule set sets limits for.
const (
	ClassResidential = "residential" // 居民 (low voltage)
	ClassLV          = "lv"          // low-voltage non-residential
	ClassHVSingle    = "hv_single"   // high voltage, single supply
	ClassHVDual      = "hv_dual"     // high voltage, dual (or more) supply
)

// SupplyClasses lists the classes.
var SupplyClasses = []string{ClassResidential, ClassLV, ClassHVSingle, ClassHVDual}

// SupplyClass classifies an application: below 1 kV residential or lv by
// the customer's category; from 1 kV hv_single or hv_dual by the supply.
func SupplyClass(voltageKV float64, category, supply string) string {
	if voltageKV < 1 {
		if category == crm.CategoryResidential {
			return ClassResidential
		}
		return ClassLV
	}
	if supply == "dual" {
		return ClassHVDual
	}
	return ClassHVSingle
}

// RuleSet is a versioned set of process rules (time limits, paths, SLAs),
// in force in a province from EffectiveFrom. Two are shipped (BuiltinRuleSets);
// more arrive as "rule_set" directives whose body is a RuleSet.
type RuleSet struct {
	ID              string              `json:"id,omitempty"` // "builtin:…" or the directive's id; set by the reader
	Name            string              `json:"name"`
	Province        string              `json:"province,omitempty"` // 2-digit code; "" = every province
	EffectiveFrom   crm.Date            `json:"effective_from"`
	Paths           map[string][]string `json:"paths"`  // supply class → stages, acceptance first
	Limits          []StageLimit        `json:"limits"` // time limits in working days; on time = every limit met
	WarnWorkingDays int                 `json:"warn_working_days"`
	Escalation      Escalation          `json:"escalation"`
	WorkOrders      map[string]SLA      `json:"work_orders"` // work-order kind → SLA
	Outage          OutageRules         `json:"outage_notice"`
}

// StageLimit is one time limit: the stages it covers run on one clock that
// starts when the first of them starts; Days per supply class (a class not
// listed has no such limit).
type StageLimit struct {
	Name   string         `json:"name"`
	Stages []string       `json:"stages"`
	Days   map[string]int `json:"days"`
}

// Escalation says when an overdue item moves up the supervision lists: the
// county's list holds everything overdue in it; an item overdue by at least
// CityAfter working days is on the city's list too, by ProvinceAfter on the
// province's.
type Escalation struct {
	CityAfter     int `json:"city_after_working_days"`
	ProvinceAfter int `json:"province_after_working_days"`
}

// SLA is a work-order time limit. Zero fields set no limit.
type SLA struct {
	ContactHours      int            `json:"contact_hours,omitempty"`       // first contact with the customer (accepted)
	AnswerWorkingDays int            `json:"answer_working_days,omitempty"` // done and answered
	AnswerHours       int            `json:"answer_hours,omitempty"`        // done, in clock hours (e.g. reconnection 24 h)
	ArrivalMinutes    map[string]int `json:"arrival_minutes,omitempty"`     // site class → crew on site
	RestoreHours      map[string]int `json:"restore_hours,omitempty"`       // site class → power back after arrival
	Subtypes          map[string]SLA `json:"subtypes,omitempty"`            // service-application subtypes
}

// OutageRules are the advance-notice rules for outages.
type OutageRules struct {
	PlannedDays    int `json:"planned_days"`    // planned maintenance: notice at least this many days ahead
	TemporaryHours int `json:"temporary_hours"` // temporary maintenance: important customers at least this many hours ahead
}

func sla(answerWD int) SLA { return SLA{AnswerWorkingDays: answerWD} }

var commonWorkOrderSLA = map[string]SLA{
	"fault_repair": {ArrivalMinutes: map[string]int{"urban": 45, "rural": 90, "remote": 120}, RestoreHours: map[string]int{"urban": 3, "rural": 4, "remote": 4}},
	"complaint":    {ContactHours: 24, AnswerWorkingDays: 4},
	"report":       sla(9),
	"consultation": sla(1), "suggestion": sla(9), "opinion": sla(9), "praise": {},
	"service_application": {AnswerWorkingDays: 5, Subtypes: map[string]SLA{
		"meter_anomaly": sla(4), "reading_anomaly": sla(6), "reconnection": {AnswerHours: 24}, "other": sla(5)}},
}

// BuiltinRuleSets are the shipped rule sets: the older per-stage limits
// (2011 promises) and the current total limits (2023 "ten promises").
var BuiltinRuleSets = []RuleSet{
	{ID: "builtin:2011-per-stage", Name: "2011 per-stage limits", EffectiveFrom: "2011-01-01",
		Paths: map[string][]string{
			ClassResidential: {crm.StageAcceptance, crm.StageSurvey, crm.StageSupplyPlan, crm.StageCompletion, crm.StageEnergise},
			ClassLV:          {crm.StageAcceptance, crm.StageSurvey, crm.StageSupplyPlan, crm.StageCompletion, crm.StageEnergise},
			ClassHVSingle:    slices.Clone(crm.Stages),
			ClassHVDual:      slices.Clone(crm.Stages),
		},
		Limits: []StageLimit{
			{Name: "supply_plan_reply", Stages: []string{crm.StageSurvey, crm.StageSupplyPlan}, Days: map[string]int{ClassResidential: 3, ClassLV: 7, ClassHVSingle: 15, ClassHVDual: 30}},
			{Name: "design_review", Stages: []string{crm.StageDesignReview}, Days: map[string]int{ClassHVSingle: 10, ClassHVDual: 20}},
			{Name: "intermediate_inspection", Stages: []string{crm.StageIntermediate}, Days: map[string]int{ClassHVSingle: 5, ClassHVDual: 5}},
			{Name: "completion_acceptance", Stages: []string{crm.StageCompletion}, Days: map[string]int{ClassResidential: 5, ClassLV: 5, ClassHVSingle: 5, ClassHVDual: 5}},
			{Name: "energisation", Stages: []string{crm.StageEnergise}, Days: map[string]int{ClassResidential: 3, ClassLV: 5, ClassHVSingle: 5, ClassHVDual: 5}},
		},
		WarnWorkingDays: 1, Escalation: Escalation{CityAfter: 3, ProvinceAfter: 10},
		WorkOrders: commonWorkOrderSLA, Outage: OutageRules{PlannedDays: 7, TemporaryHours: 24}},
	{ID: "builtin:2023-total", Name: "2023 total limits (ten promises)", EffectiveFrom: "2023-01-01",
		Paths: map[string][]string{
			ClassResidential: {crm.StageAcceptance, crm.StageEnergise},                                           // meter fitted directly
			ClassLV:          {crm.StageAcceptance, crm.StageSupplyPlan, crm.StageEnergise},                      // three stages
			ClassHVSingle:    {crm.StageAcceptance, crm.StageSupplyPlan, crm.StageCompletion, crm.StageEnergise}, // plan reply, external works, energisation
			ClassHVDual:      {crm.StageAcceptance, crm.StageSupplyPlan, crm.StageCompletion, crm.StageEnergise},
		},
		Limits: []StageLimit{
			{Name: "utility_total", Stages: []string{crm.StageSurvey, crm.StageSupplyPlan, crm.StageDesignReview, crm.StageIntermediate, crm.StageCompletion, crm.StageEnergise},
				Days: map[string]int{ClassResidential: 5, ClassLV: 6, ClassHVSingle: 22, ClassHVDual: 32}},
		},
		WarnWorkingDays: 1, Escalation: Escalation{CityAfter: 2, ProvinceAfter: 5},
		WorkOrders: commonWorkOrderSLA, Outage: OutageRules{PlannedDays: 7, TemporaryHours: 24}},
}

// WorkOrderKinds are the kinds of work orders.
var WorkOrderKinds = []string{"fault_repair", "consultation", "complaint", "report", "suggestion", "opinion", "praise", "service_application"}

// Validate checks a rule set; prefix goes before field names ("body.").
func (rs *RuleSet) Validate(prefix string) *crm.Error {
	if e := crm.Required(prefix+"name", rs.Name, 100); e != nil {
		return e
	}
	if rs.Province != "" && (len(rs.Province) != 2 || !crm.ValidRegion(rs.Province)) {
		return crm.Invalid(prefix+"province", "%q is not a 2-digit province code", rs.Province)
	}
	if e := crm.ValidDate(prefix+"effective_from", rs.EffectiveFrom, false); e != nil {
		return e
	}
	for _, c := range SupplyClasses {
		p, ok := rs.Paths[c]
		f := prefix + "paths." + c
		if !ok || len(p) == 0 {
			return crm.Invalid(f, "is required: the stages of a %s project, acceptance first", c)
		}
		if p[0] != crm.StageAcceptance {
			return crm.Invalid(f, "must start with acceptance, not %q", p[0])
		}
		last := -1
		for i, s := range p {
			at := slices.Index(crm.Stages, s)
			if at < 0 {
				return crm.Invalid(fmt.Sprintf("%s[%d]", f, i), "%q is not a stage (%s)", s, strings.Join(crm.Stages, ", "))
			}
			if at <= last {
				return crm.Invalid(fmt.Sprintf("%s[%d]", f, i), "%q repeats or runs out of order (%s)", s, strings.Join(crm.Stages, ", "))
			}
			last = at
		}
	}
	for c := range rs.Paths {
		if !slices.Contains(SupplyClasses, c) {
			return crm.Invalid(prefix+"paths."+c, "%q is not a supply class (%s)", c, strings.Join(SupplyClasses, ", "))
		}
	}
	if len(rs.Limits) == 0 {
		return crm.Invalid(prefix+"limits", "a rule set needs at least one time limit")
	}
	covered := map[string]string{}
	for i, l := range rs.Limits {
		f := fmt.Sprintf("%slimits[%d]", prefix, i)
		if e := crm.Required(f+".name", l.Name, 64); e != nil {
			return e
		}
		if len(l.Stages) == 0 {
			return crm.Invalid(f+".stages", "lists no stage")
		}
		for j, s := range l.Stages {
			if !slices.Contains(crm.Stages, s) || s == crm.StageAcceptance {
				return crm.Invalid(fmt.Sprintf("%s.stages[%d]", f, j), "%q is not a stage after acceptance", s)
			}
			if prev, dup := covered[s]; dup {
				return crm.Invalid(fmt.Sprintf("%s.stages[%d]", f, j), "%s is already covered by limit %s", s, prev)
			}
			covered[s] = l.Name
		}
		for c, d := range l.Days {
			if !slices.Contains(SupplyClasses, c) {
				return crm.Invalid(f+".days."+c, "%q is not a supply class (%s)", c, strings.Join(SupplyClasses, ", "))
			}
			if d < 1 || d > 365 {
				return crm.Invalid(f+".days."+c, "%d working days; must be 1 to 365", d)
			}
		}
	}
	if rs.WarnWorkingDays < 0 || rs.WarnWorkingDays > 30 {
		return crm.Invalid(prefix+"warn_working_days", "must be 0 to 30")
	}
	if rs.Escalation.CityAfter < 0 || rs.Escalation.ProvinceAfter < rs.Escalation.CityAfter {
		return crm.Invalid(prefix+"escalation", "needs 0 <= city_after_working_days <= province_after_working_days")
	}
	for _, k := range slices.Sorted(mapKeysOf(rs.WorkOrders)) {
		if !slices.Contains(WorkOrderKinds, k) {
			return crm.Invalid(prefix+"work_orders."+k, "%q is not a work-order kind (%s)", k, strings.Join(WorkOrderKinds, ", "))
		}
		if e := rs.WorkOrders[k].validate(prefix + "work_orders." + k); e != nil {
			return e
		}
	}
	if rs.Outage.PlannedDays < 0 || rs.Outage.TemporaryHours < 0 {
		return crm.Invalid(prefix+"outage_notice", "limits must not be negative")
	}
	return nil
}

func (s SLA) validate(f string) *crm.Error {
	for _, v := range []struct {
		name string
		n    int
	}{{"contact_hours", s.ContactHours}, {"answer_working_days", s.AnswerWorkingDays}, {"answer_hours", s.AnswerHours}} {
		if v.n < 0 || v.n > 1000 {
			return crm.Invalid(f+"."+v.name, "%d is out of range (0 to 1000)", v.n)
		}
	}
	for _, m := range []struct {
		name string
		m    map[string]int
	}{{"arrival_minutes", s.ArrivalMinutes}, {"restore_hours", s.RestoreHours}} {
		for k, v := range m.m {
			if !slices.Contains(SiteClasses, k) {
				return crm.Invalid(f+"."+m.name+"."+k, "%q is not a site class (%s)", k, strings.Join(SiteClasses, ", "))
			}
			if v < 1 || v > 10000 {
				return crm.Invalid(f+"."+m.name+"."+k, "%d is out of range", v)
			}
		}
	}
	for k, sub := range s.Subtypes {
		if e := sub.validate(f + ".subtypes." + k); e != nil {
			return e
		}
	}
	return nil
}

func mapKeysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// LimitFor answers the limit that covers stage for class, or nil.
func (rs *RuleSet) LimitFor(stage, class string) *StageLimit {
	for i := range rs.Limits {
		if slices.Contains(rs.Limits[i].Stages, stage) {
			if _, ok := rs.Limits[i].Days[class]; ok {
				return &rs.Limits[i]
			}
		}
	}
	return nil
}

// WorkOrderSLA answers the SLA of a kind and subtype (the subtype's when
// it has one).
func (rs *RuleSet) WorkOrderSLA(kind, subtype string) SLA {
	s := rs.WorkOrders[kind]
	if sub, ok := s.Subtypes[subtype]; ok && subtype != "" {
		return sub
	}
	return s
}

// The bodies of the directive kinds the process rules read: "calendar"
// (workday data) and "rule_set" (a RuleSet).
func init() {
	crm.RegisterDirectiveBody("calendar", checkCalendarDirective)
	crm.RegisterDirectiveBody("rule_set", checkRuleSetDirective)
}

// checkCalendarDirective: a calendar directive's body is a working-day
// calendar (package workday).
func checkCalendarDirective(d *crm.Directive) *crm.Error {
	if len(d.Body) == 0 {
		return crm.Invalid("body", `is required: {"years": {"2027": {"holidays": {...}, "workdays": [...]}}}`)
	}
	if _, err := workday.Parse(d.Body, "body."); err != nil {
		return workdayError(err, "body")
	}
	return nil
}

// checkRuleSetDirective: a rule_set directive's body is a rule set for its
// scope's province.
func checkRuleSetDirective(d *crm.Directive) *crm.Error {
	if len(d.Body) == 0 {
		return crm.Invalid("body", "is required: a rule set (name, paths, limits, work_orders, outage_notice)")
	}
	rs, e := decodeRuleSet(d.Body, d.EffectiveFrom)
	if e != nil {
		return e
	}
	if rs.Province != "" && !crm.InRegion(d.Scope, rs.Province) && d.Scope != "" {
		return crm.Invalid("body.province", "%s is not the province of scope %s", rs.Province, d.Scope)
	}
	return nil
}

func decodeRuleSet(body []byte, eff crm.Date) (*RuleSet, *crm.Error) {
	var rs RuleSet
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		e := crm.JSONError(err)
		e.Field = "body." + strings.TrimPrefix(e.Field, "body.")
		if e.Field == "body." {
			e.Field = "body"
		}
		return nil, e
	}
	if rs.ID != "" {
		return nil, crm.Invalid("body.id", "is set by the server (the directive's id)")
	}
	if rs.EffectiveFrom == "" {
		rs.EffectiveFrom = eff
	}
	if e := rs.Validate("body."); e != nil {
		return nil, e
	}
	return &rs, nil
}

// workdayError turns a workday error into a field-level *Error.
func workdayError(err error, field string) *crm.Error {
	var fe *workday.FieldError
	if errors.As(err, &fe) {
		return crm.Invalid(fe.Field, "%s", fe.Message)
	}
	if errors.Is(err, workday.ErrYearNotLoaded) {
		return crm.Invalid(field, "%s", strings.TrimPrefix(err.Error(), "workday: "))
	}
	return crm.Invalid(field, "%s", err.Error())
}

// CalendarFor answers the working-day calendar in force in region: the
// shipped years with the years of every calendar directive addressed to the
// region over them (a narrower scope wins over a broader one, a later
// directive over an earlier one).
func CalendarFor(r crm.Reader, region string) (*workday.Calendar, error) {
	return calendarWith(r, region, nil)
}

// calendarWith is CalendarFor counting extra (a calendar directive being
// written in this batch, which iterating the state does not see yet) as
// stored.
func calendarWith(r crm.Reader, region string, extra *crm.Directive) (*workday.Calendar, error) {
	ds, err := crm.DirectivesOf(r, "calendar", region)
	if err != nil {
		return nil, err
	}
	if extra != nil && extra.Kind == "calendar" && crm.InRegion(region, extra.Scope) {
		ds = slices.DeleteFunc(ds, func(d crm.Directive) bool { return d.ID == extra.ID })
		ds = append(ds, *extra)
		crm.SortDirectives(ds)
	}
	cal := workday.Default()
	for _, d := range ds {
		c, err := workday.Parse(d.Body, "body.")
		if err != nil {
			continue // validated when written; a newer format from above is skipped
		}
		cal = cal.With(c)
	}
	return cal, nil
}

// RuleSetFor answers the rule set in force in region on day (YYYY-MM-DD):
// of the shipped ones and the rule_set directives addressed to the region,
// for its province, effective on or before day, the one effective last (a
// directive wins over a shipped set of the same date, a narrower scope over
// a broader one).
func RuleSetFor(r crm.Reader, region string, day crm.Date) (*RuleSet, *crm.Error) {
	var best *RuleSet
	bestScope := -1
	consider := func(rs *RuleSet, scopeLen int) {
		if rs.Province != "" && !crm.InRegion(region, rs.Province) || rs.EffectiveFrom > day {
			return
		}
		if best == nil || rs.EffectiveFrom > best.EffectiveFrom || rs.EffectiveFrom == best.EffectiveFrom && scopeLen >= bestScope {
			best, bestScope = rs, scopeLen
		}
	}
	for i := range BuiltinRuleSets {
		consider(&BuiltinRuleSets[i], -1)
	}
	ds, err := crm.DirectivesOf(r, "rule_set", region)
	if err != nil {
		return nil, crm.AsError(err)
	}
	for _, d := range ds {
		rs, e := decodeRuleSet(d.Body, d.EffectiveFrom)
		if e != nil {
			continue
		}
		rs.ID = d.ID
		consider(rs, len(d.Scope))
	}
	if best == nil {
		return nil, crm.Invalid("rule_set", "no rule set is in force in region %s on %s", region, day)
	}
	return best, nil
}

// RuleSetByID answers a shipped rule set or one from a rule_set directive.
func RuleSetByID(r crm.Reader, id string) (*RuleSet, *crm.Error) {
	for i := range BuiltinRuleSets {
		if BuiltinRuleSets[i].ID == id {
			return &BuiltinRuleSets[i], nil
		}
	}
	raw, e := crm.Get(r, "directives", id)
	if e != nil {
		return nil, &crm.Error{Code: crm.CodeReference, Field: "rule_set", Message: fmt.Sprintf("rule set %s is not known here", id)}
	}
	var d crm.Directive
	if err := json.Unmarshal(raw, &d); err != nil || d.Kind != "rule_set" {
		return nil, &crm.Error{Code: crm.CodeReference, Field: "rule_set", Message: fmt.Sprintf("%s is not a rule_set directive", id)}
	}
	rs, e := decodeRuleSet(d.Body, d.EffectiveFrom)
	if e != nil {
		return nil, e
	}
	rs.ID = d.ID
	return rs, nil
}

// dayOf is the CST calendar day of t.
func dayOf(t time.Time) crm.Date { return crm.Date(t.In(workday.CST).Format(time.DateOnly)) }
