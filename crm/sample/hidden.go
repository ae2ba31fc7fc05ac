package sample

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/workday"
)

// Credit health of a customer, the hidden trait behind its payments.
const (
	CreditGood = "good" // pays on time, rarely a few days late
	CreditFair = "fair" // late now and then, an occasional month in arrears
	CreditPoor = "poor" // often late by weeks, runs of months in arrears
)

// Anomaly kinds injected into the readings.
const (
	AnomalyZero = "zero" // the meter read nothing (fault, disconnection)
	AnomalyDrop = "drop" // 30-50% below what the month would have been
	AnomalyRise = "rise" // 40-80% above it
)

// DirectDebitTag marks a customer who pays by direct debit (代扣); the
// credit grade reads it (api: the tag "direct_debit" or "代扣").
const DirectDebitTag = "代扣"

// Traits are a customer's hidden traits: what drove its generated bills.
// They are never imported; tests and evaluations compare what the
// analytics find with them.
type Traits struct {
	Credit      string // CreditGood, CreditFair or CreditPoor
	DirectDebit bool   // pays by direct debit (the customer carries DirectDebitTag)
	// Churn is the share of consumption a business customer loses over its
	// last ChurnMonths months (ramping down, paying later as it goes); 0:
	// not leaving.
	Churn       float64
	ChurnMonths int
	// ReducedCapacity: a leaving customer that has cut its contracted
	// capacity (减容): one standard size less, and a capacity_changes
	// record (Data.CapacityChanges) from the middle of its decline.
	ReducedCapacity bool
	Anomalies       []Anomaly // injected into the readings, oldest first
}

// Anomaly is one injected reading.
type Anomaly struct {
	Bill   int     // index into the customer's bills
	Kind   string  // AnomalyZero, AnomalyDrop or AnomalyRise
	Factor float64 // the reading is Factor × what it would have been
}

// DefaultAnomalyRate is the share of a household's months with an injected
// anomaly; business customers get three times as many.
const DefaultAnomalyRate = 0.01

// hidden draws a customer's credit and churn traits (not the anomalies,
// drawn with the bills).
func (pr *profile) hidden(rng *rand.Rand) {
	business := pr.c.Category != crm.CategoryResidential
	good, fair := 88, 97 // per cent: good below 88, fair below 97, poor the rest
	if business {
		good, fair = 85, 95
	}
	switch r := rng.IntN(100); {
	case r < good:
		pr.t.Credit = CreditGood
	case r < fair:
		pr.t.Credit = CreditFair
	default:
		pr.t.Credit = CreditPoor
	}
	dd := map[string]int{CreditGood: 45, CreditFair: 20, CreditPoor: 5}[pr.t.Credit]
	if business {
		dd /= 2
	}
	if rng.IntN(100) < dd {
		pr.t.DirectDebit = true
		pr.c.Tags = append(pr.c.Tags, DirectDebitTag)
	}
	churn := 4
	if pr.t.Credit == CreditPoor {
		churn = 20
	}
	if business && rng.IntN(100) < churn {
		pr.t.Churn = 0.3 + 0.4*rng.Float64()
		pr.t.ChurnMonths = 6 + rng.IntN(7)
		if pr.t.Churn >= 0.5 && rng.IntN(10) < 6 {
			pr.reduceCapacity()
		}
	}
}

// reduceCapacity cuts the contracted capacity by one standard size,
// within the customer's supply class (大工业 keeps 315 kVA, 10 kV supply
// 250 kVA, low voltage 10 kVA); the supply voltage stays.
func (pr *profile) reduceCapacity() {
	sizes, floor := lowSizes, 10.0
	switch {
	case pr.c.Category == crm.CategoryIndustrial:
		sizes, floor = highSizes, 315
	case pr.c.VoltageKV >= 10:
		sizes, floor = highSizes, 250
	}
	for i := len(sizes) - 1; i > 0; i-- {
		if sizes[i] == pr.c.CapacityKVA && sizes[i-1] >= floor {
			pr.reducedFrom, pr.c.CapacityKVA = pr.c.CapacityKVA, sizes[i-1]
			pr.t.ReducedCapacity = true
			return
		}
	}
}

// capacityChanges are the customer's capacity_changes records: its
// reduction (减容), if any, begun in the middle of its decline (the month
// half its ChurnMonths before end), CustomerID left empty.
func (pr *profile) capacityChanges(end time.Time) []crm.CapacityChange {
	if !pr.t.ReducedCapacity {
		return nil
	}
	start := time.Date(end.Year(), end.Month()-time.Month(pr.t.ChurnMonths/2), 1, 0, 0, 0, 0, time.UTC)
	return []crm.CapacityChange{{Kind: crm.CapacityReduction, FromKVA: pr.reducedFrom, ToKVA: pr.c.CapacityKVA,
		StartOn: crm.Date(start.Format("2006-01-02")), Note: "减容：停运一台变压器"}}
}

