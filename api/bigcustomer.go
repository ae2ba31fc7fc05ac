package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/bigcustomer"
	"gridcrm/bigcustomer/grid"
	"gridcrm/crm"
	"gridcrm/report"
	"gridcrm/tiers"
)

// Big-customer management: the routes beyond the collections' CRUD
// (classification, Pareto, consumption analysis, bulletin generation,
// grid division and re-balance). Registered by routes() through
// bigCustomerRoutes; documented in bigCustomerOps.

func init() {
	rw := []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	mgr := []string{crm.RoleAdmin, crm.RoleManager}
	for coll, roles := range map[string][]string{
		"key_projects": rw, "gold_assignments": mgr, "service_plans": rw, "service_memos": rw, "bulletins": mgr,
		"backoffice_teams": mgr, "service_requests": rw, "pool_entries": mgr, "grid_plans": mgr, "vip_services": rw,
	} {
		writeRolesOf[coll] = roles
	}
}

func (s *Server) bigCustomerRoutes(v1 *gin.RouterGroup) {
	read, mgr := allow(readRoles...), allow(writeRolesOf["grid_plans"]...)
	v1.GET("/classification", read, s.classification)
	v1.GET("/customers/:id/class", read, s.customerClass)
	v1.GET("/customers/:id/consumption", read, s.consumption)
	v1.GET("/reports/pareto", read, s.pareto)
	v1.POST("/bulletins/generate", allow(writeRolesOf["bulletins"]...), s.generateBulletin)
	v1.GET("/bulletins/:id/html", read, s.bulletinFile("html"))
	v1.GET("/bulletins/:id/pdf", read, s.bulletinFile("pdf"))
	v1.POST("/grid_plans/divide", mgr, s.divide)
	v1.POST("/grid_plans/rebalance", mgr, s.rebalance)
}

func bigCustomerOps() []op {
	read, mgr := readRoles, writeRolesOf["grid_plans"]
	day := []string{"day", "consistency"}
	return []op{
		{method: "GET", path: "/api/v1/classification", summary: "Customers of a region or subtree with class (big/ordinary) and grade (core/key/general) under the class_thresholds rules in force on day; filter by class and grade", ok: 200, roles: read,
			query: []string{"region", "scope", "day", "class", "grade", "limit", "consistency"}},
		{method: "GET", path: "/api/v1/customers/{id}/class", summary: "One customer's class and grade, its figures and the rule set applied", ok: 200, roles: read, query: day},
		{method: "GET", path: "/api/v1/customers/{id}/consumption", summary: "Consumption analysis: monthly trend, peak/flat/valley shares, fees, comparison with its class", ok: 200, roles: read, query: day},
		{method: "GET", path: "/api/v1/reports/pareto", summary: "20/80 report: the share of customers making 80% of kWh and of revenue over the 12 months before day", ok: 200, roles: read,
			query: []string{"region", "scope", "day", "top", "consistency"}},
		{method: "POST", path: "/api/v1/bulletins/generate", summary: "Generate and store this region's monthly work bulletin (HTML and PDF) from its key projects", ok: 201, roles: writeRolesOf["bulletins"],
			body: object(map[string]any{"period": str(), "region_name": str()}, "period")},
		{method: "GET", path: "/api/v1/bulletins/{id}/html", summary: "A bulletin as HTML", ok: 200, roles: read},
		{method: "GET", path: "/api/v1/bulletins/{id}/pdf", summary: "A bulletin as PDF", ok: 200, roles: read},
		{method: "POST", path: "/api/v1/grid_plans/divide", summary: "Divide this region's admitted pool into k grid cells balanced on annual kWh and customer count (optimiser; round-robin figures for comparison); save stores it", ok: 200, roles: mgr,
			body: object(map[string]any{"k": map[string]any{"type": "integer"}, "managers": map[string]any{"type": "array", "items": str()}, "day": str(), "save": map[string]any{"type": "boolean"}}, "k")},
		{method: "POST", path: "/api/v1/grid_plans/rebalance", summary: "Propose the fewest moves that bring the stored division within tolerance after pool changes; save applies them", ok: 200, roles: mgr,
			body: object(map[string]any{"tolerance": map[string]any{"type": "number"}, "day": str(), "save": map[string]any{"type": "boolean"}})},
	}
}

