package bigcustomer

import (
	"fmt"
	"slices"
	"strings"

	"gridcrm/crm"
)

// The "1+N" model (1+N 服务模式): one front account manager is the customer's
// single contact; N back-office teams support them.

// BackofficeTeams are the teams, each with the departments it may hold.
var BackofficeTeams = map[string][]string{
	"strategy":  {"development", "operations_maintenance", "marketing"},     // 策略支撑: 发展策划, 运维检修, 市场营销
	"technical": {"it_communications", "business_monitoring", "metering"},   // 技术支撑: 信息通信, 业务监控, 计量中心
	"service":   {"fee_management", "connection", "supply_service_command"}, // 服务支撑: 电费管理中心, 业扩报装中心, 供电服务指挥中心
}

// TeamNames lists the teams in a stable order.
var TeamNames = []string{"strategy", "technical", "service"}

// RequestNeeds maps what a front manager may ask for to the department that
// handles it; the department's team gets the task.
var RequestNeeds = map[string]string{
	"capacity_planning": "development",
	"maintenance":       "operations_maintenance",
	"tariff_advice":     "marketing",
	"data_access":       "it_communications",
	"load_monitoring":   "business_monitoring",
	"metering":          "metering",
	"billing":           "fee_management",
	"connection":        "connection",
	"outage":            "supply_service_command",
}

// teamOf answers the team of a department.
func teamOf(dept string) string {
	for team, depts := range BackofficeTeams {
		if slices.Contains(depts, dept) {
			return team
		}
	}
	return ""
}

func needNames() []string {
	out := make([]string, 0, len(RequestNeeds))
	for n := range RequestNeeds {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// BackofficeTeam is one back-office team of a region with its member
// departments and staff.
type BackofficeTeam struct {
	crm.Meta
	Region      string   `json:"region"`
	Team        string   `json:"team"` // strategy, technical, service
	Name        string   `json:"name"`
	Departments []string `json:"departments"`
	MemberIDs   []string `json:"member_ids,omitempty"` // staff
}

func registerBackofficeTeams() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "backoffice_teams", IDPrefix: "bot", New: func() crm.Record { return &BackofficeTeam{} },
		Filters: []string{"region", "team"}, Regional: true})
}

// RegionField makes the record a crm.RegionHolder: its region is its owner.
func (t *BackofficeTeam) RegionField() *string { return &t.Region }

// Normalize implements Record.
func (t *BackofficeTeam) Normalize() {
	trim(&t.Region)
	trim(&t.Name)
	t.Team = strings.ToLower(strings.TrimSpace(t.Team))
	t.Departments = trimAll(t.Departments)
	t.MemberIDs = trimAll(t.MemberIDs)
}

// Validate implements Record.
func (t *BackofficeTeam) Validate() *crm.Error {
	if e := crm.FirstErr(regionFieldOK(t.Region), crm.OneOf("team", t.Team, TeamNames...), crm.Required("name", t.Name, 100)); e != nil {
		return e
	}
	if len(t.Departments) == 0 {
		return crm.Invalid("departments", "a team needs at least one member department; %s holds %s", t.Team, strings.Join(BackofficeTeams[t.Team], ", "))
	}
	seen := map[string]bool{}
	for _, d := range t.Departments {
		if !slices.Contains(BackofficeTeams[t.Team], d) {
			return crm.Invalid("departments", "%q is not a department of the %s team (%s)", d, t.Team, strings.Join(BackofficeTeams[t.Team], ", "))
		}
		if seen[d] {
			return crm.Invalid("departments", "%q appears twice", d)
		}
		seen[d] = true
	}
	if len(t.MemberIDs) > 200 {
		return crm.Invalid("member_ids", "has %d members; at most 200", len(t.MemberIDs))
	}
	for _, m := range t.MemberIDs {
		if e := idField("member_ids", "staff", m, true); e != nil {
			return e
		}
	}
	return nil
}

// Indexes implements Record.
func (t *BackofficeTeam) Indexes() []crm.Index {
	return []crm.Index{{Field: "region", Value: t.Region}, {Field: "team", Value: t.Team}, {Field: crm.OwnerIndex, Value: t.Owner}}
}

// Uniques implements Record: one team of each kind per region.
func (t *BackofficeTeam) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "team", Scope: t.Region, Value: t.Team, Field: "team"}}
}

