package process

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"
)

// Work-order channels (服务渠道).
var WorkOrderChannels = []string{"95598_hotline", "95598_ivr", "business_hall", "web", "sms", "app", "email",
	"account_manager_visit", "fax", "post", "self_service", "mobile_hall"}

// Urgencies.
var Urgencies = []string{"ordinary", "important", "urgent"}

// SiteClasses of a fault-repair site.
var SiteClasses = []string{"urban", "rural", "remote"}

// ServiceSubtypes are the subtypes of a service application.
var ServiceSubtypes = []string{"meter_anomaly", "reading_anomaly", "reconnection", "other"}

// Satisfactions a revisit records.
var Satisfactions = []string{"satisfied", "basically_satisfied", "dissatisfied"}

// Work-order states, in order.
const (
	WOReceived   = "received"   // 受理
	WODispatched = "dispatched" // 派单
	WOAccepted   = "accepted"   // 接单
	WOOnSite     = "on_site"    // 到达现场
	WODone       = "done"       // 处理完成
	WORevisited  = "revisited"  // 回访
	WOArchived   = "archived"   // 归档
)

// WorkOrderStates lists the states in order.
var WorkOrderStates = []string{WOReceived, WODispatched, WOAccepted, WOOnSite, WODone, WORevisited, WOArchived}

// woNext is the state machine: the states each state may move to. A move to
// an earlier state is a send-back (回退) and needs a note.
var woNext = map[string][]string{
	WOReceived:   {WODispatched},
	WODispatched: {WOAccepted, WOReceived},
	WOAccepted:   {WOOnSite, WODone, WODispatched},
	WOOnSite:     {WODone, WOAccepted},
	WODone:       {WORevisited, WOAccepted},
	WORevisited:  {WOArchived, WODispatched},
	WOArchived:   {},
}

// NextStates answers the states a work order in state may move to.
func NextStates(state string) []string { return slices.Clone(woNext[state]) }

// WorkOrder is one customer request (工单) from any channel: unified
// acceptance at any tier, handled by the region that owns the customer
// (Region, which is also the owner), supervised above. SLA deadlines come
// from the rule set in force on the day it was received. State changes only
// through POST /api/v1/work_orders/{id}/transition.
type WorkOrder struct {
	crm.Meta
	Channel      string    `json:"channel"`
	Kind         string    `json:"kind"`
	Subtype      string    `json:"subtype,omitempty"` // service_application: meter_anomaly, reading_anomaly, reconnection, other
	Urgency      string    `json:"urgency"`           // ordinary (default), important, urgent
	SiteClass    string    `json:"site_class,omitempty"`
	CustomerID   string    `json:"customer_id,omitempty"`
	Region       string    `json:"region"`                  // the handling region (the owner)
	TakingRegion string    `json:"taking_region,omitempty"` // the region that took it (default: the handling region)
	Subject      string    `json:"subject"`
	Description  string    `json:"description,omitempty"`
	ReceivedAt   time.Time `json:"received_at"` // default: the command's time
	AssigneeID   string    `json:"assignee_id,omitempty"`

	State        string       `json:"state,omitempty"`    // derived
	RuleSet      string       `json:"rule_set,omitempty"` // derived
	ContactDue   *time.Time   `json:"contact_due,omitempty"`
	ArrivalDue   *time.Time   `json:"arrival_due,omitempty"`
	RestoreDue   *time.Time   `json:"restore_due,omitempty"`
	AnswerDue    *time.Time   `json:"answer_due,omitempty"`
	AcceptedAt   *time.Time   `json:"accepted_at,omitempty"`
	ArrivedAt    *time.Time   `json:"arrived_at,omitempty"`
	DoneAt       *time.Time   `json:"done_at,omitempty"`
	RevisitedAt  *time.Time   `json:"revisited_at,omitempty"`
	ArchivedAt   *time.Time   `json:"archived_at,omitempty"`
	Satisfaction string       `json:"satisfaction,omitempty"`
	SendBacks    int          `json:"send_backs,omitempty"`
	History      []Transition `json:"history,omitempty"`
	ClockError   string       `json:"clock_error,omitempty"`
}

