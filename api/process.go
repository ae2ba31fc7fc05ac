package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/process"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// The process side (issue 7): stage actions on connection projects, state
// transitions of work orders, outage reach, supervision lists and KPIs.

func init() {
	writeRolesOf["projects"] = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	writeRolesOf["work_orders"] = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	writeRolesOf["outages"] = []string{crm.RoleAdmin, crm.RoleManager}
	createHooks["work_orders"] = (*Server).routeWorkOrder
}

// createHooks rewrite a create's body before it is checked and proposed;
// false means the hook has answered the request.
var createHooks = map[string]func(s *Server, c *gin.Context, body []byte) ([]byte, bool){}

// routeWorkOrder decides the handling region of a new work order
// (process.RouteWorkOrder: the customer's owner, else the region given, else
// here) and writes region and taking_region into the body. An order
// handled below this region goes down to it as a forwarded command
// (forwardDown); one handled outside this region's subtree is refused with
// wrong_owner naming the handling region.
func (s *Server) routeWorkOrder(c *gin.Context, body []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return body, true // CheckNew names the problem
	}
	str := func(k string) (string, bool) {
		raw, ok := m[k]
		if !ok {
			return "", true
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return strings.TrimSpace(v), true
	}
	cus, ok1 := str("customer_id")
	given, ok2 := str("region")
	taking, ok3 := str("taking_region")
	if !ok1 || !ok2 || !ok3 {
		return body, true // a wrong type: CheckNew names the field
	}
	if e := takenHere(taking, s.cfg.Region, "taking_region"); e != nil {
		fail(c, e)
		return nil, false
	}
	taking = s.cfg.Region
	owner := ""
	if cus != "" && crm.Kinds["customers"].ValidID(cus) {
		raw, err := s.b.Reader().Get([]byte(keyspace.Record("customers", cus)))
		if err != nil {
			fail(c, err)
			return nil, false
		}
		if raw == nil && given == "" {
			fail(c, &crm.Error{Code: crm.CodeReference, Field: "customer_id",
				Message: fmt.Sprintf("customer %s is not known in region %s or below; give the handling region in region", cus, s.cfg.Region)})
			return nil, false
		}
		owner = crm.RecordOwner(raw)
	}
	handling, e := process.RouteWorkOrder(owner, given, taking)
	if e != nil {
		fail(c, e)
		return nil, false
	}
	m["region"], _ = json.Marshal(handling)
	m["taking_region"], _ = json.Marshal(taking)
	out, _ := json.Marshal(m)
	if handling == s.cfg.Region {
		return out, true
	}
	kind := crm.Kinds["work_orders"]
	if _, e := kind.CheckNew(out, handling); e != nil {
		fail(c, e)
		return nil, false
	}
	cmd := &crm.Command{Op: crm.OpCreate, Collection: kind.Name, ID: crm.NewID(kind.IDPrefix, time.Now()), Body: out}
	// Unified acceptance: the order goes down to the handling region as a
	// forwarded command (durable here, delivered in order).
	if !crm.InRegion(handling, s.cfg.Region) {
		fail(c, &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: handling,
			Message: fmt.Sprintf("the order is handled by region %s (taken here, at %s), which is not below this region; send it to region %s", handling, s.cfg.Region, handling)})
		return nil, false
	}
	s.forwardDown(c, handling, kind, cmd, 201)
	return nil, false
}

// takenHere is the rule for a work order's taking_region: the server
// decides it, as the region of the node that takes the order (unified
// acceptance: an order taken at the province's 95598 is posted to a
// province node and forwarded down). A client may leave it out or give
// this region; any other value is refused, naming field.
func takenHere(given, here, field string) *crm.Error {
	if given == "" || given == here {
		return nil
	}
	return apiErr(crm.CodeInvalid, field, fmt.Sprintf("is %q, but the server decides it: an order is taken at the region of the node that receives it (here, %s); leave it out, or post the order to a node of region %s", given, here, given))
}

