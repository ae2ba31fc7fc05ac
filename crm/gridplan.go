package crm

import (
	"fmt"
	"sort"
	"strings"
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
	At     Date   `json:"at"`
	Kind   string `json:"kind"` // divide, rebalance
	Moves  int    `json:"moves"`
	Reason string `json:"reason,omitempty"`
}

// GridPlan is the division of one region's managed pool into K cells
// (网格划分), balanced on annual kWh and on the number of customers. It is
// computed by the proposer (crm/grid) and stored as one record so that a
// division or a re-balance is one atomic write.
type GridPlan struct {
	Meta
	Region             string         `json:"region"`
	K                  int            `json:"k"`
	AsOf               Date           `json:"as_of"` // the day the kWh basis was read
	Cells              []GridCell     `json:"cells"`
	MaxKWhDeviation    float64        `json:"max_kwh_deviation"`
	MaxCountDeviation  float64        `json:"max_count_deviation"`
	RoundRobinKWhDev   float64        `json:"round_robin_kwh_deviation"`
	RoundRobinCountDev float64        `json:"round_robin_count_deviation"`
	Revisions          []GridRevision `json:"revisions,omitempty"`
}

func init() {
	register(&Kind{Name: "grid_plans", IDPrefix: "gpl", New: func() Record { return &GridPlan{} },
		Filters: []string{"region"}, Regional: true, Check: withState((*GridPlan).checkState)})
}

func (g *GridPlan) regionField() *string { return &g.Region }

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
func (g *GridPlan) Validate() *Error {
	if e := firstErr(regionFieldOK(g.Region), validDate("as_of", g.AsOf, false)); e != nil {
		return e
	}
	if g.K < 1 || g.K > 200 {
		return invalid("k", "is %d; from 1 to 200 cells", g.K)
	}
	if len(g.Cells) != g.K {
		return invalid("cells", "has %d cells; k is %d", len(g.Cells), g.K)
	}
	seen := map[string]string{}
	codes := map[string]bool{}
	total := 0
	for i, c := range g.Cells {
		f := fmt.Sprintf("cells[%d]", i)
		if e := firstErr(required(f+".code", c.Code, 16), idField(f+".front_manager_id", "staff", c.FrontManagerID, false),
			nonNegative(f+".kwh", c.KWh, 1e13)); e != nil {
			return e
		}
		if codes[c.Code] {
			return invalid(f+".code", "%q appears twice", c.Code)
		}
		codes[c.Code] = true
		if len(c.CustomerIDs) == 0 {
			return invalid(f+".customer_ids", "cell %s is empty; every cell needs customers", c.Code)
		}
		for _, id := range c.CustomerIDs {
			if e := idField(f+".customer_ids", "customers", id, true); e != nil {
				return e
			}
			if other, dup := seen[id]; dup {
				return invalid(f+".customer_ids", "customer %s is in cells %s and %s; a customer is in one cell", id, other, c.Code)
			}
			seen[id] = c.Code
		}
		total += len(c.CustomerIDs)
	}
	if total > 50_000 {
		return invalid("cells", "holds %d customers; at most 50,000", total)
	}
	if len(g.Revisions) > 200 {
		return invalid("revisions", "has %d entries; at most 200", len(g.Revisions))
	}
	for i, r := range g.Revisions {
		f := fmt.Sprintf("revisions[%d]", i)
		if e := firstErr(validDate(f+".at", r.At, false), oneOf(f+".kind", r.Kind, "divide", "rebalance"), maxLen(f+".reason", r.Reason, 200)); e != nil {
			return e
		}
	}
	return nil
}

// checkState: every customer of a cell is admitted to the pool and every
// cell manager is an account or gold manager.
func (g *GridPlan) checkState(r Reader, _ string) *Error {
	for i, c := range g.Cells {
		for _, id := range c.CustomerIDs {
			pid, err := r.Get(uniqueKey("pool_entries", "customer", "", id))
			if err != nil {
				return AsError(err)
			}
			var p PoolEntry
			if pid != nil {
				if _, e := loadRecord(r, "pool_entries", string(pid), &p); e != nil {
					return e
				}
			}
			if p.Status != "admitted" {
				return invalid(fmt.Sprintf("cells[%d].customer_ids", i), "customer %s is not admitted to the pool (入池); only pool customers are divided into cells", id)
			}
		}
		if e := staffWithRole(r, fmt.Sprintf("cells[%d].front_manager_id", i), c.FrontManagerID, "account_manager", "gold_manager"); e != nil {
			return e
		}
	}
	return nil
}

// Indexes implements Record.
func (g *GridPlan) Indexes() []Index { return []Index{{"region", g.Region}, {OwnerIndex, g.Owner}} }

// Uniques implements Record: one division per region (re-divided in place).
func (g *GridPlan) Uniques() []Unique {
	return []Unique{{Name: "region", Scope: "", Value: g.Region, Field: "region"}}
}