// china is UTC+8, the zone the business day is counted in.
var china = time.FixedZone("CST", 8*3600)

// dayOf reads ?day= (YYYY-MM-DD), default today in China.
func dayOf(c *gin.Context) (crm.Date, bool) {
	d := c.Query("day")
	if d == "" {
		return crm.Date(time.Now().In(china).Format("2006-01-02")), true
	}
	if _, err := time.Parse("2006-01-02", d); err != nil {
		fail(c, apiErr(crm.CodeInvalid, "day", fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", d)))
		return "", false
	}
	return crm.Date(d), true
}

func (s *Server) classification(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	day, ok := dayOf(c)
	if !ok {
		return
	}
	limit, ok := limitOf(c, crm.DefaultLimit)
	if !ok {
		return
	}
	if !s.consistent(c) {
		return
	}
	rep, e := bigcustomer.ClassifyRegion(s.b.Reader(), bigcustomer.ClassQuery{Region: region, Subtree: subtree, Day: day, Class: c.Query("class"), Grade: c.Query("grade"), Limit: limit})
	if e != nil {
		fail(c, e)
		return
	}
	if len(rep.Items) > limit {
		rep.Items = rep.Items[:limit]
	}
	c.JSON(200, rep)
}

// customerOf reads a customer and checks the caller may read it.
func (s *Server) customerOf(c *gin.Context) bool {
	_, ok := s.customerOwner(c)
	return ok
}

// customerOwner is customerOf answering the customer's owner region.
func (s *Server) customerOwner(c *gin.Context) (string, bool) {
	raw, e := crm.Get(s.b.Reader(), "customers", c.Param("id"))
	if e != nil {
		fail(c, e)
		return "", false
	}
	owner := crm.RecordOwner(raw)
	if u := who(c).User; !crm.InRegion(owner, u.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "id", Owner: owner,
			Message: fmt.Sprintf("user %s of region %s may not read customers of region %s", u.Username, u.Region, owner)})
		return "", false
	}
	return owner, true
}

func (s *Server) customerClass(c *gin.Context) {
	day, ok := dayOf(c)
	if !ok || !s.consistent(c) || !s.customerOf(c) {
		return
	}
	cl, e := bigcustomer.ClassifyCustomer(s.b.Reader(), c.Param("id"), day)
	if e != nil {
		fail(c, e)
		return
	}
	c.JSON(200, cl)
}

func (s *Server) consumption(c *gin.Context) {
	day, ok := dayOf(c)
	if !ok || !s.consistent(c) || !s.customerOf(c) {
		return
	}
	rep, e := bigcustomer.Consumption(s.b.Reader(), c.Param("id"), day)
	if e != nil {
		fail(c, e)
		return
	}
	c.JSON(200, rep)
}

func (s *Server) pareto(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	day, ok := dayOf(c)
	if !ok {
		return
	}
	top := 20
	if t := c.Query("top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > crm.MaxLimit {
			fail(c, apiErr(crm.CodeInvalid, "top", fmt.Sprintf("must be a whole number from 0 to %d", crm.MaxLimit)))
			return
		}
		top = n
	}
	if !s.consistent(c) {
		return
	}
	rep, e := bigcustomer.Pareto(s.b.Reader(), region, subtree, day, top)
	if e != nil {
		fail(c, e)
		return
	}
	c.JSON(200, rep)
}

type generateRequest struct {
	Period     string `json:"period"`
	RegionName string `json:"region_name"`
}