// takeImported applies takenHere to each row of a work-order import and
// writes this region into the rows as their taking_region; other
// collections pass. A refused row is named as checkImport names one.
func (s *Server) takeImported(kind *crm.Kind, rows []json.RawMessage, lines []int) *crm.Error {
	if kind.Name != "work_orders" {
		return nil
	}
	for i, row := range rows {
		var m map[string]json.RawMessage
		if json.Unmarshal(row, &m) != nil || m == nil {
			continue // checkImport names the problem
		}
		var given string
		if raw, ok := m["taking_region"]; ok && json.Unmarshal(raw, &given) != nil {
			continue // a wrong type: checkImport names the field
		}
		if e := takenHere(strings.TrimSpace(given), s.cfg.Region, "taking_region"); e != nil {
			re := crm.RowError{Row: i, Code: e.Code, Field: e.Field, Message: e.Message}
			where := "row " + strconv.Itoa(i)
			if lines != nil {
				re.Line = lines[i]
				where += " (line " + strconv.Itoa(lines[i]) + ")"
			}
			return &crm.Error{Code: crm.CodeInvalid, Field: "rows", Rows: []crm.RowError{re},
				Message: fmt.Sprintf("1 row rejected (%s, taking_region: %s); nothing was imported", where, e.Message)}
		}
		m["taking_region"], _ = json.Marshal(s.cfg.Region)
		rows[i], _ = json.Marshal(m)
	}
	return nil
}

func (s *Server) processRoutes(v1 *gin.RouterGroup) {
	v1.POST("/projects/:id/stage", allow(writeRolesOf["projects"]...), s.action(crm.Kinds["projects"]))
	v1.POST("/work_orders/:id/transition", allow(writeRolesOf["work_orders"]...), s.action(crm.Kinds["work_orders"]))
	v1.GET("/outages/:id/affected", allow(readRoles...), s.affected)
	v1.GET("/supervision", allow(readRoles...), s.supervision)
	v1.GET("/supervision/warnings", allow(readRoles...), s.warnings)
	v1.GET("/kpi/projects", allow(readRoles...), s.kpiProjects)
	v1.GET("/kpi/work_orders", allow(readRoles...), s.kpiWorkOrders)
	v1.GET("/kpi/outages", allow(readRoles...), s.kpiOutages)
}