// Transition is one state change of a work order.
type Transition struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
}

// registerWorkOrders registers the work_orders kind (doc.go).
func registerWorkOrders() {
	crm.Register(&crm.Kind{Programme: "process", Name: "work_orders", IDPrefix: "wko", New: func() crm.Record { return &WorkOrder{} },
		Filters: []string{"region", "kind", "state", "channel", "customer_id", "assignee_id", "taking_region"}, Regional: true,
		Standing: []crm.Op{crm.OpCreate, crm.OpAction}, // unified acceptance (统一受理)
		OnCreate: workOrderOnCreate, Guard: workOrderGuard, Act: workOrderAct, Counters: processCounters("work_orders")})
}

func (w *WorkOrder) RegionField() *string { return &w.Region }

// Normalize implements Record.
func (w *WorkOrder) Normalize() {
	for _, s := range []*string{&w.CustomerID, &w.Region, &w.TakingRegion, &w.Subject, &w.Description, &w.AssigneeID} {
		trim(s)
	}
	for _, s := range []*string{&w.Channel, &w.Kind, &w.Subtype, &w.Urgency, &w.SiteClass, &w.Satisfaction} {
		*s = strings.ToLower(strings.TrimSpace(*s))
	}
	if w.Urgency == "" {
		w.Urgency = "ordinary"
	}
	if w.TakingRegion == "" {
		w.TakingRegion = w.Region
	}
	if !w.ReceivedAt.IsZero() {
		w.ReceivedAt = w.ReceivedAt.UTC()
	}
}

// Validate implements Record.
func (w *WorkOrder) Validate() *crm.Error {
	if e := crm.FirstErr(crm.OneOf("channel", w.Channel, WorkOrderChannels...), crm.OneOf("kind", w.Kind, WorkOrderKinds...), crm.OneOf("urgency", w.Urgency, Urgencies...)); e != nil {
		return e
	}
	switch {
	case w.Kind == "service_application":
		if e := crm.OneOf("subtype", w.Subtype, ServiceSubtypes...); e != nil {
			return e
		}
	case w.Subtype != "":
		return crm.Invalid("subtype", "only a service_application has a subtype")
	}
	if w.Kind == "fault_repair" {
		if e := crm.OneOf("site_class", w.SiteClass, SiteClasses...); e != nil {
			return e
		}
	} else if w.SiteClass != "" {
		if e := crm.OneOf("site_class", w.SiteClass, SiteClasses...); e != nil {
			return e
		}
	}
	if w.CustomerID != "" {
		if e := crm.CustomerRef(w.CustomerID); e != nil {
			return e
		}
	}
	if e := crm.RegionField(w.Region); e != nil {
		return e
	}
	if !crm.ValidRegion(w.TakingRegion) {
		return crm.Invalid("taking_region", "%q is not a GB/T 2260 region code", w.TakingRegion)
	}
	if e := crm.FirstErr(crm.Required("subject", w.Subject, 200), crm.MaxLen("description", w.Description, 4000)); e != nil {
		return e
	}
	if w.AssigneeID != "" && !crm.Kinds["staff"].ValidID(w.AssigneeID) {
		return crm.Invalid("assignee_id", "%q is not a staff id", w.AssigneeID)
	}
	if w.State != "" {
		if e := crm.OneOf("state", w.State, WorkOrderStates...); e != nil {
			return e
		}
	}
	if w.Satisfaction != "" {
		return crm.OneOf("satisfaction", w.Satisfaction, Satisfactions...)
	}
	return nil
}

