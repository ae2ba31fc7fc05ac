package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gridcrm/crm/workday"
)

// Connection-project stages (业扩报装 环节), in the order they run.
const (
	StageAcceptance   = "acceptance"              // 受理
	StageSurvey       = "site_survey"             // 现场查勘
	StageSupplyPlan   = "supply_plan"             // 供电方案答复
	StageDesignReview = "design_review"           // 图纸审查
	StageIntermediate = "intermediate_inspection" // 中间检查
	StageCompletion   = "completion_acceptance"   // 竣工验收
	StageEnergise     = "energisation"            // 装表接电 / 启动投运
)

// Stages lists every stage in running order. It is the one list of
// connection stages: the rule sets' paths and limits, the projects and the
// key projects of the four ones (fourones.go) all name their stages from it.
var Stages = []string{StageAcceptance, StageSurvey, StageSupplyPlan, StageDesignReview, StageIntermediate, StageCompletion, StageEnergise}

// StageNames are the stages' Chinese names, for reports.
var StageNames = map[string]string{
	StageAcceptance: "受理", StageSurvey: "现场查勘", StageSupplyPlan: "供电方案答复", StageDesignReview: "图纸审查",
	StageIntermediate: "中间检查", StageCompletion: "竣工验收", StageEnergise: "装表接电",
}

// stageAliases are older names of stages that records may still hold: the
// key projects named acceptance "accepted" while they kept a list of their
// own. A key project may still say "accepted" (it is stored and answered
// as written); it is the stage StageAcceptance.
var stageAliases = map[string]string{"accepted": StageAcceptance}

// CanonicalStage answers the stage name names in Stages: name itself, or
// the stage an older name (stageAliases) stands for; "" for no stage.
func CanonicalStage(name string) string {
	if a, ok := stageAliases[name]; ok {
		return a
	}
	if slices.Contains(Stages, name) {
		return name
	}
	return ""
}

// StageName answers the Chinese name of a stage or of an older name of
// one, "" for no stage.
func StageName(name string) string { return StageNames[CanonicalStage(name)] }

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
		if category == CategoryResidential {
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
	EffectiveFrom   Date                `json:"effective_from"`
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
			ClassResidential: {StageAcceptance, StageSurvey, StageSupplyPlan, StageCompletion, StageEnergise},
			ClassLV:          {StageAcceptance, StageSurvey, StageSupplyPlan, StageCompletion, StageEnergise},
			ClassHVSingle:    slices.Clone(Stages),
			ClassHVDual:      slices.Clone(Stages),
		},
		Limits: []StageLimit{
			{Name: "supply_plan_reply", Stages: []string{StageSurvey, StageSupplyPlan}, Days: map[string]int{ClassResidential: 3, ClassLV: 7, ClassHVSingle: 15, ClassHVDual: 30}},
			{Name: "design_review", Stages: []string{StageDesignReview}, Days: map[string]int{ClassHVSingle: 10, ClassHVDual: 20}},
			{Name: "intermediate_inspection", Stages: []string{StageIntermediate}, Days: map[string]int{ClassHVSingle: 5, ClassHVDual: 5}},
			{Name: "completion_acceptance", Stages: []string{StageCompletion}, Days: map[string]int{ClassResidential: 5, ClassLV: 5, ClassHVSingle: 5, ClassHVDual: 5}},
			{Name: "energisation", Stages: []string{StageEnergise}, Days: map[string]int{ClassResidential: 3, ClassLV: 5, ClassHVSingle: 5, ClassHVDual: 5}},
		},
		WarnWorkingDays: 1, Escalation: Escalation{CityAfter: 3, ProvinceAfter: 10},
		WorkOrders: commonWorkOrderSLA, Outage: OutageRules{PlannedDays: 7, TemporaryHours: 24}},
	{ID: "builtin:2023-total", Name: "2023 total limits (ten promises)", EffectiveFrom: "2023-01-01",
		Paths: map[string][]string{
			ClassResidential: {StageAcceptance, StageEnergise},                                   // meter fitted directly
			ClassLV:          {StageAcceptance, StageSupplyPlan, StageEnergise},                  // three stages
			ClassHVSingle:    {StageAcceptance, StageSupplyPlan, StageCompletion, StageEnergise}, // plan reply, external works, energisation
			ClassHVDual:      {StageAcceptance, StageSupplyPlan, StageCompletion, StageEnergise},
		},
		Limits: []StageLimit{
			{Name: "utility_total", Stages: []string{StageSurvey, StageSupplyPlan, StageDesignReview, StageIntermediate, StageCompletion, StageEnergise},
				Days: map[string]int{ClassResidential: 5, ClassLV: 6, ClassHVSingle: 22, ClassHVDual: 32}},
		},
		WarnWorkingDays: 1, Escalation: Escalation{CityAfter: 2, ProvinceAfter: 5},
		WorkOrders: commonWorkOrderSLA, Outage: OutageRules{PlannedDays: 7, TemporaryHours: 24}},
}

