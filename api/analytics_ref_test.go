package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"gridcrm/analytics/credit"
	"gridcrm/analytics/forecast"
	"gridcrm/analytics/records"
	"gridcrm/analytics/warning"
	"gridcrm/crm"
)

// The reference the month's run is checked against
// (TestAnalyticsRun_SameRecords): the grade run and the warning run as
// they were before runMonth, one after the other, each reading every
// customer's bills through crm.CustomerBills (a point read a bill), one
// customer at a time. Keep them as they are: they say what the run
// writes; a change meant to change the records changes both.

// ReferenceMonthlyRun runs the month of period as the reference does: the
// grades, then the warnings and trends, written as the system.
func (s *Server) ReferenceMonthlyRun(ctx context.Context, period string) error {
	m, ok := monthOf(period)
	if !ok {
		return fmt.Errorf("period %q", period)
	}
	propose := s.systemPropose(ctx, crm.SystemActor)
	if _, err := s.refGradeRun(m, propose); err != nil {
		return err
	}
	_, err := s.refWarningRun(m, propose)
	return err
}

// refGradeRun is gradeRun as it was.
func (s *Server) refGradeRun(asOf forecast.Month, propose proposeFunc) (GradeRun, error) {
	period := asOf.String()
	out := GradeRun{Region: s.cfg.Region, Period: period, ByGrade: map[string]int{}}
	rs, err := credit.Shipped()
	if err != nil {
		return out, err
	}
	out.Rules = rs.Version
	r := s.b.Reader()
	var rows []json.RawMessage
	if e := forEach(r, "customers", crm.Query{Owner: s.cfg.Region}, func(raw json.RawMessage) *crm.Error {
		var cu crm.Customer
		if err := json.Unmarshal(raw, &cu); err != nil {
			return crm.AsError(err)
		}
		if done, err := records.GradeDone(r, cu.ID, period); err != nil || done { // one key read, not the region's grades
			out.Skipped += btoi(done)
			return crm.AsError(err)
		}
		bills, e := crm.CustomerBills(r, cu.ID)
		if e != nil {
			return e
		}
		ev, e := churnEventsOf(r, rs.ChurnEvents, &cu, asOf)
		if e != nil {
			return e
		}
		marks, e := violationMarks(r, cu.ID)
		if e != nil {
			return e
		}
		a, ok := gradeOf(rs, &cu, bills, marks, asOf, ev)
		if !ok {
			out.NoBills++
			return nil
		}
		out.ByGrade[a.Grade]++
		rows = append(rows, mustJSON(records.CreditGrade{CustomerID: cu.ID, Period: period, Score: a.Score, Grade: a.Grade,
			ChurnRisk: a.ChurnRisk, ChurnReasons: a.ChurnReasons, Reasons: a.Reasons, Payment: a.Payment, Security: a.Security, Rules: a.Rules}))
		return nil
	}); e != nil {
		return out, e
	}
	for len(rows) > 0 {
		n := min(len(rows), crm.MaxImportRows)
		now := time.Now()
		ids := make([]string, n)
		for i := range ids {
			ids[i] = crm.NewID("crg", now)
		}
		if err := propose(&crm.Command{Op: crm.OpImport, Collection: "credit_grades", Rows: rows[:n], IDs: ids}); err != nil {
			return out, err
		}
		out.Graded += n
		rows = rows[n:]
	}
	return out, nil
}

