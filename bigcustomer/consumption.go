package bigcustomer

import (
	"math"
	"sort"
	"time"

	"gridcrm/crm"
)

// MonthLine is one month of a customer's consumption analysis.
type MonthLine struct {
	Period    string   `json:"period"`
	KWh       float64  `json:"kwh"`
	KWhPeak   float64  `json:"kwh_peak"`
	KWhFlat   float64  `json:"kwh_flat"`
	KWhValley float64  `json:"kwh_valley"`
	Billed    float64  `json:"billed"`
	Paid      float64  `json:"paid"`
	Arrears   float64  `json:"arrears"`
	YoY       *float64 `json:"yoy,omitempty"` // change against the same month a year before, when billed
}

// ClassComparison sets a customer against the customers of its class and
// grade in its region.
type ClassComparison struct {
	Class           string  `json:"class"`
	Grade           string  `json:"grade"`
	Peers           int     `json:"peers"` // customers of the same class and grade, itself included
	PeerMeanKWh     float64 `json:"peer_mean_annual_kwh"`
	PeerMedianKWh   float64 `json:"peer_median_annual_kwh"`
	Percentile      float64 `json:"percentile"` // share of peers with less annual kWh
	PeerMeanPrice   float64 `json:"peer_mean_price"`
	PeerPeakShare   float64 `json:"peer_peak_share"`
	CustomerVsMean  float64 `json:"customer_vs_mean"` // annual kWh / peer mean
	PeerPeakSampled int     `json:"peer_peak_sampled"`
}

// ConsumptionReport is the consumption and fee analysis of one customer
// (用电分析报告) for the post-energisation plan and the manager's visit.
type ConsumptionReport struct {
	CustomerID  string          `json:"customer_id"`
	Name        string          `json:"name"`
	Region      string          `json:"region"`
	Day         crm.Date        `json:"day"`
	Window      [2]string       `json:"window"`
	Months      []MonthLine     `json:"months"`
	AnnualKWh   float64         `json:"annual_kwh"`
	PeakShare   float64         `json:"peak_share"`
	FlatShare   float64         `json:"flat_share"`
	ValleyShare float64         `json:"valley_share"`
	Billed      float64         `json:"billed"`
	Paid        float64         `json:"paid"`
	Arrears     float64         `json:"arrears"`
	MeanPrice   float64         `json:"mean_price"` // billed / kWh, yuan
	Trend       float64         `json:"trend"`      // last 3 months' kWh against the 3 before (-0.1 = 10% down)
	Class       Classification  `json:"classification"`
	Compared    ClassComparison `json:"compared_with_class"`
}

// Consumption builds the report of customer id over the 12 months before
// day's month.
func Consumption(r crm.Reader, id string, day crm.Date) (*ConsumptionReport, *crm.Error) {
	return consumption(r, id, day, true)
}

