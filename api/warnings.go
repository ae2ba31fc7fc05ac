package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/analytics/forecast"
	"gridcrm/analytics/market"
	"gridcrm/analytics/records"
	"gridcrm/analytics/warning"
	"gridcrm/crm"
	"gridcrm/tiers"
)

// The warning lists (用电异常 and 流失预警) and the monthly run that writes
// them. The run works where the customers are owned: for each customer it
// judges the month's reading against the customer's own forecast
// (analytics/warning.Detect) and, for business customers, takes the
// month's churn risk from the credit grade (stored by the grade run, or
// computed); it writes consumption_warnings records, which replicate up.
// The lists at any tier read those records through the
// kind_period_owner index (a region, a subtree) or the
// manager_kind_period index (an account manager's), never the customers
// or their bills.

// detectorVersion names the detector and its configuration in the
// records it writes.
const detectorVersion = "warning.Detect/z2.4-min0.15-w36"

// proposeFunc commits one command of a run; an error stops the run.
type proposeFunc func(cmd *crm.Command) error

// errAnswered: the proposer already wrote the HTTP answer.
var errAnswered = errors.New("api: answered")

// WarningRun is what a warning run did.
type WarningRun struct {
	Region         string         `json:"region"`
	Period         string         `json:"period"`
	Detector       string         `json:"detector"`
	Customers      int            `json:"customers"`            // owned customers read
	Abnormal       int            `json:"abnormal"`             // abnormal-consumption warnings written
	Churn          int            `json:"churn"`                // churn warnings written
	Trends         int            `json:"trends"`               // customer trends written (business customers with 24 months of bills)
	Skipped        int            `json:"skipped_already_done"` // warnings and trends the period already had
	WithoutReading int            `json:"without_reading"`      // customers without a bill of the month
	ByReason       map[string]int `json:"by_reason"`
}

// warningRun judges the customers this region owns for period and writes
// their warnings through propose, up to crm.MaxImportRows a command.
// Warnings the period already holds (a customer, kind and month) are
// skipped, so a second run writes nothing new.
func (s *Server) warningRun(period forecast.Month, propose proposeFunc) (WarningRun, error) {
	_, w, err := s.runMonth(period, false, true, propose)
	return w, err
}

// importAll writes rows to coll through propose, crm.MaxImportRows a
// command.
func importAll(propose proposeFunc, coll, prefix string, rows []json.RawMessage) error {
	for len(rows) > 0 {
		n := min(len(rows), crm.MaxImportRows)
		now := time.Now()
		ids := make([]string, n)
		for i := range ids {
			ids[i] = crm.NewID(prefix, now)
		}
		if err := propose(&crm.Command{Op: crm.OpImport, Collection: coll, Rows: rows[:n], IDs: ids}); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// trendOf is a business customer's trend as of period from its last 24
// months of bills (analytics/market.CustomerTrend); ok is false without
// 24 months of bills. A large industrial customer of 315 kVA and more
// pays a capacity charge (two-part tariff).
func trendOf(cu *crm.Customer, bills []crm.Bill, period forecast.Month, manager string) (records.CustomerTrend, bool) {
	first := period - 23
	months := make([]market.Month, 24)
	for _, b := range bills {
		if m, ok := monthOf(b.Period); ok && m >= first && m <= period {
			months[m-first] = market.Month{KWh: b.KWh, Peak: b.KWhPeak, Flat: b.KWhFlat, Valley: b.KWhValley, Yuan: b.Billed, Known: true}
		}
	}
	t, ok := market.CustomerTrend(months, cu.Category == crm.CategoryIndustrial && cu.CapacityKVA >= 315)
	if !ok || t.Growth > 1e6 || t.BillGrowth > 1e6 {
		return records.CustomerTrend{}, false
	}
	out := records.CustomerTrend{CustomerID: cu.ID, Period: period.String(), Name: cu.Name, Category: cu.Category, Industry: cu.Industry, ManagerID: manager,
		KWh12: r2(t.KWh), KWh12Prev: r2(t.KWhPrev), Yuan12: r2(t.Yuan), Yuan12Prev: r2(t.YuanPrev), Growth: round4(t.Growth),
		BillGrowth: round4(t.BillGrowth), BillVsKWh: round4(t.BillVsKWh), BillReason: t.BillReason}
	if !math.IsNaN(t.PeakShare) {
		out.PeakShare = ptr(round4(t.PeakShare))
	}
	if !math.IsNaN(t.PeakSharePrev) {
		out.PeakSharePrev = ptr(round4(t.PeakSharePrev))
	}
	return out, true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ptr(v float64) *float64 { return &v }

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// httpPropose commits a run's commands as the request's writes (audited,
// stamped with the caller); a failure is answered on c.
func (s *Server) httpPropose(c *gin.Context) proposeFunc {
	return func(cmd *crm.Command) error {
		if _, ok := s.commit(c, cmd); !ok {
			return errAnswered
		}
		return nil
	}
}

// systemPropose commits a run's commands as actor (the scheduler), with no
// request behind them.
func (s *Server) systemPropose(ctx context.Context, actor string) proposeFunc {
	return func(cmd *crm.Command) error {
		cmd.Region, cmd.Actor, cmd.Time = s.cfg.Region, actor, time.Now().UTC()
		res, err := s.b.Propose(ctx, cmd)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		return err
	}
}

type runRequest struct {
	Period string `json:"period"`
}

// readRunPeriod reads a run's {"period"}; a bad one is answered 400.
func readRunPeriod(c *gin.Context) (forecast.Month, bool) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return 0, false
	}
	var req runRequest
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return 0, false
	}
	m, ok := monthOf(req.Period)
	if !ok {
		fail(c, apiErr(crm.CodeInvalid, "period", fmt.Sprintf("%q is not a month of the form YYYY-MM", req.Period)))
		return 0, false
	}
	return m, true
}