func (s *Server) generateBulletin(c *gin.Context) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req generateRequest
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return
	}
	if req.RegionName == "" {
		req.RegionName = tiers.Name(tiers.RegionCode(s.cfg.Region))
	}
	if !s.consistent(c) {
		return
	}
	now := time.Now().UTC()
	d, e := bigcustomer.BuildBulletin(s.b.Reader(), s.cfg.Region, req.RegionName, req.Period, now)
	if e != nil {
		fail(c, e)
		return
	}
	html, err := report.BulletinHTML(d)
	if err != nil {
		fail(c, err)
		return
	}
	pdf, font, err := report.BulletinPDF(d, report.FindCJKFont(), now)
	if err != nil {
		fail(c, err)
		return
	}
	rec := bigcustomer.Bulletin{Region: s.cfg.Region, Period: d.Period, Title: d.Title, Projects: len(d.Projects), OverdueStages: d.Overdue,
		Highlights: d.Highlights(), HTML: html, PDF: pdf, PDFFont: font}
	raw, _ := json.Marshal(rec)
	kind := crm.Kinds["bulletins"]
	s.propose(c, kind, &crm.Command{Op: crm.OpCreate, ID: crm.NewID(kind.IDPrefix, now), Body: stripMeta(raw)}, http.StatusCreated)
}

// stripMeta drops the zero Meta fields a marshalled record carries, so
// that the body reads as a client's.
func stripMeta(raw []byte) []byte {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	for _, f := range append(crm.MetaFields, "version") {
		delete(m, f)
	}
	out, _ := json.Marshal(m)
	return out
}

func (s *Server) bulletinFile(part string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.consistent(c) {
			return
		}
		raw, e := crm.Get(s.b.Reader(), "bulletins", c.Param("id"))
		if e != nil {
			fail(c, e)
			return
		}
		var b bigcustomer.Bulletin
		if err := json.Unmarshal(raw, &b); err != nil {
			fail(c, err)
			return
		}
		if u := who(c).User; !crm.InRegion(b.Owner, u.Region) {
			fail(c, &crm.Error{Code: codeForbidden, Field: "id", Owner: b.Owner,
				Message: fmt.Sprintf("user %s of region %s may not read bulletins of region %s", u.Username, u.Region, b.Owner)})
			return
		}
		if part == "pdf" {
			c.Header("Content-Disposition", fmt.Sprintf("inline; filename=bulletin-%s-%s.pdf", b.Region, b.Period))
			c.Data(200, "application/pdf", b.PDF)
			return
		}
		// The HTML is served from the API's origin: a sandbox CSP keeps any
		// script in it from running with the origin's rights.
		c.Header("Content-Security-Policy", "sandbox")
		c.Header("X-Content-Type-Options", "nosniff")
		c.Data(200, "text/html; charset=utf-8", []byte(b.HTML))
	}
}

type divideRequest struct {
	K         int      `json:"k"`
	Managers  []string `json:"managers"`
	Day       crm.Date `json:"day"`
	Save      bool     `json:"save"`
	Tolerance float64  `json:"tolerance"`
}

// pool reads the region's admitted pool with each customer's annual kWh.
func (s *Server) pool(day crm.Date) ([]grid.Item, *crm.Error) {
	rep, e := bigcustomer.ClassifyRegion(s.b.Reader(), bigcustomer.ClassQuery{Region: s.cfg.Region, Day: day})
	if e != nil {
		return nil, e
	}
	kwh := map[string]float64{}
	for _, it := range rep.Items {
		kwh[it.CustomerID] = it.Figures.AnnualKWh
	}
	ids, e := bigcustomer.AdmittedPool(s.b.Reader(), s.cfg.Region)
	if e != nil {
		return nil, e
	}
	items := make([]grid.Item, len(ids))
	for i, id := range ids {
		items[i] = grid.Item{ID: id, Weight: kwh[id]}
	}
	return items, nil
}

