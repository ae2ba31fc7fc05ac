package bigcustomer

import (
	"fmt"
	"sort"
	"strings"

	"gridcrm/crm"
)

// GridCell is one cell of a region's pool division with its front manager.
type GridCell struct {
	Code           string   `json:"code"` // e.g. G01
	FrontManagerID string   `json:"front_manager_id,omitempty"`
	CustomerIDs    []string `json:"customer_ids"`
	KWh            float64  `json:"kwh"`   // sum of the customers' annual kWh when divided
	Count          int      `json:"count"` // len(customer_ids)
}

// GridRevision records one division or re-balance.
type GridRevision struct {
	At     crm.Date `json:"at"`
	Kind   string   `json:"kind"` // divide, rebalance
	Moves  int      `json:"moves"`
	Reason string   `json:"reason,omitempty"`
}

// GridPlan is the division of one region's managed pool into K cells
// (网格划分), balanced on annual kWh and on the number of customers. It is
// computed by the proposer (bigcustomer/grid) and stored as one record so that a
// division or a re-balance is one atomic write.
type GridPlan struct {
	crm.Meta
	Region             string         `json:"region"`
	K                  int            `json:"k"`
	AsOf               crm.Date       `json:"as_of"` // the day the kWh basis was read
	Cells              []GridCell     `json:"cells"`
	MaxKWhDeviation    float64        `json:"max_kwh_deviation"`
	MaxCountDeviation  float64        `json:"max_count_deviation"`
	RoundRobinKWhDev   float64        `json:"round_robin_kwh_deviation"`
	RoundRobinCountDev float64        `json:"round_robin_count_deviation"`
	Revisions          []GridRevision `json:"revisions,omitempty"`
}

func registerGridPlans() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "grid_plans", IDPrefix: "gpl", New: func() crm.Record { return &GridPlan{} },
		Filters: []string{"region"}, Regional: true, Check: crm.WithState((*GridPlan).checkState)})
}

// RegionField makes the record a crm.RegionHolder: its region is its owner.
func (g *GridPlan) RegionField() *string { return &g.Region }

// Normalize implements Record.
func (g *GridPlan) Normalize() {
	trim(&g.Region)
	for i := range g.Cells {
		c := &g.Cells[i]
		trim(&c.Code)
		trim(&c.FrontManagerID)
		c.Count = len(c.CustomerIDs)
		c.KWh = round2(c.KWh)
	}
}

// Validate implements Record.
func (g *GridPlan) Validate() *crm.Error {
	if e := crm.FirstErr(regionFieldOK(g.Region), crm.ValidDate("as_of", g.AsOf, false)); e != nil {
		return e
	}
	if g.K < 1 || g.K > 200 {
		return crm.Invalid("k", "is %d; from 1 to 200 cells", g.K)
	}
	if len(g.Cells) != g.K {
		return crm.Invalid("cells", "has %d cells; k is %d", len(g.Cells), g.K)
	}
	seen := map[string]string{}
	codes := map[string]bool{}
	total := 0
	for i, c := range g.Cells {
		f := fmt.Sprintf("cells[%d]", i)
		if e := crm.FirstErr(crm.Required(f+".code", c.Code, 16), idField(f+".front_manager_id", "staff", c.FrontManagerID, false),
			crm.NonNegative(f+".kwh", c.KWh, 1e13)); e != nil {
			return e
		}
		if codes[c.Code] {
			return crm.Invalid(f+".code", "%q appears twice", c.Code)
		}
		codes[c.Code] = true
		if len(c.CustomerIDs) == 0 {
			return crm.Invalid(f+".customer_ids", "cell %s is empty; every cell needs customers", c.Code)
		}
		for _, id := range c.CustomerIDs {
			if e := idField(f+".customer_ids", "customers", id, true); e != nil {
				return e
			}
			if other, dup := seen[id]; dup {
				return crm.Invalid(f+".customer_ids", "customer %s is in cells %s and %s; a customer is in one cell", id, other, c.Code)
			}
			seen[id] = c.Code
		}
		total += len(c.CustomerIDs)
	}
	if total > 50_000 {
		return crm.Invalid("cells", "holds %d customers; at most 50,000", total)
	}
	if len(g.Revisions) > 200 {
		return crm.Invalid("revisions", "has %d entries; at most 200", len(g.Revisions))
	}
	for i, r := range g.Revisions {
		f := fmt.Sprintf("revisions[%d]", i)
		if e := crm.FirstErr(crm.ValidDate(f+".at", r.At, false), crm.OneOf(f+".kind", r.Kind, "divide", "rebalance"), crm.MaxLen(f+".reason", r.Reason, 200)); e != nil {
			return e
		}
	}
	return nil
}