func processOps() []op {
	scope := []string{"region", "scope", "consistency", "at"}
	period := append([]string{"from", "to"}, scope...)
	return []op{
		{method: "POST", path: "/api/v1/projects/{id}/stage", summary: "Act on a connection project's stage: complete, pause (waiting on the customer), resume, assign, cancel (send the version you read)",
			ok: 200, roles: writeRolesOf["projects"], body: object(map[string]any{"version": map[string]any{"type": "integer"}, "action": enum(process.ProjectActions),
				"stage": enum(crm.Stages), "at": map[string]any{"type": "string", "format": "date-time"}, "reason": str(), "responsible": str()}, "version", "action")},
		{method: "POST", path: "/api/v1/work_orders/{id}/transition", summary: "Move a work order to another state (received → dispatched → accepted → on_site → done → revisited → archived, or back with a note)",
			ok: 200, roles: writeRolesOf["work_orders"], body: object(map[string]any{"version": map[string]any{"type": "integer"}, "to": enum(process.WorkOrderStates),
				"at": map[string]any{"type": "string", "format": "date-time"}, "note": str(), "assignee_id": str(), "satisfaction": enum(process.Satisfactions)}, "version", "to")},
		{method: "GET", path: "/api/v1/outages/{id}/affected", summary: "Customers an outage reaches (by feeder and transformer area), important ones flagged", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "GET", path: "/api/v1/supervision", summary: "Supervision list: overdue project stages and work-order SLAs in a region or subtree, escalated county → city → province (level: county, city, province or all; default the region's tier); a page (limit, default 50, and offset) with the project's title or order's subject, the customer's name and 户号 and the manager's name; count is the whole list's",
			ok: 200, roles: readRoles, query: append([]string{"level", "limit", "offset"}, scope...)},
		{method: "GET", path: "/api/v1/supervision/warnings", summary: "Project stages about to fall due, for their account managers; a page (limit, default 50, and offset) with names as the supervision list's", ok: 200, roles: readRoles, query: append([]string{"manager_id", "limit", "offset"}, scope...)},
		{method: "GET", path: "/api/v1/kpi/projects", summary: "Connection-project KPIs per region and manager: cycle days (mean, p90), on-time rate, overdue counts over a period of days [from, to) (default from: the first day of the twelve months ending with at's month, or before to; added up from the tallies kept per day and month)", ok: 200, roles: readRoles, query: period},
		{method: "GET", path: "/api/v1/kpi/work_orders", summary: "Work-order KPIs per region and assignee: by kind and channel, SLA on-time rates, satisfaction, overdue over a period of days [from, to) (default from: the first day of the twelve months ending with at's month, or before to; added up from the tallies kept per day and month)", ok: 200, roles: readRoles, query: period},
		{method: "GET", path: "/api/v1/kpi/outages", summary: "Outage notice compliance per region over a period of days [from, to) (default from: the first day of the twelve months ending with at's month, or before to; added up from the tallies kept per day and month)", ok: 200, roles: readRoles, query: period},
	}
}

// derivedFields are the fields of the process kinds that the domain sets;
// a create may not send them, so the create and import schemas leave them out.
var derivedFields = map[string][]string{
	"projects": {"class", "rule_set", "status", "stages", "energised_at", "clock_error"},
	"work_orders": {"state", "rule_set", "contact_due", "arrival_due", "restore_due", "answer_due", "accepted_at", "arrived_at",
		"done_at", "revisited_at", "archived_at", "satisfaction", "send_backs", "history", "clock_error"},
	"outages": {"rule_set", "planned_notice_days", "temporary_notice_hours", "notice_due", "notice_compliant"},
}

// trimDerived drops derived fields from the create and import schemas.
func trimDerived(ops []op) []op {
	for _, o := range ops {
		if o.method != "POST" {
			continue
		}
		coll := strings.TrimSuffix(strings.TrimPrefix(o.path, "/api/v1/"), "/import")
		schema, ok := o.body.(map[string]any)
		if !ok || derivedFields[coll] == nil {
			continue
		}
		if items, ok := schema["items"].(map[string]any); ok {
			schema = items
		}
		if props, ok := schema["properties"].(map[string]any); ok {
			for _, f := range derivedFields[coll] {
				delete(props, f)
			}
		}
	}
	return ops
}

// action proposes an OpAction on one record.
func (s *Server) action(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := readBody(c, s.cfg.MaxBody)
		if err != nil {
			fail(c, err)
			return
		}
		v, rest, e := crm.CheckAction(body)
		if e != nil {
			fail(c, e)
			return
		}
		cmd := &crm.Command{Op: crm.OpAction, ID: c.Param("id"), Version: v, Body: rest}
		// A record owned below (read here as a replica) is acted on by its
		// owner when the tier rules route it there (actionTarget): the
		// action goes down as a forwarded command. Otherwise Apply answers
		// wrong_owner naming the owner.
		if owner := s.actionTarget(kind, cmd.ID); owner != "" {
			cmd.Collection = kind.Name
			s.forwardDown(c, owner, kind, cmd, 200)
			return
		}
		s.propose(c, kind, cmd, 200)
	}
}

