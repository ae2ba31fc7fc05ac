package api

import (
	"fmt"
	"math"
	"slices"

	"github.com/gin-gonic/gin"

	"gridcrm/analytics/forecast"
	"gridcrm/analytics/market"
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
		{method: "GET", path: "/api/v1/analysis/market", summary: "Market analysis of a month (default: the last billed in scope): consumption and customers billed by customer category and by voltage class, year on year, with each one's share; customers by category now; the peak, flat and valley shares of the time-of-use kWh over the 12 months to it; from the materialised counters", ok: 200, roles: readRoles,
			query: scoped("period")},
		{method: "GET", path: "/api/v1/analysis/customers", summary: "Business customers ranked by their last 12 months against the 12 before, as the monthly warning run stored them (customer_trends): rank=growing (the fastest-growing), shrinking (the fastest-shrinking), bill_vs_kwh (bills that moved much more than their consumption, with the reason: tariff, peak_share or capacity_charge) or peak_share (the highest peak share: peak-shifting candidates); limit 1-100 (default 20); period defaults to the last month run in scope", ok: 200, roles: readRoles,
			query: scoped("rank", "period", "limit")},
	}
}

func (s *Server) marketRoutes(v1 *gin.RouterGroup) {
	read := allow(readRoles...)
	v1.GET("/analysis/tariff", read, s.tariffAnalysis)
	v1.GET("/analysis/market", read, s.marketAnalysis)
	v1.GET("/analysis/customers", read, s.customerRanking)
}

// customerRanking lists the first customers of a rank of the stored
// trends of a month, read from the rank's index (crm.TrendsRanked).
func (s *Server) customerRanking(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	rank := c.Query("rank")
	if !slices.Contains(crm.TrendRanks, rank) {
		fail(c, apiErr(crm.CodeInvalid, "rank", fmt.Sprintf("%q: must be one of %v", rank, crm.TrendRanks)))
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
	out := []crm.CustomerTrend{}
	if period != "" {
		if err := crm.TrendsRanked(r, rank, period, region, subtree, func(t *crm.CustomerTrend) bool {
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
	_, from, ok := queryMonth(c, "from")
	if !ok {
		return
	}
	_, to, ok := queryMonth(c, "to")
	if !ok {
		return
	}
	if from != "" && to != "" && to < from {
		fail(c, apiErr(crm.CodeInvalid, "to", fmt.Sprintf("%s is before from (%s)", to, from)))
		return
	}
	if !s.consistent(c) {
		return
	}
	m, err := crm.Market(s.b.Reader(), region, subtree)
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
	m, err := crm.Market(r, region, subtree)
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
	c.JSON(200, gin.H{"region": region, "scope": sum.Scope, "period": period, "source": "aggregates",
		"by_category": byCat, "by_voltage_class": byVolt, "customers_by_category": sum.ByCategory,
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