// refWarningRun is warningRun as it was.
func (s *Server) refWarningRun(period forecast.Month, propose proposeFunc) (WarningRun, error) {
	out := WarningRun{Region: s.cfg.Region, Period: period.String(), Detector: detectorVersion, ByReason: map[string]int{}}
	rs, err := credit.Shipped()
	if err != nil {
		return out, err
	}
	r := s.b.Reader()
	done := map[string]bool{} // kind/customer
	for _, kind := range []string{records.WarningAbnormal, records.WarningChurn} {
		if err := records.WarningsOf(r, kind, out.Period, s.cfg.Region, false, func(w *records.ConsumptionWarning) bool {
			done[kind+"/"+w.CustomerID] = true
			return true
		}); err != nil {
			return out, err
		}
	}
	cfg := warning.DefaultConfig()
	var rows, trends []json.RawMessage
	e := forEach(r, "customers", crm.Query{Owner: s.cfg.Region}, func(raw json.RawMessage) *crm.Error {
		var cu crm.Customer
		if err := json.Unmarshal(raw, &cu); err != nil {
			return crm.AsError(err)
		}
		out.Customers++
		doneAbn, doneChurn := done[records.WarningAbnormal+"/"+cu.ID], done[records.WarningChurn+"/"+cu.ID]
		business := cu.Category != crm.CategoryResidential
		doneTrend := !business
		if business {
			d, err := records.TrendDone(r, cu.ID, out.Period)
			if err != nil {
				return crm.AsError(err)
			}
			doneTrend = d
		}
		out.Skipped += btoi(doneAbn) + btoi(doneChurn) + btoi(doneTrend && business)
		if doneAbn && (doneChurn || !business) && doneTrend {
			return nil
		}
		bills, e := crm.CustomerBills(r, cu.ID)
		if e != nil {
			return e
		}
		// The window Detect reads: Window months before period, and period.
		kwh := make([]float64, cfg.Window+1)
		for i := range kwh {
			kwh[i] = math.NaN()
		}
		first := period - forecast.Month(cfg.Window)
		for _, b := range bills {
			if m, ok := monthOf(b.Period); ok && m >= first && m <= period {
				kwh[m-first] = b.KWh
			}
		}
		mgr, err := records.GoldManagerOf(r, cu.ID)
		if err != nil {
			return crm.AsError(err)
		}
		base := records.ConsumptionWarning{CustomerID: cu.ID, Period: out.Period, ManagerID: mgr, Name: cu.Name, Category: cu.Category,
			CapacityKVA: cu.CapacityKVA, VoltageKV: cu.VoltageKV}
		if math.IsNaN(kwh[cfg.Window]) {
			out.WithoutReading++
		} else if !doneAbn {
			f, err := warning.Detect(kwh, int(period.Calendar()), cfg)
			if err == nil && len(f.Reasons) > 0 {
				w := base
				w.Kind, w.Reasons, w.Method, w.Detector = records.WarningAbnormal, f.Reasons, f.Method, detectorVersion
				w.KWh = &f.KWh
				if f.Expected > 0 {
					w.Expected, w.Lo, w.Hi, w.Change = ptr(r2(f.Expected)), ptr(r2(f.Lo)), ptr(r2(f.Hi)), ptr(round4(f.Change))
					if !math.IsInf(f.Score, 0) {
						w.Score = ptr(round4(f.Score))
					}
				}
				rows = append(rows, mustJSON(w))
				out.Abnormal++
				out.ByReason[f.Reasons[0]]++
			}
		}
		if !doneTrend {
			if t, ok := trendOf(&cu, bills, period, mgr); ok {
				trends = append(trends, mustJSON(t))
				out.Trends++
			}
		}
		if !doneChurn && business {
			w := base
			w.Kind, w.Detector = records.WarningChurn, rs.Version
			var why []string
			if g, e := storedGrade(r, cu.ID, out.Period); e == nil && g != nil {
				w.ChurnRisk, w.Grade, w.Reasons, why = g.ChurnRisk, g.Grade, g.Reasons, g.ChurnReasons
			} else {
				ev, e := churnEventsOf(r, rs.ChurnEvents, &cu, period)
				if e != nil {
					return e
				}
				marks, e := violationMarks(r, cu.ID)
				if e != nil {
					return e
				}
				if a, ok := gradeOf(rs, &cu, bills, marks, period, ev); ok {
					w.ChurnRisk, w.Grade, w.Reasons, why = a.ChurnRisk, a.Grade, a.Reasons, a.ChurnReasons
				}
			}
			if w.ChurnRisk != nil { // the events that raised the risk first, then the grade's reasons
				w.Reasons = append(append([]string{"churn_risk"}, why...), w.Reasons...)
				if len(w.Reasons) > 20 {
					w.Reasons = w.Reasons[:20]
				}
				rows = append(rows, mustJSON(w))
				out.Churn++
			}
		}
		return nil
	})
	if e != nil {
		return out, e
	}
	if err := importAll(propose, "consumption_warnings", "cwn", rows); err != nil {
		return out, err
	}
	return out, importAll(propose, "customer_trends", "ctr", trends)
}
