package bigcustomer

import (
	"fmt"
	"slices"
	"strings"

	"gridcrm/crm"
)

// KeyProjectKinds say why a project is key (重点项目).
var KeyProjectKinds = []string{"government_key", "high_voltage", "livelihood", "industrial_park", "other"}

// ProjectStage is one stage of a key project with its deadline.
type ProjectStage struct {
	Name   string   `json:"name"` // one of Stages (stages.go), or "accepted" (CanonicalStage)
	Due    crm.Date `json:"due"`
	DoneOn crm.Date `json:"done_on,omitempty"`
	Note   string   `json:"note,omitempty"`
}

// KeyProject is a key customer's project tracked for the monthly bulletin:
// the minimal model the "four ones" need (the full connection-project
// workflow is its own issue). Owned by its region.
type KeyProject struct {
	crm.Meta
	Region       string         `json:"region"`
	Name         string         `json:"name"`
	CustomerID   string         `json:"customer_id,omitempty"`
	Kind         string         `json:"kind"` // one of KeyProjectKinds
	CapacityKVA  float64        `json:"capacity_kva,omitempty"`
	Stages       []ProjectStage `json:"stages"`
	Progress     int            `json:"progress"` // percent
	Difficulties []string       `json:"difficulties,omitempty"`
	ServiceInfo  []string       `json:"service_info,omitempty"`
	Status       string         `json:"status"` // active (default), suspended, energised
}

var projectLife = crm.Lifecycle{"active": {"suspended", "energised"}, "suspended": {"active"}}

func registerKeyProjects() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "key_projects", IDPrefix: "kpj", New: func() crm.Record { return &KeyProject{} },
		Filters: []string{"region", "status", "customer_id", "kind"}, Regional: true,
		Check: crm.LifeCycle((*KeyProject).checkChange)})
}

// RegionField makes the record a crm.RegionHolder: its region is its owner.
func (p *KeyProject) RegionField() *string { return &p.Region }

// Normalize implements Record.
func (p *KeyProject) Normalize() {
	trim(&p.Region)
	trim(&p.Name)
	trim(&p.CustomerID)
	p.Kind = strings.ToLower(strings.TrimSpace(p.Kind))
	p.Status = strings.ToLower(strings.TrimSpace(p.Status))
	if p.Status == "" {
		p.Status = "active"
	}
	for i := range p.Stages {
		p.Stages[i].Name = strings.ToLower(strings.TrimSpace(p.Stages[i].Name))
		trim(&p.Stages[i].Note)
	}
	p.Difficulties, p.ServiceInfo = trimAll(p.Difficulties), trimAll(p.ServiceInfo)
}

// Validate implements Record.
func (p *KeyProject) Validate() *crm.Error {
	if e := crm.FirstErr(regionFieldOK(p.Region), crm.Required("name", p.Name, 100), idField("customer_id", "customers", p.CustomerID, false),
		crm.OneOf("kind", p.Kind, KeyProjectKinds...), crm.NonNegative("capacity_kva", p.CapacityKVA, 10_000_000)); e != nil {
		return e
	}
	if p.Progress < 0 || p.Progress > 100 {
		return crm.Invalid("progress", "is %d; a percentage from 0 to 100", p.Progress)
	}
	if len(p.Stages) == 0 {
		return crm.Invalid("stages", "at least one stage with its due date is required")
	}
	seen := map[string]bool{}
	last := -1
	for i, s := range p.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		name := crm.CanonicalStage(s.Name)
		at := slices.Index(crm.Stages, name)
		if at < 0 {
			return crm.Invalid(f+".name", "%q is not one of %s", s.Name, strings.Join(crm.Stages, ", "))
		}
		if seen[name] {
			return crm.Invalid(f+".name", "stage %q appears twice", s.Name)
		}
		if at < last {
			return crm.Invalid(f+".name", "stage %q is out of order (stages run %s)", s.Name, strings.Join(crm.Stages, " → "))
		}
		seen[name], last = true, at
		if e := crm.FirstErr(crm.ValidDate(f+".due", s.Due, false), crm.ValidDate(f+".done_on", s.DoneOn, true), crm.MaxLen(f+".note", s.Note, 500)); e != nil {
			return e
		}
	}
	if p.Status == "energised" {
		if i := slices.IndexFunc(p.Stages, func(s ProjectStage) bool { return s.Name == crm.StageEnergise }); i < 0 || p.Stages[i].DoneOn == "" {
			return crm.Invalid("status", "energised needs the energisation stage with its done_on date")
		}
	}
	return crm.FirstErr(textList("difficulties", p.Difficulties, 50, 500), textList("service_info", p.ServiceInfo, 50, 500),
		crm.OneOf("status", p.Status, "active", "suspended", "energised"))
}