// WorkOrderKinds are the kinds of work orders.
var WorkOrderKinds = []string{"fault_repair", "consultation", "complaint", "report", "suggestion", "opinion", "praise", "service_application"}

// Validate checks a rule set; prefix goes before field names ("body.").
func (rs *RuleSet) Validate(prefix string) *Error {
	if e := required(prefix+"name", rs.Name, 100); e != nil {
		return e
	}
	if rs.Province != "" && (len(rs.Province) != 2 || !ValidRegion(rs.Province)) {
		return invalid(prefix+"province", "%q is not a 2-digit province code", rs.Province)
	}
	if e := validDate(prefix+"effective_from", rs.EffectiveFrom, false); e != nil {
		return e
	}
	for _, c := range SupplyClasses {
		p, ok := rs.Paths[c]
		f := prefix + "paths." + c
		if !ok || len(p) == 0 {
			return invalid(f, "is required: the stages of a %s project, acceptance first", c)
		}
		if p[0] != StageAcceptance {
			return invalid(f, "must start with acceptance, not %q", p[0])
		}
		last := -1
		for i, s := range p {
			at := slices.Index(Stages, s)
			if at < 0 {
				return invalid(fmt.Sprintf("%s[%d]", f, i), "%q is not a stage (%s)", s, strings.Join(Stages, ", "))
			}
			if at <= last {
				return invalid(fmt.Sprintf("%s[%d]", f, i), "%q repeats or runs out of order (%s)", s, strings.Join(Stages, ", "))
			}
			last = at
		}
	}
	for c := range rs.Paths {
		if !slices.Contains(SupplyClasses, c) {
			return invalid(prefix+"paths."+c, "%q is not a supply class (%s)", c, strings.Join(SupplyClasses, ", "))
		}
	}
	if len(rs.Limits) == 0 {
		return invalid(prefix+"limits", "a rule set needs at least one time limit")
	}
	covered := map[string]string{}
	for i, l := range rs.Limits {
		f := fmt.Sprintf("%slimits[%d]", prefix, i)
		if e := required(f+".name", l.Name, 64); e != nil {
			return e
		}
		if len(l.Stages) == 0 {
			return invalid(f+".stages", "lists no stage")
		}
		for j, s := range l.Stages {
			if !slices.Contains(Stages, s) || s == StageAcceptance {
				return invalid(fmt.Sprintf("%s.stages[%d]", f, j), "%q is not a stage after acceptance", s)
			}
			if prev, dup := covered[s]; dup {
				return invalid(fmt.Sprintf("%s.stages[%d]", f, j), "%s is already covered by limit %s", s, prev)
			}
			covered[s] = l.Name
		}
		for c, d := range l.Days {
			if !slices.Contains(SupplyClasses, c) {
				return invalid(f+".days."+c, "%q is not a supply class (%s)", c, strings.Join(SupplyClasses, ", "))
			}
			if d < 1 || d > 365 {
				return invalid(f+".days."+c, "%d working days; must be 1 to 365", d)
			}
		}
	}
	if rs.WarnWorkingDays < 0 || rs.WarnWorkingDays > 30 {
		return invalid(prefix+"warn_working_days", "must be 0 to 30")
	}
	if rs.Escalation.CityAfter < 0 || rs.Escalation.ProvinceAfter < rs.Escalation.CityAfter {
		return invalid(prefix+"escalation", "needs 0 <= city_after_working_days <= province_after_working_days")
	}
	for _, k := range slices.Sorted(mapKeysOf(rs.WorkOrders)) {
		if !slices.Contains(WorkOrderKinds, k) {
			return invalid(prefix+"work_orders."+k, "%q is not a work-order kind (%s)", k, strings.Join(WorkOrderKinds, ", "))
		}
		if e := rs.WorkOrders[k].validate(prefix + "work_orders." + k); e != nil {
			return e
		}
	}
	if rs.Outage.PlannedDays < 0 || rs.Outage.TemporaryHours < 0 {
		return invalid(prefix+"outage_notice", "limits must not be negative")
	}
	return nil
}

