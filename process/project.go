package process

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"

	"gridcrm/crm/workday"
)

// Project statuses.
const (
	ProjectOpen      = "open"
	ProjectEnergised = "energised"
	ProjectCancelled = "cancelled"
)

// ProjectKinds are the kinds of connection application.
var ProjectKinds = []string{"new_connection", "capacity_increase"}

// Project is a connection project (业扩报装): an application for a new
// connection or a capacity increase, run through the stages of the rule set
// that was in force on the day it was accepted. Stages, deadlines, class,
// rule set and status are derived by the domain; they change only through
// actions (POST /api/v1/projects/{id}/stage).
type Project struct {
	crm.Meta
	Kind        string    `json:"kind"` // new_connection | capacity_increase
	CustomerID  string    `json:"customer_id"`
	Region      string    `json:"region"`
	Title       string    `json:"title,omitempty"`
	VoltageKV   float64   `json:"voltage_kv"`
	Supply      string    `json:"supply"` // single (default) | dual
	CapacityKVA float64   `json:"capacity_kva"`
	ManagerID   string    `json:"manager_id,omitempty"` // the account manager (staff id)
	KeyProject  bool      `json:"key_project,omitempty"`
	AcceptedAt  time.Time `json:"accepted_at"` // default: the command's time

	Class       string     `json:"class,omitempty"`    // derived: residential, lv, hv_single, hv_dual
	RuleSet     string     `json:"rule_set,omitempty"` // derived: the rule set in force on the day of acceptance
	Status      string     `json:"status,omitempty"`   // derived: open, energised, cancelled
	Stages      []Stage    `json:"stages,omitempty"`   // derived: the path of the rule set for the class
	EnergisedAt *time.Time `json:"energised_at,omitempty"`
	ClockError  string     `json:"clock_error,omitempty"` // why a deadline could not be counted (a calendar year not loaded)
	// derived: the working days from acceptance to energisation, counted
	// with the calendar its deadlines were (absent when it could not be)
	CycleWorkingDays *int `json:"cycle_working_days,omitempty"`
}