func (p *KeyProject) checkChange(old crm.Record) *crm.Error {
	from := ""
	if o, ok := old.(*KeyProject); ok {
		from = o.Status
	}
	return projectLife.Change("status", from, p.Status, "active")
}

// Indexes implements Record.
func (p *KeyProject) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "region", Value: p.Region}, {Field: "status", Value: p.Status}, {Field: "kind", Value: p.Kind}, {Field: crm.OwnerIndex, Value: p.Owner}}
	if p.CustomerID != "" {
		idx = append(idx, crm.Index{Field: "customer_id", Value: p.CustomerID})
	}
	return idx
}

// Uniques implements Record.
func (p *KeyProject) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (p *KeyProject) Refs() []crm.Ref {
	if p.CustomerID == "" {
		return nil
	}
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: p.CustomerID}}
}

// Subject is what a "four ones" record concerns: a key customer, a key
// project, or both; one of them is required.
type Subject struct {
	CustomerID string `json:"customer_id,omitempty"`
	ProjectID  string `json:"project_id,omitempty"`
}

func (s *Subject) normalize() { trim(&s.CustomerID); trim(&s.ProjectID) }

func (s *Subject) validate() *crm.Error {
	if s.CustomerID == "" && s.ProjectID == "" {
		return crm.Invalid("customer_id", "a key customer (customer_id) or a key project (project_id) is required")
	}
	return crm.FirstErr(idField("customer_id", "customers", s.CustomerID, false), idField("project_id", "key_projects", s.ProjectID, false))
}

// key is the one id the record is unique for: the project when there is
// one (a customer may have several key projects), else the customer.
func (s *Subject) key() string {
	if s.ProjectID != "" {
		return s.ProjectID
	}
	return s.CustomerID
}

func (s *Subject) indexes() []crm.Index {
	var idx []crm.Index
	if s.CustomerID != "" {
		idx = append(idx, crm.Index{Field: "customer_id", Value: s.CustomerID})
	}
	if s.ProjectID != "" {
		idx = append(idx, crm.Index{Field: "project_id", Value: s.ProjectID})
	}
	return idx
}

func (s *Subject) refs() []crm.Ref {
	var refs []crm.Ref
	if s.CustomerID != "" {
		refs = append(refs, crm.Ref{Field: "customer_id", Collection: "customers", ID: s.CustomerID})
	}
	if s.ProjectID != "" {
		refs = append(refs, crm.Ref{Field: "project_id", Collection: "key_projects", ID: s.ProjectID})
	}
	return refs
}

func (s *Subject) same(o *Subject) *crm.Error {
	return crm.FirstErr(crm.Immutable("customer_id", o.CustomerID, s.CustomerID), crm.Immutable("project_id", o.ProjectID, s.ProjectID))
}

// GoldAssignment puts one gold account manager (金牌客户经理) on a key
// customer or project. Only one is active at a time; ended ones are the
// history.
type GoldAssignment struct {
	crm.Meta
	Subject
	StaffID string   `json:"staff_id"`
	From    crm.Date `json:"from"`
	To      crm.Date `json:"to,omitempty"` // set when it ends
	Status  string   `json:"status"`       // active (default), ended
	Note    string   `json:"note,omitempty"`
}

var goldLife = crm.Lifecycle{"active": {"ended"}}

func registerGoldAssignments() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "gold_assignments", IDPrefix: "gam", New: func() crm.Record { return &GoldAssignment{} },
		Filters: []string{"customer_id", "project_id", "staff_id", "status"},
		Check:   crm.Checks(crm.LifeCycle((*GoldAssignment).checkChange), crm.WithState((*GoldAssignment).checkState))})
}

// Normalize implements Record.
func (g *GoldAssignment) Normalize() {
	g.Subject.normalize()
	trim(&g.StaffID)
	trim(&g.Note)
	g.Status = strings.ToLower(strings.TrimSpace(g.Status))
	if g.Status == "" {
		g.Status = "active"
	}
}