// Refs implements Record.
func (t *BackofficeTeam) Refs() []crm.Ref {
	var refs []crm.Ref
	for _, m := range t.MemberIDs {
		refs = append(refs, crm.Ref{Field: "member_ids", Collection: "staff", ID: m})
	}
	return refs
}

// RequestTask is the part of a request routed to one back-office team.
type RequestTask struct {
	Need       string `json:"need"`
	Department string `json:"department"` // set by routing
	Team       string `json:"team"`       // set by routing
	TeamID     string `json:"team_id"`    // the region's backoffice_teams record, set by routing
	Status     string `json:"status"`     // pending, in_progress, done, rejected
	Note       string `json:"note,omitempty"`
}

var taskLife = crm.Lifecycle{"pending": {"in_progress", "rejected"}, "in_progress": {"done", "rejected"}}

// ServiceRequest is raised by a customer's front manager; Apply routes each
// need to the team that handles it, and the request's status follows its
// tasks back to the manager.
type ServiceRequest struct {
	crm.Meta
	CustomerID     string        `json:"customer_id"`
	FrontManagerID string        `json:"front_manager_id"`
	Title          string        `json:"title"`
	Detail         string        `json:"detail,omitempty"`
	Needs          []string      `json:"needs"`
	Tasks          []RequestTask `json:"tasks,omitempty"`
	Teams          []string      `json:"teams,omitempty"` // the teams it is routed to, derived
	Status         string        `json:"status"`          // open, in_progress, resolved (derived from tasks); closed (by the manager)
}

func registerServiceRequests() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "service_requests", IDPrefix: "srq", New: func() crm.Record { return &ServiceRequest{} },
		Filters: []string{"customer_id", "front_manager_id", "status", "teams"},
		Check:   crm.Checks(crm.LifeCycle((*ServiceRequest).checkChange), crm.WithState((*ServiceRequest).checkState))})
}

// Normalize implements Record: it routes needs without tasks and derives
// the status from the tasks (a manager's "closed" stays).
func (q *ServiceRequest) Normalize() {
	trim(&q.CustomerID)
	trim(&q.FrontManagerID)
	trim(&q.Title)
	trim(&q.Detail)
	for i, n := range q.Needs {
		q.Needs[i] = strings.ToLower(strings.TrimSpace(n))
	}
	q.Needs = trimAll(q.Needs)
	for i := range q.Tasks {
		t := &q.Tasks[i]
		t.Status = strings.ToLower(strings.TrimSpace(t.Status))
		trim(&t.Note)
	}
	for _, n := range q.Needs {
		if !slices.ContainsFunc(q.Tasks, func(t RequestTask) bool { return t.Need == n }) {
			dept := RequestNeeds[n]
			q.Tasks = append(q.Tasks, RequestTask{Need: n, Department: dept, Team: teamOf(dept), Status: "pending"})
		}
	}
	q.Teams = nil
	for _, t := range q.Tasks {
		if t.Team != "" && !slices.Contains(q.Teams, t.Team) {
			q.Teams = append(q.Teams, t.Team)
		}
	}
	q.Status = strings.ToLower(strings.TrimSpace(q.Status))
	if q.Status != "closed" {
		q.Status = q.derivedStatus()
	}
}

func (q *ServiceRequest) derivedStatus() string {
	pending, final, done := 0, 0, 0
	for _, t := range q.Tasks {
		switch t.Status {
		case "pending":
			pending++
		case "done":
			final++
			done++
		case "rejected":
			final++
		}
	}
	switch {
	case len(q.Tasks) > 0 && final == len(q.Tasks):
		return "resolved"
	case pending == len(q.Tasks):
		return "open"
	}
	return "in_progress"
}