// Stage is one stage of a project. A stage's deadline is the end of the
// time limit that covers it; working days paused while waiting on the
// customer are added to it.
type Stage struct {
	Name        string     `json:"name"`
	Limit       string     `json:"limit,omitempty"` // the rule set's limit that covers it
	Responsible string     `json:"responsible,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	Late        bool       `json:"late,omitempty"` // done after its deadline
	Pauses      []Pause    `json:"pauses,omitempty"`
}

// Pause is an interval off the clock (waiting on the customer).
type Pause struct {
	From   time.Time  `json:"from"`
	To     *time.Time `json:"to,omitempty"` // nil while paused
	Reason string     `json:"reason,omitempty"`
}

// registerProjects registers the projects kind (doc.go).
func registerProjects() {
	crm.Register(&crm.Kind{Programme: "process", Name: "projects", IDPrefix: "prj", New: func() crm.Record { return &Project{} },
		Filters: []string{"region", "customer_id", "status", "manager_id", "class"}, Regional: true,
		OnCreate: projectOnCreate, Guard: projectGuard, Act: projectAct, Counters: processCounters("projects")})
}

func (p *Project) RegionField() *string { return &p.Region }

// Normalize implements Record.
func (p *Project) Normalize() {
	for _, s := range []*string{&p.CustomerID, &p.Region, &p.Title, &p.ManagerID} {
		trim(s)
	}
	p.Kind = strings.ToLower(strings.TrimSpace(p.Kind))
	p.Supply = strings.ToLower(strings.TrimSpace(p.Supply))
	if p.Supply == "" {
		p.Supply = "single"
	}
	if !p.AcceptedAt.IsZero() {
		p.AcceptedAt = p.AcceptedAt.UTC()
	}
}

// Validate implements Record.
func (p *Project) Validate() *crm.Error {
	if e := crm.OneOf("kind", p.Kind, ProjectKinds...); e != nil {
		return e
	}
	if e := crm.CustomerRef(p.CustomerID); e != nil {
		return e
	}
	if e := crm.RegionField(p.Region); e != nil {
		return e
	}
	if !slices.Contains(crm.SupplyVoltages, p.VoltageKV) {
		return crm.Invalid("voltage_kv", "%v kV is not a standard supply voltage (0.22, 0.38, 0.4, 6, 10, 20, 35, 66, 110, 220, 330, 500)", p.VoltageKV)
	}
	if e := crm.OneOf("supply", p.Supply, "single", "dual"); e != nil {
		return e
	}
	if p.Supply == "dual" && p.VoltageKV < 1 {
		return crm.Invalid("supply", "dual supply is a high-voltage arrangement; %v kV is low voltage", p.VoltageKV)
	}
	if e := crm.NonNegative("capacity_kva", p.CapacityKVA, 10_000_000); e != nil {
		return e
	}
	if p.CapacityKVA == 0 {
		return crm.Invalid("capacity_kva", "is required: the capacity applied for, in kVA")
	}
	if p.ManagerID != "" && !crm.Kinds["staff"].ValidID(p.ManagerID) {
		return crm.Invalid("manager_id", "%q is not a staff id", p.ManagerID)
	}
	if e := crm.MaxLen("title", p.Title, 200); e != nil {
		return e
	}
	for i, s := range p.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if !slices.Contains(crm.Stages, s.Name) {
			return crm.Invalid(f+".name", "%q is not a stage", s.Name)
		}
		if s.Responsible != "" && !crm.Kinds["staff"].ValidID(s.Responsible) {
			return crm.Invalid(f+".responsible", "%q is not a staff id", s.Responsible)
		}
	}
	if p.CycleWorkingDays != nil && (*p.CycleWorkingDays < 0 || *p.CycleWorkingDays > 100_000) {
		return crm.Invalid("cycle_working_days", "%d is not a number of working days (0 to 100000)", *p.CycleWorkingDays)
	}
	if p.Status != "" {
		return crm.OneOf("status", p.Status, ProjectOpen, ProjectEnergised, ProjectCancelled)
	}
	return nil
}

// Indexes implements Record.
func (p *Project) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "region", Value: p.Region}, {Field: "customer_id", Value: p.CustomerID}, {Field: "status", Value: p.Status}, {Field: "class", Value: p.Class}, {Field: crm.OwnerIndex, Value: p.Owner}}
	if p.ManagerID != "" {
		idx = append(idx, crm.Index{Field: "manager_id", Value: p.ManagerID})
	}
	return append(idx, projectDue(p)...) // kpi_due.go: what Supervise and the KPIs read as overdue
}

// Uniques implements Record.
func (p *Project) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (p *Project) Refs() []crm.Ref {
	refs := []crm.Ref{{Field: "customer_id", Collection: "customers", ID: p.CustomerID}}
	if p.ManagerID != "" {
		refs = append(refs, crm.Ref{Field: "manager_id", Collection: "staff", ID: p.ManagerID})
	}
	return refs
}

// Current answers the index of the stage under way (the first not done),
// or -1 when every stage is done.
func (p *Project) Current() int {
	for i, s := range p.Stages {
		if s.DoneAt == nil {
			return i
		}
	}
	return -1
}

// derived are the fields only the domain writes.
type projectDerived struct {
	Class, RuleSet, Status string
	Stages                 []Stage
	EnergisedAt            *time.Time
	ClockError             string
	CycleWorkingDays       *int
}

func (p *Project) derived() projectDerived {
	return projectDerived{p.Class, p.RuleSet, p.Status, p.Stages, p.EnergisedAt, p.ClockError, p.CycleWorkingDays}
}

func projectOnCreate(r crm.Reader, rec crm.Record, cmd *crm.Command) *crm.Error {
	p := rec.(*Project)
	for f, set := range map[string]bool{"class": p.Class != "", "rule_set": p.RuleSet != "", "status": p.Status != "",
		"stages": len(p.Stages) > 0, "energised_at": p.EnergisedAt != nil, "clock_error": p.ClockError != "",
		"cycle_working_days": p.CycleWorkingDays != nil} {
		if set {
			return crm.Invalid(f, "is derived by the server and cannot be written")
		}
	}
	if p.AcceptedAt.IsZero() {
		p.AcceptedAt = cmd.Time
	}
	if p.AcceptedAt.After(cmd.Time) {
		return crm.Invalid("accepted_at", "%s is in the future", p.AcceptedAt.Format(time.RFC3339))
	}
	raw, err := r.Get(recordKey("customers", p.CustomerID))
	if err != nil {
		return crm.AsError(err)
	}
	if raw == nil {
		return &crm.Error{Code: crm.CodeReference, Field: "customer_id", Message: fmt.Sprintf("no customer with id %q", p.CustomerID)}
	}
	var c crm.Customer
	if err := json.Unmarshal(raw, &c); err != nil {
		return crm.AsError(err)
	}
	p.Class = SupplyClass(p.VoltageKV, c.Category, p.Supply)
	rs, e := RuleSetFor(r, p.Region, dayOf(p.AcceptedAt))
	if e != nil {
		return e
	}
	p.RuleSet = rs.ID
	p.Status = ProjectOpen
	for _, name := range rs.Paths[p.Class] {
		p.Stages = append(p.Stages, Stage{Name: name, Responsible: p.ManagerID})
	}
	at := p.AcceptedAt
	p.Stages[0].StartedAt, p.Stages[0].DoneAt = tp(at), tp(at)
	if len(p.Stages) > 1 {
		p.Stages[1].StartedAt = tp(at)
	}
	cal, err := CalendarFor(r, p.Region)
	if err != nil {
		return crm.AsError(err)
	}
	RecomputeProject(p, rs, cal)
	return nil
}

func projectGuard(old, new crm.Record) *crm.Error {
	o, n := old.(*Project), new.(*Project)
	switch {
	case o.CustomerID != n.CustomerID:
		return crm.Invalid("customer_id", "cannot change after acceptance; cancel the project and accept a new one")
	case o.Kind != n.Kind:
		return crm.Invalid("kind", "cannot change after acceptance; cancel and accept a new project")
	case o.VoltageKV != n.VoltageKV:
		return crm.Invalid("voltage_kv", "cannot change after acceptance: it decides the path and the limits; cancel and accept a new project")
	case o.Supply != n.Supply:
		return crm.Invalid("supply", "cannot change after acceptance: it decides the path and the limits; cancel and accept a new project")
	case !o.AcceptedAt.Equal(n.AcceptedAt):
		return crm.Invalid("accepted_at", "cannot change after acceptance")
	case !sameJSON(o.derived(), n.derived()):
		return crm.Invalid("stages", "stages, status, class and rule_set change only through POST /api/v1/projects/{id}/stage")
	}
	return nil
}

// ProjectAction is the body of POST /api/v1/projects/{id}/stage.
type ProjectAction struct {
	Action      string     `json:"action"` // complete, pause, resume, assign, cancel
	Stage       string     `json:"stage,omitempty"`
	At          *time.Time `json:"at,omitempty"` // when it happened; default: now; never in the future
	Reason      string     `json:"reason,omitempty"`
	Responsible string     `json:"responsible,omitempty"` // assign: staff id
}

// ProjectActions lists the actions.
var ProjectActions = []string{"complete", "pause", "resume", "assign", "cancel"}

// projectAct applies a stage action, then counts every deadline again on
// the rule set of acceptance and the calendar in force now (a calendar
// year pushed since is picked up by the next action).
func projectAct(r crm.Reader, rec crm.Record, cmd *crm.Command) *crm.Error {
	p := rec.(*Project)
	if e := projectStep(r, p, cmd); e != nil {
		return e
	}
	rs, e := RuleSetByID(r, p.RuleSet)
	if e != nil {
		return e
	}
	cal, err := CalendarFor(r, p.Region)
	if err != nil {
		return crm.AsError(err)
	}
	RecomputeProject(p, rs, cal)
	return nil
}

func projectStep(r crm.Reader, p *Project, cmd *crm.Command) *crm.Error {
	var a ProjectAction
	if e := crm.DecodeAction(cmd.Body, &a); e != nil {
		return e
	}
	a.Action = strings.ToLower(strings.TrimSpace(a.Action))
	if e := crm.OneOf("action", a.Action, ProjectActions...); e != nil {
		return e
	}
	if e := crm.MaxLen("reason", a.Reason, 500); e != nil {
		return e
	}
	if p.Status != ProjectOpen {
		return &crm.Error{Code: crm.CodeConflict, Field: "action", Message: fmt.Sprintf("project %s is %s: no stage can change", p.ID, p.Status)}
	}
	cur := p.Current()
	if a.Action == "cancel" {
		t, e := actionTime(a.At, cmd, p.AcceptedAt, "at")
		if e != nil {
			return e
		}
		if strings.TrimSpace(a.Reason) == "" {
			return crm.Invalid("reason", "is required to cancel a project")
		}
		p.Status = ProjectCancelled
		if cur >= 0 {
			if n := len(p.Stages[cur].Pauses); n > 0 && p.Stages[cur].Pauses[n-1].To == nil {
				p.Stages[cur].Pauses[n-1].To = tp(t)
			}
		}
		return nil
	}
	i := slices.IndexFunc(p.Stages, func(s Stage) bool { return s.Name == a.Stage })
	if a.Stage == "" {
		return crm.Invalid("stage", "is required: the stage the action is for (the current one is %s)", p.Stages[cur].Name)
	}
	if i < 0 {
		names := make([]string, len(p.Stages))
		for j, s := range p.Stages {
			names[j] = s.Name
		}
		return crm.Invalid("stage", "%q is not on this project's path (%s, rule set %s)", a.Stage, strings.Join(names, " → "), p.RuleSet)
	}
	s := &p.Stages[i]
	if a.Action == "assign" {
		if s.DoneAt != nil {
			return &crm.Error{Code: crm.CodeConflict, Field: "stage", Message: fmt.Sprintf("stage %s is done; it cannot be reassigned", s.Name)}
		}
		if !crm.Kinds["staff"].ValidID(a.Responsible) {
			return crm.Invalid("responsible", "%q is not a staff id", a.Responsible)
		}
		raw, err := r.Get(recordKey("staff", a.Responsible))
		if err != nil {
			return crm.AsError(err)
		}
		if raw == nil {
			return &crm.Error{Code: crm.CodeReference, Field: "responsible", Message: fmt.Sprintf("no staff member with id %q", a.Responsible)}
		}
		s.Responsible = a.Responsible
		return nil
	}
	if i != cur {
		return &crm.Error{Code: crm.CodeConflict, Field: "stage", Message: fmt.Sprintf("stage %s is not the current stage (%s is): stages %s in order", s.Name, p.Stages[cur].Name, map[bool]string{true: "are done", false: "run"}[i < cur])}
	}
	paused := len(s.Pauses) > 0 && s.Pauses[len(s.Pauses)-1].To == nil
	last := *s.StartedAt
	if n := len(s.Pauses); n > 0 {
		last = s.Pauses[n-1].From
		if s.Pauses[n-1].To != nil {
			last = *s.Pauses[n-1].To
		}
	}
	t, e := actionTime(a.At, cmd, last, "at")
	if e != nil {
		return e
	}
	switch a.Action {
	case "complete":
		if paused {
			return &crm.Error{Code: crm.CodeConflict, Field: "action", Message: fmt.Sprintf("stage %s is paused (waiting on the customer): resume it first", s.Name)}
		}
		s.DoneAt = tp(t)
		if i+1 < len(p.Stages) {
			p.Stages[i+1].StartedAt = tp(t)
		} else {
			p.Status, p.EnergisedAt = ProjectEnergised, tp(t)
		}
	case "pause":
		if paused {
			return &crm.Error{Code: crm.CodeConflict, Field: "action", Message: fmt.Sprintf("stage %s is already paused", s.Name)}
		}
		if strings.TrimSpace(a.Reason) == "" {
			return crm.Invalid("reason", "is required: what the project waits on the customer for")
		}
		s.Pauses = append(s.Pauses, Pause{From: t, Reason: a.Reason})
	case "resume":
		if !paused {
			return &crm.Error{Code: crm.CodeConflict, Field: "action", Message: fmt.Sprintf("stage %s is not paused", s.Name)}
		}
		s.Pauses[len(s.Pauses)-1].To = tp(t)
	}
	return nil
}

// RecomputeProject sets every stage's limit, deadline and late flag from
// the rule set and calendar. A limit's clock starts when its first stage
// starts; closed pauses in it add their working days. A deadline that
// needs a year the calendar does not hold is left unset and ClockError
// says why.
func RecomputeProject(p *Project, rs *RuleSet, cal *workday.Calendar) {
	p.ClockError, p.CycleWorkingDays = "", nil
	if p.EnergisedAt != nil {
		if n, err := cal.WorkingDaysBetween(p.AcceptedAt, *p.EnergisedAt); err == nil {
			p.CycleWorkingDays = &n
		}
	}
	for i := range p.Stages {
		p.Stages[i].Limit, p.Stages[i].Deadline, p.Stages[i].Late = "", nil, false
	}
	for _, l := range rs.Limits {
		days, ok := l.Days[p.Class]
		if !ok {
			continue
		}
		var in []int
		for i, s := range p.Stages {
			if slices.Contains(l.Stages, s.Name) {
				in = append(in, i)
				p.Stages[i].Limit = l.Name
			}
		}
		if len(in) == 0 || p.Stages[in[0]].StartedAt == nil {
			continue
		}
		paused := 0
		for _, i := range in {
			for _, pz := range p.Stages[i].Pauses {
				if pz.To == nil {
					continue
				}
				n, err := cal.WorkingDaysBetween(pz.From, *pz.To)
				if err != nil {
					p.ClockError = err.Error()
				}
				paused += n
			}
		}
		dl, err := cal.Deadline(*p.Stages[in[0]].StartedAt, days+paused)
		if err != nil {
			p.ClockError = strings.TrimPrefix(err.Error(), "workday: ")
			continue
		}
		for _, i := range in {
			s := &p.Stages[i]
			s.Deadline = tp(dl)
			s.Late = s.DoneAt != nil && s.DoneAt.After(dl)
		}
	}
}