// Validate implements Record.
func (g *GoldAssignment) Validate() *crm.Error {
	if e := crm.FirstErr(g.Subject.validate(), idField("staff_id", "staff", g.StaffID, true), crm.ValidDate("from", g.From, false),
		crm.ValidDate("to", g.To, true), crm.OneOf("status", g.Status, "active", "ended"), crm.MaxLen("note", g.Note, 500)); e != nil {
		return e
	}
	if g.Status == "ended" && g.To == "" {
		return crm.Invalid("to", "is required when the assignment ends (the last day)")
	}
	if g.Status == "active" && g.To != "" {
		return crm.Invalid("to", "is set only when the assignment ends (status ended)")
	}
	if g.To != "" && g.To < g.From {
		return crm.Invalid("to", "%s is before from (%s)", g.To, g.From)
	}
	return nil
}

func (g *GoldAssignment) checkChange(old crm.Record) *crm.Error {
	o, ok := old.(*GoldAssignment)
	if !ok {
		return goldLife.Change("status", "", g.Status, "active", "ended") // ended: history recorded afterwards
	}
	if o.Status == "ended" {
		return &crm.Error{Code: crm.CodeTransition, Field: "status", Message: "an ended assignment is history and cannot change; assign a new gold manager instead"}
	}
	return crm.FirstErr(g.Subject.same(&o.Subject), crm.Immutable("staff_id", o.StaffID, g.StaffID), crm.Immutable("from", string(o.From), string(g.From)),
		goldLife.Change("status", o.Status, g.Status))
}

func (g *GoldAssignment) checkState(r crm.Reader, _ string) *crm.Error {
	if g.Status == "active" {
		cur, err := r.Get(uniqueKey("gold_assignments", "active", g.key(), "active"))
		if err != nil {
			return crm.AsError(err)
		}
		if cur != nil && string(cur) != g.ID {
			return &crm.Error{Code: crm.CodeDuplicate, Field: "staff_id",
				Message: fmt.Sprintf("%s already has an active gold manager (assignment %s); end that one first (status ended with its last day)", g.key(), cur)}
		}
	}
	return staffWithRole(r, "staff_id", g.StaffID, "gold_manager")
}

// Indexes implements Record.
func (g *GoldAssignment) Indexes() []crm.Index {
	return append(g.Subject.indexes(), crm.Index{Field: "staff_id", Value: g.StaffID}, crm.Index{Field: "status", Value: g.Status}, crm.Index{Field: crm.OwnerIndex, Value: g.Owner})
}

// Uniques implements Record: one active assignment per customer or project.
func (g *GoldAssignment) Uniques() []crm.Unique {
	if g.Status != "active" {
		return nil
	}
	return []crm.Unique{{Name: "active", Scope: g.key(), Value: "active", Field: "staff_id"}}
}

// Refs implements Record.
func (g *GoldAssignment) Refs() []crm.Ref {
	return append(g.Subject.refs(), crm.Ref{Field: "staff_id", Collection: "staff", ID: g.StaffID})
}

// PlanItem is one line of a service plan.
type PlanItem struct {
	Title   string   `json:"title"`
	OwnerID string   `json:"owner_id"` // staff
	Due     crm.Date `json:"due"`
	Status  string   `json:"status,omitempty"` // open (default), done
	DoneOn  crm.Date `json:"done_on,omitempty"`
}

// ServicePlan is the one service plan (一套服务方案) of a key customer or
// project, in its four parts.
type ServicePlan struct {
	crm.Meta
	Subject
	Title            string     `json:"title"`
	Implementation   []PlanItem `json:"implementation"`    // 项目实施计划
	InternalTracking []PlanItem `json:"internal_tracking"` // 内部跟踪计划
	Revisit          []PlanItem `json:"revisit"`           // 客户回访计划
	PostEnergisation []PlanItem `json:"post_energisation"` // 送电后服务计划
}

func registerServicePlans() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "service_plans", IDPrefix: "spl", New: func() crm.Record { return &ServicePlan{} },
		Filters: []string{"customer_id", "project_id"}, Check: crm.LifeCycle((*ServicePlan).checkChange)})
}