// atOf reads ?at= (RFC 3339; default: now): the time overdue is judged at.
func atOf(c *gin.Context) (time.Time, bool) {
	q := c.Query("at")
	if q == "" {
		return time.Now(), true
	}
	t, err := time.Parse(time.RFC3339, q)
	if err != nil {
		fail(c, apiErr(crm.CodeInvalid, "at", fmt.Sprintf("%q is not an RFC 3339 time (e.g. 2026-11-25T09:30:00+08:00)", q)))
		return time.Time{}, false
	}
	return t, true
}

// periodOf reads ?from= and ?to= (YYYY-MM-DD, to exclusive).
func periodOf(c *gin.Context) (process.Period, bool) {
	var p process.Period
	for _, f := range []struct {
		name string
		dst  *crm.Date
	}{{"from", &p.From}, {"to", &p.To}} {
		v := c.Query(f.name)
		if v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			fail(c, apiErr(crm.CodeInvalid, f.name, fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", v)))
			return p, false
		}
		*f.dst = crm.Date(v)
	}
	if p.From != "" && p.To != "" && p.To <= p.From {
		fail(c, apiErr(crm.CodeInvalid, "to", "must be after from"))
		return p, false
	}
	return p, true
}

// rollingYearFrom is the first day of the twelve calendar months (China
// Standard Time) that end with at's month, or with the month before to:
// the period a KPI request without from covers (a dashboard's year, and a
// bounded number of months' tallies to add up).
func rollingYearFrom(at time.Time, to crm.Date) crm.Date {
	end := at.In(workday.CST)
	if to != "" {
		if t, err := time.ParseInLocation(time.DateOnly, string(to), workday.CST); err == nil {
			end = t.AddDate(0, 0, -1)
		}
	}
	return crm.Date(time.Date(end.Year(), end.Month()-11, 1, 0, 0, 0, 0, workday.CST).Format(time.DateOnly))
}

func (s *Server) readScope(c *gin.Context) (region string, subtree bool, at time.Time, ok bool) {
	region, subtree, ok = s.scopeOf(c)
	if !ok {
		return
	}
	if at, ok = atOf(c); !ok {
		return
	}
	ok = s.consistent(c)
	return
}

func (s *Server) supervision(c *gin.Context) {
	level := c.Query("level")
	region, subtree, at, ok := s.readScope(c)
	if !ok {
		return
	}
	if level == "" {
		level = string(tiers.RegionCode(region).Tier())
	}
	if level != "all" && !tiers.Tier(level).Valid() {
		fail(c, apiErr(crm.CodeInvalid, "level", "must be county, city, province or all"))
		return
	}
	l, err := process.Supervise(s.b.Reader(), region, subtree, at)
	if err != nil {
		fail(c, err)
		return
	}
	items := l.Overdue
	if level != "all" {
		items = process.OnList(items, tiers.Tier(level))
	}
	byLevel := map[tiers.Tier]int{}
	for _, it := range l.Overdue {
		byLevel[it.Level]++
	}
	from, to, ok := pageOf(c, len(items)) // process_names.go: names for the page answered
	if !ok {
		return
	}
	c.JSON(200, gin.H{"region": region, "scope": scopeName(subtree), "at": at.UTC(), "level": level, "count": len(items), "offset": from,
		"overdue": s.nameItems(items[from:to]), "overdue_by_level": byLevel, "freshness": s.b.Freshness(region, subtree)})
}

func (s *Server) warnings(c *gin.Context) {
	mgr := c.Query("manager_id")
	region, subtree, at, ok := s.readScope(c)
	if !ok {
		return
	}
	if mgr != "" && !crm.Kinds["staff"].ValidID(mgr) {
		fail(c, apiErr(crm.CodeInvalid, "manager_id", fmt.Sprintf("%q is not a staff id", mgr)))
		return
	}
	l, err := process.Supervise(s.b.Reader(), region, subtree, at)
	if err != nil {
		fail(c, err)
		return
	}
	items, byMgr := []process.Item{}, map[string]int{}
	for _, it := range l.Warnings {
		if mgr == "" || it.ManagerID == mgr {
			items = append(items, it)
			byMgr[it.ManagerID]++
		}
	}
	from, to, ok := pageOf(c, len(items))
	if !ok {
		return
	}
	c.JSON(200, gin.H{"region": region, "scope": scopeName(subtree), "at": at.UTC(), "count": len(items), "offset": from,
		"warnings": s.nameItems(items[from:to]), "by_manager": byMgr})
}

func scopeName(subtree bool) string {
	if subtree {
		return "subtree"
	}
	return "region"
}

func (s *Server) kpi(c *gin.Context, compute func(region string, subtree bool, p process.Period, at time.Time) (any, error)) {
	region, subtree, at, ok := s.readScope(c)
	if !ok {
		return
	}
	p, ok := periodOf(c)
	if !ok {
		return
	}
	if p.From == "" {
		p.From = rollingYearFrom(at, p.To)
	}
	k, err := compute(region, subtree, p, at)
	if err != nil {
		fail(c, err)
		return
	}
	counters, err := process.ProcessCounters(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{"region": region, "scope": scopeName(subtree), "at": at.UTC(), "from": p.From, "to": p.To,
		"kpi": k, "counters": counters, "freshness": s.b.Freshness(region, subtree)})
}

func (s *Server) kpiProjects(c *gin.Context) {
	s.kpi(c, func(region string, subtree bool, p process.Period, at time.Time) (any, error) {
		return process.ProjectKPIsOf(s.b.Reader(), region, subtree, p, at)
	})
}

func (s *Server) kpiWorkOrders(c *gin.Context) {
	s.kpi(c, func(region string, subtree bool, p process.Period, at time.Time) (any, error) {
		return process.WorkOrderKPIsOf(s.b.Reader(), region, subtree, p, at)
	})
}

func (s *Server) kpiOutages(c *gin.Context) {
	s.kpi(c, func(region string, subtree bool, p process.Period, _ time.Time) (any, error) {
		return process.OutageKPIsOf(s.b.Reader(), region, subtree, p)
	})
}

// affectedCustomer is one customer an outage reaches.
type affectedCustomer struct {
	ID        string  `json:"id"`
	AccountNo string  `json:"account_no"`
	Name      string  `json:"name"`
	Region    string  `json:"region"`
	Area      string  `json:"transformer_area,omitempty"`
	VoltageKV float64 `json:"voltage_kv"`
	Phone     string  `json:"phone,omitempty"`
	Important bool    `json:"important"`
}

func (s *Server) affected(c *gin.Context) {
	if !s.consistent(c) {
		return
	}
	raw, e := crm.Get(s.b.Reader(), "outages", c.Param("id"))
	if e != nil {
		fail(c, e)
		return
	}
	var o process.Outage
	if err := json.Unmarshal(raw, &o); err != nil {
		fail(c, err)
		return
	}
	if u := who(c).User; !crm.InRegion(o.Owner, u.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "id", Owner: o.Owner,
			Message: fmt.Sprintf("user %s of region %s may not read records of region %s", u.Username, u.Region, o.Owner)})
		return
	}
	cs, err := process.AffectedCustomers(s.b.Reader(), &o)
	if err != nil {
		fail(c, err)
		return
	}
	out, important := make([]affectedCustomer, 0, len(cs)), 0
	for i := range cs {
		cu := &cs[i]
		imp := process.ImportantCustomer(cu)
		if imp {
			important++
		}
		out = append(out, affectedCustomer{cu.ID, cu.AccountNo, cu.Name, cu.Region, cu.TransformerArea, cu.VoltageKV, cu.Phone, imp})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Important && !out[j].Important })
	c.JSON(200, gin.H{"outage_id": o.ID, "feeder": o.Feeder, "transformer_area": o.TransformerArea, "count": len(out), "important": important,
		"notice_compliant": o.NoticeCompliant, "customers": out})
}
