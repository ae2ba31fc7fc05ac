package market

import "math"

// Month is one month of one customer's bills, oldest first.
type Month struct {
	KWh, Peak, Flat, Valley float64 // Peak+Flat+Valley = KWh when metered by time of use, else all 0
	Yuan                    float64
	Known                   bool // a bill exists for the month
}

// Trend is one customer's last 12 months against the 12 before: the
// figures the market lists rank customers by.
type Trend struct {
	KWh, KWhPrev   float64 // kWh of the last 12 months and of the 12 before
	Yuan, YuanPrev float64
	Growth         float64 // KWh/KWhPrev - 1
	BillGrowth     float64 // Yuan/YuanPrev - 1
	BillVsKWh      float64 // BillGrowth - Growth: the amount moving beyond the consumption
	PeakShare      float64 // peak kWh over metered kWh, last 12 months (NaN: not metered)
	PeakSharePrev  float64 // the same for the 12 before
	BillReason     string  // why the amount moved beyond the consumption (see Trends)
}

// Reasons a bill moved beyond its consumption.
const (
	ReasonPeakShare = "peak_share"      // more of the energy at peak hours
	ReasonCapacity  = "capacity_charge" // a fixed capacity charge over less energy
	ReasonTariff    = "tariff"          // the price itself
)

// MinBillGap is the gap between the amount's and the consumption's
// change (as shares) from which a bill has moved "much more" than its
// consumption.
const MinBillGap = 0.1

// CustomerTrend answers a customer's trend from its last 24 months (m,
// oldest first, exactly 24); ok is false unless every one of them has a
// bill and both years have consumption. capacityCharged says the customer
// pays a capacity (demand) charge (two-part tariff), which makes the
// amount fall slower than the energy.
func CustomerTrend(m []Month, capacityCharged bool) (Trend, bool) {
	if len(m) != 24 {
		return Trend{}, false
	}
	var t Trend
	var peak, metered, peakPrev, meteredPrev float64
	for i, x := range m {
		if !x.Known || x.KWh < 0 || x.Yuan < 0 || math.IsNaN(x.KWh) || math.IsNaN(x.Yuan) {
			return Trend{}, false
		}
		tou := x.Peak + x.Flat + x.Valley
		if i < 12 {
			t.KWhPrev += x.KWh
			t.YuanPrev += x.Yuan
			peakPrev += x.Peak
			meteredPrev += tou
		} else {
			t.KWh += x.KWh
			t.Yuan += x.Yuan
			peak += x.Peak
			metered += tou
		}
	}
	if t.KWh <= 0 || t.KWhPrev <= 0 || t.YuanPrev <= 0 {
		return Trend{}, false
	}
	t.Growth = t.KWh/t.KWhPrev - 1
	t.BillGrowth = t.Yuan/t.YuanPrev - 1
	t.BillVsKWh = t.BillGrowth - t.Growth
	t.PeakShare, t.PeakSharePrev = math.NaN(), math.NaN()
	if metered > 0 {
		t.PeakShare = peak / metered
	}
	if meteredPrev > 0 {
		t.PeakSharePrev = peakPrev / meteredPrev
	}
	if math.Abs(t.BillVsKWh) >= MinBillGap {
		switch {
		case t.PeakShare-t.PeakSharePrev >= 0.05 && t.BillVsKWh > 0:
			t.BillReason = ReasonPeakShare
		case capacityCharged && t.Growth < 0 && t.BillVsKWh > 0:
			t.BillReason = ReasonCapacity
		default:
			t.BillReason = ReasonTariff
		}
	}
	return t, true
}
