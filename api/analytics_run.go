package api

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"sync"

	"gridcrm/analytics/credit"
	"gridcrm/analytics/forecast"
	"gridcrm/analytics/records"
	"gridcrm/analytics/warning"
	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// The month's analytics run over the customers a region owns: one pass
// that, for each customer, reads its bills once and grades it (the grade
// run), judges its month and writes its trend (the warning run), or both
// (the schedule's month: the churn warning then takes the grade just
// computed, which is what the grade run would have stored). The customers
// are judged by runWorkers goroutines a chunk at a time and their records
// gathered in the customers' order, so the records written do not depend
// on the workers; they are written crm.MaxImportRows a command as they
// fill (a customer already graded, warned or trended that month is
// skipped, so a run stopped half-way is taken up where it stopped).

// runWorkers judge customers side by side; runChunk customers are read
// before the workers judge them.
const (
	runWorkers = 2
	runChunk   = 256
)

// monthPass is one run's state.
type monthPass struct {
	s                *Server
	r                crm.Reader
	propose          proposeFunc
	asOf             forecast.Month
	period           string
	rs               *credit.RuleSet
	cfg              warning.Config
	grades, warnings bool
	done             map[string]bool // warnings the month holds: kind/customer

	g                              GradeRun
	w                              WarningRun
	gradeRows, warnRows, trendRows []json.RawMessage
}

// customerOut is what the run wrote and counted for one customer.
type customerOut struct {
	err *crm.Error
	// the grade run
	gradeSkipped, noBills bool
	grade                 string
	gradeRow              json.RawMessage
	// the warning run
	skipped, abnormal, churn int
	withoutReading           bool
	reason                   string
	rows                     []json.RawMessage // warnings: abnormal, then churn
	trend                    json.RawMessage
}

// runMonth runs the month asOf over the customers the region owns: the
// grades if grades, the warnings and trends if warnings; each run's
// records are written through propose as they fill. The answers are
// valid for the runs asked.
func (s *Server) runMonth(asOf forecast.Month, grades, warnings bool, propose proposeFunc) (GradeRun, WarningRun, error) {
	period := asOf.String()
	p := &monthPass{s: s, r: s.b.Reader(), propose: propose, asOf: asOf, period: period, grades: grades, warnings: warnings,
		cfg: warning.DefaultConfig(), done: map[string]bool{},
		g: GradeRun{Region: s.cfg.Region, Period: period, ByGrade: map[string]int{}},
		w: WarningRun{Region: s.cfg.Region, Period: period, Detector: detectorVersion, ByReason: map[string]int{}}}
	rs, err := credit.Shipped()
	if err != nil {
		return p.g, p.w, err
	}
	p.rs, p.g.Rules = rs, rs.Version
	if warnings {
		for _, kind := range []string{records.WarningAbnormal, records.WarningChurn} {
			if err := records.WarningsOf(p.r, kind, period, s.cfg.Region, false, func(w *records.ConsumptionWarning) bool {
				p.done[kind+"/"+w.CustomerID] = true
				return true
			}); err != nil {
				return p.g, p.w, err
			}
		}
	}
	chunk := make([]json.RawMessage, 0, runChunk)
	outs := make([]customerOut, runChunk)
	flush := func() error {
		p.judgeAll(chunk, outs[:len(chunk)])
		for i := range chunk {
			if err := p.gather(&outs[i]); err != nil {
				return err
			}
			outs[i] = customerOut{}
		}
		chunk = chunk[:0]
		return p.write(false)
	}
	var werr error
	if e := forEach(p.r, "customers", crm.Query{Owner: s.cfg.Region}, func(raw json.RawMessage) *crm.Error {
		if chunk = append(chunk, raw); len(chunk) == runChunk {
			if werr = flush(); werr != nil {
				return crm.AsError(werr)
			}
		}
		return nil
	}); e != nil {
		if werr != nil {
			return p.g, p.w, werr
		}
		return p.g, p.w, e
	}
	if err := flush(); err != nil {
		return p.g, p.w, err
	}
	return p.g, p.w, p.write(true)
}

// judgeAll judges the customers of raws into outs, runWorkers at a time.
func (p *monthPass) judgeAll(raws []json.RawMessage, outs []customerOut) {
	var wg sync.WaitGroup
	for w := range runWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(raws); i += runWorkers {
				outs[i] = p.judge(raws[i])
			}
		}()
	}
	wg.Wait()
}