// Indexes implements Record.
func (w *WorkOrder) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "region", Value: w.Region}, {Field: "kind", Value: w.Kind}, {Field: "state", Value: w.State}, {Field: "channel", Value: w.Channel}, {Field: "taking_region", Value: w.TakingRegion}, {Field: crm.OwnerIndex, Value: w.Owner}}
	if w.CustomerID != "" {
		idx = append(idx, crm.Index{Field: "customer_id", Value: w.CustomerID})
	}
	if w.AssigneeID != "" {
		idx = append(idx, crm.Index{Field: "assignee_id", Value: w.AssigneeID})
	}
	return append(idx, workOrderDues(w)...) // kpi_due.go: what Supervise and the KPIs read as overdue
}

// Uniques implements Record.
func (w *WorkOrder) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (w *WorkOrder) Refs() []crm.Ref {
	var refs []crm.Ref
	if w.CustomerID != "" {
		refs = append(refs, crm.Ref{Field: "customer_id", Collection: "customers", ID: w.CustomerID})
	}
	if w.AssigneeID != "" {
		refs = append(refs, crm.Ref{Field: "assignee_id", Collection: "staff", ID: w.AssigneeID})
	}
	return refs
}

// Open reports whether the order is still in the loop (not archived).
func (w *WorkOrder) Open() bool { return w.State != WOArchived }

// RouteWorkOrder decides which region handles a work order (统一受理、分层处理):
// the region that owns the customer when the order names a known customer;
// otherwise the region the taker gives; otherwise the region that took it.
// customerOwner is "" when the order names no customer or the taker does
// not hold the customer. It is pure: the API calls it before proposing and
// answers wrong_owner (or forwards) when the handling region is elsewhere.
func RouteWorkOrder(customerOwner, given, taking string) (string, *crm.Error) {
	if !crm.ValidRegion(taking) {
		return "", crm.Invalid("taking_region", "%q is not a GB/T 2260 region code", taking)
	}
	if given != "" && !crm.ValidRegion(given) {
		return "", crm.Invalid("region", "%q is not a GB/T 2260 region code", given)
	}
	switch {
	case customerOwner != "" && given != "" && given != customerOwner:
		return "", crm.Invalid("region", "the customer belongs to region %s; its orders are handled there, not in %s (leave region out)", customerOwner, given)
	case customerOwner != "":
		return customerOwner, nil
	case given != "":
		return given, nil
	}
	return taking, nil
}

func (w *WorkOrder) derived() any {
	return []any{w.State, w.RuleSet, w.ContactDue, w.ArrivalDue, w.RestoreDue, w.AnswerDue, w.AcceptedAt, w.ArrivedAt,
		w.DoneAt, w.RevisitedAt, w.ArchivedAt, w.Satisfaction, w.SendBacks, w.History, w.ClockError}
}

