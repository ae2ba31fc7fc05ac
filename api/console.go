package api

import (
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/console"
	"gridcrm/crm"
	"gridcrm/process"
	"gridcrm/tiers"
)

// consoleRoutes serves the web console (package console) on the public
// listener, and the figures its overview reads. The console's files are
// public (they hold no data); every figure comes from /api/v1 with the
// user's token, under the same roles and region scope as any client.
func (s *Server) consoleRoutes(e *gin.Engine, v1 *gin.RouterGroup) {
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, console.Prefix) })
	h := gin.WrapH(console.Handler())
	e.GET("/console", h) // redirects to /console/
	e.GET("/console/*file", h)
	v1.GET("/stats/overview", allow(readRoles...), s.overview)
}

func consoleOps() []op {
	return []op{
		{method: "GET", path: "/", summary: "Redirects to the web console (/console/)", ok: 302, public: true},
		{method: "GET", path: "/console", summary: "Redirects to /console/", ok: 302, public: true},
		{method: "GET", path: "/console/{file}", summary: "The web console (zh-CN single page, its script, stylesheet and vendored ECharts); it reads /api/v1 with the user's token", ok: 200, public: true},
		{method: "GET", path: "/api/v1/stats/overview", summary: "The console's overview of a region and its subtree, from materialised aggregates only: customers by category, voltage class and status; kWh and billed by month; arrears (amount, bills, ageing buckets 0-30/31-60/61-90/91+ days since the bill fell due on the 1st of the following month) and collection rate; open work orders; project stages overdue now and completed late; outages this month (CST) and by month; the same figures per child region, with names and data freshness; ?at= (RFC 3339, default now) is the time the clock-dependent figures are judged at", ok: 200, roles: readRoles, query: []string{"region", "consistency", "at"}},
	}
}

// RegionRef names a region.
type RegionRef struct {
	Region string `json:"region"`
	Name   string `json:"name"` // tiers' name table; "" for a code it does not hold
	Tier   string `json:"tier"` // province, city, county
}

func regionRef(code string) RegionRef {
	rc := tiers.RegionCode(code)
	return RegionRef{Region: code, Name: tiers.Name(rc), Tier: string(rc.Tier())}
}

// Figures are one region's (or subtree's) counters as the console shows them.
type Figures struct {
	Customers      int64              `json:"customers"`
	ByCategory     map[string]int64   `json:"customers_by_category"`
	ByVoltageClass map[string]int64   `json:"customers_by_voltage_class"`
	ByStatus       map[string]int64   `json:"customers_by_status"`
	KWhByMonth     map[string]float64 `json:"kwh_by_month"`
	BilledByMonth  map[string]float64 `json:"billed_by_month"`
	BilledTotal    float64            `json:"billed_total"` // every month held
	Arrears        float64            `json:"arrears"`      // outstanding now
	ArrearsBills   int64              `json:"arrears_bills"`
	// ArrearsAgeing buckets the arrears by days since each bill fell due
	// (crm.AgeBuckets: 0-30, 31-60, 61-90, 91+).
	ArrearsAgeing []crm.AgeBucket `json:"arrears_ageing"`
	// CollectionRate is 1 - arrears / billed_total: the share of everything
	// billed that has been paid (null when nothing was billed).
	CollectionRate      *float64         `json:"collection_rate"`
	WorkOrdersOpen      int64            `json:"work_orders_open"`
	WorkOrdersOpenState map[string]int64 `json:"work_orders_open_by_state"`
	ProjectsOpen        int64            `json:"projects_open"`
	ProjectStagesLate   int64            `json:"project_stages_late"`    // stages completed after their deadline
	ProjectStagesDue    int64            `json:"project_stages_overdue"` // current stages past their deadline now
	ProjectStagesNoDue  int64            `json:"project_stages_no_deadline"`
	Outages             int64            `json:"outages"` // every outage held, all time
	OutagesByType       map[string]int64 `json:"outages_by_type"`
	OutagesMonth        int64            `json:"outages_this_month"` // not cancelled, starting in the CST month of ?at
	OutagesMonthByType  map[string]int64 `json:"outages_this_month_by_type"`
	OutagesByMonth      map[string]int64 `json:"outages_by_month"`
	// FreshnessAgeSeconds is the age of the oldest newest-heartbeat among
	// the regions held here (how stale the least current part is); null
	// when no region in scope reports one.
	FreshnessAgeSeconds *float64 `json:"freshness_age_seconds"`
}

// Overview is the answer of GET /api/v1/stats/overview.
type Overview struct {
	RegionRef
	Path []RegionRef `json:"path"` // from the highest region the caller may read here down to this one
	// At is the time the clock-dependent figures are judged at; Month is
	// its CST month (outages this month).
	At    time.Time `json:"at"`
	Month string    `json:"month"`
	Figures
	// Own is the region's own records' figures when it has records of its
	// own besides its children's (e.g. a city's directly served customers).
	Own      *Figures    `json:"own,omitempty"`
	Children []ChildRow  `json:"children"`
	Regions  []RegionRef `json:"regions"` // every region contributing, with names
}