// gather adds one customer's records and counts to the run's, in the
// customers' order.
func (p *monthPass) gather(o *customerOut) error {
	if o.err != nil {
		return o.err
	}
	if p.grades {
		switch {
		case o.gradeSkipped:
			p.g.Skipped++
		case o.noBills:
			p.g.NoBills++
		case o.gradeRow != nil:
			p.g.ByGrade[o.grade]++
			p.gradeRows = append(p.gradeRows, o.gradeRow)
		}
	}
	if p.warnings {
		p.w.Customers++
		p.w.Skipped += o.skipped
		p.w.WithoutReading += btoi(o.withoutReading)
		p.w.Abnormal += o.abnormal
		p.w.Churn += o.churn
		if o.reason != "" {
			p.w.ByReason[o.reason]++
		}
		p.warnRows = append(p.warnRows, o.rows...)
		if o.trend != nil {
			p.trendRows = append(p.trendRows, o.trend)
			p.w.Trends++
		}
	}
	return nil
}

// write imports the rows gathered, crm.MaxImportRows a command: the whole
// commands they fill, and the rest too if all.
func (p *monthPass) write(all bool) error {
	for _, q := range []struct {
		coll, prefix string
		rows         *[]json.RawMessage
		n            *int
	}{{"credit_grades", "crg", &p.gradeRows, &p.g.Graded}, {"consumption_warnings", "cwn", &p.warnRows, nil}, {"customer_trends", "ctr", &p.trendRows, nil}} {
		n := len(*q.rows)
		if !all {
			n -= n % crm.MaxImportRows
		}
		if n == 0 {
			continue
		}
		if err := importAll(p.propose, q.coll, q.prefix, (*q.rows)[:n]); err != nil {
			return err
		}
		if q.n != nil {
			*q.n += n
		}
		*q.rows = append((*q.rows)[:0], (*q.rows)[n:]...)
	}
	return nil
}

// judge grades and warns one customer (read only: safe side by side).
func (p *monthPass) judge(raw json.RawMessage) (o customerOut) {
	r := p.r
	var cu crm.Customer
	if err := json.Unmarshal(raw, &cu); err != nil {
		o.err = crm.AsError(err)
		return o
	}
	var bills []crm.Bill
	billsRead := false
	readBills := func() bool {
		if !billsRead {
			bills, o.err = runBills(r, cu.ID)
			billsRead = true
		}
		return o.err == nil
	}
	var graded *CreditAnswer // the grade computed here, if any
	if p.grades {
		done, err := records.GradeDone(r, cu.ID, p.period) // one key read, not the region's grades
		if err != nil {
			o.err = crm.AsError(err)
			return o
		}
		if done {
			o.gradeSkipped = true
		} else {
			if !readBills() {
				return o
			}
			a, ok, e := p.gradeCustomer(&cu, bills)
			if e != nil {
				o.err = e
				return o
			}
			if !ok {
				o.noBills = true
			} else {
				graded = &a
				o.grade = a.Grade
				o.gradeRow = mustJSON(records.CreditGrade{CustomerID: cu.ID, Period: p.period, Score: a.Score, Grade: a.Grade,
					ChurnRisk: a.ChurnRisk, ChurnReasons: a.ChurnReasons, Reasons: a.Reasons, Payment: a.Payment, Security: a.Security, Rules: a.Rules})
			}
		}
	}
	if !p.warnings {
		return o
	}
	doneAbn, doneChurn := p.done[records.WarningAbnormal+"/"+cu.ID], p.done[records.WarningChurn+"/"+cu.ID]
	business := cu.Category != crm.CategoryResidential
	doneTrend := !business
	if business {
		d, err := records.TrendDone(r, cu.ID, p.period)
		if err != nil {
			o.err = crm.AsError(err)
			return o
		}
		doneTrend = d
	}
	o.skipped = btoi(doneAbn) + btoi(doneChurn) + btoi(doneTrend && business)
	if doneAbn && (doneChurn || !business) && doneTrend {
		return o
	}
	if !readBills() {
		return o
	}
	cfg, period := p.cfg, p.asOf
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
		o.err = crm.AsError(err)
		return o
	}
	base := records.ConsumptionWarning{CustomerID: cu.ID, Period: p.period, ManagerID: mgr, Name: cu.Name, Category: cu.Category,
		CapacityKVA: cu.CapacityKVA, VoltageKV: cu.VoltageKV}
	if math.IsNaN(kwh[cfg.Window]) {
		o.withoutReading = true
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
			o.rows = append(o.rows, mustJSON(w))
			o.abnormal++
			o.reason = f.Reasons[0]
		}
	}
	if !doneTrend {
		if t, ok := trendOf(&cu, bills, period, mgr); ok {
			o.trend = mustJSON(t)
		}
	}
	if !doneChurn && business {
		w := base
		w.Kind, w.Detector = records.WarningChurn, p.rs.Version
		var why []string
		switch {
		case graded != nil: // graded in this pass: what the grade run stores
			w.ChurnRisk, w.Grade, w.Reasons, why = graded.ChurnRisk, graded.Grade, graded.Reasons, graded.ChurnReasons
		case p.grades && o.noBills: // graded in this pass, without bills: no grade
		default:
			if g, e := storedGrade(r, cu.ID, p.period); e == nil && g != nil {
				w.ChurnRisk, w.Grade, w.Reasons, why = g.ChurnRisk, g.Grade, g.Reasons, g.ChurnReasons
			} else if a, ok, e := p.gradeCustomer(&cu, bills); e != nil {
				o.err = e
				return o
			} else if ok {
				w.ChurnRisk, w.Grade, w.Reasons, why = a.ChurnRisk, a.Grade, a.Reasons, a.ChurnReasons
			}
		}
		if w.ChurnRisk != nil { // the events that raised the risk first, then the grade's reasons
			w.Reasons = append(append([]string{"churn_risk"}, why...), w.Reasons...)
			if len(w.Reasons) > 20 {
				w.Reasons = w.Reasons[:20]
			}
			o.rows = append(o.rows, mustJSON(w))
			o.churn++
		}
	}
	return o
}