// checkState: every customer of a cell is admitted to the pool and every
// cell manager is an account or gold manager.
func (g *GridPlan) checkState(r crm.Reader, _ string) *crm.Error {
	for i, c := range g.Cells {
		for _, id := range c.CustomerIDs {
			pid, err := r.Get(uniqueKey("pool_entries", "customer", "", id))
			if err != nil {
				return crm.AsError(err)
			}
			var p PoolEntry
			if pid != nil {
				if _, e := crm.LoadRecord(r, "pool_entries", string(pid), &p); e != nil {
					return e
				}
			}
			if p.Status != "admitted" {
				return crm.Invalid(fmt.Sprintf("cells[%d].customer_ids", i), "customer %s is not admitted to the pool (入池); only pool customers are divided into cells", id)
			}
		}
		if e := staffWithRole(r, fmt.Sprintf("cells[%d].front_manager_id", i), c.FrontManagerID, "account_manager", "gold_manager"); e != nil {
			return e
		}
	}
	return nil
}

// Indexes implements Record.
func (g *GridPlan) Indexes() []crm.Index {
	return []crm.Index{{Field: "region", Value: g.Region}, {Field: crm.OwnerIndex, Value: g.Owner}}
}

// Uniques implements Record: one division per region (re-divided in place).
func (g *GridPlan) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "region", Scope: "", Value: g.Region, Field: "region"}}
}

// Refs implements Record.
func (g *GridPlan) Refs() []crm.Ref {
	var refs []crm.Ref
	for i, c := range g.Cells {
		if c.FrontManagerID != "" {
			refs = append(refs, crm.Ref{Field: fmt.Sprintf("cells[%d].front_manager_id", i), Collection: "staff", ID: c.FrontManagerID})
		}
	}
	return refs
}

// CellCode names cell i (0-based): G01, G02, ...
func CellCode(i int) string { return fmt.Sprintf("G%02d", i+1) }

// CellOf answers the code of the cell that holds customer id, or "".
func (g *GridPlan) CellOf(id string) string {
	for _, c := range g.Cells {
		for _, x := range c.CustomerIDs {
			if x == id {
				return c.Code
			}
		}
	}
	return ""
}

// VIPServiceKinds are the value-added services of VIP customers.
var VIPServiceKinds = []string{"information_subscription", "safety_inspection", "scheduled_outage", "energy_saving", "electrician_training"}

var vipLife = crm.Lifecycle{"planned": {"confirmed", "cancelled"}, "confirmed": {"in_progress", "cancelled"}, "in_progress": {"done"}}

// VIPService is one value-added service for a VIP customer, with its
// schedule and status.
type VIPService struct {
	crm.Meta
	CustomerID  string   `json:"customer_id"`
	Service     string   `json:"service"` // one of VIPServiceKinds
	Title       string   `json:"title"`
	StaffID     string   `json:"staff_id,omitempty"`
	ScheduledOn crm.Date `json:"scheduled_on"`
	EveryMonths int      `json:"every_months,omitempty"` // periodic services (inspection, subscription)
	WindowStart string   `json:"window_start,omitempty"` // scheduled outage: RFC 3339
	WindowEnd   string   `json:"window_end,omitempty"`
	Status      string   `json:"status"` // planned (default), confirmed, in_progress, done, cancelled
	DoneOn      crm.Date `json:"done_on,omitempty"`
	Outcome     string   `json:"outcome,omitempty"`
}

func registerVIPServices() {
	crm.Register(&crm.Kind{Programme: "bigcustomer", Name: "vip_services", IDPrefix: "vip", New: func() crm.Record { return &VIPService{} },
		Filters: []string{"customer_id", "service", "status"}, Check: crm.LifeCycle((*VIPService).checkChange)})
}

// Normalize implements Record.
func (v *VIPService) Normalize() {
	for _, p := range []*string{&v.CustomerID, &v.Title, &v.StaffID, &v.WindowStart, &v.WindowEnd, &v.Outcome} {
		trim(p)
	}
	v.Service = strings.ToLower(strings.TrimSpace(v.Service))
	v.Status = strings.ToLower(strings.TrimSpace(v.Status))
	if v.Status == "" {
		v.Status = "planned"
	}
}