// Validate implements Record.
func (q *ServiceRequest) Validate() *crm.Error {
	if e := crm.FirstErr(idField("customer_id", "customers", q.CustomerID, true), idField("front_manager_id", "staff", q.FrontManagerID, true),
		crm.Required("title", q.Title, 200), crm.MaxLen("detail", q.Detail, 4000)); e != nil {
		return e
	}
	if len(q.Needs) == 0 {
		return crm.Invalid("needs", "at least one need is required; one of %s", strings.Join(needNames(), ", "))
	}
	seen := map[string]bool{}
	for _, n := range q.Needs {
		if _, ok := RequestNeeds[n]; !ok {
			return crm.Invalid("needs", "%q is not one of %s", n, strings.Join(needNames(), ", "))
		}
		if seen[n] {
			return crm.Invalid("needs", "%q appears twice", n)
		}
		seen[n] = true
	}
	if len(q.Tasks) != len(q.Needs) {
		return crm.Invalid("tasks", "has %d tasks for %d needs; tasks are made by routing, one per need", len(q.Tasks), len(q.Needs))
	}
	for i, t := range q.Tasks {
		f := fmt.Sprintf("tasks[%d]", i)
		if !seen[t.Need] {
			return crm.Invalid(f+".need", "%q is not one of the request's needs", t.Need)
		}
		if t.Department != RequestNeeds[t.Need] || t.Team != teamOf(t.Department) {
			return crm.Invalid(f+".team", "need %q is handled by department %s of the %s team, not %s/%s", t.Need, RequestNeeds[t.Need], teamOf(RequestNeeds[t.Need]), t.Department, t.Team)
		}
		if e := crm.FirstErr(crm.OneOf(f+".status", t.Status, "pending", "in_progress", "done", "rejected"), crm.MaxLen(f+".note", t.Note, 1000)); e != nil {
			return e
		}
		if t.Status == "rejected" && t.Note == "" {
			return crm.Invalid(f+".note", "a rejected task needs a note saying why")
		}
	}
	if q.Status == "closed" && q.derivedStatus() != "resolved" {
		return &crm.Error{Code: crm.CodeTransition, Field: "status", Message: "a request can be closed only when every task is done or rejected"}
	}
	return nil
}

func (q *ServiceRequest) checkChange(old crm.Record) *crm.Error {
	o, ok := old.(*ServiceRequest)
	if !ok {
		for i, t := range q.Tasks {
			if t.Status != "pending" {
				return &crm.Error{Code: crm.CodeTransition, Field: fmt.Sprintf("tasks[%d].status", i), Message: "a new request's tasks start as pending"}
			}
		}
		if q.Status == "closed" {
			return &crm.Error{Code: crm.CodeTransition, Field: "status", Message: "a new request cannot be closed"}
		}
		return nil
	}
	if o.Status == "closed" {
		return &crm.Error{Code: crm.CodeTransition, Field: "status", Message: "the request is closed; raise a new one"}
	}
	if e := crm.FirstErr(crm.Immutable("customer_id", o.CustomerID, q.CustomerID), crm.Immutable("front_manager_id", o.FrontManagerID, q.FrontManagerID)); e != nil {
		return e
	}
	if !slices.Equal(o.Needs, q.Needs) {
		return &crm.Error{Code: crm.CodeTransition, Field: "needs", Message: "needs are fixed when the request is raised; raise a new request for more"}
	}
	for i, t := range q.Tasks {
		j := slices.IndexFunc(o.Tasks, func(x RequestTask) bool { return x.Need == t.Need })
		if j < 0 {
			continue
		}
		if e := taskLife.Change(fmt.Sprintf("tasks[%d].status", i), o.Tasks[j].Status, t.Status); e != nil {
			return e
		}
	}
	return nil
}

// checkState routes every task to the region's team record that holds its
// department (team_id is set here, on every write, so clients need not
// send it back), and checks the front manager.
func (q *ServiceRequest) checkState(r crm.Reader, region string) *crm.Error {
	for i := range q.Tasks {
		t := &q.Tasks[i]
		id, err := r.Get(uniqueKey("backoffice_teams", "team", region, t.Team))
		if err != nil {
			return crm.AsError(err)
		}
		if id == nil {
			return &crm.Error{Code: crm.CodeReference, Field: fmt.Sprintf("tasks[%d].team", i),
				Message: fmt.Sprintf("region %s has no %s back-office team to handle %q; create it (backoffice_teams) first", region, t.Team, t.Need)}
		}
		var team BackofficeTeam
		if _, e := crm.LoadRecord(r, "backoffice_teams", string(id), &team); e != nil {
			return e
		}
		if !slices.Contains(team.Departments, t.Department) {
			return &crm.Error{Code: crm.CodeReference, Field: fmt.Sprintf("tasks[%d].team", i),
				Message: fmt.Sprintf("the %s team of region %s (%s) has no %s department to handle %q", t.Team, region, team.ID, t.Department, t.Need)}
		}
		t.TeamID = team.ID
	}
	return staffWithRole(r, "front_manager_id", q.FrontManagerID, "account_manager", "gold_manager")
}