// contractEnd is the end of a business customer's supply contract
// (供用电合同): five years from a start drawn uniformly over the five
// years to end, so the ends fall uniformly over the five years after it.
// It is drawn from rng alone, independently of the churn trait: the
// generator knows nothing of how contract ends relate to leaving, and
// does not pretend to (the churn rule set's multiplier is not fitted).
func contractEnd(rng *rand.Rand, end time.Time) crm.Date {
	start := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -rng.IntN(5*365))
	return crm.Date(start.AddDate(5, 0, -1).Format("2006-01-02"))
}

// credit behaviour by health: the chance a bill is paid late, the mean
// days late when it is, the chances of falling into arrears and of
// staying there the next month, and the chance that a run in arrears is
// never paid off (bad debt, left in arrears).
var behaviour = map[string]struct{ late, days, enter, stay, badDebt float64 }{
	CreditGood: {0.02, 4, 0.002, 0.2, 0},
	CreditFair: {0.15, 12, 0.02, 0.4, 0.1},
	CreditPoor: {0.45, 30, 0.10, 0.7, 0.3},
}

// payer settles a customer's bills month after month: a run of months in
// arrears is paid off, in full and late, with the first month paid again.
type payer struct {
	open []int // indices of the bills of the current arrears run
}

// dueDay is when the bill of the month starting t falls due: the last day
// of the month after it (api/analytics.go counts days late from it).
func dueDay(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+2, 0, 0, 0, 0, 0, time.UTC) }

// pay settles out[i], the bill of the month starting t, k months before
// End; churning is how far into its decline the customer is (0..1). The
// data is as of the end of the month after End (when End's bills are
// due): a payment that would come later has not been made, the bill is
// left in arrears.
func (pr *profile) pay(rng *rand.Rand, py *payer, out []crm.Bill, i int, t time.Time, k int, churning float64) {
	cutoff := dueDay(t.AddDate(0, k, 0))
	b := &out[i]
	be := behaviour[pr.t.Credit]
	late, enter := be.late+0.3*churning, be.enter+0.1*churning
	if pr.t.DirectDebit { // the bank collects on the day; a failed debit is rare
		late, enter = late*0.2, enter*0.3
	}
	day := min(max(pr.payDay+rng.IntN(5)-2, 1), 28)
	onTime := time.Date(t.Year(), t.Month()+1, day, 0, 0, 0, 0, time.UTC)
	inArrears := false
	if b.Billed > 0 {
		p := enter
		if len(py.open) > 0 {
			p = be.stay
		}
		inArrears = rng.Float64() < p
		if !inArrears && k < len(recency) && !pr.t.DirectDebit && rng.Float64() < recency[k] {
			b.Arrears = b.Billed // the latest bills are not all collected yet
			return
		}
	}
	if !inArrears && len(py.open) > 0 { // the run ends: paid off with this month's payment, or written off
		if at := onTime.AddDate(0, 0, rng.IntN(10)); rng.Float64() >= be.badDebt && !at.After(cutoff) {
			for _, j := range py.open {
				out[j].Paid, out[j].PayDate, out[j].Arrears = out[j].Billed, crm.Date(at.Format("2006-01-02")), 0
			}
		}
		py.open = py.open[:0]
	}
	if b.Billed == 0 {
		return
	}
	if inArrears {
		py.open = append(py.open, i)
		b.Arrears = b.Billed
		if rng.IntN(2) == 0 { // part paid
			b.Paid = round2(b.Billed * (0.2 + 0.6*rng.Float64()))
			b.PayDate = crm.Date(onTime.Format("2006-01-02"))
			b.Arrears = round2(b.Billed - b.Paid)
		}
		return
	}
	at := onTime
	if rng.Float64() < late {
		at = dueDay(t).AddDate(0, 0, 1+int(rng.ExpFloat64()*be.days))
	}
	if at.After(cutoff) {
		b.Arrears = b.Billed // to be paid late, after the data's date
		return
	}
	b.Paid, b.PayDate = b.Billed, crm.Date(at.Format("2006-01-02"))
}

// anomaly draws whether the month's reading is injected, at rate.
func anomaly(rng *rand.Rand, rate float64) (kind string, factor float64) {
	if rng.Float64() >= rate {
		return "", 1
	}
	switch r := rng.Float64(); {
	case r < 0.3:
		return AnomalyZero, 0
	case r < 0.7:
		return AnomalyDrop, 0.5 + 0.2*rng.Float64()
	}
	return AnomalyRise, 1.4 + 0.4*rng.Float64()
}