func (p *ServicePlan) parts() []struct {
	name  string
	items []PlanItem
} {
	return []struct {
		name  string
		items []PlanItem
	}{{"implementation", p.Implementation}, {"internal_tracking", p.InternalTracking}, {"revisit", p.Revisit}, {"post_energisation", p.PostEnergisation}}
}

// Normalize implements Record.
func (p *ServicePlan) Normalize() {
	p.Subject.normalize()
	trim(&p.Title)
	for _, part := range [][]PlanItem{p.Implementation, p.InternalTracking, p.Revisit, p.PostEnergisation} {
		for i := range part {
			trim(&part[i].Title)
			trim(&part[i].OwnerID)
			part[i].Status = strings.ToLower(strings.TrimSpace(part[i].Status))
			if part[i].Status == "" {
				part[i].Status = "open"
			}
		}
	}
}

// Validate implements Record.
func (p *ServicePlan) Validate() *crm.Error {
	if e := crm.FirstErr(p.Subject.validate(), crm.Required("title", p.Title, 200)); e != nil {
		return e
	}
	for _, part := range p.parts() {
		if len(part.items) == 0 {
			return crm.Invalid(part.name, "needs at least one item (title, owner_id, due): the plan has four parts, implementation, internal_tracking, revisit and post_energisation")
		}
		if len(part.items) > 100 {
			return crm.Invalid(part.name, "has %d items; at most 100", len(part.items))
		}
		for i, it := range part.items {
			f := fmt.Sprintf("%s[%d]", part.name, i)
			if e := crm.FirstErr(crm.Required(f+".title", it.Title, 200), idField(f+".owner_id", "staff", it.OwnerID, true),
				crm.ValidDate(f+".due", it.Due, false), crm.OneOf(f+".status", it.Status, "open", "done"), crm.ValidDate(f+".done_on", it.DoneOn, true)); e != nil {
				return e
			}
			if it.Status == "done" && it.DoneOn == "" {
				return crm.Invalid(f+".done_on", "is required when the item is done")
			}
		}
	}
	return nil
}

func (p *ServicePlan) checkChange(old crm.Record) *crm.Error {
	o, ok := old.(*ServicePlan)
	if !ok {
		return nil
	}
	if e := p.Subject.same(&o.Subject); e != nil {
		return e
	}
	oldParts := o.parts()
	for k, part := range p.parts() {
		for i, it := range oldParts[k].items {
			if it.Status == "done" && (i >= len(part.items) || part.items[i].Status != "done") {
				return &crm.Error{Code: crm.CodeTransition, Field: fmt.Sprintf("%s[%d].status", part.name, i),
					Message: fmt.Sprintf("item %q is done; a done item cannot be reopened or removed (add a new item)", it.Title)}
			}
		}
	}
	return nil
}

// Indexes implements Record.
func (p *ServicePlan) Indexes() []crm.Index {
	return append(p.Subject.indexes(), crm.Index{Field: crm.OwnerIndex, Value: p.Owner})
}

// Uniques implements Record: one plan per customer or project.
func (p *ServicePlan) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "subject", Scope: "", Value: p.key(), Field: "customer_id"}}
}

// Refs implements Record.
func (p *ServicePlan) Refs() []crm.Ref {
	refs := p.Subject.refs()
	seen := map[string]bool{}
	for _, part := range p.parts() {
		for i, it := range part.items {
			if !seen[it.OwnerID] {
				seen[it.OwnerID] = true
				refs = append(refs, crm.Ref{Field: fmt.Sprintf("%s[%d].owner_id", part.name, i), Collection: "staff", ID: it.OwnerID})
			}
		}
	}
	return refs
}

// DemandNote is an entry of the demand memo (用电需求备忘).
type DemandNote struct {
	Date          crm.Date `json:"date"`
	CapacityKVA   float64  `json:"capacity_kva,omitempty"`
	VoltageKV     float64  `json:"voltage_kv,omitempty"`
	Reliability   string   `json:"reliability,omitempty"`    // e.g. dual supply, first-class load
	OperatingMode string   `json:"operating_mode,omitempty"` // 运行方式
	PowerQuality  string   `json:"power_quality,omitempty"`
	Answers       string   `json:"answers,omitempty"` // replies on tariffs, metering, fees
}