func (s SLA) validate(f string) *Error {
	for _, v := range []struct {
		name string
		n    int
	}{{"contact_hours", s.ContactHours}, {"answer_working_days", s.AnswerWorkingDays}, {"answer_hours", s.AnswerHours}} {
		if v.n < 0 || v.n > 1000 {
			return invalid(f+"."+v.name, "%d is out of range (0 to 1000)", v.n)
		}
	}
	for _, m := range []struct {
		name string
		m    map[string]int
	}{{"arrival_minutes", s.ArrivalMinutes}, {"restore_hours", s.RestoreHours}} {
		for k, v := range m.m {
			if !slices.Contains(SiteClasses, k) {
				return invalid(f+"."+m.name+"."+k, "%q is not a site class (%s)", k, strings.Join(SiteClasses, ", "))
			}
			if v < 1 || v > 10000 {
				return invalid(f+"."+m.name+"."+k, "%d is out of range", v)
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
	RegisterDirectiveBody("calendar", checkCalendarDirective)
	RegisterDirectiveBody("rule_set", checkRuleSetDirective)
}

// checkCalendarDirective: a calendar directive's body is a working-day
// calendar (package workday).
func checkCalendarDirective(d *Directive) *Error {
	if len(d.Body) == 0 {
		return invalid("body", `is required: {"years": {"2027": {"holidays": {...}, "workdays": [...]}}}`)
	}
	if _, err := workday.Parse(d.Body, "body."); err != nil {
		return workdayError(err, "body")
	}
	return nil
}

// checkRuleSetDirective: a rule_set directive's body is a rule set for its
// scope's province.
func checkRuleSetDirective(d *Directive) *Error {
	if len(d.Body) == 0 {
		return invalid("body", "is required: a rule set (name, paths, limits, work_orders, outage_notice)")
	}
	rs, e := decodeRuleSet(d.Body, d.EffectiveFrom)
	if e != nil {
		return e
	}
	if rs.Province != "" && !InRegion(d.Scope, rs.Province) && d.Scope != "" {
		return invalid("body.province", "%s is not the province of scope %s", rs.Province, d.Scope)
	}
	return nil
}

func decodeRuleSet(body []byte, eff Date) (*RuleSet, *Error) {
	var rs RuleSet
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		e := jsonError(err)
		e.Field = "body." + strings.TrimPrefix(e.Field, "body.")
		if e.Field == "body." {
			e.Field = "body"
		}
		return nil, e
	}
	if rs.ID != "" {
		return nil, invalid("body.id", "is set by the server (the directive's id)")
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
func workdayError(err error, field string) *Error {
	var fe *workday.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, "%s", fe.Message)
	}
	if errors.Is(err, workday.ErrYearNotLoaded) {
		return invalid(field, "%s", strings.TrimPrefix(err.Error(), "workday: "))
	}
	return invalid(field, "%s", err.Error())
}

// directivesOf answers the directives of a kind that address region (their
// scope holds it), broadest scope first, then by effective date and id.
func directivesOf(r Reader, kind, region string) ([]Directive, error) {
	all, e := byIndex[Directive](r, "directives", "kind", kind)
	if e != nil {
		return nil, e
	}
	var out []Directive
	for _, d := range all {
		if InRegion(region, d.Scope) {
			out = append(out, d)
		}
	}
	sortDirectives(out)
	return out, nil
}

// sortDirectives orders directives broadest scope first, then by
// effective date and id.
func sortDirectives(out []Directive) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Scope) != len(b.Scope) {
			return len(a.Scope) < len(b.Scope)
		}
		if a.EffectiveFrom != b.EffectiveFrom {
			return a.EffectiveFrom < b.EffectiveFrom
		}
		return a.ID < b.ID
	})
}