func (s *Server) readDivide(c *gin.Context) (divideRequest, bool) {
	var req divideRequest
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return req, false
	}
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return req, false
	}
	if req.Day == "" {
		req.Day = crm.Date(time.Now().In(china).Format("2006-01-02"))
	} else if _, err := time.Parse("2006-01-02", string(req.Day)); err != nil {
		fail(c, apiErr(crm.CodeInvalid, "day", fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", req.Day)))
		return req, false
	}
	return req, s.consistent(c)
}

func gridErr(err error) error {
	if e, ok := err.(*grid.ErrInput); ok {
		return apiErr(crm.CodeInvalid, e.Field, e.Message)
	}
	return err
}

func (s *Server) divide(c *gin.Context) {
	req, ok := s.readDivide(c)
	if !ok {
		return
	}
	if req.Tolerance != 0 {
		fail(c, apiErr(crm.CodeInvalid, "tolerance", "is a rebalance setting; divide always balances as far as it can"))
		return
	}
	if len(req.Managers) > 0 && len(req.Managers) != req.K {
		fail(c, apiErr(crm.CodeInvalid, "managers", fmt.Sprintf("has %d front managers for %d cells; give one per cell or none", len(req.Managers), req.K)))
		return
	}
	items, e := s.pool(req.Day)
	if e != nil {
		fail(c, e)
		return
	}
	if len(items) == 0 {
		fail(c, apiErr(crm.CodeInvalid, "k", "region "+s.cfg.Region+" has no admitted pool customers (pool_entries with status admitted) to divide"))
		return
	}
	d, err := grid.Divide(items, req.K)
	if err != nil {
		fail(c, gridErr(err))
		return
	}
	rr, _ := grid.RoundRobin(items, req.K)
	st, rs := grid.Measure(items, d), grid.Measure(items, rr)
	plan := bigcustomer.GridPlan{Region: s.cfg.Region, K: req.K, AsOf: req.Day, MaxKWhDeviation: st.MaxWeightDev, MaxCountDeviation: st.MaxCountDev,
		RoundRobinKWhDev: rs.MaxWeightDev, RoundRobinCountDev: rs.MaxCountDev}
	plan.Cells = cellsOf(items, d, req.Managers)
	existing, e := bigcustomer.RegionGridPlan(s.b.Reader(), s.cfg.Region)
	if e != nil {
		fail(c, e)
		return
	}
	if existing != nil {
		plan.Revisions = existing.Revisions // a re-division keeps the history
	}
	plan.Revisions = append(plan.Revisions, bigcustomer.GridRevision{At: req.Day, Kind: "divide", Moves: len(items)})
	s.savePlan(c, &plan, req.Save, gin.H{"stats": st, "round_robin": rs})
}

func cellsOf(items []grid.Item, d grid.Division, managers []string) []bigcustomer.GridCell {
	cells := make([]bigcustomer.GridCell, d.K)
	for j := range cells {
		cells[j].Code = bigcustomer.CellCode(j)
		cells[j].CustomerIDs = []string{}
		if j < len(managers) {
			cells[j].FrontManagerID = managers[j]
		}
	}
	for i, it := range items {
		j := d.Assign[i]
		cells[j].CustomerIDs = append(cells[j].CustomerIDs, it.ID)
		cells[j].KWh += it.Weight
		cells[j].Count++
	}
	return cells
}

// savePlan answers the plan with extra fields; with save it stores it
// first, replacing the region's plan when there is one. An unsaved plan is
// answered without its record fields (id, owner, version, times).
func (s *Server) savePlan(c *gin.Context, plan *bigcustomer.GridPlan, save bool, extra gin.H) {
	existing, e := bigcustomer.RegionGridPlan(s.b.Reader(), s.cfg.Region)
	if e != nil {
		fail(c, e)
		return
	}
	extra["saved"] = false
	if save {
		kind := crm.Kinds["grid_plans"]
		raw, _ := json.Marshal(plan)
		cmd := &crm.Command{Op: crm.OpCreate, ID: crm.NewID(kind.IDPrefix, time.Now()), Body: stripMeta(raw)}
		if existing != nil {
			cmd = &crm.Command{Op: crm.OpReplace, ID: existing.ID, Version: existing.Version, Body: stripMeta(raw)}
		}
		cmd.Collection = kind.Name
		res, ok := s.commit(c, cmd)
		if !ok {
			return
		}
		extra["saved"] = true
		extra["plan"] = json.RawMessage(res.Record)
		c.JSON(200, extra)
		return
	}
	// A plan not saved is a proposal, not a record: no id, owner, version
	// or times (they would be empty); replaces names the stored plan that
	// saving it would replace.
	raw, _ := json.Marshal(plan)
	extra["plan"] = json.RawMessage(stripMeta(raw))
	if existing != nil {
		extra["replaces"] = existing.ID
	}
	c.JSON(200, extra)
}

func (s *Server) rebalance(c *gin.Context) {
	req, ok := s.readDivide(c)
	if !ok {
		return
	}
	if req.K != 0 || len(req.Managers) > 0 {
		fail(c, apiErr(crm.CodeInvalid, "k", "rebalance keeps the stored division's cells and managers; use divide to change k"))
		return
	}
	tol := req.Tolerance
	if tol == 0 {
		tol = 0.05
	}
	if tol < 0 || tol > 1 {
		fail(c, apiErr(crm.CodeInvalid, "tolerance", fmt.Sprintf("is %v; a fraction from 0 to 1 (0.05 = ±5%%)", tol)))
		return
	}
	plan, e := bigcustomer.RegionGridPlan(s.b.Reader(), s.cfg.Region)
	if e != nil {
		fail(c, e)
		return
	}
	if plan == nil {
		fail(c, apiErr(crm.CodeNotFound, "region", "region "+s.cfg.Region+" has no grid division yet; divide first (POST /api/v1/grid_plans/divide)"))
		return
	}
	items, e := s.pool(req.Day)
	if e != nil {
		fail(c, e)
		return
	}
	if len(items) < plan.K {
		fail(c, apiErr(crm.CodeInvalid, "k", fmt.Sprintf("the pool has %d customers for %d cells; divide again with a smaller k", len(items), plan.K)))
		return
	}
	cur := make([]int, len(items))
	for i, it := range items {
		cur[i] = -1
		for j, cell := range plan.Cells {
			for _, id := range cell.CustomerIDs {
				if id == it.ID {
					cur[i] = j
				}
			}
		}
	}
	before := grid.Measure(items, grid.Division{K: plan.K, Assign: placedOrZero(cur)})
	d, moves, err := grid.Rebalance(items, plan.K, cur, tol)
	if err != nil {
		fail(c, gridErr(err))
		return
	}
	st := grid.Measure(items, d)
	managers := make([]string, plan.K)
	for j, cell := range plan.Cells {
		managers[j] = cell.FrontManagerID
	}
	next := *plan
	next.Meta = crm.Meta{}
	next.AsOf, next.Cells = req.Day, cellsOf(items, d, managers)
	next.MaxKWhDeviation, next.MaxCountDeviation = st.MaxWeightDev, st.MaxCountDev
	rr, _ := grid.RoundRobin(items, plan.K)
	rs := grid.Measure(items, rr)
	next.RoundRobinKWhDev, next.RoundRobinCountDev = rs.MaxWeightDev, rs.MaxCountDev
	next.Revisions = append(append([]bigcustomer.GridRevision(nil), plan.Revisions...), bigcustomer.GridRevision{At: req.Day, Kind: "rebalance", Moves: len(moves)})
	type namedMove struct {
		ID   string `json:"customer_id"`
		From string `json:"from"`
		To   string `json:"to"`
	}
	named := []namedMove{}
	for _, m := range moves {
		from := "(new)"
		if m.From >= 0 {
			from = bigcustomer.CellCode(m.From)
		}
		named = append(named, namedMove{m.ID, from, bigcustomer.CellCode(m.To)})
	}
	s.savePlan(c, &next, req.Save, gin.H{"moves": named, "before": before, "stats": st, "tolerance": tol})
}

// placedOrZero maps unplaced customers to cell 0 for measuring "before".
func placedOrZero(cur []int) []int {
	out := make([]int, len(cur))
	for i, j := range cur {
		if j > 0 {
			out[i] = j
		}
	}
	return out
}