// Indexes implements Record: the request is listed under every team it
// has a task for.
func (q *ServiceRequest) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "customer_id", Value: q.CustomerID}, {Field: "front_manager_id", Value: q.FrontManagerID}, {Field: "status", Value: q.Status}, {Field: crm.OwnerIndex, Value: q.Owner}}
	for _, t := range q.Teams {
		idx = append(idx, crm.Index{Field: "teams", Value: t})
	}
	return idx
}

// Uniques implements Record.
func (q *ServiceRequest) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (q *ServiceRequest) Refs() []crm.Ref {
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: q.CustomerID}, {Field: "front_manager_id", Collection: "staff", ID: q.FrontManagerID}}
}

// Assessment is the evaluation a customer passes to enter the pool.
type Assessment struct {
	Score      float64  `json:"score"`       // 0..100
	AnnualKWh  float64  `json:"annual_kwh"`  // at assessment
	Credit     string   `json:"credit"`      // A, B, C, D
	Reason     string   `json:"reason"`      // why it is managed
	AssessedBy string   `json:"assessed_by"` // staff
	AssessedOn crm.Date `json:"assessed_on"`
}

// PoolEntry puts a customer into the managed pool (入池) after assessment,
// with its front manager and its one contact.
type PoolEntry struct {
	crm.Meta
	CustomerID     string      `json:"customer_id"`
	Status         string      `json:"status"` // candidate (default), admitted, rejected, exited
	Assessment     *Assessment `json:"assessment,omitempty"`
	FrontManagerID string      `json:"front_manager_id,omitempty"`
	ContactID      string      `json:"contact_id,omitempty"`
	ExitReason     string      `json:"exit_reason,omitempty"`
}

var poolLife = crm.Lifecycle{"candidate": {"admitted", "rejected"}, "admitted": {"exited"}}

func registerPoolEntries() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "pool_entries", IDPrefix: "pen", New: func() crm.Record { return &PoolEntry{} },
		Filters: []string{"customer_id", "status", "front_manager_id"},
		Check:   crm.Checks(crm.LifeCycle((*PoolEntry).checkChange), crm.WithState((*PoolEntry).checkState), crm.WithStateChange((*PoolEntry).checkStateChange))})
}

// Normalize implements Record.
func (p *PoolEntry) Normalize() {
	trim(&p.CustomerID)
	trim(&p.FrontManagerID)
	trim(&p.ContactID)
	trim(&p.ExitReason)
	p.Status = strings.ToLower(strings.TrimSpace(p.Status))
	if p.Status == "" {
		p.Status = "candidate"
	}
	if a := p.Assessment; a != nil {
		a.Credit = strings.ToUpper(strings.TrimSpace(a.Credit))
		trim(&a.Reason)
		trim(&a.AssessedBy)
	}
}

// Validate implements Record.
func (p *PoolEntry) Validate() *crm.Error {
	if e := crm.FirstErr(idField("customer_id", "customers", p.CustomerID, true), crm.OneOf("status", p.Status, "candidate", "admitted", "rejected", "exited"),
		idField("front_manager_id", "staff", p.FrontManagerID, false), idField("contact_id", "contacts", p.ContactID, false),
		crm.MaxLen("exit_reason", p.ExitReason, 500)); e != nil {
		return e
	}
	if a := p.Assessment; a != nil {
		if a.Score < 0 || a.Score > 100 {
			return crm.Invalid("assessment.score", "is %v; from 0 to 100", a.Score)
		}
		if e := crm.FirstErr(crm.NonNegative("assessment.annual_kwh", a.AnnualKWh, 1e12), crm.OneOf("assessment.credit", a.Credit, "A", "B", "C", "D"),
			crm.Required("assessment.reason", a.Reason, 500), idField("assessment.assessed_by", "staff", a.AssessedBy, true),
			crm.ValidDate("assessment.assessed_on", a.AssessedOn, false)); e != nil {
			return e
		}
	}
	switch p.Status {
	case "admitted":
		switch {
		case p.Assessment == nil:
			return crm.Invalid("assessment", "is required to admit a customer into the pool")
		case p.FrontManagerID == "":
			return crm.Invalid("front_manager_id", "an admitted customer needs its front manager (the 1 of 1+N)")
		case p.ContactID == "":
			return crm.Invalid("contact_id", "an admitted customer needs its one contact")
		}
	case "rejected":
		if p.Assessment == nil {
			return crm.Invalid("assessment", "is required to reject a candidate (say why in reason)")
		}
	case "exited":
		if p.ExitReason == "" {
			return crm.Invalid("exit_reason", "is required when a customer leaves the pool")
		}
	}
	return nil
}