// CommunicationNote is an entry of the communication memo (沟通交流备忘).
type CommunicationNote struct {
	Date         crm.Date `json:"date"`
	Participants string   `json:"participants"`
	Summary      string   `json:"summary"`
}

// MeetingNote is an entry of the problem-resolution meeting memo (用电问题会办备忘).
type MeetingNote struct {
	Date         crm.Date `json:"date"`
	Attendees    string   `json:"attendees"`
	Issues       string   `json:"issues"`
	Decisions    []string `json:"decisions"`
	Instructions string   `json:"instructions,omitempty"` // leaders' instructions
}

// AffairNote is an entry of the general-affairs memo (综合事务备忘).
type AffairNote struct {
	Date    crm.Date `json:"date"`
	Subject string   `json:"subject"`
	Note    string   `json:"note,omitempty"`
}

// ServiceMemo is the one service memo (一份服务备忘录) of a key customer or
// project, in four typed sections.
type ServiceMemo struct {
	crm.Meta
	Subject
	Demand         []DemandNote        `json:"demand,omitempty"`
	Communication  []CommunicationNote `json:"communication,omitempty"`
	Meetings       []MeetingNote       `json:"meetings,omitempty"`
	GeneralAffairs []AffairNote        `json:"general_affairs,omitempty"`
}

func registerServiceMemos() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "service_memos", IDPrefix: "smm", New: func() crm.Record { return &ServiceMemo{} },
		Filters: []string{"customer_id", "project_id"}, Check: crm.LifeCycle((*ServiceMemo).checkChange)})
}

// Normalize implements Record.
func (m *ServiceMemo) Normalize() {
	m.Subject.normalize()
	for i := range m.Demand {
		d := &m.Demand[i]
		for _, p := range []*string{&d.Reliability, &d.OperatingMode, &d.PowerQuality, &d.Answers} {
			trim(p)
		}
	}
	for i := range m.Communication {
		trim(&m.Communication[i].Participants)
		trim(&m.Communication[i].Summary)
	}
	for i := range m.Meetings {
		trim(&m.Meetings[i].Attendees)
		trim(&m.Meetings[i].Issues)
		trim(&m.Meetings[i].Instructions)
		m.Meetings[i].Decisions = trimAll(m.Meetings[i].Decisions)
	}
	for i := range m.GeneralAffairs {
		trim(&m.GeneralAffairs[i].Subject)
		trim(&m.GeneralAffairs[i].Note)
	}
}

// Validate implements Record.
func (m *ServiceMemo) Validate() *crm.Error {
	if e := m.Subject.validate(); e != nil {
		return e
	}
	if n := len(m.Demand) + len(m.Communication) + len(m.Meetings) + len(m.GeneralAffairs); n > 500 {
		return crm.Invalid("demand", "the memo has %d entries; at most 500", n)
	}
	for i, d := range m.Demand {
		f := fmt.Sprintf("demand[%d]", i)
		if e := crm.FirstErr(crm.ValidDate(f+".date", d.Date, false), crm.NonNegative(f+".capacity_kva", d.CapacityKVA, 10_000_000),
			crm.MaxLen(f+".reliability", d.Reliability, 200), crm.MaxLen(f+".operating_mode", d.OperatingMode, 200),
			crm.MaxLen(f+".power_quality", d.PowerQuality, 200), crm.MaxLen(f+".answers", d.Answers, 2000)); e != nil {
			return e
		}
		if d.VoltageKV != 0 && !slices.Contains(crm.SupplyVoltages, d.VoltageKV) {
			return crm.Invalid(f+".voltage_kv", "%v kV is not a standard supply voltage", d.VoltageKV)
		}
		if d.CapacityKVA == 0 && d.VoltageKV == 0 && d.Reliability == "" && d.OperatingMode == "" && d.PowerQuality == "" && d.Answers == "" {
			return crm.Invalid(f, "a demand entry needs at least one of capacity_kva, voltage_kv, reliability, operating_mode, power_quality, answers")
		}
	}
	for i, c := range m.Communication {
		f := fmt.Sprintf("communication[%d]", i)
		if e := crm.FirstErr(crm.ValidDate(f+".date", c.Date, false), crm.Required(f+".participants", c.Participants, 200), crm.Required(f+".summary", c.Summary, 2000)); e != nil {
			return e
		}
	}
	for i, mt := range m.Meetings {
		f := fmt.Sprintf("meetings[%d]", i)
		if e := crm.FirstErr(crm.ValidDate(f+".date", mt.Date, false), crm.Required(f+".attendees", mt.Attendees, 500), crm.Required(f+".issues", mt.Issues, 2000),
			textList(f+".decisions", mt.Decisions, 50, 500), crm.MaxLen(f+".instructions", mt.Instructions, 2000)); e != nil {
			return e
		}
		if len(mt.Decisions) == 0 {
			return crm.Invalid(f+".decisions", "a problem-resolution meeting records at least one decision")
		}
	}
	for i, a := range m.GeneralAffairs {
		f := fmt.Sprintf("general_affairs[%d]", i)
		if e := crm.FirstErr(crm.ValidDate(f+".date", a.Date, false), crm.Required(f+".subject", a.Subject, 200), crm.MaxLen(f+".note", a.Note, 2000)); e != nil {
			return e
		}
	}
	return nil
}