// ChildRow is one child region's subtree in an overview.
type ChildRow struct {
	RegionRef
	Figures
}

func (s *Server) overview(c *gin.Context) {
	region, _, ok := s.scopeOf(c) // always the subtree, whatever ?scope says
	if !ok || !s.consistent(c) {
		return
	}
	now, ok := atOf(c)
	if !ok {
		return
	}
	r := s.b.Reader()
	fresh := s.b.Freshness(region, true)
	out := Overview{RegionRef: regionRef(region), At: now.UTC(), Month: crm.MonthOf(now), Children: []ChildRow{}, Regions: []RegionRef{}}
	top := s.cfg.Region
	if u := who(c).User; len(u.Region) > len(top) {
		top = u.Region
	}
	for _, a := range append([]tiers.RegionCode{tiers.RegionCode(region)}, tiers.RegionCode(region).Ancestors()...) {
		if len(a) < len(top) {
			break
		}
		out.Path = append([]RegionRef{regionRef(string(a))}, out.Path...)
	}
	all, err := figuresOf(r, region, true, fresh, now)
	if err != nil {
		fail(c, err)
		return
	}
	out.Figures = all.Figures
	children := map[string]bool{}
	for _, reg := range all.regions {
		out.Regions = append(out.Regions, regionRef(reg))
		if reg == region {
			own, err := figuresOf(r, region, false, fresh, now)
			if err != nil {
				fail(c, err)
				return
			}
			if len(all.regions) > 1 { // otherwise the region is all there is
				out.Own = &own.Figures
			}
			continue
		}
		children[reg[:len(region)+2]] = true
	}
	for code := range fresh { // regions held here with no counters yet
		if len(code) > len(region) && strings.HasPrefix(code, region) {
			children[code[:len(region)+2]] = true
		}
	}
	for child := range children {
		f, err := figuresOf(r, child, true, fresh, now)
		if err != nil {
			fail(c, err)
			return
		}
		out.Children = append(out.Children, ChildRow{RegionRef: regionRef(child), Figures: f.Figures})
	}
	sort.Slice(out.Children, func(i, j int) bool { return out.Children[i].Region < out.Children[j].Region })
	c.JSON(200, out)
}

type figuresAndRegions struct {
	Figures
	regions []string
}

// figuresOf reads the counters of region (subtree: and below it): a few
// hundred materialised counters per region, never a record; the
// clock-dependent ones (ageing, stages overdue, outages this month) are
// judged at now.
func figuresOf(r crm.Reader, region string, subtree bool, fresh map[string]Freshness, now time.Time) (figuresAndRegions, error) {
	sum, err := crm.Summarize(r, region, subtree)
	if err != nil {
		return figuresAndRegions{}, err
	}
	pc, err := process.ProcessCounters(r, region, subtree)
	if err != nil {
		return figuresAndRegions{}, err
	}
	f := Figures{Customers: sum.Customers, ByCategory: sum.ByCategory, ByVoltageClass: sum.ByVoltageClass, ByStatus: sum.ByStatus,
		KWhByMonth: sum.KWhByMonth, BilledByMonth: sum.BilledByMonth, Arrears: sum.Arrears,
		WorkOrdersOpenState: map[string]int64{}, OutagesByType: map[string]int64{},
		ArrearsAgeing: crm.AgeArrears(sum.ArrearsByPeriod, sum.ArrearsBillsByPeriod, now)}
	for _, n := range sum.ArrearsBillsByPeriod {
		f.ArrearsBills += n
	}
	cf := process.ClockFiguresOf(pc, now)
	f.ProjectStagesDue, f.ProjectStagesNoDue = cf.StagesOverdue, cf.StagesNoDeadline
	f.OutagesMonth, f.OutagesMonthByType, f.OutagesByMonth = cf.Outages, cf.OutagesByType, process.OutagesByMonth(pc)
	for _, v := range sum.BilledByMonth {
		f.BilledTotal += v
	}
	f.BilledTotal = math.Round(f.BilledTotal*100) / 100
	if f.BilledTotal > 0 {
		rate := math.Max(0, 1-f.Arrears/f.BilledTotal)
		f.CollectionRate = &rate
	}
	for m, v := range pc {
		n := int64(math.Round(v))
		switch {
		case strings.HasPrefix(m, "work_orders.open.state."):
			f.WorkOrdersOpenState[m[len("work_orders.open.state."):]] += n
			f.WorkOrdersOpen += n
		case m == "projects.status.open":
			f.ProjectsOpen += n
		case m == "projects.stages_late":
			f.ProjectStagesLate += n
		case strings.HasPrefix(m, "outages.type."):
			f.OutagesByType[m[len("outages.type."):]] += n
			f.Outages += n
		}
	}
	for code, fr := range fresh {
		if fr.AgeSeconds == nil || !(code == region || subtree && strings.HasPrefix(code, region)) {
			continue
		}
		if f.FreshnessAgeSeconds == nil || *fr.AgeSeconds > *f.FreshnessAgeSeconds {
			age := *fr.AgeSeconds
			f.FreshnessAgeSeconds = &age
		}
	}
	return figuresAndRegions{Figures: f, regions: sum.Regions}, nil
}