// Refs implements Record.
func (g *GridPlan) Refs() []Ref {
	var refs []Ref
	for i, c := range g.Cells {
		if c.FrontManagerID != "" {
			refs = append(refs, Ref{fmt.Sprintf("cells[%d].front_manager_id", i), "staff", c.FrontManagerID})
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

var vipLife = lifecycle{"planned": {"confirmed", "cancelled"}, "confirmed": {"in_progress", "cancelled"}, "in_progress": {"done"}}

// VIPService is one value-added service for a VIP customer, with its
// schedule and status.
type VIPService struct {
	Meta
	CustomerID  string `json:"customer_id"`
	Service     string `json:"service"` // one of VIPServiceKinds
	Title       string `json:"title"`
	StaffID     string `json:"staff_id,omitempty"`
	ScheduledOn Date   `json:"scheduled_on"`
	EveryMonths int    `json:"every_months,omitempty"` // periodic services (inspection, subscription)
	WindowStart string `json:"window_start,omitempty"` // scheduled outage: RFC 3339
	WindowEnd   string `json:"window_end,omitempty"`
	Status      string `json:"status"` // planned (default), confirmed, in_progress, done, cancelled
	DoneOn      Date   `json:"done_on,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
}

func init() {
	register(&Kind{Name: "vip_services", IDPrefix: "vip", New: func() Record { return &VIPService{} },
		Filters: []string{"customer_id", "service", "status"}, Check: lifeCycle((*VIPService).checkChange)})
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
func (v *VIPService) Validate() *Error {
	if e := firstErr(idField("customer_id", "customers", v.CustomerID, true), oneOf("service", v.Service, VIPServiceKinds...),
		required("title", v.Title, 200), idField("staff_id", "staff", v.StaffID, false), validDate("scheduled_on", v.ScheduledOn, false),
		oneOf("status", v.Status, "planned", "confirmed", "in_progress", "done", "cancelled"), validDate("done_on", v.DoneOn, true),
		maxLen("outcome", v.Outcome, 2000)); e != nil {
		return e
	}
	if v.EveryMonths < 0 || v.EveryMonths > 60 {
		return invalid("every_months", "is %d; from 1 to 60 months, or 0 for a one-off", v.EveryMonths)
	}
	if v.Service == "safety_inspection" && v.EveryMonths == 0 {
		return invalid("every_months", "a periodic safety inspection needs its interval in months")
	}
	if v.Service == "scheduled_outage" {
		s, e1 := parseTime(v.WindowStart)
		t, e2 := parseTime(v.WindowEnd)
		switch {
		case v.WindowStart == "":
			return invalid("window_start", "a scheduled outage needs its window (RFC 3339 start and end)")
		case e1 != nil:
			return invalid("window_start", "%q is not an RFC 3339 time", v.WindowStart)
		case v.WindowEnd == "":
			return invalid("window_end", "a scheduled outage needs its window (RFC 3339 start and end)")
		case e2 != nil:
			return invalid("window_end", "%q is not an RFC 3339 time", v.WindowEnd)
		case !t.After(s):
			return invalid("window_end", "must be after window_start")
		}
	} else if v.WindowStart != "" || v.WindowEnd != "" {
		return invalid("window_start", "only a scheduled outage has an outage window")
	}
	if v.Status == "done" && v.DoneOn == "" {
		return invalid("done_on", "is required when the service is done")
	}
	if v.Status != "done" && v.DoneOn != "" {
		return invalid("done_on", "is set only when the service is done")
	}
	return nil
}

func (v *VIPService) checkChange(old Record) *Error {
	o, ok := old.(*VIPService)
	if !ok {
		return vipLife.change("status", "", v.Status, "planned", "confirmed")
	}
	return firstErr(immutable("customer_id", o.CustomerID, v.CustomerID), immutable("service", o.Service, v.Service),
		vipLife.change("status", o.Status, v.Status))
}

// Indexes implements Record.
func (v *VIPService) Indexes() []Index {
	return []Index{{"customer_id", v.CustomerID}, {"service", v.Service}, {"status", v.Status}, {OwnerIndex, v.Owner}}
}

// Uniques implements Record.
func (v *VIPService) Uniques() []Unique { return nil }

// Refs implements Record.
func (v *VIPService) Refs() []Ref {
	refs := []Ref{{"customer_id", "customers", v.CustomerID}}
	if v.StaffID != "" {
		refs = append(refs, Ref{"staff_id", "staff", v.StaffID})
	}
	return refs
}

// AdmittedPool answers the ids of the customers admitted to region's pool
// (pool entries owned by the region with status admitted), in id order.
func AdmittedPool(r Reader, region string) ([]string, *Error) {
	ids := []string{}
	err := scanOwned(r, "pool_entries", region, false, func(raw []byte) error {
		var p PoolEntry
		if err := unmarshal(raw, &p); err != nil {
			return err
		}
		if p.Status == "admitted" {
			ids = append(ids, p.CustomerID)
		}
		return nil
	})
	if err != nil {
		return nil, AsError(err)
	}
	sort.Strings(ids)
	return ids, nil
}

// RegionGridPlan answers region's grid plan, or nil.
func RegionGridPlan(r Reader, region string) (*GridPlan, *Error) {
	var out *GridPlan
	err := scanOwned(r, "grid_plans", region, false, func(raw []byte) error {
		var g GridPlan
		if err := unmarshal(raw, &g); err != nil {
			return err
		}
		if g.Region == region {
			out = &g
		}
		return nil
	})
	if err != nil {
		return nil, AsError(err)
	}
	return out, nil
}