func (m *ServiceMemo) checkChange(old crm.Record) *crm.Error {
	if o, ok := old.(*ServiceMemo); ok {
		return m.Subject.same(&o.Subject)
	}
	return nil
}

// Indexes implements Record.
func (m *ServiceMemo) Indexes() []crm.Index {
	return append(m.Subject.indexes(), crm.Index{Field: crm.OwnerIndex, Value: m.Owner})
}

// Uniques implements Record: one memo per customer or project.
func (m *ServiceMemo) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "subject", Scope: "", Value: m.key(), Field: "customer_id"}}
}

// Refs implements Record.
func (m *ServiceMemo) Refs() []crm.Ref { return m.Subject.refs() }

// Bulletin is one region's monthly work bulletin (工作简报), generated from
// the period's key projects. HTML and PDF are served by their own routes.
type Bulletin struct {
	crm.Meta
	Region        string   `json:"region"`
	Period        string   `json:"period"` // YYYY-MM
	Title         string   `json:"title"`
	Projects      int      `json:"projects"`
	OverdueStages int      `json:"overdue_stages"`
	Highlights    []string `json:"highlights,omitempty"` // one line per overdue stage and difficulty
	HTML          string   `json:"html"`
	PDF           []byte   `json:"pdf"`
	PDFFont       string   `json:"pdf_font,omitempty"` // the font the PDF was set in, or why it is ASCII-only
}

func registerBulletins() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "bulletins", IDPrefix: "bul", New: func() crm.Record { return &Bulletin{} },
		Filters: []string{"region", "period"}, Private: []string{"html", "pdf"}, Regional: true})
}

// RegionField makes the record a crm.RegionHolder: its region is its owner.
func (b *Bulletin) RegionField() *string { return &b.Region }

// Normalize implements Record.
func (b *Bulletin) Normalize() {
	trim(&b.Region)
	trim(&b.Period)
	trim(&b.Title)
	b.Highlights = trimAll(b.Highlights)
}

// Validate implements Record.
func (b *Bulletin) Validate() *crm.Error {
	if e := crm.FirstErr(regionFieldOK(b.Region), crm.Required("title", b.Title, 200)); e != nil {
		return e
	}
	if !crm.ValidPeriod(b.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", b.Period)
	}
	if b.HTML == "" {
		return crm.Invalid("html", "is required: generate bulletins with POST /api/v1/bulletins/generate")
	}
	if len(b.PDF) < 5 || string(b.PDF[:5]) != "%PDF-" {
		return crm.Invalid("pdf", "is not a PDF document")
	}
	if b.Projects < 0 || b.OverdueStages < 0 {
		return crm.Invalid("projects", "counts must not be negative")
	}
	return textList("highlights", b.Highlights, 500, 500)
}

// Indexes implements Record.
func (b *Bulletin) Indexes() []crm.Index {
	return []crm.Index{{Field: "region", Value: b.Region}, {Field: "period", Value: b.Period}, {Field: crm.OwnerIndex, Value: b.Owner}}
}

// Uniques implements Record: one bulletin per region and month.
func (b *Bulletin) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "period", Scope: b.Region, Value: b.Period, Field: "period"}}
}

// Refs implements Record.
func (b *Bulletin) Refs() []crm.Ref { return nil }