func (p *PoolEntry) checkChange(old crm.Record) *crm.Error {
	o, ok := old.(*PoolEntry)
	if !ok {
		return poolLife.Change("status", "", p.Status, "candidate", "admitted")
	}
	return crm.FirstErr(crm.Immutable("customer_id", o.CustomerID, p.CustomerID), poolLife.Change("status", o.Status, p.Status))
}

// checkState: the contact is the customer's; the front manager is an
// account or gold manager.
func (p *PoolEntry) checkState(r crm.Reader, _ string) *crm.Error {
	if p.ContactID != "" {
		var c crm.Contact
		found, e := crm.LoadRecord(r, "contacts", p.ContactID, &c)
		if e != nil {
			return e
		}
		if found && c.CustomerID != p.CustomerID {
			return crm.Invalid("contact_id", "contact %s belongs to customer %s, not %s", p.ContactID, c.CustomerID, p.CustomerID)
		}
	}
	return staffWithRole(r, "front_manager_id", p.FrontManagerID, "account_manager", "gold_manager")
}

// AssessmentGrowth is how far an assessment's annual_kwh may exceed the
// customer's billed consumption (annualised over the months billed in the
// 12 months before assessed_on): 1.5 allows for a load that is growing.
const AssessmentGrowth = 1.5

// checkStateChange: an assessment that is new or changed states an annual
// consumption the customer's bills back (at most AssessmentGrowth times
// the kWh billed in the 12 months before assessed_on, annualised); a
// customer with no bills in those months is assessed with annual_kwh 0.
func (p *PoolEntry) checkStateChange(r crm.Reader, old crm.Record) *crm.Error {
	a := p.Assessment
	if a == nil || a.AnnualKWh == 0 {
		return nil
	}
	if o, ok := old.(*PoolEntry); ok && sameJSON(o.Assessment, a) {
		return nil
	}
	bills, e := crm.CustomerBills(r, p.CustomerID)
	if e != nil {
		return e
	}
	from, to := crm.Window(a.AssessedOn)
	kwh, months := 0.0, 0
	for _, b := range bills {
		if b.Period >= from && b.Period <= to {
			kwh += b.KWh
			months++
		}
	}
	if months == 0 {
		return crm.Invalid("assessment.annual_kwh", "is %.0f kWh, but customer %s has no bills from %s to %s (the 12 months before assessed_on %s): nothing backs it; give 0, or load the bills first",
			a.AnnualKWh, p.CustomerID, from, to, a.AssessedOn)
	}
	annual := kwh / float64(months) * 12
	if limit := annual * AssessmentGrowth; a.AnnualKWh > limit+0.005 {
		return crm.Invalid("assessment.annual_kwh", "is %.0f kWh, but customer %s was billed %.0f kWh in %d months from %s to %s (%.0f kWh a year): an assessment states at most %.1f times that, %.0f kWh",
			a.AnnualKWh, p.CustomerID, kwh, months, from, to, annual, AssessmentGrowth, limit)
	}
	return nil
}

// Indexes implements Record.
func (p *PoolEntry) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "customer_id", Value: p.CustomerID}, {Field: "status", Value: p.Status}, {Field: crm.OwnerIndex, Value: p.Owner}}
	if p.FrontManagerID != "" {
		idx = append(idx, crm.Index{Field: "front_manager_id", Value: p.FrontManagerID})
	}
	return idx
}

// Uniques implements Record: a customer is in the pool once. An exited
// entry (final) is history and lets go, so the customer may enter again
// with a new entry.
func (p *PoolEntry) Uniques() []crm.Unique {
	if p.Status == "exited" {
		return nil
	}
	return []crm.Unique{{Name: "customer", Scope: "", Value: p.CustomerID, Field: "customer_id"}}
}

// Refs implements Record.
func (p *PoolEntry) Refs() []crm.Ref {
	refs := []crm.Ref{{Field: "customer_id", Collection: "customers", ID: p.CustomerID}}
	if p.FrontManagerID != "" {
		refs = append(refs, crm.Ref{Field: "front_manager_id", Collection: "staff", ID: p.FrontManagerID})
	}
	if p.ContactID != "" {
		refs = append(refs, crm.Ref{Field: "contact_id", Collection: "contacts", ID: p.ContactID})
	}
	if p.Assessment != nil {
		refs = append(refs, crm.Ref{Field: "assessment.assessed_by", Collection: "staff", ID: p.Assessment.AssessedBy})
	}
	return refs
}
