package api

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/gin-gonic/gin"

	"gridcrm/analytics/forecast"
	"gridcrm/analytics/market"
	"gridcrm/analytics/records"
	"gridcrm/crm"
)

// The fee, tariff and market analyses (analytics/market) at any tier over
// the caller's region or subtree, from the market counters kept on apply
// (crm/market.go): never the bills.

func marketOps() []op {
	scoped := func(q ...string) []string { return append([]string{"region", "scope", "consistency"}, q...) }
	return []op{
		{method: "GET", path: "/api/v1/analysis/tariff", summary: "Average price per kWh (yuan) by customer category or voltage class (dim=category, the default, or voltage_class) and month, with its month-on-month and year-on-year change and the year-on-year change of the kWh and the amount billed (bill_vs_kwh: the amount moving beyond the consumption), from the materialised market counters", ok: 200, roles: readRoles,
			query: scoped("dim", "from", "to")},
		{method: "GET", path: "/api/v1/analysis/market", summary: "Market analysis of a month (default: the last billed in scope): consumption and customers billed by customer category and by voltage class, year on year, with each one's share; customers by category now; the peak, flat and valley shares of the time-of-use kWh over the 12 months to it; by_industry: the business customers' kWh of the 12 months to it against the 12 before by industry (where known, else unknown), from the trends the warning run stored that month; from the materialised counters", ok: 200, roles: readRoles,
			query: scoped("period")},
		{method: "GET", path: "/api/v1/analysis/customers", summary: "Business customers ranked by their last 12 months against the 12 before, as the monthly warning run stored them (customer_trends): rank=growing (the fastest-growing), shrinking (the fastest-shrinking), bill_vs_kwh (bills that moved much more than their consumption, with the reason: tariff, peak_share or capacity_charge) or peak_share (the highest peak share: peak-shifting candidates); limit 1-100 (default 20); period defaults to the last month run in scope", ok: 200, roles: readRoles,
			query: scoped("rank", "period", "limit")},
		{method: "GET", path: "/api/v1/analysis/tariff/effect", summary: "The effect of a tariff change: the average price per kWh in the months before at (or the effective month of a tariff directive: directive=<id>) against at and the months after (months 1-12, default 3, fewer after if fewer are billed), by customer category or voltage class (dim) and by owner region, from the market counters; and the customers whose price per kWh rose most, i.e. whose bill rose most for the same energy (limit 1-100, default 20), from the customer cards", ok: 200, roles: readRoles,
			query: scoped("at", "directive", "months", "dim", "limit")},
		{method: "GET", path: "/api/v1/analysis/market/top", summary: "Share of the top customers: the share of the 12 months' kWh to period (default: the last billed in scope) the 10 biggest customers, the top 1% and the top 10% make, the customers that make 80%, and the biggest (limit 1-100, default 10), from the customer cards (per-customer kWh by month, kept on apply)", ok: 200, roles: readRoles,
			query: scoped("period", "limit")},
		{method: "GET", path: "/api/v1/analysis/capacity", summary: "Capacity added by connection projects: kVA and projects energised per CST month (from..to, default the last 12 months counted), by project kind and class and by owner region, from the counters kept on every project write", ok: 200, roles: readRoles,
			query: scoped("from", "to")},
	}
}

func (s *Server) marketRoutes(v1 *gin.RouterGroup) {
	read := allow(readRoles...)
	v1.GET("/analysis/tariff", read, s.tariffAnalysis)
	v1.GET("/analysis/market", read, s.marketAnalysis)
	v1.GET("/analysis/customers", read, s.customerRanking)
	v1.GET("/analysis/tariff/effect", read, s.tariffEffect)
	v1.GET("/analysis/market/top", read, s.marketTop)
	v1.GET("/analysis/capacity", read, s.capacityAdded)
}

// lastBilled answers the last month the market counters count a bill in
// (a bill with a category: in the category slices as in ByRegion).
func lastBilled(m crm.MarketCounters) string {
	last := ""
	for _, months := range m.Slices["cat"] {
		for p, c := range months {
			if c.Bills > 0 {
				last = max(last, p)
			}
		}
	}
	return last
}