// gradeCustomer grades cu as of the run's month from its bills, its
// violations records and its churn events; ok is false without bills.
func (p *monthPass) gradeCustomer(cu *crm.Customer, bills []crm.Bill) (CreditAnswer, bool, *crm.Error) {
	ev, e := churnEventsOf(p.r, p.rs.ChurnEvents, cu, p.asOf)
	if e != nil {
		return CreditAnswer{}, false, e
	}
	marks, e := violationMarks(p.r, cu.ID)
	if e != nil {
		return CreditAnswer{}, false, e
	}
	a, ok := gradeOf(p.rs, cu, bills, marks, p.asOf, ev)
	return a, ok, nil
}

// sortedGetter reads many keys in ascending order in one pass
// (replication.StateReader).
type sortedGetter interface {
	GetSorted(keys [][]byte, fn func(i int, v []byte) error) error
}

// runBill is what the run reads of a bill: crm.Bill's fields the grade,
// the detector and the trend read, decoded as crm.Bill decodes them.
type runBill struct {
	Period    string   `json:"period"`
	KWh       float64  `json:"kwh"`
	KWhPeak   float64  `json:"kwh_peak"`
	KWhFlat   float64  `json:"kwh_flat"`
	KWhValley float64  `json:"kwh_valley"`
	Billed    float64  `json:"billed"`
	PayDate   crm.Date `json:"pay_date"`
	Arrears   float64  `json:"arrears"`
}

// runBills answers customer id's bills sorted by period, as
// crm.CustomerBills does (its customer_id index, the customer's bills
// only), holding the fields of runBill only: the bills are read through
// one iterator seeking forward from key to key where the reader can
// (GetSorted), not a point read each.
func runBills(r crm.Reader, id string) ([]crm.Bill, *crm.Error) {
	p := []byte(keyspace.IndexValue("bills", "customer_id", id))
	end := append(bytes.Clone(p[:len(p)-1]), 1) // the prefix ends in NUL: the next value up
	var keys [][]byte
	if err := r.Iterate(p, end, func(k, _ []byte) bool {
		keys = append(keys, []byte(keyspace.Record("bills", string(k[len(p):]))))
		return true
	}); err != nil {
		return nil, crm.AsError(err)
	}
	out := make([]crm.Bill, 0, len(keys))
	add := func(raw []byte) error {
		if raw == nil {
			return nil // an index entry whose record is gone
		}
		var b runBill
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		out = append(out, crm.Bill{Period: b.Period, KWh: b.KWh, KWhPeak: b.KWhPeak, KWhFlat: b.KWhFlat, KWhValley: b.KWhValley,
			Billed: b.Billed, PayDate: b.PayDate, Arrears: b.Arrears})
		return nil
	}
	if sg, ok := r.(sortedGetter); ok && len(keys) > 1 {
		if err := sg.GetSorted(keys, func(_ int, v []byte) error { return add(v) }); err != nil {
			return nil, crm.AsError(err)
		}
	} else {
		for _, k := range keys {
			raw, err := r.Get(k)
			if err == nil {
				err = add(raw)
			}
			if err != nil {
				return nil, crm.AsError(err)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	return out, nil
}