func workOrderOnCreate(r crm.Reader, rec crm.Record, cmd *crm.Command) *crm.Error {
	w := rec.(*WorkOrder)
	zero := WorkOrder{}
	if !sameJSON(w.derived(), zero.derived()) {
		return crm.Invalid("state", "state, deadlines, history and satisfaction are derived by the server; change them through POST /api/v1/work_orders/{id}/transition")
	}
	if w.ReceivedAt.IsZero() {
		w.ReceivedAt = cmd.Time
	}
	if w.ReceivedAt.After(cmd.Time) {
		return crm.Invalid("received_at", "%s is in the future", w.ReceivedAt.Format(time.RFC3339))
	}
	if w.CustomerID != "" {
		raw, err := r.Get(recordKey("customers", w.CustomerID))
		if err != nil {
			return crm.AsError(err)
		}
		if raw == nil {
			return &crm.Error{Code: crm.CodeReference, Field: "customer_id", Message: fmt.Sprintf("no customer with id %q here", w.CustomerID)}
		}
		// The region was defaulted to this one when the client gave none,
		// so the customer's owner decides first.
		owner := crm.RecordOwner(raw)
		if owner != cmd.Region {
			return &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: owner,
				Message: fmt.Sprintf("the order is handled by region %s, which owns customer %s (this is region %s); send it there", owner, w.CustomerID, cmd.Region)}
		}
		if _, e := RouteWorkOrder(owner, w.Region, w.TakingRegion); e != nil {
			return e
		}
	}
	rs, e := RuleSetFor(r, w.Region, dayOf(w.ReceivedAt))
	if e != nil {
		return e
	}
	w.RuleSet = rs.ID
	w.State = WOReceived
	w.History = []Transition{{From: "", To: WOReceived, At: w.ReceivedAt, By: cmd.Actor, Note: "taken at region " + w.TakingRegion + " via " + w.Channel}}
	sla := rs.WorkOrderSLA(w.Kind, w.Subtype)
	if sla.ContactHours > 0 {
		w.ContactDue = tp(w.ReceivedAt.Add(time.Duration(sla.ContactHours) * time.Hour))
	}
	if m := sla.ArrivalMinutes[w.SiteClass]; m > 0 {
		w.ArrivalDue = tp(w.ReceivedAt.Add(time.Duration(m) * time.Minute))
	}
	switch {
	case sla.AnswerHours > 0:
		w.AnswerDue = tp(w.ReceivedAt.Add(time.Duration(sla.AnswerHours) * time.Hour))
	case sla.AnswerWorkingDays > 0:
		cal, err := CalendarFor(r, w.Region)
		if err != nil {
			return crm.AsError(err)
		}
		dl, err := cal.Deadline(w.ReceivedAt, sla.AnswerWorkingDays)
		if err != nil {
			w.ClockError = strings.TrimPrefix(err.Error(), "workday: ")
		} else {
			w.AnswerDue = tp(dl)
		}
	}
	return nil
}

func workOrderGuard(old, new crm.Record) *crm.Error {
	o, n := old.(*WorkOrder), new.(*WorkOrder)
	switch {
	case o.Kind != n.Kind, o.Subtype != n.Subtype:
		return crm.Invalid("kind", "cannot change: the SLA was set by it; archive this order and take a new one")
	case o.CustomerID != n.CustomerID:
		return crm.Invalid("customer_id", "cannot change: it decided the handling region")
	case o.TakingRegion != n.TakingRegion:
		return crm.Invalid("taking_region", "cannot change")
	case !o.ReceivedAt.Equal(n.ReceivedAt):
		return crm.Invalid("received_at", "cannot change")
	case o.SiteClass != n.SiteClass:
		return crm.Invalid("site_class", "cannot change: it set the arrival limit")
	case !sameJSON(o.derived(), n.derived()):
		return crm.Invalid("state", "state, deadlines and history change only through POST /api/v1/work_orders/{id}/transition")
	}
	return nil
}

// WorkOrderTransition is the body of POST /api/v1/work_orders/{id}/transition.
type WorkOrderTransition struct {
	To           string     `json:"to"`
	At           *time.Time `json:"at,omitempty"`
	Note         string     `json:"note,omitempty"`
	AssigneeID   string     `json:"assignee_id,omitempty"`  // dispatched: who handles it
	Satisfaction string     `json:"satisfaction,omitempty"` // revisited: the customer's verdict
}

