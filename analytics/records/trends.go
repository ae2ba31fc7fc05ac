package records

import (
	"fmt"
	"math"
	"strings"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// industryKey is an industry as a counter name's last part.
func industryKey(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "unknown"
	}
	return strings.NewReplacer(".", "_", "/", "_", "\x00", "_").Replace(s)
}

// trendMetrics counts a stored trend in its region's aggregates.
func trendMetrics(raw []byte) (string, map[string]float64) {
	var c CustomerTrend
	if crm.Unmarshal(raw, &c) != nil {
		return "", nil
	}
	k := "." + c.Period + "." + industryKey(c.Industry)
	return c.Owner, map[string]float64{"mkt.ind.customers" + k: 1, "mkt.ind.kwh12" + k: c.KWh12, "mkt.ind.kwh12prev" + k: c.KWh12Prev}
}

// CustomerTrend is one business customer's last 12 months against the 12
// before as of a month (analytics/market.CustomerTrend), written by the
// monthly warning run where the customer is owned and replicated up, so
// that the market lists (fastest-growing and fastest-shrinking customers,
// bills that moved much more than their consumption, peak-shifting
// candidates) read the first entries of a ranked index instead of every
// customer's bills.
type CustomerTrend struct {
	crm.Meta
	CustomerID    string   `json:"customer_id"`
	Period        string   `json:"period"` // the last of the 24 months read, YYYY-MM
	Name          string   `json:"name,omitempty"`
	Category      string   `json:"category,omitempty"`
	Industry      string   `json:"industry,omitempty"` // the customer's, where known
	ManagerID     string   `json:"manager_id,omitempty"`
	KWh12         float64  `json:"kwh_12m"`
	KWh12Prev     float64  `json:"kwh_12m_prev"`
	Yuan12        float64  `json:"yuan_12m"`
	Yuan12Prev    float64  `json:"yuan_12m_prev"`
	Growth        float64  `json:"growth"`      // kwh_12m / kwh_12m_prev - 1
	BillGrowth    float64  `json:"bill_growth"` // yuan_12m / yuan_12m_prev - 1
	BillVsKWh     float64  `json:"bill_vs_kwh"` // bill_growth - growth
	BillReason    string   `json:"bill_reason,omitempty"`
	PeakShare     *float64 `json:"peak_share,omitempty"` // peak kWh over time-of-use kWh, last 12 months
	PeakSharePrev *float64 `json:"peak_share_prev,omitempty"`
}

// Trend ranks: the orders the market lists read.
const (
	RankGrowing   = "growing"     // growth, highest first
	RankShrinking = "shrinking"   // growth, lowest first
	RankBillGap   = "bill_vs_kwh" // |bill_vs_kwh|, largest first, only bills that moved much more (bill_reason set)
	RankPeakShare = "peak_share"  // peak share, highest first (peak-shifting candidates)
)

// TrendRanks lists the ranks.
var TrendRanks = []string{RankGrowing, RankShrinking, RankBillGap, RankPeakShare}

// BillReasons are the reasons a bill moved beyond its consumption.
var BillReasons = []string{"peak_share", "capacity_charge", "tariff"}

// registerTrends registers the trends kind (records.go).
func registerTrends() {
	crm.Register(&crm.Kind{Programme: "analytics", Name: "customer_trends", IDPrefix: "ctr", New: func() crm.Record { return &CustomerTrend{} },
		Filters: []string{"customer_id", "period"}, Counters: trendMetrics})
}

// Normalize implements Record.
func (c *CustomerTrend) Normalize() {
	trim(&c.CustomerID)
	trim(&c.Period)
	trim(&c.Name)
	trim(&c.ManagerID)
	trim(&c.Industry)
	c.Category = strings.ToLower(strings.TrimSpace(c.Category))
	c.BillReason = strings.ToLower(strings.TrimSpace(c.BillReason))
}