// tariffEffect compares the price per kWh before and after a tariff
// change, by slice and owner region from the market counters, and lists
// the customers whose price rose most from their cards.
func (s *Server) tariffEffect(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	_, at, ok := queryMonth(c, "at")
	if !ok {
		return
	}
	r := s.b.Reader()
	directive := c.Query("directive")
	if directive != "" {
		if at != "" {
			fail(c, apiErr(crm.CodeInvalid, "directive", "give at or directive, not both"))
			return
		}
		raw, e := crm.Get(r, "directives", directive)
		if e != nil {
			fail(c, apiErr(crm.CodeInvalid, "directive", fmt.Sprintf("%q: no directive with that id here", directive)))
			return
		}
		var d crm.Directive
		if json.Unmarshal(raw, &d) != nil || d.Kind != "tariff" || len(d.EffectiveFrom) < 7 {
			fail(c, apiErr(crm.CodeInvalid, "directive", fmt.Sprintf("%q is not a tariff directive with an effective_from date", directive)))
			return
		}
		at = string(d.EffectiveFrom)[:7]
	}
	if at == "" {
		fail(c, apiErr(crm.CodeInvalid, "at", "is required: the first month under the new tariff (YYYY-MM), or directive=<id of a tariff directive>"))
		return
	}
	months, ok := queryInt(c, "months", 3, 1, 12)
	if !ok {
		return
	}
	dim, ok := dimOf(c)
	if !ok {
		return
	}
	limit, ok := queryInt(c, "limit", 20, 1, 100)
	if !ok || !s.consistent(c) {
		return
	}
	m, err := crm.Market(r, region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	last := lastBilled(m)
	w, err := market.EffectWindow(at, months)
	if err != nil {
		fail(c, apiErr(crm.CodeInvalid, "months", err.Error()))
		return
	}
	if last < at {
		fail(c, &crm.Error{Code: codeInsufficient, Field: "at", Message: fmt.Sprintf("no bills of %s or later are counted in region %s (the last: %q)", at, region, last)})
		return
	}
	if w.AfterTo > last { // as many months on each side as are billed after
		n := 0
		for mo := at; mo <= last; n++ {
			mo = shiftMonth(mo, 1)
		}
		w, _ = market.EffectWindow(at, n)
	}
	regional := market.Slices{}
	for reg, ms := range m.ByRegion {
		regional[reg] = map[string]market.Cell{}
		for month, cell := range ms {
			regional[reg][month] = market.Cell{KWh: cell.KWh, Yuan: cell.Yuan, Bills: cell.Bills}
		}
	}
	all := market.Slices{"all": {}}
	for _, ms := range regional {
		for month, cell := range ms {
			a := all["all"][month]
			a.KWh, a.Yuan, a.Bills = a.KWh+cell.KWh, a.Yuan+cell.Yuan, a.Bills+cell.Bills
			all["all"][month] = a
		}
	}
	out := gin.H{"region": region, "scope": marketScope(subtree), "at": w.At, "months": w.Months, "before": w.Before, "after": w.After,
		"dim": c.DefaultQuery("dim", "category"), "directive": directive, "source": "aggregates",
		"total": market.Effects(all, w), "by_value": market.Effects(slicesOf(m, dim), w), "by_region": market.Effects(regional, w),
		"regions": m.Regions, "freshness": s.b.Freshness(region, subtree)}
	customers, covered, err := risingCustomers(r, region, subtree, w, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out["customers"] = customers
	out["customers_source"] = map[bool]string{true: "customer_cards", false: "none: the cards do not cover the scope's customers"}[covered]
	c.JSON(200, out)
}

// shiftMonth answers the month n months after m (YYYY-MM, valid).
func shiftMonth(m string, n int) string {
	mo, _ := monthOf(m)
	return (mo + forecast.Month(n)).String()
}

// WarmMarketRanking builds the ranking the top-customers list of region's
// subtree reads by default (the 12 months to the last month billed), so
// that the first request after a start or a catch-up does not read every
// card of the scope (crm.CustomersRanked keeps it and patches it as cards
// change). The node calls it with its class memos' warm-up.
func WarmMarketRanking(r crm.Reader, region string) error {
	m, err := crm.MarketTotals(r, region, true)
	if err != nil {
		return err
	}
	period := lastBilled(m)
	if period == "" {
		return nil
	}
	_, _, err = crm.CustomersRanked(r, region, true, crm.Date(shiftMonth(period, 1)+"-01"))
	return err
}

// marketTop answers the share of the top customers over the 12 months to
// period, from the customer cards.
func (s *Server) marketTop(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	_, period, ok := queryMonth(c, "period")
	if !ok {
		return
	}
	limit, ok := queryInt(c, "limit", 10, 1, 100)
	if !ok || !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	if period == "" {
		m, err := crm.MarketTotals(r, region, subtree)
		if err != nil {
			fail(c, err)
			return
		}
		if period = lastBilled(m); period == "" {
			fail(c, &crm.Error{Code: codeInsufficient, Field: "period", Message: fmt.Sprintf("no bills are counted in region %s", region)})
			return
		}
	}
	day := crm.Date(shiftMonth(period, 1) + "-01") // the window of day is the 12 months to period
	rk, covered, err := crm.CustomersRanked(r, region, subtree, day)
	if err != nil {
		fail(c, err)
		return
	}
	if !covered {
		fail(c, &crm.Error{Code: codeInsufficient, Field: "region", Message: fmt.Sprintf("the customer cards of region %s do not cover its customers (a store of before the cards)", region)})
		return
	}
	top, entries := topOf(rk, limit)
	from, to := crm.Window(day)
	c.JSON(200, gin.H{"region": region, "scope": marketScope(subtree), "period": period, "window": [2]string{from, to}, "source": "customer_cards",
		"customers": top.Customers, "total_kwh": top.TotalKWh, "top_10_kwh": top.Top10KWh, "top_10_share": top.Top10Share,
		"top_1_percent_customers": top.Top1PctCount, "top_1_percent_share": top.Top1PctShare,
		"top_10_percent_customers": top.Top10PctCount, "top_10_percent_share": top.Top10PctShare,
		"customers_for_80_percent": top.CustomersFor80, "top": entries})
}

// topEntry is one of the top customers with its name.
type topEntry struct {
	market.TopEntry
	Name     string `json:"name"`
	Category string `json:"category"`
	Region   string `json:"region"`
}

// topMemo keeps the last top shares computed, by the ranking's key and
// the limit: a ranking that did not change is not summed again.
var topMemo = struct {
	sync.Mutex
	m map[string]topAnswer
}{m: map[string]topAnswer{}}

type topAnswer struct {
	top     market.TopShare
	entries []topEntry
}

// topOf answers the top shares of a ranking (already in TopShares' order,
// so its sort finds it sorted) and its first limit customers named.
func topOf(rk *crm.Ranking, limit int) (market.TopShare, []topEntry) {
	key := fmt.Sprintf("%s|%d", rk.Key, limit)
	topMemo.Lock()
	a, ok := topMemo.m[key]
	topMemo.Unlock()
	if ok {
		return a.top, a.entries
	}
	annual := make([]market.Annual, rk.Len())
	for i := range annual {
		annual[i].ID, annual[i].KWh = rk.At(i)
	}
	top := market.TopShares(annual, limit)
	entries := make([]topEntry, len(top.Top))
	for i, t := range top.Top {
		n := rk.Customer(i)
		if n.ID != t.ID { // not in the ranking's order: look it up
			for j := range rk.Len() {
				if id, _ := rk.At(j); id == t.ID {
					n = rk.Customer(j)
					break
				}
			}
		}
		entries[i] = topEntry{t, n.Name, n.Category, n.Region}
	}
	topMemo.Lock()
	if len(topMemo.m) >= 64 {
		clear(topMemo.m)
	}
	topMemo.m[key] = topAnswer{top, entries}
	topMemo.Unlock()
	return top, entries
}

// effectMemo keeps, per owner region, card version and window, the owner's
// customers whose price rose most (its first maxEffects in TopEffects'
// order): the list of a scope merges its owners', and a change recomputes
// the changed owner's only.
var effectMemo = struct {
	sync.Mutex
	m map[string][]market.CustomerEffect
}{m: map[string][]market.CustomerEffect{}}

const maxEffects = 100 // the largest limit

// risingCustomers answers the limit customers of region (subtree: and
// below) whose price per kWh rose most over the effect window w, from
// their cards; covered is false when the cards do not cover the scope's
// customers (no list then).
func risingCustomers(r crm.Reader, region string, subtree bool, w market.Window, limit int) ([]market.CustomerEffect, bool, error) {
	owners, covered, err := crm.CustomerWindowsByOwner(r, region, subtree, w.Before, w.After)
	if err != nil || !covered {
		return []market.CustomerEffect{}, covered, err
	}
	all := []market.CustomerEffect{}
	for _, o := range owners {
		key := fmt.Sprintf("%s|%s|%v|%v|%d", o.Owner, o.Version, w.Before, w.After, w.Months)
		effectMemo.Lock()
		list, ok := effectMemo.m[key]
		effectMemo.Unlock()
		if !ok {
			list = ownerEffects(o, w.Months)
			effectMemo.Lock()
			if len(effectMemo.m) >= 4096 {
				clear(effectMemo.m)
			}
			effectMemo.m[key] = list
			effectMemo.Unlock()
		}
		all = append(all, list[:min(limit, len(list))]...)
	}
	return market.TopEffects(all, limit), true, nil
}

// ownerEffects answers an owner's customers billed every month of both
// windows with their price change, the first maxEffects in TopEffects'
// order.
func ownerEffects(o crm.OwnerWindows, months int) []market.CustomerEffect {
	before, after := o.Customers(0), o.Customers(1) // both by id
	keep := market.TopEffectsKeeper{Limit: maxEffects}
	for i, j := 0, 0; i < len(before) && j < len(after); {
		switch b, a := before[i], after[j]; {
		case b.ID < a.ID:
			i++
		case a.ID < b.ID:
			j++
		default:
			if e, ok := market.CustomerEffectOf(a.ID, market.CustomerSide{KWh: b.KWh, Yuan: b.Billed, Months: b.Months},
				market.CustomerSide{KWh: a.KWh, Yuan: a.Billed, Months: a.Months}, months); ok {
				e.Name, e.Category, e.Region = a.Name, a.Category, a.Region
				keep.Add(e)
			}
			i, j = i+1, j+1
		}
	}
	return slices.Clip(keep.Top())
}

// CapacityMonth is one month of capacity energised.

type CapacityMonth struct {
	Month    string                       `json:"month"`
	KVA      float64                      `json:"kva"`
	Projects int64                        `json:"projects"`
	ByKind   map[string]*crm.CapacityCell `json:"by_kind_class"` // "<kind>.<class>"
	ByRegion map[string]float64           `json:"by_region_kva"`
}

// capacityAdded answers the capacity connection projects energised per
// month, from the counters.
func (s *Server) capacityAdded(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	from, to, ok := monthRange(c)
	if !ok {
		return
	}
	if !s.consistent(c) {
		return
	}
	m, err := crm.MarketCapacity(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	if to == "" {
		for month := range m.Capacity {
			to = max(to, month)
		}
	}
	if from == "" && to != "" {
		from = shiftMonth(to, -11)
	}
	out := []CapacityMonth{}
	var kva float64
	var projects int64
	for month, cells := range m.Capacity {
		if month < from || month > to {
			continue
		}
		cm := CapacityMonth{Month: month, ByKind: cells, ByRegion: map[string]float64{}}
		for _, cell := range cells {
			cm.KVA += cell.KVA
			cm.Projects += cell.Projects
		}
		for reg, ms := range m.CapacityByRegion {
			if v := ms[month]; v != 0 {
				cm.ByRegion[reg] = v
			}
		}
		kva += cm.KVA
		projects += cm.Projects
		out = append(out, cm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month < out[j].Month })
	c.JSON(200, gin.H{"region": region, "scope": marketScope(subtree), "from": from, "to": to, "source": "aggregates",
		"kva": kva, "projects": projects, "months": out, "freshness": s.b.Freshness(region, subtree)})
}

// customerRanking lists the first customers of a rank of the stored
// trends of a month, read from the rank's index (records.TrendsRanked).
func (s *Server) customerRanking(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	rank := c.Query("rank")
	if !slices.Contains(records.TrendRanks, rank) {
		fail(c, apiErr(crm.CodeInvalid, "rank", fmt.Sprintf("%q: must be one of %v", rank, records.TrendRanks)))
		return
	}
	_, period, ok := queryMonth(c, "period")
	if !ok {
		return
	}
	limit, ok := queryInt(c, "limit", 20, 1, 100)
	if !ok || !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	if period == "" {
		sum, err := crm.Summarize(r, region, subtree)
		if err != nil {
			fail(c, err)
			return
		}
		for p := range sum.KWhByMonth {
			period = max(period, p)
		}
	}
	out := []records.CustomerTrend{}
	if period != "" {
		if err := records.TrendsRanked(r, rank, period, region, subtree, func(t *records.CustomerTrend) bool {
			out = append(out, *t)
			return len(out) < limit
		}); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(200, gin.H{"region": region, "scope": marketScope(subtree), "rank": rank, "period": period, "source": "customer_trends", "customers": out})
}

// dimOf maps the dim parameter to the counters' dimension.
func dimOf(c *gin.Context) (string, bool) {
	switch c.DefaultQuery("dim", "category") {
	case "category":
		return "cat", true
	case "voltage_class":
		return "volt", true
	}
	fail(c, apiErr(crm.CodeInvalid, "dim", "must be category or voltage_class"))
	return "", false
}

func slicesOf(m crm.MarketCounters, dim string) market.Slices {
	out := market.Slices{}
	for val, months := range m.Slices[dim] {
		out[val] = map[string]market.Cell{}
		for month, c := range months {
			out[val][month] = market.Cell{KWh: c.KWh, Yuan: c.Yuan, Bills: c.Bills}
		}
	}
	return out
}

func (s *Server) tariffAnalysis(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	dim, ok := dimOf(c)
	if !ok {
		return
	}
	from, to, ok := monthRange(c)
	if !ok {
		return
	}
	if !s.consistent(c) {
		return
	}
	m, err := crm.MarketTotals(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{"region": region, "scope": marketScope(subtree), "dim": c.DefaultQuery("dim", "category"), "source": "aggregates",
		"prices": market.Prices(slicesOf(m, dim), from, to), "regions": m.Regions, "freshness": s.b.Freshness(region, subtree)})
}

func marketScope(subtree bool) string {
	if subtree {
		return "subtree"
	}
	return "region"
}

func (s *Server) marketAnalysis(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	at, period, ok := queryMonth(c, "period")
	if !ok || !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	m, err := crm.MarketTotals(r, region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	sum, err := crm.Summarize(r, region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	if period == "" {
		for p := range sum.KWhByMonth {
			period = max(period, p)
		}
		if period == "" {
			fail(c, &crm.Error{Code: codeInsufficient, Field: "period", Message: fmt.Sprintf("no bills are counted in region %s (scope %s)", region, sum.Scope)})
			return
		}
		at, _ = monthOf(period)
	}
	byCat, err := market.GrowthOf(slicesOf(m, "cat"), period)
	if err != nil {
		fail(c, apiErr(crm.CodeInvalid, "period", err.Error()))
		return
	}
	byVolt, _ := market.GrowthOf(slicesOf(m, "volt"), period)
	tou := market.TOUShares(m.TOU, sum.KWhByMonth, (at - 11).String(), period)
	inds := map[string]market.IndustryCell{}
	for name, cell := range m.Industry[period] {
		inds[name] = market.IndustryCell{Customers: cell.Customers, KWh12: cell.KWh12, KWh12Prev: cell.KWh12Prev}
	}
	c.JSON(200, gin.H{"region": region, "scope": sum.Scope, "period": period, "source": "aggregates",
		"by_category": byCat, "by_voltage_class": byVolt, "customers_by_category": sum.ByCategory, "by_industry": market.ByIndustry(inds),
		"time_of_use": tou, "regions": m.Regions, "freshness": s.b.Freshness(region, subtree)})
}

// sliceKWh answers the monthly kWh of one category or voltage class of
// the market counters, for the demand forecast of that slice; field names
// the parameter when the value is unknown.
func sliceKWh(c *gin.Context, m crm.MarketCounters) (map[forecast.Month]float64, string, bool) {
	dim, field, val := "", "", ""
	if v := c.Query("category"); v != "" {
		dim, field, val = "cat", "category", v
		if !slices.Contains(crm.Categories, v) {
			fail(c, apiErr(crm.CodeInvalid, "category", fmt.Sprintf("%q: must be one of %v", v, crm.Categories)))
			return nil, "", false
		}
	}
	if v := c.Query("voltage_class"); v != "" {
		if dim != "" {
			fail(c, apiErr(crm.CodeInvalid, "voltage_class", "give category or voltage_class, not both"))
			return nil, "", false
		}
		dim, field, val = "volt", "voltage_class", v
		if v != "low" && v != "medium" && v != "high" {
			fail(c, apiErr(crm.CodeInvalid, "voltage_class", fmt.Sprintf("%q: must be low, medium or high", v)))
			return nil, "", false
		}
	}
	if dim == "" {
		return nil, "", true
	}
	kwh := map[forecast.Month]float64{}
	for month, cell := range m.Slices[dim][val] {
		if mo, ok := monthOf(month); ok && !math.IsNaN(cell.KWh) {
			kwh[mo] += cell.KWh
		}
	}
	return kwh, field, true
}

// monthRange reads the optional ?from= and ?to= months (YYYY-MM), to not
// before from.
func monthRange(c *gin.Context) (from, to string, ok bool) {
	if _, from, ok = queryMonth(c, "from"); !ok {
		return
	}
	if _, to, ok = queryMonth(c, "to"); !ok {
		return
	}
	if from != "" && to != "" && to < from {
		fail(c, apiErr(crm.CodeInvalid, "to", fmt.Sprintf("%s is before from (%s)", to, from)))
		return "", "", false
	}
	return from, to, true
}
