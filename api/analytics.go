package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/analytics/credit"
	"gridcrm/analytics/forecast"
	"gridcrm/analytics/records"
	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/process"
)

// Analytics: demand forecasts, credit grades and the warning lists
// (analytics/forecast, analytics/credit, analytics/warning). The same
// routes at every tier, scoped like every read (?region=, scope=subtree,
// the caller's own subtree only). Where each figure is computed:
//
//   - a region's (or subtree's) forecast reads the kwh.<YYYY-MM> counters
//     of the aggregates, never the customers' bills: at a province that is
//     a few thousand counters, whatever the number of customers;
//   - a customer's forecast and credit grade read that customer's bills
//     (its customer_id index), at whichever tier holds them;
//   - grades are computed where the customer is owned, by the grade run,
//     and stored as credit_grades records that replicate up and count in
//     the aggregates (credit.<YYYY-MM>.<grade>): the distribution at any
//     tier reads counters;
//   - the warning lists read the consumption_warnings records the monthly
//     warning run wrote where the customers are owned (warnings.go).
//
// Registered by routes() through analyticsRoutes; documented in
// analyticsOps.

func init() {
	writeRolesOf["credit_grades"] = []string{crm.RoleAdmin, crm.RoleManager}
	writeRolesOf["warning_acks"] = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	// 违约用电 and 窃电 found at a customer (crm/violation.go), read by the grade.
	writeRolesOf["violations"] = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	// 减容 and 暂停 of a customer's capacity (crm/capacity_change.go), read by the churn risk.
	writeRolesOf["capacity_changes"] = []string{crm.RoleAdmin, crm.RoleManager, crm.RoleAgent}
	generatedOnly["credit_grades"] = "POST /api/v1/credit/grades/run"
	writeRolesOf["consumption_warnings"] = []string{crm.RoleAdmin, crm.RoleManager}
	generatedOnly["consumption_warnings"] = "POST /api/v1/warnings/run"
	writeRolesOf["analytics_runs"] = []string{crm.RoleAdmin}
	generatedOnly["analytics_runs"] = "the leader's monthly analytics schedule (scheduler.go)"
	writeRolesOf["customer_trends"] = []string{crm.RoleAdmin, crm.RoleManager}
	generatedOnly["customer_trends"] = "POST /api/v1/warnings/run"
}

func (s *Server) analyticsRoutes(v1 *gin.RouterGroup) {
	read := allow(readRoles...)
	v1.GET("/forecast/demand", read, s.regionForecast)
	v1.GET("/customers/:id/forecast", read, s.customerForecast)
	v1.GET("/customers/:id/credit", read, s.customerCredit)
	v1.GET("/credit/distribution", read, s.creditDistribution)
	v1.POST("/credit/grades/run", allow(writeRolesOf["credit_grades"]...), s.gradeRunRoute)
	v1.POST("/warnings/run", allow(writeRolesOf["consumption_warnings"]...), s.warningRunRoute)
	v1.GET("/warnings/abnormal", read, s.abnormalWarnings)
	v1.GET("/warnings/churn", read, s.churnWarnings)
	s.marketRoutes(v1) // market.go: fee, tariff and market analyses
}