// Validate implements Record.
func (v *VIPService) Validate() *crm.Error {
	if e := crm.FirstErr(idField("customer_id", "customers", v.CustomerID, true), crm.OneOf("service", v.Service, VIPServiceKinds...),
		crm.Required("title", v.Title, 200), idField("staff_id", "staff", v.StaffID, false), crm.ValidDate("scheduled_on", v.ScheduledOn, false),
		crm.OneOf("status", v.Status, "planned", "confirmed", "in_progress", "done", "cancelled"), crm.ValidDate("done_on", v.DoneOn, true),
		crm.MaxLen("outcome", v.Outcome, 2000)); e != nil {
		return e
	}
	if v.EveryMonths < 0 || v.EveryMonths > 60 {
		return crm.Invalid("every_months", "is %d; from 1 to 60 months, or 0 for a one-off", v.EveryMonths)
	}
	if v.Service == "safety_inspection" && v.EveryMonths == 0 {
		return crm.Invalid("every_months", "a periodic safety inspection needs its interval in months")
	}
	if v.Service == "scheduled_outage" {
		s, e1 := parseTime(v.WindowStart)
		t, e2 := parseTime(v.WindowEnd)
		switch {
		case v.WindowStart == "":
			return crm.Invalid("window_start", "a scheduled outage needs its window (RFC 3339 start and end)")
		case e1 != nil:
			return crm.Invalid("window_start", "%q is not an RFC 3339 time", v.WindowStart)
		case v.WindowEnd == "":
			return crm.Invalid("window_end", "a scheduled outage needs its window (RFC 3339 start and end)")
		case e2 != nil:
			return crm.Invalid("window_end", "%q is not an RFC 3339 time", v.WindowEnd)
		case !t.After(s):
			return crm.Invalid("window_end", "must be after window_start")
		}
	} else if v.WindowStart != "" || v.WindowEnd != "" {
		return crm.Invalid("window_start", "only a scheduled outage has an outage window")
	}
	if v.Status == "done" && v.DoneOn == "" {
		return crm.Invalid("done_on", "is required when the service is done")
	}
	if v.Status != "done" && v.DoneOn != "" {
		return crm.Invalid("done_on", "is set only when the service is done")
	}
	return nil
}

func (v *VIPService) checkChange(old crm.Record) *crm.Error {
	o, ok := old.(*VIPService)
	if !ok {
		return vipLife.Change("status", "", v.Status, "planned", "confirmed")
	}
	return crm.FirstErr(crm.Immutable("customer_id", o.CustomerID, v.CustomerID), crm.Immutable("service", o.Service, v.Service),
		vipLife.Change("status", o.Status, v.Status))
}

// Indexes implements Record.
func (v *VIPService) Indexes() []crm.Index {
	return []crm.Index{{Field: "customer_id", Value: v.CustomerID}, {Field: "service", Value: v.Service}, {Field: "status", Value: v.Status}, {Field: crm.OwnerIndex, Value: v.Owner}}
}

// Uniques implements Record.
func (v *VIPService) Uniques() []crm.Unique { return nil }

// Refs implements Record.
func (v *VIPService) Refs() []crm.Ref {
	refs := []crm.Ref{{Field: "customer_id", Collection: "customers", ID: v.CustomerID}}
	if v.StaffID != "" {
		refs = append(refs, crm.Ref{Field: "staff_id", Collection: "staff", ID: v.StaffID})
	}
	return refs
}

// AdmittedPool answers the ids of the customers admitted to region's pool
// (pool entries owned by the region with status admitted), in id order.
func AdmittedPool(r crm.Reader, region string) ([]string, *crm.Error) {
	ids := []string{}
	err := crm.ScanOwned(r, "pool_entries", region, false, func(raw []byte) error {
		var p PoolEntry
		if err := crm.Unmarshal(raw, &p); err != nil {
			return err
		}
		if p.Status == "admitted" {
			ids = append(ids, p.CustomerID)
		}
		return nil
	})
	if err != nil {
		return nil, crm.AsError(err)
	}
	sort.Strings(ids)
	return ids, nil
}

// RegionGridPlan answers region's grid plan, or nil.
func RegionGridPlan(r crm.Reader, region string) (*GridPlan, *crm.Error) {
	var out *GridPlan
	err := crm.ScanOwned(r, "grid_plans", region, false, func(raw []byte) error {
		var g GridPlan
		if err := crm.Unmarshal(raw, &g); err != nil {
			return err
		}
		if g.Region == region {
			out = &g
		}
		return nil
	})
	if err != nil {
		return nil, crm.AsError(err)
	}
	return out, nil
}