// Working days. Industry runs at idleShare of its working-day load on the
// other days; the monthly factor is the month's mean activity over the
// year's.
const idleShare = 0.35

var workCache = struct {
	sync.Mutex
	m map[int]float64 // year*12 + month-1 → factor
}{m: map[int]float64{}}

// workFactor is the working-day factor of month m of year y for industry:
// the month's mean activity (1 on a working day, idleShare on another)
// over the mean of its year. Years the calendar (crm/workday) does not
// hold are approximated (fallbackWorking).
func workFactor(y int, m time.Month) float64 {
	key := y*12 + int(m) - 1
	workCache.Lock()
	defer workCache.Unlock()
	if f, ok := workCache.m[key]; ok {
		return f
	}
	var act [12]float64
	yearAct := 0.0
	days := 0
	cal := workday.Default()
	for d := time.Date(y, 1, 1, 12, 0, 0, 0, workday.CST); d.Year() == y; d = d.AddDate(0, 0, 1) {
		w, err := cal.IsWorkingDay(d)
		if err != nil {
			w = fallbackWorking(d)
		}
		a := idleShare
		if w {
			a = 1
		}
		act[d.Month()-1] += a
		yearAct += a
		days++
	}
	mean := yearAct / float64(days)
	for mm := range 12 {
		n := time.Date(y, time.Month(mm+2), 0, 0, 0, 0, 0, time.UTC).Day()
		workCache.m[y*12+mm] = act[mm] / float64(n) / mean
	}
	return workCache.m[key]
}

// springFestival is the first day of the lunar year (春节), 2010-2035.
var springFestival = map[int][2]int{
	2010: {2, 14}, 2011: {2, 3}, 2012: {1, 23}, 2013: {2, 10}, 2014: {1, 31}, 2015: {2, 19}, 2016: {2, 8},
	2017: {1, 28}, 2018: {2, 16}, 2019: {2, 5}, 2020: {1, 25}, 2021: {2, 12}, 2022: {2, 1}, 2023: {1, 22},
	2024: {2, 10}, 2025: {1, 29}, 2026: {2, 17}, 2027: {2, 6}, 2028: {1, 26}, 2029: {2, 13}, 2030: {2, 3},
	2031: {1, 23}, 2032: {2, 11}, 2033: {1, 31}, 2034: {2, 19}, 2035: {2, 8},
}

// fallbackWorking approximates a working day in a year the official
// calendar does not hold: Monday to Friday, except the Spring Festival
// week (its eve and six days after), 1-5 May and 1-7 October; make-up
// Saturdays are not modelled.
func fallbackWorking(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if sf, ok := springFestival[d.Year()]; ok {
		start := time.Date(d.Year(), time.Month(sf[0]), sf[1]-1, 0, 0, 0, 0, d.Location())
		if !d.Before(start) && d.Before(start.AddDate(0, 0, 7)) {
			return false
		}
	}
	switch {
	case d.Month() == time.May && d.Day() <= 5, d.Month() == time.October && d.Day() <= 7:
		return false
	}
	return true
}

// industrialDamp scales the industrial shape's swing: the shared zones'
// night load still heats and cools; factories in Jiangsu swing about half
// as much, and the working days set the rest.
const industrialDamp = 0.5

// monthFactor is the customer's consumption in the month starting t as a
// share of its mean month (before trend and noise).
func (pr *profile) monthFactor(t time.Time) float64 {
	m := int(t.Month()) - 1
	perDay := float64(time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()) / (365.25 / 12)
	switch pr.c.Category {
	case crm.CategoryResidential:
		if pr.vacant {
			return seasonVacant[m]
		}
		return derived.Monthly[ShapeResidential][m] * perDay
	case crm.CategoryCommercial:
		return derived.Monthly[ShapeCommercial][m] * perDay
	case crm.CategoryIndustrial:
		return (1 + industrialDamp*(derived.Monthly[ShapeIndustrial][m]-1)) * perDay * workFactor(t.Year(), t.Month())
	case crm.CategoryAgricultural:
		return seasonAgricultural[m]
	}
	return seasonPublic[m]
}

// peakTilt moves a customer's peak share with the month as the shared
// load's does: households by the share of their 8-21 peak, others by the
// share of the peak hours.
func (pr *profile) peakTilt(m int) float64 {
	if pr.c.Category == crm.CategoryResidential {
		return derived.Day[m] / meanOf(derived.Day[:])
	}
	var p [12]float64
	for i := range 12 {
		p[i] = derived.TOU[i][touPeak]
	}
	return p[m] / meanOf(p[:])
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	return s / float64(len(xs))
}