// CalendarFor answers the working-day calendar in force in region: the
// shipped years with the years of every calendar directive addressed to the
// region over them (a narrower scope wins over a broader one, a later
// directive over an earlier one).
func CalendarFor(r Reader, region string) (*workday.Calendar, error) {
	return calendarWith(r, region, nil)
}

// calendarWith is CalendarFor counting extra (a calendar directive being
// written in this batch, which iterating the state does not see yet) as
// stored.
func calendarWith(r Reader, region string, extra *Directive) (*workday.Calendar, error) {
	ds, err := directivesOf(r, "calendar", region)
	if err != nil {
		return nil, err
	}
	if extra != nil && extra.Kind == "calendar" && InRegion(region, extra.Scope) {
		ds = slices.DeleteFunc(ds, func(d Directive) bool { return d.ID == extra.ID })
		ds = append(ds, *extra)
		sortDirectives(ds)
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
func RuleSetFor(r Reader, region string, day Date) (*RuleSet, *Error) {
	var best *RuleSet
	bestScope := -1
	consider := func(rs *RuleSet, scopeLen int) {
		if rs.Province != "" && !InRegion(region, rs.Province) || rs.EffectiveFrom > day {
			return
		}
		if best == nil || rs.EffectiveFrom > best.EffectiveFrom || rs.EffectiveFrom == best.EffectiveFrom && scopeLen >= bestScope {
			best, bestScope = rs, scopeLen
		}
	}
	for i := range BuiltinRuleSets {
		consider(&BuiltinRuleSets[i], -1)
	}
	ds, err := directivesOf(r, "rule_set", region)
	if err != nil {
		return nil, AsError(err)
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
		return nil, invalid("rule_set", "no rule set is in force in region %s on %s", region, day)
	}
	return best, nil
}

// RuleSetByID answers a shipped rule set or one from a rule_set directive.
func RuleSetByID(r Reader, id string) (*RuleSet, *Error) {
	for i := range BuiltinRuleSets {
		if BuiltinRuleSets[i].ID == id {
			return &BuiltinRuleSets[i], nil
		}
	}
	raw, e := Get(r, "directives", id)
	if e != nil {
		return nil, &Error{Code: CodeReference, Field: "rule_set", Message: fmt.Sprintf("rule set %s is not known here", id)}
	}
	var d Directive
	if err := json.Unmarshal(raw, &d); err != nil || d.Kind != "rule_set" {
		return nil, &Error{Code: CodeReference, Field: "rule_set", Message: fmt.Sprintf("%s is not a rule_set directive", id)}
	}
	rs, e := decodeRuleSet(d.Body, d.EffectiveFrom)
	if e != nil {
		return nil, e
	}
	rs.ID = d.ID
	return rs, nil
}

// dayOf is the CST calendar day of t.
func dayOf(t time.Time) Date { return Date(t.In(workday.CST).Format(time.DateOnly)) }