func analyticsOps() []op {
	scoped := func(q ...string) []string { return append([]string{"region", "scope", "consistency"}, q...) }
	return append(marketOps(), []op{
		{method: "GET", path: "/api/v1/forecast/demand", summary: "Monthly energy forecast (kWh) of a region or subtree, horizons 1-12, with 80%/95% intervals and quarterly and yearly totals, from the materialised monthly kWh aggregates (never the bills); category or voltage_class forecasts that slice alone, from the market counters; feeder (a 10 kV 线路) forecasts the customers that feeder supplies in scope, from their customer cards (one read a customer, never the bills; at most 20,000 customers)", ok: 200, roles: readRoles,
			query: scoped("horizon", "as_of", "category", "voltage_class", "feeder")},
		{method: "GET", path: "/api/v1/customers/{id}/forecast", summary: "Monthly energy forecast (kWh) of one customer from its own bills, horizons 1-12, with 80%/95% intervals and quarterly and yearly totals", ok: 200, roles: readRoles,
			query: []string{"horizon", "as_of", "consistency"}},
		{method: "GET", path: "/api/v1/customers/{id}/credit", summary: "One customer's credit grade as of a month from its bills: score (300-900), grade (A/B/C), reasons (vetoes first), churn risk (business customers), recommended payment method and security; and the stored grade of that month if the grade run wrote one", ok: 200, roles: readRoles,
			query: []string{"as_of", "consistency"}},
		{method: "GET", path: "/api/v1/credit/distribution", summary: "Credit-grade distribution of a region or subtree by graded month, with the change against the month graded before, from the materialised grade counters", ok: 200, roles: readRoles,
			query: scoped("period")},
		{method: "POST", path: "/api/v1/credit/grades/run", summary: "Grade this region's own customers as of period (bills up to it) and store the grades as credit_grades records (replicated and counted like any record); customers already graded for period are skipped", ok: 200, roles: writeRolesOf["credit_grades"],
			body: object(map[string]any{"period": str()}, "period")},
		{method: "POST", path: "/api/v1/warnings/run", summary: "Judge this region's own customers for period and store the warnings as consumption_warnings records (replicated like any record): abnormal consumption (zero, drop, rise) against each customer's own forecast and volatility, and the churn risk of every business customer from its credit grade of the month; warnings period already holds are skipped", ok: 200, roles: writeRolesOf["consumption_warnings"],
			body: object(map[string]any{"period": str()}, "period")},
		{method: "GET", path: "/api/v1/warnings/abnormal", summary: "Abnormal-consumption warnings of a month stored by the warning run (reasons zero, drop or rise against the customer's own forecast, with the expected kWh, the normal band and the change), of a region, a subtree or one account manager (manager_id: the customer's gold manager), with the answer (warning_acks) if any. class=big (default) keeps commercial and industrial customers of min_kva and more and any at 35 kV and above; threshold keeps changes of at least that share. A page of at most limit (default 200, 1–1000) in region and id order; next, when there is more, is the after of the next page (<region>/<warning id>). Acknowledge or dismiss with POST /api/v1/warning_acks", ok: 200, roles: readRoles,
			query: scoped("period", "threshold", "min_kva", "class", "manager_id", "status", "limit", "after")},
		{method: "GET", path: "/api/v1/warnings/churn", summary: "Churn warnings of a month stored by the warning run: business customers whose churn risk is at or above threshold, riskiest first, at most limit of them (default 100, 1–1000; more: true when the scope holds more), read from a risk-ordered index owner by owner, with the credit grade's reasons and the answer (warning_acks) if any; of a region, a subtree or one account manager (manager_id). Acknowledge or dismiss with POST /api/v1/warning_acks", ok: 200, roles: readRoles,
			query: scoped("period", "threshold", "manager_id", "status", "limit")},
	}...)
}