// warningRunRoute is POST /api/v1/warnings/run {"period"}.
func (s *Server) warningRunRoute(c *gin.Context) {
	period, ok := readRunPeriod(c)
	if !ok || !s.consistent(c) {
		return
	}
	propose := s.httpPropose(c)
	run, err := s.warningRun(period, propose)
	if err == nil { // a month run by hand is done for the schedule too
		err = s.recordRun(propose, records.RunWarnings, run.Period, run.Abnormal+run.Churn, run.Skipped)
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

// Warning is one entry of a warning list.
type Warning struct {
	ID          string   `json:"id"` // the consumption_warnings record
	CustomerID  string   `json:"customer_id"`
	Name        string   `json:"name"`
	Region      string   `json:"region"`
	Category    string   `json:"category"`
	CapacityKVA float64  `json:"capacity_kva"`
	Period      string   `json:"period"`
	Reasons     []string `json:"reasons"`
	ManagerID   string   `json:"manager_id,omitempty"`
	KWh         *float64 `json:"kwh,omitempty"`
	Expected    *float64 `json:"expected_kwh,omitempty"`
	Lo          *float64 `json:"lo_kwh,omitempty"`
	Hi          *float64 `json:"hi_kwh,omitempty"`
	Change      *float64 `json:"change,omitempty"`
	Score       *float64 `json:"score,omitempty"`
	Method      string   `json:"method,omitempty"`
	ChurnRisk   *float64 `json:"churn_risk,omitempty"`
	Grade       string   `json:"grade,omitempty"`
	Status      string   `json:"status"` // open, acknowledged, dismissed
	AckID       string   `json:"ack_id,omitempty"`
	Note        string   `json:"note,omitempty"`
}

func warningOf(w *records.ConsumptionWarning) Warning {
	return Warning{ID: w.ID, CustomerID: w.CustomerID, Name: w.Name, Region: w.Owner, Category: w.Category, CapacityKVA: w.CapacityKVA,
		Period: w.Period, Reasons: w.Reasons, ManagerID: w.ManagerID, KWh: w.KWh, Expected: w.Expected, Lo: w.Lo, Hi: w.Hi,
		Change: w.Change, Score: w.Score, Method: w.Method, ChurnRisk: w.ChurnRisk, Grade: w.Grade}
}

// ackOf fills the answer an account manager gave to w, if any.
func ackOf(r crm.Reader, w *Warning, kind string) *crm.Error {
	w.Status = "open"
	return forEach(r, "warning_acks", crm.Query{Filters: map[string]string{"customer_id": w.CustomerID, "period": w.Period, "kind": kind}}, func(raw json.RawMessage) *crm.Error {
		var a records.WarningAck
		if err := json.Unmarshal(raw, &a); err != nil {
			return crm.AsError(err)
		}
		w.Status, w.AckID, w.Note = a.Status, a.ID, a.Note
		return nil
	})
}

func keepStatus(want, got string) bool { return want == "all" || want == got }

// bigWarning is the abnormal list's big customer, from what the warning
// copied: a commercial or industrial customer with at least minKVA
// contracted, or any customer supplied at 35 kV and above.
func bigWarning(w *records.ConsumptionWarning, minKVA float64) bool {
	if crm.VoltageClass(w.VoltageKV) == "high" {
		return true
	}
	return (w.Category == crm.CategoryIndustrial || w.Category == crm.CategoryCommercial) && w.CapacityKVA >= minKVA
}

// listQuery is what both warning lists read from the query string.
type listQuery struct {
	region  string
	subtree bool
	period  string
	manager string
	status  string
}

// readListQuery reads ?region=&scope=&period=&manager_id=&status=; a bad
// one is answered.
func (s *Server) readListQuery(c *gin.Context) (listQuery, bool) {
	var q listQuery
	var ok bool
	if q.region, q.subtree, ok = s.scopeOf(c); !ok {
		return q, false
	}
	if _, q.period, ok = queryMonth(c, "period"); !ok {
		return q, false
	}
	q.manager = c.Query("manager_id")
	if q.manager != "" && !crm.Kinds["staff"].ValidID(q.manager) {
		fail(c, apiErr(crm.CodeInvalid, "manager_id", fmt.Sprintf("%q is not a staff id", q.manager)))
		return q, false
	}
	q.status, ok = queryStatus(c)
	return q, ok
}

// eachWarning calls fn with the stored warnings of kind that q selects:
// an account manager's (manager_id index, kept to the scope) or a
// region's or subtree's (kind_period_owner index).
func eachWarning(r crm.Reader, kind string, q listQuery, fn func(w *records.ConsumptionWarning) *crm.Error) *crm.Error {
	return eachWarningFrom(r, kind, q, "", "", fn)
}

// errStop ends eachWarningFrom early without an error.
var errStop = &crm.Error{Code: "stop"}

// eachWarningFrom is eachWarning resumed after the warning afterID of
// afterOwner; fn answering errStop ends it.
func eachWarningFrom(r crm.Reader, kind string, q listQuery, afterOwner, afterID string, fn func(w *records.ConsumptionWarning) *crm.Error) *crm.Error {
	var ferr *crm.Error
	visit := func(w *records.ConsumptionWarning) bool {
		if w.Owner != q.region && (!q.subtree || !crm.InRegion(w.Owner, q.region)) {
			return true
		}
		ferr = fn(w)
		return ferr == nil
	}
	if err := records.WarningsFrom(r, kind, q.period, q.region, q.subtree, q.manager, afterOwner, afterID, visit); err != nil {
		return crm.AsError(err)
	}
	if ferr == errStop {
		return nil
	}
	return ferr
}

// abnormalWarnings lists the stored abnormal-consumption warnings of a
// month (default: the last month billed in scope, from the aggregates).
func (s *Server) abnormalWarnings(c *gin.Context) {
	q, ok := s.readListQuery(c)
	if !ok {
		return
	}
	threshold, ok := queryFloat(c, "threshold", 0, 0, 10)
	if !ok {
		return
	}
	minKVA, ok := queryFloat(c, "min_kva", 315, -1, 1e7)
	if !ok {
		return
	}
	class := c.DefaultQuery("class", "big")
	if class != "big" && class != "all" {
		fail(c, apiErr(crm.CodeInvalid, "class", "must be big (the default: commercial and industrial customers of min_kva and more, and any at 35 kV and above) or all"))
		return
	}
	limit, ok := queryInt(c, "limit", 200, 1, 1000)
	if !ok {
		return
	}
	var afterOwner, afterID string
	if after := c.Query("after"); after != "" {
		if q.period == "" { // the default month may move between pages
			fail(c, apiErr(crm.CodeInvalid, "after", "give period with after: a page continues the list of one month (the period the first page answered)"))
			return
		}
		var found bool
		afterOwner, afterID, found = strings.Cut(after, "/")
		if !found || !tiers.RegionCode(afterOwner).Valid() || !crm.Kinds["consumption_warnings"].ValidID(afterID) {
			fail(c, apiErr(crm.CodeInvalid, "after", fmt.Sprintf("%q is not a page's next (<region>/<warning id>, as the last page answered)", after)))
			return
		}
	}
	if !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	if q.period == "" {
		sum, err := crm.Summarize(r, q.region, q.subtree)
		if err != nil {
			fail(c, err)
			return
		}
		for p := range sum.KWhByMonth {
			q.period = max(q.period, p)
		}
		if q.period == "" {
			c.JSON(200, gin.H{"region": q.region, "period": nil, "source": "consumption_warnings", "warnings": []Warning{}})
			return
		}
	}
	// A page of at most limit, in (owner, id) order from after: the cost is
	// the warnings read up to the page's end, never the month's whole list.
	out := []Warning{}
	var next string
	e := eachWarningFrom(r, records.WarningAbnormal, q, afterOwner, afterID, func(cw *records.ConsumptionWarning) *crm.Error {
		if class == "big" && !bigWarning(cw, minKVA) {
			return nil
		}
		if threshold > 0 && (cw.Change == nil || math.Abs(*cw.Change) < threshold) && cw.Reasons[0] != warning.Zero {
			return nil
		}
		w := warningOf(cw)
		if e := ackOf(r, &w, records.WarningAbnormal); e != nil {
			return e
		}
		if !keepStatus(q.status, w.Status) {
			return nil
		}
		if len(out) == limit { // one more kept: the next page starts after this page's last
			next = out[limit-1].Region + "/" + out[limit-1].ID
			return errStop
		}
		out = append(out, w)
		return nil
	})
	if e != nil {
		fail(c, e)
		return
	}
	page := gin.H{"region": q.region, "period": q.period, "source": "consumption_warnings", "class": class, "min_kva": minKVA,
		"manager_id": q.manager, "limit": limit, "warnings": out}
	if next != "" {
		page["next"] = next
	}
	c.JSON(200, page)
}

// churnWarnings lists the stored churn warnings of a month whose risk is
// at or above threshold, riskiest first (default month: the last graded
// in scope).
func (s *Server) churnWarnings(c *gin.Context) {
	q, ok := s.readListQuery(c)
	if !ok {
		return
	}
	threshold, ok := queryFloat(c, "threshold", 0.2, 0, 1)
	if !ok {
		return
	}
	limit, ok := queryInt(c, "limit", 100, 1, 1000)
	if !ok || !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	if q.period == "" {
		counts, _, err := records.CreditDistribution(r, q.region, q.subtree)
		if err != nil {
			fail(c, err)
			return
		}
		for m := range counts {
			q.period = max(q.period, m)
		}
		if q.period == "" {
			fail(c, &crm.Error{Code: codeInsufficient, Field: "period", Message: "no grades are stored in scope: run POST /api/v1/credit/grades/run and POST /api/v1/warnings/run where the customers are owned"})
			return
		}
	}
	// The riskiest limit of the scope, through the churn_rank index: at most
	// limit warnings read an owner region, whatever the customers.
	kept := map[string]Warning{} // by id: what keep answered, with its answer (warning_acks)
	keep := func(cw *records.ConsumptionWarning) (bool, error) {
		w := warningOf(cw)
		if e := ackOf(r, &w, records.WarningChurn); e != nil {
			return false, e
		}
		if !keepStatus(q.status, w.Status) {
			return false, nil
		}
		kept[w.ID] = w
		return true, nil
	}
	top, more, indexed, err := records.ChurnTop(r, q.period, q.region, q.subtree, q.manager, threshold, limit, keep)
	if err != nil {
		fail(c, crm.AsError(err))
		return
	}
	if !indexed { // warnings stored before the churn_rank index: every one of the scope is read
		top = nil
		e := eachWarning(r, records.WarningChurn, q, func(cw *records.ConsumptionWarning) *crm.Error {
			if cw.ChurnRisk == nil || *cw.ChurnRisk < threshold {
				return nil
			}
			ok, err := keep(cw)
			if ok {
				top = append(top, cw)
			}
			return crm.AsError(err)
		})
		if e != nil {
			fail(c, e)
			return
		}
		sort.SliceStable(top, func(i, j int) bool { return *top[i].ChurnRisk > *top[j].ChurnRisk })
		if more = len(top) > limit; more {
			top = top[:limit]
		}
	}
	out := make([]Warning, 0, len(top))
	for _, cw := range top {
		out = append(out, kept[cw.ID])
	}
	c.JSON(200, gin.H{"region": q.region, "period": q.period, "threshold": threshold, "source": "consumption_warnings",
		"manager_id": q.manager, "limit": limit, "more": more, "warnings": out})
}