func workOrderAct(r crm.Reader, rec crm.Record, cmd *crm.Command) *crm.Error {
	w := rec.(*WorkOrder)
	var a WorkOrderTransition
	if e := crm.DecodeAction(cmd.Body, &a); e != nil {
		return e
	}
	a.To = strings.ToLower(strings.TrimSpace(a.To))
	a.Satisfaction = strings.ToLower(strings.TrimSpace(a.Satisfaction))
	if e := crm.OneOf("to", a.To, WorkOrderStates...); e != nil {
		return e
	}
	if e := crm.MaxLen("note", a.Note, 1000); e != nil {
		return e
	}
	if !slices.Contains(woNext[w.State], a.To) {
		allowed := strings.Join(woNext[w.State], ", ")
		if allowed == "" {
			allowed = "none: the loop is closed"
		}
		return &crm.Error{Code: crm.CodeConflict, Field: "to", Message: fmt.Sprintf("work order %s cannot move from %s to %s; from %s it may move to: %s", w.ID, w.State, a.To, w.State, allowed)}
	}
	back := slices.Index(WorkOrderStates, a.To) < slices.Index(WorkOrderStates, w.State)
	if back && strings.TrimSpace(a.Note) == "" {
		return crm.Invalid("note", "a send-back (%s → %s) needs a reason", w.State, a.To)
	}
	lastAt := w.ReceivedAt
	if n := len(w.History); n > 0 {
		lastAt = w.History[n-1].At
	}
	t, e := actionTime(a.At, cmd, lastAt, "at")
	if e != nil {
		return e
	}
	if a.Satisfaction != "" && a.To != WORevisited {
		return crm.Invalid("satisfaction", "is recorded by the revisit (to: revisited) only")
	}
	if a.AssigneeID != "" && a.To != WODispatched {
		return crm.Invalid("assignee_id", "is set by dispatching (to: dispatched) only")
	}
	switch a.To {
	case WODispatched:
		if back {
			if w.Satisfaction != "dissatisfied" && w.State == WORevisited {
				return &crm.Error{Code: crm.CodeConflict, Field: "to", Message: "only a dissatisfied revisit sends the order back to dispatch"}
			}
		}
		if a.AssigneeID != "" {
			if !crm.Kinds["staff"].ValidID(a.AssigneeID) {
				return crm.Invalid("assignee_id", "%q is not a staff id", a.AssigneeID)
			}
			w.AssigneeID = a.AssigneeID
		}
		if w.AssigneeID == "" {
			return crm.Invalid("assignee_id", "is required to dispatch: the staff member who handles the order")
		}
		if back {
			w.DoneAt, w.RevisitedAt, w.Satisfaction = nil, nil, ""
		}
	case WOAccepted:
		if w.AcceptedAt == nil {
			w.AcceptedAt = tp(t)
		}
		if back {
			w.DoneAt = nil
		}
	case WOOnSite:
		w.ArrivedAt = tp(t)
		if rs, e := RuleSetByID(r, w.RuleSet); e == nil {
			if h := rs.WorkOrderSLA(w.Kind, w.Subtype).RestoreHours[w.SiteClass]; h > 0 {
				w.RestoreDue = tp(t.Add(time.Duration(h) * time.Hour))
			}
		}
	case WODone:
		if w.Kind == "fault_repair" && w.ArrivedAt == nil {
			return &crm.Error{Code: crm.CodeConflict, Field: "to", Message: "a fault repair is done on site: move it to on_site first"}
		}
		w.DoneAt = tp(t)
	case WORevisited:
		if e := crm.OneOf("satisfaction", a.Satisfaction, Satisfactions...); e != nil {
			return e
		}
		w.RevisitedAt, w.Satisfaction = tp(t), a.Satisfaction
	case WOArchived:
		if w.Satisfaction == "dissatisfied" {
			return &crm.Error{Code: crm.CodeConflict, Field: "to", Message: fmt.Sprintf("work order %s was revisited dissatisfied: it goes back to dispatch (to: dispatched, with a note), it cannot be archived", w.ID)}
		}
		w.ArchivedAt = tp(t)
	}
	if back {
		w.SendBacks++
	}
	w.History = append(w.History, Transition{From: w.State, To: a.To, At: t, By: cmd.Actor, Note: a.Note})
	w.State = a.To
	return nil
}

// woJSON is json.Unmarshal for a work order.
func woJSON(raw []byte) (*WorkOrder, error) {
	var w WorkOrder
	return &w, json.Unmarshal(raw, &w)
}