// Validate implements Record.
func (c *CustomerTrend) Validate() *crm.Error {
	if !crm.Kinds["customers"].ValidID(c.CustomerID) {
		return crm.Invalid("customer_id", "%q is not a customer id", c.CustomerID)
	}
	if !crm.ValidPeriod(c.Period) {
		return crm.Invalid("period", "%q is not a month of the form YYYY-MM", c.Period)
	}
	if c.ManagerID != "" && !crm.Kinds["staff"].ValidID(c.ManagerID) {
		return crm.Invalid("manager_id", "%q is not a staff id", c.ManagerID)
	}
	if c.Category != "" {
		if e := crm.OneOf("category", c.Category, crm.Categories...); e != nil {
			return e
		}
	}
	if c.BillReason != "" {
		if e := crm.OneOf("bill_reason", c.BillReason, BillReasons...); e != nil {
			return e
		}
	}
	if e := crm.FirstErr(crm.MaxLen("name", c.Name, 100), crm.MaxLen("industry", c.Industry, 64), crm.NonNegative("kwh_12m", c.KWh12, 1e12), crm.NonNegative("kwh_12m_prev", c.KWh12Prev, 1e12),
		crm.NonNegative("yuan_12m", c.Yuan12, 1e12), crm.NonNegative("yuan_12m_prev", c.Yuan12Prev, 1e12)); e != nil {
		return e
	}
	for _, f := range []struct {
		name   string
		v, min float64
	}{{"growth", c.Growth, -1}, {"bill_growth", c.BillGrowth, -1}, {"bill_vs_kwh", c.BillVsKWh, -1e7}} {
		if !(f.v >= f.min && f.v <= 1e7) {
			return crm.Invalid(f.name, "%v: want a number from %v to 1e7", f.v, f.min)
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"peak_share", c.PeakShare}, {"peak_share_prev", c.PeakSharePrev}} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= 1) {
			return crm.Invalid(f.name, "%v: want 0..1", *f.v)
		}
	}
	return nil
}

// rankKey encodes v so that the index orders the entries by it, smallest
// first: fixed width, offset to be positive.
func rankKey(period string, v float64) string {
	v = math.Max(-1e6, math.Min(1e6, v))
	return period + "/" + fmt.Sprintf("%016.6f", v+1e6)
}

// Indexes implements Record.
func (c *CustomerTrend) Indexes() []crm.Index {
	ix := []crm.Index{{Field: "customer_id", Value: c.CustomerID}, {Field: "period", Value: c.Period}, {Field: crm.OwnerIndex, Value: c.Owner},
		{Field: "rank_" + RankGrowing, Value: rankKey(c.Period, -c.Growth)}, {Field: "rank_" + RankShrinking, Value: rankKey(c.Period, c.Growth)}}
	if c.BillReason != "" {
		ix = append(ix, crm.Index{Field: "rank_" + RankBillGap, Value: rankKey(c.Period, -math.Abs(c.BillVsKWh))})
	}
	if c.PeakShare != nil {
		ix = append(ix, crm.Index{Field: "rank_" + RankPeakShare, Value: rankKey(c.Period, -*c.PeakShare)})
	}
	return ix
}

// Uniques implements Record: one trend per customer and month.
func (c *CustomerTrend) Uniques() []crm.Unique {
	return []crm.Unique{{Name: "period", Scope: c.CustomerID, Value: c.Period, Field: "period"}}
}

// Refs implements Record.
func (c *CustomerTrend) Refs() []crm.Ref {
	return []crm.Ref{{Field: "customer_id", Collection: "customers", ID: c.CustomerID}}
}

// TrendDone reports whether customer id's trend of period is stored: one
// key read.
func TrendDone(r crm.Reader, id, period string) (bool, error) {
	v, err := r.Get(uniqueKey("customer_trends", "period", id, period))
	return v != nil, err
}

// TrendsRanked calls fn with the stored trends of period in rank order
// (TrendRanks) whose owner is region (subtree: or under it), until fn
// answers false. It walks the rank's index of the month: the cost is the
// entries read before fn stops, plus those of regions out of scope.
func TrendsRanked(r crm.Reader, rank, period, region string, subtree bool, fn func(c *CustomerTrend) bool) error {
	prefix := []byte(keyspace.IndexField("customer_trends", "rank_"+rank) + cleanNUL(period) + "/")
	var ferr error
	err := r.Iterate(prefix, prefixEnd(prefix), func(k, _ []byte) bool {
		i := strings.LastIndexByte(string(k), 0)
		if i < 0 {
			return true
		}
		raw, err := r.Get(recordKey("customer_trends", string(k[i+1:])))
		if err != nil {
			ferr = err
			return false
		}
		if raw == nil {
			return true
		}
		var c CustomerTrend
		if err := crm.Unmarshal(raw, &c); err != nil {
			ferr = err
			return false
		}
		if c.Owner != region && (!subtree || !crm.InRegion(c.Owner, region)) {
			return true
		}
		return fn(&c)
	})
	if err == nil {
		err = ferr
	}
	return err
}
