package process

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"
)

// Outage types.
var OutageTypes = []string{"planned", "temporary", "fault"}

// OutageStatuses.
var OutageStatuses = []string{"scheduled", "in_progress", "done", "cancelled"}

// NoticeChannels are the ways customers are told of an outage.
var NoticeChannels = []string{"sms", "phone", "app", "web", "wechat", "notice_board", "media", "visit"}

// NoticeAudiences: every affected customer, or the important ones.
var NoticeAudiences = []string{"all", "important"}

// Outage is a power cut on a feeder (线路) or one transformer area (台区) of
// it: planned maintenance, temporary maintenance or a fault. Customers
// whose feeder (and area, when given) match are affected. Compliance of the
// advance notices is derived from the notice limits of the rule set in
// force when it was entered (planned: notice at least planned_days ahead;
// temporary: important customers at least temporary_hours ahead; faults
// are exempt).
type Outage struct {
	crm.Meta
	Region          string    `json:"region"`
	Type            string    `json:"type"`
	Feeder          string    `json:"feeder"`
	TransformerArea string    `json:"transformer_area,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Reason          string    `json:"reason,omitempty"`
	Status          string    `json:"status"` // scheduled (default), in_progress, done, cancelled
	Notices         []Notice  `json:"notices,omitempty"`

	RuleSet              string     `json:"rule_set,omitempty"`               // derived
	PlannedNoticeDays    int        `json:"planned_notice_days,omitempty"`    // derived from the rule set
	TemporaryNoticeHours int        `json:"temporary_notice_hours,omitempty"` // derived from the rule set
	NoticeDue            *time.Time `json:"notice_due,omitempty"`             // derived: the latest time a compliant notice may go out
	NoticeCompliant      *bool      `json:"notice_compliant,omitempty"`       // derived; absent for faults
}

// Notice is one advance notice of an outage.
type Notice struct {
	Channel    string    `json:"channel"`
	At         time.Time `json:"at"`
	Audience   string    `json:"audience"` // all (default) or important
	Recipients int       `json:"recipients,omitempty"`
}

// registerOutages registers the outages kind (doc.go).
func registerOutages() {
	crm.Register(&crm.Kind{Programme: "process", Name: "outages", IDPrefix: "otg", New: func() crm.Record { return &Outage{} },
		Filters: []string{"region", "type", "feeder", "status", "transformer_area"}, Regional: true,
		OnCreate: outageOnCreate, Guard: outageGuard, OnUpdate: outageOnUpdate, Counters: processCounters("outages")})
}

func (o *Outage) RegionField() *string { return &o.Region }

// Normalize implements Record; it also derives the notice compliance.
func (o *Outage) Normalize() {
	for _, s := range []*string{&o.Region, &o.Feeder, &o.TransformerArea, &o.Reason} {
		trim(s)
	}
	o.Type = strings.ToLower(strings.TrimSpace(o.Type))
	o.Status = strings.ToLower(strings.TrimSpace(o.Status))
	if o.Status == "" {
		o.Status = "scheduled"
	}
	o.Start, o.End = o.Start.UTC(), o.End.UTC()
	for i := range o.Notices {
		n := &o.Notices[i]
		n.Channel = strings.ToLower(strings.TrimSpace(n.Channel))
		n.Audience = strings.ToLower(strings.TrimSpace(n.Audience))
		if n.Audience == "" {
			n.Audience = "all"
		}
		n.At = n.At.UTC()
	}
	o.derive()
}

// derive sets NoticeDue and NoticeCompliant from the stored limits.
// Before the rule set is set (a create's body) it leaves them alone, so
// that client-set values are refused by outageOnCreate.
func (o *Outage) derive() {
	if o.RuleSet == "" {
		return
	}
	o.NoticeDue, o.NoticeCompliant = nil, nil
	if o.Start.IsZero() {
		return
	}
	var due time.Time
	switch o.Type {
	case "planned":
		due = o.Start.Add(-time.Duration(o.PlannedNoticeDays) * 24 * time.Hour)
	case "temporary":
		due = o.Start.Add(-time.Duration(o.TemporaryNoticeHours) * time.Hour)
	default:
		return
	}
	ok := false
	for _, n := range o.Notices {
		if !n.At.After(due) && (o.Type == "temporary" || n.Audience == "all") {
			ok = true
		}
	}
	o.NoticeDue, o.NoticeCompliant = &due, &ok
}

// Validate implements Record.
func (o *Outage) Validate() *crm.Error {
	if e := crm.FirstErr(crm.RegionField(o.Region), crm.OneOf("type", o.Type, OutageTypes...), crm.Required("feeder", o.Feeder, 64),
		crm.MaxLen("transformer_area", o.TransformerArea, 64), crm.MaxLen("reason", o.Reason, 500), crm.OneOf("status", o.Status, OutageStatuses...)); e != nil {
		return e
	}
	if o.Start.IsZero() {
		return crm.Invalid("start", "is required (RFC 3339 time)")
	}
	if o.End.IsZero() {
		return crm.Invalid("end", "is required (RFC 3339 time)")
	}
	if !o.End.After(o.Start) {
		return crm.Invalid("end", "must be after start")
	}
	if o.End.Sub(o.Start) > 30*24*time.Hour {
		return crm.Invalid("end", "an outage of more than 30 days is not a maintenance window")
	}
	if len(o.Notices) > 100 {
		return crm.Invalid("notices", "at most 100 notices")
	}
	for i, n := range o.Notices {
		f := fmt.Sprintf("notices[%d]", i)
		if e := crm.FirstErr(crm.OneOf(f+".channel", n.Channel, NoticeChannels...), crm.OneOf(f+".audience", n.Audience, NoticeAudiences...)); e != nil {
			return e
		}
		if n.At.IsZero() {
			return crm.Invalid(f+".at", "is required (RFC 3339 time)")
		}
		if n.Recipients < 0 {
			return crm.Invalid(f+".recipients", "must not be negative")
		}
	}
	return nil
}

// Indexes implements Record.
func (o *Outage) Indexes() []crm.Index {
	idx := []crm.Index{{Field: "region", Value: o.Region}, {Field: "type", Value: o.Type}, {Field: "feeder", Value: o.Feeder}, {Field: "status", Value: o.Status}, {Field: crm.OwnerIndex, Value: o.Owner}}
	if o.TransformerArea != "" {
		idx = append(idx, crm.Index{Field: "transformer_area", Value: o.TransformerArea})
	}
	if o.Status != "cancelled" && o.NoticeCompliant != nil && !*o.NoticeCompliant && !o.Start.IsZero() {
		idx = append(idx, crm.Index{Field: NonCompliantIndex, Value: o.Owner + "/" + string(dayOf(o.Start))}) // kpi.go
	}
	return idx
}

// Uniques implements Record.
func (o *Outage) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (o *Outage) Refs() []crm.Ref { return nil }

func outageOnCreate(r crm.Reader, rec crm.Record, cmd *crm.Command) *crm.Error {
	o := rec.(*Outage)
	if o.RuleSet != "" || o.PlannedNoticeDays != 0 || o.TemporaryNoticeHours != 0 || o.NoticeDue != nil || o.NoticeCompliant != nil {
		return crm.Invalid("rule_set", "rule_set, notice limits and compliance are derived by the server and cannot be written")
	}
	if e := sentNotices(o.Notices, nil, cmd.Time); e != nil {
		return e
	}
	rs, e := RuleSetFor(r, o.Region, dayOf(cmd.Time))
	if e != nil {
		return e
	}
	o.RuleSet, o.PlannedNoticeDays, o.TemporaryNoticeHours = rs.ID, rs.Outage.PlannedDays, rs.Outage.TemporaryHours
	o.derive()
	return nil
}

// NoticeClockSkew is how far ahead of the command's time a notice may be
// dated (the writer's clock may run a little ahead of the leader's).
const NoticeClockSkew = 5 * time.Minute

// sentNotices refuses a notice dated after now (the command's time): a
// notice records one that went out. Notices already stored (in old) were
// checked when they were written.
func sentNotices(notices, old []Notice, now time.Time) *crm.Error {
	for i, n := range notices {
		if !n.At.After(now.Add(NoticeClockSkew)) || slices.ContainsFunc(old, func(o Notice) bool { return o.At.Equal(n.At) && o.Channel == n.Channel && o.Audience == n.Audience }) {
			continue
		}
		return crm.Invalid(fmt.Sprintf("notices[%d].at", i), "%s is in the future (now %s): a notice records one that was sent; add it once it has gone out",
			n.At.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return nil
}

func outageOnUpdate(_ crm.Txn, old, new crm.Record, cmd *crm.Command) *crm.Error {
	return sentNotices(new.(*Outage).Notices, old.(*Outage).Notices, cmd.Time)
}

// outageLife is an outage's life cycle: scheduled → in_progress → done,
// and cancelled before it ends; done and cancelled are final.
var outageLife = crm.Lifecycle{
	"scheduled":   {"in_progress", "cancelled"},
	"in_progress": {"done", "cancelled"},
}

func outageGuard(old, new crm.Record) *crm.Error {
	o, n := old.(*Outage), new.(*Outage)
	if o.RuleSet != n.RuleSet || o.PlannedNoticeDays != n.PlannedNoticeDays || o.TemporaryNoticeHours != n.TemporaryNoticeHours {
		return crm.Invalid("rule_set", "rule_set and notice limits are derived by the server and cannot be written")
	}
	if o.Type != n.Type {
		return crm.Invalid("type", "cannot change; cancel this outage and enter a new one")
	}
	if e := outageLife.Change("status", o.Status, n.Status); e != nil {
		return e
	}
	n.derive()
	return nil
}

// ImportantCustomer reports whether a customer is important for outage
// notices: tagged important (重要客户, VIP, 政府重点工程) or supplied at 35 kV
// and above.
func ImportantCustomer(c *crm.Customer) bool {
	if c.VoltageKV >= 35 {
		return true
	}
	return slices.ContainsFunc(c.Tags, func(t string) bool {
		switch strings.ToLower(t) {
		case "important", "重要客户", "vip", "政府重点工程":
			return true
		}
		return false
	})
}