// consumption reads the class comparison from the cards when cards is set
// and they cover the customer's region, else from the records.
func consumption(r crm.Reader, id string, day crm.Date, cards bool) (*ConsumptionReport, *crm.Error) {
	cl, bills, e := classifyCustomer(r, id, day)
	if e != nil {
		return nil, e
	}
	from, to := crm.Window(day)
	rep := &ConsumptionReport{CustomerID: id, Name: cl.Name, Region: cl.Region, Day: day, Window: [2]string{from, to}, Months: []MonthLine{}, Class: *cl}
	byPeriod := map[string]crm.Bill{}
	for _, b := range bills {
		byPeriod[b.Period] = b
	}
	var peak, flat, valley, touKWh float64
	for _, b := range bills {
		if b.Period < from || b.Period > to {
			continue
		}
		m := MonthLine{Period: b.Period, KWh: b.KWh, KWhPeak: b.KWhPeak, KWhFlat: b.KWhFlat, KWhValley: b.KWhValley, Billed: b.Billed, Paid: b.Paid, Arrears: b.Arrears}
		t, _ := time.Parse("2006-01", b.Period)
		if prev, ok := byPeriod[t.AddDate(-1, 0, 0).Format("2006-01")]; ok && prev.KWh > 0 {
			y := round4(b.KWh/prev.KWh - 1)
			m.YoY = &y
		}
		rep.Months = append(rep.Months, m)
		rep.AnnualKWh += b.KWh
		rep.Billed += b.Billed
		rep.Paid += b.Paid
		rep.Arrears += b.Arrears
		if b.KWhPeak+b.KWhFlat+b.KWhValley > 0 {
			peak, flat, valley, touKWh = peak+b.KWhPeak, flat+b.KWhFlat, valley+b.KWhValley, touKWh+b.KWh
		}
	}
	if touKWh > 0 {
		rep.PeakShare, rep.FlatShare, rep.ValleyShare = round4(peak/touKWh), round4(flat/touKWh), round4(valley/touKWh)
	}
	if rep.AnnualKWh > 0 {
		rep.MeanPrice = round4(rep.Billed / rep.AnnualKWh)
	}
	if n := len(rep.Months); n >= 6 {
		var last, before float64
		for _, m := range rep.Months[n-3:] {
			last += m.KWh
		}
		for _, m := range rep.Months[n-6 : n-3] {
			before += m.KWh
		}
		if before > 0 {
			rep.Trend = round4(last/before - 1)
		}
	}
	rep.AnnualKWh, rep.Billed, rep.Paid, rep.Arrears = round2(rep.AnnualKWh), round2(rep.Billed), round2(rep.Paid), round2(rep.Arrears)

	// The customer's class in its own region: from the memo of its cards
	// (cardclass.go), else from a classification of its records.
	owner := crm.RecordOwner(mustGet(r, id))
	if cards {
		cmp := ClassComparison{Class: cl.Class, Grade: cl.Grade}
		ok, err := peersFromCards(r, owner, day, cl, rep.AnnualKWh, &cmp)
		if err != nil {
			return nil, crm.AsError(err)
		}
		if ok {
			rep.Compared = cmp
			return rep, nil
		}
	}
	cmp := ClassComparison{Class: cl.Class, Grade: cl.Grade}
	all, e := classifyRegion(r, ClassQuery{Region: owner, Day: day, Class: cl.Class, Grade: cl.Grade}, false)
	if e != nil {
		return nil, e
	}
	cmp.Peers = len(all.Items)
	kwhs := make([]float64, 0, len(all.Items))
	var billed, peakSum, touSum float64
	below := 0
	for i, it := range all.Items {
		kwhs = append(kwhs, it.Figures.AnnualKWh)
		billed += it.Figures.AnnualBilled
		if it.Figures.AnnualKWh < rep.AnnualKWh {
			below++
		}
		if i < 200 { // peak share from the bills of the biggest 200 peers
			bs, e := crm.CustomerBills(r, it.CustomerID)
			if e != nil {
				return nil, e
			}
			for _, b := range bs {
				if b.Period >= from && b.Period <= to && b.KWhPeak+b.KWhFlat+b.KWhValley > 0 {
					peakSum += b.KWhPeak
					touSum += b.KWh
				}
			}
			cmp.PeerPeakSampled++
		}
	}
	finishComparison(&cmp, kwhs, billed, below, rep.AnnualKWh, peakSum, touSum)
	rep.Compared = cmp
	return rep, nil
}

// finishComparison sets the peer figures from the peers' annual kWh
// (biggest first), their billed total, how many used less than the
// customer, and the peak and time-of-use kWh of those sampled.
func finishComparison(cmp *ClassComparison, kwhs []float64, billed float64, below int, annualKWh, peakSum, touSum float64) {
	if len(kwhs) > 0 {
		total := 0.0
		for _, k := range kwhs {
			total += k
		}
		sort.Float64s(kwhs)
		cmp.PeerMeanKWh = round2(total / float64(len(kwhs)))
		cmp.PeerMedianKWh = round2(median(kwhs))
		cmp.Percentile = round4(float64(below) / float64(len(kwhs)))
		if total > 0 {
			cmp.PeerMeanPrice = round4(billed / total)
		}
		if cmp.PeerMeanKWh > 0 {
			cmp.CustomerVsMean = round4(annualKWh / cmp.PeerMeanKWh)
		}
	}
	if touSum > 0 {
		cmp.PeerPeakShare = round4(peakSum / touSum)
	}
}

// finishSortedComparison is finishComparison from n peers' kWh total and
// median (summed biggest first, as finishComparison sums them).
func finishSortedComparison(cmp *ClassComparison, n int, total, median, billed float64, below int, annualKWh, peakSum, touSum float64) {
	if n > 0 {
		cmp.PeerMeanKWh = round2(total / float64(n))
		cmp.PeerMedianKWh = round2(median)
		cmp.Percentile = round4(float64(below) / float64(n))
		if total > 0 {
			cmp.PeerMeanPrice = round4(billed / total)
		}
		if cmp.PeerMeanKWh > 0 {
			cmp.CustomerVsMean = round4(annualKWh / cmp.PeerMeanKWh)
		}
	}
	if touSum > 0 {
		cmp.PeerPeakShare = round4(peakSum / touSum)
	}
}

func mustGet(r crm.Reader, id string) []byte {
	raw, _ := r.Get(recordKey("customers", id))
	return raw
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