// queryInt reads an optional whole-number parameter within lo..hi.
func queryInt(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	q, ok := c.GetQuery(name)
	if !ok {
		return def, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < lo || n > hi {
		fail(c, apiErr(crm.CodeInvalid, name, fmt.Sprintf("%q: want a whole number from %d to %d", q, lo, hi)))
		return 0, false
	}
	return n, true
}

// queryFloat reads an optional number parameter within (lo, hi].
func queryFloat(c *gin.Context, name string, def, lo, hi float64) (float64, bool) {
	q, ok := c.GetQuery(name)
	if !ok {
		return def, true
	}
	v, err := strconv.ParseFloat(q, 64)
	if err != nil || !(v > lo && v <= hi) {
		fail(c, apiErr(crm.CodeInvalid, name, fmt.Sprintf("%q: want a number above %v and at most %v", q, lo, hi)))
		return 0, false
	}
	return v, true
}

// queryMonth reads an optional YYYY-MM parameter; ok with "" when absent.
func queryMonth(c *gin.Context, name string) (forecast.Month, string, bool) {
	q := c.Query(name)
	if q == "" {
		return 0, "", true
	}
	m, err := credit.ParseMonth(q)
	if err != nil {
		fail(c, apiErr(crm.CodeInvalid, name, fmt.Sprintf("%q is not a month of the form YYYY-MM", q)))
		return 0, "", false
	}
	return forecast.Month(m), q, true
}

// queryStatus reads ?status= of a warning list: open (default), all,
// acknowledged or dismissed.
func queryStatus(c *gin.Context) (string, bool) {
	st := c.DefaultQuery("status", "open")
	switch st {
	case "open", "all", records.AckAcknowledged, records.AckDismissed:
		return st, true
	}
	fail(c, apiErr(crm.CodeInvalid, "status", "must be open, all, acknowledged or dismissed"))
	return "", false
}

func monthOf(period string) (forecast.Month, bool) {
	m, err := credit.ParseMonth(period)
	return forecast.Month(m), err == nil
}

// ForecastAnswer is a demand forecast as the routes answer it (kWh).
type ForecastAnswer struct {
	Region     string `json:"region,omitempty"`
	Scope      string `json:"scope,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
	Feeder     string `json:"feeder,omitempty"`
	Source     string `json:"source"` // aggregates or bills
	Unit       string `json:"unit"`
	Method     string `json:"method"`
	Origin     string `json:"origin"` // last month of history used
	Horizon    int    `json:"horizon"`
	History    int    `json:"history_months"`
	Residuals  int    `json:"interval_residuals"` // out-of-sample errors behind the intervals (< 12: the seasonal naive's spread stands in)
	// WorkingDays is the calendar regressor used: "calendar" (the region's
	// working-day calendar covers every month of the history and the
	// horizon, so a Spring Festival moving between January and February
	// moves the forecast), or "none: …" naming the years it lacks.
	WorkingDays string               `json:"working_days"`
	Months      []ForecastMonth      `json:"months"`
	Quarters    []ForecastTotal      `json:"quarters"`
	Years       []ForecastTotal      `json:"years"`
	Regions     []string             `json:"regions,omitempty"`
	Freshness   map[string]Freshness `json:"freshness,omitempty"`
}

// ForecastMonth is one forecast month with its 80% and 95% intervals.
type ForecastMonth struct {
	Month string  `json:"month"`
	KWh   float64 `json:"kwh"`
	Lo80  float64 `json:"lo80"`
	Hi80  float64 `json:"hi80"`
	Lo95  float64 `json:"lo95"`
	Hi95  float64 `json:"hi95"`
}

// ForecastTotal is a calendar quarter or year: known months as actuals,
// the rest forecast.
type ForecastTotal struct {
	Period    string  `json:"period"`
	KWh       float64 `json:"kwh"`
	Known     int     `json:"known_months"`
	Forecast  int     `json:"forecast_months"`
	Truncated bool    `json:"truncated"` // the horizon ends before the period does
	Lo80      float64 `json:"lo80"`
	Hi80      float64 `json:"hi80"`
	Lo95      float64 `json:"lo95"`
	Hi95      float64 `json:"hi95"`
}

// monthlySeries turns kWh by month into a forecast series ending at asOf
// (0: the last month with a reading). A month without a reading, or with
// zero, is missing (NaN): the method fills it for fitting only.
func monthlySeries(name string, kwh map[forecast.Month]float64, asOf forecast.Month) (forecast.Series, error) {
	var first, last forecast.Month = -1, -1
	for m, v := range kwh {
		if v <= 0 || (asOf > 0 && m > asOf) {
			continue
		}
		if first < 0 || m < first {
			first = m
		}
		if m > last {
			last = m
		}
	}
	if first < 0 {
		return forecast.Series{}, fmt.Errorf("%w: %s has no consumption", forecast.ErrShortHistory, name)
	}
	if asOf > 0 && last != asOf {
		return forecast.Series{}, fmt.Errorf("%w: %s has no consumption in %s (the last is %s)", forecast.ErrShortHistory, name, asOf, last)
	}
	n := int(last-first) + 1
	s := forecast.Series{Name: name, Start: first, Energy: make([]float64, n), Peak: make([]float64, n), Hours: make([]int, n)}
	for i := range n {
		s.Peak[i] = math.NaN()
		if v, ok := kwh[first+forecast.Month(i)]; ok && v > 0 {
			s.Energy[i] = v
		} else {
			s.Energy[i] = math.NaN()
		}
	}
	return s, nil
}

// workingDaysOver answers cal's working-day count for the forecast of s
// over horizon months, and what the answer says of it: nil and "none: …"
// when cal lacks a year of those months (the regressor is never guessed;
// the shipped calendar holds 2025 and 2026, calendar directives add years).
func workingDaysOver(cal *workday.Calendar, s forecast.Series, horizon int) (forecast.WorkingDays, string) {
	wd := forecast.ChineseWorkingDays(cal)
	var missing []string
	for m := s.Start; m < s.Start+forecast.Month(s.Len()+horizon); m++ {
		if _, err := wd(m); err != nil {
			if y := strconv.Itoa(m.Year()); !slices.Contains(missing, y) {
				missing = append(missing, y)
			}
		}
	}
	if len(missing) > 0 {
		return nil, "none: the working-day calendar lacks " + strings.Join(missing, ", ") + " (a calendar directive loads a year)"
	}
	return wd, "calendar"
}

// forecastOf forecasts s with the working-day calendar cal (when it covers
// the months) and shapes the answer; a short history answers 422 naming
// field.
func forecastOf(s forecast.Series, horizon int, field string, cal *workday.Calendar) (ForecastAnswer, *crm.Error) {
	m := forecast.Default()
	wd, basis := workingDaysOver(cal, s, horizon)
	out, err := forecast.Forecast(s, m, forecast.Config{Horizon: horizon, WorkingDays: wd})
	if errors.Is(err, forecast.ErrShortHistory) {
		return ForecastAnswer{}, &crm.Error{Code: codeInsufficient, Field: field,
			Message: fmt.Sprintf("%v; a forecast needs at least %d months of consumption", err, m.MinHistory())}
	}
	if err != nil {
		return ForecastAnswer{}, apiErr(codeInternal, "", err.Error())
	}
	method := m.Name()
	if s.Len() < 24 {
		method = forecast.SeasonalNaive{}.Name() // the default's fallback under two years
	}
	a := ForecastAnswer{Unit: "kWh", Method: method, Origin: out.Origin.String(), Horizon: horizon, History: s.Len(),
		Residuals: out.Energy.Residuals, WorkingDays: basis, Months: []ForecastMonth{}}
	e := out.Energy
	for h := range e.Point {
		a.Months = append(a.Months, ForecastMonth{Month: (e.Start + forecast.Month(h)).String(), KWh: r2(e.Point[h]),
			Lo80: r2(e.Lo[0][h]), Hi80: r2(e.Hi[0][h]), Lo95: r2(e.Lo[1][h]), Hi95: r2(e.Hi[1][h])})
	}
	totals := func(ts []forecast.Total) []ForecastTotal {
		out := []ForecastTotal{}
		for _, t := range ts {
			out = append(out, ForecastTotal{Period: t.Label, KWh: r2(t.Point), Known: t.Known, Forecast: t.Forecast, Truncated: t.Truncated,
				Lo80: r2(t.Lo[0]), Hi80: r2(t.Hi[0]), Lo95: r2(t.Lo[1]), Hi95: r2(t.Hi[1])})
		}
		return out
	}
	a.Quarters, a.Years = totals(out.Quarters), totals(out.Years)
	return a, nil
}

func r2(v float64) float64 { return math.Round(v*100) / 100 }

// regionForecast forecasts a region (scope=subtree: with every region
// under it) from the kwh.<YYYY-MM> aggregate counters.
func (s *Server) regionForecast(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	horizon, ok := queryInt(c, "horizon", 12, 1, 12)
	if !ok {
		return
	}
	asOf, _, ok := queryMonth(c, "as_of")
	if !ok || !s.consistent(c) {
		return
	}
	sum, err := crm.Summarize(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	kwh := map[forecast.Month]float64{}
	for p, v := range sum.KWhByMonth {
		if m, ok := monthOf(p); ok {
			kwh[m] += v
		}
	}
	if len(kwh) == 0 {
		fail(c, apiErr(crm.CodeInvalid, "region", fmt.Sprintf("no consumption is held for region %s (scope %s): not a region with customers here", region, sum.Scope)))
		return
	}
	mc, err := crm.MarketTotals(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	slice, field, ok := sliceKWh(c, mc)
	if !ok {
		return
	}
	source := "aggregates"
	if feeder := c.Query("feeder"); feeder != "" {
		if field != "" {
			fail(c, apiErr(crm.CodeInvalid, "feeder", "give feeder, category or voltage_class, not two"))
			return
		}
		var e *crm.Error
		if slice, e = feederKWh(s.b.Reader(), feeder, region, subtree); e != nil {
			fail(c, e)
			return
		}
		field, source = "feeder", "cards"
	}
	if field != "" {
		if len(slice) == 0 {
			fail(c, &crm.Error{Code: codeInsufficient, Field: field, Message: fmt.Sprintf("no consumption of %s %s is counted in region %s (scope %s)", field, c.Query(field), region, sum.Scope)})
			return
		}
		kwh = slice
	}
	series, err := monthlySeries("region "+region, kwh, asOf)
	if err != nil {
		fail(c, &crm.Error{Code: codeInsufficient, Field: "as_of", Message: err.Error()})
		return
	}
	cal, err := process.CalendarFor(s.b.Reader(), region)
	if err != nil {
		fail(c, err)
		return
	}
	a, e := forecastOf(series, horizon, "region", cal)
	if e != nil {
		fail(c, e)
		return
	}
	a.Region, a.Scope, a.Source, a.Regions, a.Freshness = region, sum.Scope, source, sum.Regions, s.b.Freshness(region, subtree)
	a.Feeder = c.Query("feeder")
	c.JSON(200, a)
}

// maxFeederCustomers bounds the customers a feeder's forecast sums (a 10 kV
// feeder supplies hundreds to a few thousand).
const maxFeederCustomers = 20_000

// feederKWh sums the monthly kWh of the customers of feeder in scope
// (the customers' feeder index, then each one's card: one read a customer,
// never their bills); a feeder with no customer in scope, or more than
// maxFeederCustomers, is refused naming feeder.
func feederKWh(r crm.Reader, feeder, region string, subtree bool) (map[forecast.Month]float64, *crm.Error) {
	kwh := map[forecast.Month]float64{}
	n := 0
	// The feeder filter alone, so that the list reads the feeder index
	// (with an owner, a scope the node does not hold alone is listed by
	// owner and filtered: every customer of the region); the scope is
	// asked of each customer the index gives.
	e := forEach(r, "customers", crm.Query{Filters: map[string]string{"feeder": feeder}}, func(raw json.RawMessage) *crm.Error {
		var m crm.Meta
		if err := json.Unmarshal(raw, &m); err != nil {
			return crm.AsError(err)
		}
		if m.Owner != region && !(subtree && crm.InRegion(m.Owner, region)) {
			return nil
		}
		if n++; n > maxFeederCustomers {
			return apiErr(crm.CodeInvalid, "feeder", fmt.Sprintf("feeder %q supplies more than %d customers in region %s: forecast a region or a category instead", feeder, maxFeederCustomers, region))
		}
		_, err := crm.CardMonths(r, m.Owner, m.ID, func(period string, v float64) {
			if mo, ok := monthOf(period); ok {
				kwh[mo] += v
			}
		})
		return crm.AsError(err)
	})
	if e != nil {
		return nil, e
	}
	if n == 0 {
		return nil, &crm.Error{Code: codeInsufficient, Field: "feeder", Message: fmt.Sprintf("no customer of region %s is supplied by feeder %q", region, feeder)}
	}
	return kwh, nil
}

// customerForecast forecasts one customer from its own bills.
func (s *Server) customerForecast(c *gin.Context) {
	horizon, ok := queryInt(c, "horizon", 12, 1, 12)
	if !ok {
		return
	}
	asOf, _, ok := queryMonth(c, "as_of")
	if !ok || !s.consistent(c) {
		return
	}
	owner, ok := s.customerOwner(c)
	if !ok {
		return
	}
	id := c.Param("id")
	bills, e := crm.CustomerBills(s.b.Reader(), id)
	if e != nil {
		fail(c, e)
		return
	}
	kwh := map[forecast.Month]float64{}
	for _, b := range bills {
		if m, ok := monthOf(b.Period); ok {
			kwh[m] = b.KWh
		}
	}
	series, err := monthlySeries("customer "+id, kwh, asOf)
	if err != nil {
		fail(c, &crm.Error{Code: codeInsufficient, Field: "id", Message: err.Error()})
		return
	}
	cal, err := process.CalendarFor(s.b.Reader(), owner)
	if err != nil {
		fail(c, err)
		return
	}
	a, e := forecastOf(series, horizon, "id", cal)
	if e != nil {
		fail(c, e)
		return
	}
	a.CustomerID, a.Source = id, "bills"
	c.JSON(200, a)
}

// dueDay is when a month's bill falls due: the last day of the month
// after it (the bill is read and issued in that month). Days late count
// from it.
func dueDay(m forecast.Month) time.Time {
	return time.Date(m.Year(), m.Calendar()+2, 0, 0, 0, 0, 0, time.UTC)
}

// creditCategory maps a customer category to the credit model's: the
// model knows residential, general commercial and large industrial;
// agricultural and public customers are graded as commercial.
func creditCategory(cat string) credit.Category {
	switch cat {
	case crm.CategoryResidential:
		return credit.Residential
	case crm.CategoryIndustrial:
		return credit.LargeIndustrial
	}
	return credit.GeneralCommercial
}

// creditCustomer turns a customer and its bills into the credit model's
// input. What the records hold: kWh, billed, pay date and arrears per
// month. What they do not, and how it is read (README, issue 15): days
// late from the pay date against the due day (dueDay), or, unpaid, up to
// the end of the as-of month; a bill with arrears is unpaid at the next
// bill; tenure counts months since the first bill; direct debit is the
// tag "direct_debit"; violations and thefts are the customer's violations
// records (violationMarks), not flags on the bills; a closed customer's
// last bill closes the account.
func creditCustomer(cu *crm.Customer, bills []crm.Bill, asOf forecast.Month) credit.Customer {
	out := credit.Customer{ID: cu.ID, Category: creditCategory(cu.Category)}
	var first forecast.Month = -1
	dd := false
	for _, t := range cu.Tags {
		dd = dd || t == "direct_debit" || t == "代扣"
	}
	asOfEnd := time.Date(asOf.Year(), asOf.Calendar()+1, 0, 0, 0, 0, 0, time.UTC)
	for _, b := range bills {
		m, ok := monthOf(b.Period)
		if !ok || m > asOf {
			continue
		}
		if first < 0 {
			first = m
		}
		cb := credit.Bill{Month: credit.Month(m), Tenure: int(m - first), DirectDebit: dd, KWh: b.KWh, Yuan: b.Billed,
			Unpaid: b.Arrears > 0}
		due := dueDay(m)
		paid := asOfEnd
		if b.Arrears == 0 && b.PayDate != "" {
			if t, err := time.Parse("2006-01-02", string(b.PayDate)); err == nil {
				paid = t
			}
		}
		if b.Billed > 0 && paid.After(due) {
			cb.DaysLate = int(paid.Sub(due).Hours() / 24)
		}
		out.Bills = append(out.Bills, cb)
	}
	if n := len(out.Bills); n > 0 && cu.Status == crm.StatusClosed {
		out.Bills[n-1].Closed = true
	}
	return out
}

// CreditAnswer is one customer's grade as the routes answer it.
type CreditAnswer struct {
	CustomerID string   `json:"customer_id"`
	AsOf       string   `json:"as_of"`
	Rules      string   `json:"rules"`
	Score      int      `json:"score"`
	Grade      string   `json:"grade"`
	PD         float64  `json:"default_probability"`
	ChurnRisk  *float64 `json:"churn_risk,omitempty"`
	// ChurnReasons: the records beyond the bills that raised the churn
	// risk (the rule set's churn_events, credit.ChurnEventRules).
	ChurnReasons []string `json:"churn_reasons,omitempty"`
	// ChurnInputs: what the churn risk read beyond the bills (business
	// customers), whether it raised the risk or not.
	ChurnInputs *ChurnInputs         `json:"churn_inputs,omitempty"`
	Reasons     []string             `json:"reasons"`
	Strengths   []string             `json:"strengths"` // the factors that raised the score most (+code)
	Payment     string               `json:"payment"`
	Security    string               `json:"security"`
	Bills       int                  `json:"bills_read"`
	Stored      *records.CreditGrade `json:"stored,omitempty"` // the grade run's record of that month
}

// gradeOf grades a customer as of asOf with its recorded violations and
// thefts (violationMarks); ok is false without bills.
func gradeOf(rs *credit.RuleSet, cu *crm.Customer, bills []crm.Bill, marks []credit.Mark, asOf forecast.Month, ev churnRead) (CreditAnswer, bool) {
	in := creditCustomer(cu, bills, asOf)
	in.Marks = marks
	r, ok := rs.Grade(in, credit.Month(asOf))
	if !ok {
		return CreditAnswer{}, false
	}
	p := credit.Recommend(r.Grade, in.Category)
	a := CreditAnswer{CustomerID: cu.ID, AsOf: asOf.String(), Rules: rs.Version, Score: r.Score, Grade: r.Grade,
		PD: math.Round(r.PD*1e4) / 1e4, Reasons: r.Reasons, Payment: p.Method, Security: p.Security, Bills: len(in.Bills)}
	a.Strengths = r.Strengths
	if a.Strengths == nil {
		a.Strengths = []string{}
	}
	if a.Reasons == nil {
		a.Reasons = []string{}
	}
	if risk, why := rs.ChurnEvents.Adjust(r.ChurnRisk, ev.Events); !math.IsNaN(risk) {
		v := math.Round(risk*1e4) / 1e4
		a.ChurnRisk, a.ChurnReasons = &v, why
		in := ev.Inputs
		if in.Sources == nil {
			in.Sources = []string{}
		}
		a.ChurnInputs = &in
	}
	return a, true
}

// violationMarks reads customer id's violations and thefts (its
// violations records, through their customer_id index: a bounded read of
// the customer's own) as the grade's marks, each in the month it was found.
func violationMarks(r crm.Reader, id string) ([]credit.Mark, *crm.Error) {
	vs, e := crm.CustomerViolations(r, id)
	if e != nil {
		return nil, e
	}
	marks := make([]credit.Mark, 0, len(vs))
	for _, v := range vs {
		m, err := credit.ParseMonth(string(v.FoundOn)[:min(7, len(v.FoundOn))])
		if err != nil {
			continue // validated on write: never
		}
		marks = append(marks, credit.Mark{Month: m, Theft: v.Kind == crm.ViolationTheft, Kind: v.Subtype})
	}
	return marks, nil
}

// ChurnInputs are what a business customer's churn risk read beyond its
// bills, as the routes answer them (credit_grade's churn_inputs): the
// complaints counted, whether a capacity reduction or a suspension counts,
// the contract's end and the months left, and where each came from
// (Sources: "capacity_changes", "contract_end", "status", or "tag:<tag>"
// for the tags read as a fallback on old data).
type ChurnInputs struct {
	Complaints         int      `json:"complaints"`
	ComplaintMonths    int      `json:"complaint_months"`
	CapacityReduced    bool     `json:"capacity_reduced"`
	Suspended          bool     `json:"suspended"`
	ContractEnd        string   `json:"contract_end,omitempty"`
	ContractMonthsLeft *int     `json:"contract_months_left,omitempty"`
	Sources            []string `json:"sources"`
}

// churnRead is what churnEventsOf read: the model's events and how the
// routes show them.
type churnRead struct {
	Events credit.ChurnEvents
	Inputs ChurnInputs
}

// churnEventsOf reads what customer cu's records say about its leaving
// beyond its bills, as of the end of month asOf, with the windows of the
// rule set's churn_events (ce):
//   - complaints: the complaint work orders received in the
//     ce.ComplaintMonths months to it (the customer's work orders, through
//     their customer_id index);
//   - a capacity reduction (减容) or a suspension (暂停): the customer's
//     capacity_changes records (their customer_id index) begun in the
//     ce.EventMonths months to the as-of month, or in force in it; a
//     suspension also when the customer's status is suspended;
//   - the contract's end: the customer's contract_end, counted when it is
//     in the as-of month or later.
//
// Fallback for data written before these fields: the tags 暂停 or
// suspension, 减容 or capacity_reduction, and contract_end:YYYY-MM or
// 合同到期:YYYY-MM (read only when contract_end is empty) are read as
// before, and named "tag:<tag>" in the sources. Residential customers
// have no churn risk: nothing is read.
func churnEventsOf(r crm.Reader, ce credit.ChurnEventRules, cu *crm.Customer, asOf forecast.Month) (churnRead, *crm.Error) {
	ev, in := credit.NoEvents, ChurnInputs{ComplaintMonths: ce.ComplaintMonths}
	if cu.Category == crm.CategoryResidential {
		return churnRead{ev, in}, nil
	}
	source := func(s string) {
		if !slices.Contains(in.Sources, s) {
			in.Sources = append(in.Sources, s)
		}
	}
	contract := func(end forecast.Month, day string, src string) {
		if end >= asOf {
			left := int(end - asOf)
			ev.ContractMonthsLeft, in.ContractMonthsLeft, in.ContractEnd = left, &left, day
			source(src)
		}
	}
	if cu.Status == crm.StatusSuspended {
		ev.Suspended = true
		source("status")
	}
	if cu.ContractEnd != "" {
		if end, ok := monthOf(string(cu.ContractEnd)[:min(7, len(cu.ContractEnd))]); ok {
			contract(end, string(cu.ContractEnd), "contract_end")
		}
	}
	for _, t := range cu.Tags {
		switch {
		case t == "暂停" || t == "suspension":
			ev.Suspended = true
			source("tag:" + t)
		case t == "减容" || t == "capacity_reduction":
			ev.CapacityReduced = true
			source("tag:" + t)
		case cu.ContractEnd == "" && (strings.HasPrefix(t, "contract_end:") || strings.HasPrefix(t, "合同到期:")):
			_, v, _ := strings.Cut(t, ":")
			if end, ok := monthOf(strings.TrimSpace(v)); ok {
				contract(end, end.String(), "tag:"+t)
			}
		}
	}
	day := func(m forecast.Month, d int) crm.Date {
		return crm.Date(time.Date(m.Year(), m.Calendar(), d, 0, 0, 0, 0, time.UTC).Format("2006-01-02"))
	}
	monthFrom, monthTo := day(asOf, 1), day(asOf+1, 0)
	since := day(asOf-forecast.Month(ce.EventMonths)+1, 1)
	changes, e := crm.CustomerCapacityChanges(r, cu.ID)
	if e != nil {
		return churnRead{ev, in}, e
	}
	for _, c := range changes {
		if !c.StartedIn(since, monthTo) && !c.InForce(monthFrom, monthTo) {
			continue
		}
		switch c.Kind {
		case crm.CapacityReduction:
			ev.CapacityReduced = true
		case crm.CapacitySuspension:
			ev.Suspended = true
		}
		source("capacity_changes")
	}
	start := func(m forecast.Month) time.Time { return time.Date(m.Year(), m.Calendar(), 1, 0, 0, 0, 0, workday.CST) }
	from, to := start(asOf-forecast.Month(ce.ComplaintMonths)+1), start(asOf+1)
	e = forEach(r, "work_orders", crm.Query{Filters: map[string]string{"customer_id": cu.ID}}, func(raw json.RawMessage) *crm.Error {
		var w struct {
			Kind       string    `json:"kind"`
			ReceivedAt time.Time `json:"received_at"`
		}
		if json.Unmarshal(raw, &w) == nil && w.Kind == "complaint" && !w.ReceivedAt.Before(from) && w.ReceivedAt.Before(to) {
			ev.Complaints++
		}
		return nil
	})
	in.Complaints, in.CapacityReduced, in.Suspended = ev.Complaints, ev.CapacityReduced, ev.Suspended
	if ev.Complaints > 0 {
		source("work_orders")
	}
	return churnRead{ev, in}, e
}

// lastPeriod is the latest period of bills, 0 without any.
func lastPeriod(bills []crm.Bill) forecast.Month {
	var last forecast.Month
	for _, b := range bills {
		if m, ok := monthOf(b.Period); ok && m > last {
			last = m
		}
	}
	return last
}

func loadCustomer(r crm.Reader, id string) (*crm.Customer, *crm.Error) {
	raw, e := crm.Get(r, "customers", id)
	if e != nil {
		return nil, e
	}
	var cu crm.Customer
	if err := json.Unmarshal(raw, &cu); err != nil {
		return nil, crm.AsError(err)
	}
	return &cu, nil
}

func (s *Server) customerCredit(c *gin.Context) {
	asOf, _, ok := queryMonth(c, "as_of")
	if !ok || !s.consistent(c) || !s.customerOf(c) {
		return
	}
	rs, err := credit.Shipped()
	if err != nil {
		fail(c, err)
		return
	}
	r, id := s.b.Reader(), c.Param("id")
	cu, e := loadCustomer(r, id)
	if e != nil {
		fail(c, e)
		return
	}
	bills, e := crm.CustomerBills(r, id)
	if e != nil {
		fail(c, e)
		return
	}
	if asOf == 0 {
		asOf = lastPeriod(bills)
	}
	ev, e := churnEventsOf(r, rs.ChurnEvents, cu, asOf)
	if e != nil {
		fail(c, e)
		return
	}
	marks, e := violationMarks(r, id)
	if e != nil {
		fail(c, e)
		return
	}
	a, ok := gradeOf(rs, cu, bills, marks, asOf, ev)
	if !ok {
		fail(c, &crm.Error{Code: codeInsufficient, Field: "as_of", Message: fmt.Sprintf("customer %s has no bill up to %s: nothing to grade", id, asOf)})
		return
	}
	if st, e := storedGrade(r, id, asOf.String()); e == nil {
		a.Stored = st
	}
	c.JSON(200, a)
}

// storedGrade is the grade run's record of customer id and period, or nil.
func storedGrade(r crm.Reader, id, period string) (*records.CreditGrade, *crm.Error) {
	pg, e := crm.List(r, "credit_grades", crm.Query{Filters: map[string]string{"customer_id": id, "period": period}, Limit: 1})
	if e != nil || len(pg.Items) == 0 {
		return nil, e
	}
	var g records.CreditGrade
	if err := json.Unmarshal(pg.Items[0], &g); err != nil {
		return nil, crm.AsError(err)
	}
	return &g, nil
}

// forEach pages through coll with q and calls fn on every record.
func forEach(r crm.Reader, coll string, q crm.Query, fn func(raw json.RawMessage) *crm.Error) *crm.Error {
	q.Limit = crm.MaxLimit
	for {
		pg, e := crm.List(r, coll, q)
		if e != nil {
			return e
		}
		for _, raw := range pg.Items {
			if e := fn(raw); e != nil {
				return e
			}
		}
		if pg.Next == "" {
			return nil
		}
		q.After = pg.Next
	}
}

// gradeRunRoute is POST /api/v1/credit/grades/run {"period"}.
func (s *Server) gradeRunRoute(c *gin.Context) {
	asOf, ok := readRunPeriod(c)
	if !ok || !s.consistent(c) {
		return
	}
	propose := s.httpPropose(c)
	run, err := s.gradeRun(asOf, propose)
	if err == nil { // a month run by hand is done for the schedule too
		err = s.recordRun(propose, records.RunGrades, run.Period, run.Graded, run.Skipped)
	}
	if errors.Is(err, errAnswered) {
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, run)
}

// GradeRun is what a grade run did.
type GradeRun struct {
	Region  string         `json:"region"`
	Period  string         `json:"period"`
	Rules   string         `json:"rules"`
	Graded  int            `json:"graded"`
	Skipped int            `json:"skipped_already_graded"`
	NoBills int            `json:"without_bills"`
	ByGrade map[string]int `json:"by_grade"`
}

// gradeRun grades the customers this region owns as of a month and stores
// the grades through propose, up to crm.MaxImportRows records a command;
// a customer already graded that month is skipped (runMonth).
func (s *Server) gradeRun(asOf forecast.Month, propose proposeFunc) (GradeRun, error) {
	g, _, err := s.runMonth(asOf, true, false, propose)
	return g, err
}

// creditDistribution answers the grade counts of every graded month (or
// one, ?period=) with the change against the month graded before.
func (s *Server) creditDistribution(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	_, period, ok := queryMonth(c, "period")
	if !ok || !s.consistent(c) {
		return
	}
	counts, regions, err := records.CreditDistribution(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	months := make([]string, 0, len(counts))
	for m := range counts {
		months = append(months, m)
	}
	sort.Strings(months)
	type line struct {
		Period    string             `json:"period"`
		Customers int64              `json:"customers"`
		ByGrade   map[string]int64   `json:"by_grade"`
		Share     map[string]float64 `json:"share"`
		Previous  string             `json:"previous,omitempty"`
		Change    map[string]float64 `json:"share_change,omitempty"` // share points against the previous graded month
	}
	out := []line{}
	var prev *line
	for _, m := range months {
		l := line{Period: m, ByGrade: map[string]int64{}, Share: map[string]float64{}}
		for _, g := range records.CreditGrades {
			l.ByGrade[g] = counts[m][g]
			l.Customers += counts[m][g]
		}
		for _, g := range records.CreditGrades {
			if l.Customers > 0 {
				l.Share[g] = math.Round(float64(l.ByGrade[g])/float64(l.Customers)*1e4) / 1e4
			}
		}
		if prev != nil {
			l.Previous, l.Change = prev.Period, map[string]float64{}
			for _, g := range records.CreditGrades {
				l.Change[g] = math.Round((l.Share[g]-prev.Share[g])*1e4) / 1e4
			}
		}
		if period == "" || m == period {
			out = append(out, l)
		}
		prev = &l
	}
	scope := "region"
	if subtree {
		scope = "subtree"
	}
	c.JSON(200, gin.H{"region": region, "scope": scope, "source": "aggregates", "months": out, "regions": regions,
		"freshness": s.b.Freshness(region, subtree)})
}
