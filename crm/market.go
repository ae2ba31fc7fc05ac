package crm

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"gridcrm/store/keyspace"
)

// The market counters: what the fee, tariff and market analyses
// (analytics/market) read at any tier, kept on apply with the other bill
// counters (aggregate.go) from what a bill carries, its category and
// voltage class included (derived from the customer on create, bill.go):
//
//	mkt.kwh.<dim>.<value>.<YYYY-MM>     kWh billed
//	mkt.yuan.<dim>.<value>.<YYYY-MM>    amount billed, yuan
//	mkt.bills.<dim>.<value>.<YYYY-MM>   bills (customers billed that month)
//	mkt.tou.<peak|flat|valley>.<YYYY-MM> time-of-use kWh of the bills that split it
//	mkt.tou.metered.<YYYY-MM>           kWh of those bills (the shares' denominator)
//
// with dim cat (the customer category) or volt (low, medium, high). A
// bill written before bills carried a category counts under neither (its
// kWh stays in kwh.<YYYY-MM>). Connection projects count, from the
// project alone (the projects' Counters hook in package process), the
// capacity they added in the CST month they were energised:
//
//	mkt.cap.kva.<kind>.<class>.<YYYY-MM>       kVA energised
//	mkt.cap.projects.<kind>.<class>.<YYYY-MM>  projects energised
//
// with kind new_connection or capacity_increase and the project's class
// (residential, lv, hv_single, hv_dual). A project energised before the
// counters were kept is not counted. The business customers' trends of a
// month (CustomerTrend, written by the warning run) count by industry
// (trendMetrics, called from aggregate.go), so that growth by industry is
// a counter read:
//
//	mkt.ind.customers.<YYYY-MM>.<industry>   customers with a trend that month
//	mkt.ind.kwh12.<YYYY-MM>.<industry>       their kWh of the 12 months to it
//	mkt.ind.kwh12prev.<YYYY-MM>.<industry>   and of the 12 before
//
// with industry the customer's (dots and slashes made "_"), or "unknown".

// MarketDims are the dimensions the market counters split by.
var MarketDims = []string{"cat", "volt"}

func marketMetrics(b *Bill, m map[string]float64) {
	for _, d := range [][2]string{{"cat", b.Category}, {"volt", b.VoltageClass}} {
		if d[1] == "" {
			continue
		}
		k := "." + d[0] + "." + d[1] + "." + b.Period
		m["mkt.kwh"+k] = b.KWh
		m["mkt.yuan"+k] = b.Billed
		m["mkt.bills"+k] = 1
	}
	if tou := b.KWhPeak + b.KWhFlat + b.KWhValley; tou > 0 {
		m["mkt.tou.peak."+b.Period] = b.KWhPeak
		m["mkt.tou.flat."+b.Period] = b.KWhFlat
		m["mkt.tou.valley."+b.Period] = b.KWhValley
		m["mkt.tou.metered."+b.Period] = tou
	}
}

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
	if unmarshal(raw, &c) != nil {
		return "", nil
	}
	k := "." + c.Period + "." + industryKey(c.Industry)
	return c.Owner, map[string]float64{"mkt.ind.customers" + k: 1, "mkt.ind.kwh12" + k: c.KWh12, "mkt.ind.kwh12prev" + k: c.KWh12Prev}
}

// IndustryCell is the business customers of one industry with a trend in
// a month: how many, and their kWh over the 12 months to it and the 12
// before.
type IndustryCell struct {
	Customers int64   `json:"customers"`
	KWh12     float64 `json:"kwh_12m"`
	KWh12Prev float64 `json:"kwh_12m_prev"`
}

// CapacityCell is the capacity energised in a month by one kind and class
// of project.
type CapacityCell struct {
	KVA      float64 `json:"kva"`
	Projects int64   `json:"projects"`
}

// MarketCell is one month of one slice (a category, a voltage class).
type MarketCell struct {
	KWh   float64 `json:"kwh"`
	Yuan  float64 `json:"yuan"`
	Bills int64   `json:"bills"`
}

// MarketCounters are the market counters of a region or subtree, summed.
type MarketCounters struct {
	// Slices: dim (cat, volt) → value (a category, a class) → month → cell.
	Slices map[string]map[string]map[string]*MarketCell
	// TOU: month → peak, flat, valley, metered → kWh.
	TOU map[string]map[string]float64
	// ByRegion: owner region → month → its bills over every category.
	ByRegion map[string]map[string]*MarketCell
	// Capacity: month → "<kind>.<class>" → capacity energised.
	Capacity map[string]map[string]*CapacityCell
	// CapacityByRegion: owner region → month → kVA energised.
	CapacityByRegion map[string]map[string]float64
	// Industry: month → industry → the trends counted.
	Industry map[string]map[string]*IndustryCell
	Regions  []string // regions that contributed
}

// Market adds up the market counters of region (subtree: and every
// region under it). It reads counters only, never records.
func Market(r Reader, region string, subtree bool) (MarketCounters, error) {
	return market(r, region, subtree, true, true)
}

// MarketTotals is Market without what it lists per owner region below
// region (ByRegion, CapacityByRegion: region's own only) where the subtree
// totals are kept: the slices, time of use, capacity and industries of
// the subtree, for the reads that list no region (a province's regions'
// months are several thousand numbers).
func MarketTotals(r Reader, region string, subtree bool) (MarketCounters, error) {
	return market(r, region, subtree, false, false)
}

// MarketCapacity is MarketTotals with the capacity energised per owner
// region (CapacityByRegion).
func MarketCapacity(r Reader, region string, subtree bool) (MarketCounters, error) {
	return market(r, region, subtree, false, true)
}

func market(r Reader, region string, subtree, byRegion, capacityByRegion bool) (MarketCounters, error) {
	out := MarketCounters{Slices: map[string]map[string]map[string]*MarketCell{}, TOU: map[string]map[string]float64{},
		ByRegion: map[string]map[string]*MarketCell{}, Capacity: map[string]map[string]*CapacityCell{}, CapacityByRegion: map[string]map[string]float64{},
		Industry: map[string]map[string]*IndustryCell{}}
	// reg "" is the regions below region summed (subtree totals): their
	// own figures (ByRegion, CapacityByRegion) come from eachRollup.
	regions, err := sumCounters(r, region, subtree, "mkt.", func(reg, rest string, x float64) bool {
		if r, ok := strings.CutPrefix(rest, "ind."); ok { // ind.<what>.<month>.<industry>
			p := strings.SplitN(r, ".", 3)
			if len(p) != 3 {
				return false
			}
			if out.Industry[p[1]] == nil {
				out.Industry[p[1]] = map[string]*IndustryCell{}
			}
			c := out.Industry[p[1]][p[2]]
			if c == nil {
				c = &IndustryCell{}
				out.Industry[p[1]][p[2]] = c
			}
			switch p[0] {
			case "customers":
				c.Customers += int64(math.Round(x))
			case "kwh12":
				c.KWh12 += x
			case "kwh12prev":
				c.KWh12Prev += x
			}
			return true
		}
		p := strings.Split(rest, ".")
		switch {
		case len(p) == 5 && p[0] == "cap":
			month, kc := p[4], p[2]+"."+p[3]
			if out.Capacity[month] == nil {
				out.Capacity[month] = map[string]*CapacityCell{}
			}
			c := out.Capacity[month][kc]
			if c == nil {
				c = &CapacityCell{}
				out.Capacity[month][kc] = c
			}
			switch p[1] {
			case "kva":
				c.KVA += x
				if reg == "" {
					break
				}
				if out.CapacityByRegion[reg] == nil {
					out.CapacityByRegion[reg] = map[string]float64{}
				}
				out.CapacityByRegion[reg][month] += x
			case "projects":
				c.Projects += int64(math.Round(x))
			}
		case len(p) == 3 && p[0] == "tou":
			if out.TOU[p[2]] == nil {
				out.TOU[p[2]] = map[string]float64{}
			}
			out.TOU[p[2]][p[1]] += x
		case len(p) == 4:
			dim, val, month := p[1], p[2], p[3]
			if out.Slices[dim] == nil {
				out.Slices[dim] = map[string]map[string]*MarketCell{}
			}
			if out.Slices[dim][val] == nil {
				out.Slices[dim][val] = map[string]*MarketCell{}
			}
			c := out.Slices[dim][val][month]
			if c == nil {
				c = &MarketCell{}
				out.Slices[dim][val][month] = c
			}
			switch p[0] {
			case "kwh":
				c.KWh += x
			case "yuan":
				c.Yuan += x
			case "bills":
				c.Bills += int64(math.Round(x))
			}
			if dim == "cat" && reg != "" { // every bill with a category, once
				if out.ByRegion[reg] == nil {
					out.ByRegion[reg] = map[string]*MarketCell{}
				}
				rc := out.ByRegion[reg][month]
				if rc == nil {
					rc = &MarketCell{}
					out.ByRegion[reg][month] = rc
				}
				switch p[0] {
				case "kwh":
					rc.KWh += x
				case "yuan":
					rc.Yuan += x
				case "bills":
					rc.Bills += int64(math.Round(x))
				}
			}
		default:
			return false
		}
		return true
	})
	out.Regions = regions
	if err != nil {
		return out, err
	}
	if !subtree || !byRegion && !capacityByRegion {
		return out, nil
	}
	if ok, err := totalsFor(r, region); err != nil || !ok {
		return out, err
	}
	var names []string
	if byRegion {
		names = []string{"kwh", "yuan", "bills"}
	}
	for _, name := range names {
		if err := eachRollup(r, name, region, func(reg, month string, x float64) {
			if out.ByRegion[reg] == nil {
				out.ByRegion[reg] = map[string]*MarketCell{}
			}
			rc := out.ByRegion[reg][month]
			if rc == nil {
				rc = &MarketCell{}
				out.ByRegion[reg][month] = rc
			}
			switch name {
			case "kwh":
				rc.KWh += x
			case "yuan":
				rc.Yuan += x
			case "bills":
				rc.Bills += int64(math.Round(x))
			}
		}); err != nil {
			return out, err
		}
	}
	if !capacityByRegion {
		return out, nil
	}
	err = eachRollup(r, "capkva", region, func(reg, month string, x float64) {
		if out.CapacityByRegion[reg] == nil {
			out.CapacityByRegion[reg] = map[string]float64{}
		}
		out.CapacityByRegion[reg][month] += x
	})
	return out, err
}

// CustomerTrend is one business customer's last 12 months against the 12
// before as of a month (analytics/market.CustomerTrend), written by the
// monthly warning run where the customer is owned and replicated up, so
// that the market lists (fastest-growing and fastest-shrinking customers,
// bills that moved much more than their consumption, peak-shifting
// candidates) read the first entries of a ranked index instead of every
// customer's bills.
type CustomerTrend struct {
	Meta
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

func init() {
	register(&Kind{Name: "customer_trends", IDPrefix: "ctr", New: func() Record { return &CustomerTrend{} },
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
func (c *CustomerTrend) Validate() *Error {
	if !Kinds["customers"].ValidID(c.CustomerID) {
		return invalid("customer_id", "%q is not a customer id", c.CustomerID)
	}
	if !periodRe.MatchString(c.Period) {
		return invalid("period", "%q is not a month of the form YYYY-MM", c.Period)
	}
	if c.ManagerID != "" && !Kinds["staff"].ValidID(c.ManagerID) {
		return invalid("manager_id", "%q is not a staff id", c.ManagerID)
	}
	if c.Category != "" {
		if e := oneOf("category", c.Category, Categories...); e != nil {
			return e
		}
	}
	if c.BillReason != "" {
		if e := oneOf("bill_reason", c.BillReason, BillReasons...); e != nil {
			return e
		}
	}
	if e := firstErr(maxLen("name", c.Name, 100), maxLen("industry", c.Industry, 64), nonNegative("kwh_12m", c.KWh12, 1e12), nonNegative("kwh_12m_prev", c.KWh12Prev, 1e12),
		nonNegative("yuan_12m", c.Yuan12, 1e12), nonNegative("yuan_12m_prev", c.Yuan12Prev, 1e12)); e != nil {
		return e
	}
	for _, f := range []struct {
		name   string
		v, min float64
	}{{"growth", c.Growth, -1}, {"bill_growth", c.BillGrowth, -1}, {"bill_vs_kwh", c.BillVsKWh, -1e7}} {
		if !(f.v >= f.min && f.v <= 1e7) {
			return invalid(f.name, "%v: want a number from %v to 1e7", f.v, f.min)
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"peak_share", c.PeakShare}, {"peak_share_prev", c.PeakSharePrev}} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= 1) {
			return invalid(f.name, "%v: want 0..1", *f.v)
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
func (c *CustomerTrend) Indexes() []Index {
	ix := []Index{{"customer_id", c.CustomerID}, {"period", c.Period}, {OwnerIndex, c.Owner},
		{"rank_" + RankGrowing, rankKey(c.Period, -c.Growth)}, {"rank_" + RankShrinking, rankKey(c.Period, c.Growth)}}
	if c.BillReason != "" {
		ix = append(ix, Index{"rank_" + RankBillGap, rankKey(c.Period, -math.Abs(c.BillVsKWh))})
	}
	if c.PeakShare != nil {
		ix = append(ix, Index{"rank_" + RankPeakShare, rankKey(c.Period, -*c.PeakShare)})
	}
	return ix
}

// Uniques implements Record: one trend per customer and month.
func (c *CustomerTrend) Uniques() []Unique {
	return []Unique{{Name: "period", Scope: c.CustomerID, Value: c.Period, Field: "period"}}
}

// Refs implements Record.
func (c *CustomerTrend) Refs() []Ref { return []Ref{{"customer_id", "customers", c.CustomerID}} }

// TrendDone reports whether customer id's trend of period is stored: one
// key read.
func TrendDone(r Reader, id, period string) (bool, error) {
	v, err := r.Get(uniqueKey("customer_trends", "period", id, period))
	return v != nil, err
}

// TrendsRanked calls fn with the stored trends of period in rank order
// (TrendRanks) whose owner is region (subtree: or under it), until fn
// answers false. It walks the rank's index of the month: the cost is the
// entries read before fn stops, plus those of regions out of scope.
func TrendsRanked(r Reader, rank, period, region string, subtree bool, fn func(c *CustomerTrend) bool) error {
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
		if err := unmarshal(raw, &c); err != nil {
			ferr = err
			return false
		}
		if c.Owner != region && (!subtree || !InRegion(c.Owner, region)) {
			return true
		}
		return fn(&c)
	})
	if err == nil {
		err = ferr
	}
	return err
}

// AnnualKWh is one customer's energy over a window, from its card.
type AnnualKWh struct {
	ID, Name, Region, Category string
	KWh, Billed                float64
	Months                     int // months billed in the window
}

// customerWindows reads the customers of region (subtree: and below) with
// their kWh and amount over each window (from, to), from their cards (the
// card memo of card.go: a region whose cards did not change is not read
// again). ok is false when the cards do not cover every customer the
// aggregates count (a store of before the cards).
func customerWindows(r Reader, region string, subtree bool, windows ...[2]string) (out [][]AnnualKWh, ok bool, err error) {
	owners, customers, err := CardOwners(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	out = make([][]AnnualKWh, len(windows))
	for wi, w := range windows {
		n := 0
		for _, o := range owners {
			list, err := OwnerCards(r, o.Owner, o.Version, w[0], w[1])
			if err != nil {
				return nil, false, err
			}
			for i := range list {
				c := &list[i]
				out[wi] = append(out[wi], AnnualKWh{ID: c.ID, Name: c.Name, Region: c.Region, Category: c.Category,
					KWh: c.Figures.AnnualKWh, Billed: c.Figures.AnnualBilled, Months: c.Figures.Months})
			}
			n += len(list)
		}
		if int64(n) != customers {
			return nil, false, nil
		}
	}
	return out, true, nil
}

// CustomerWindows answers every customer of region (subtree: and below)
// with its kWh and amount over each window (first and last month,
// inclusive), in the same order for every window, from the customer
// cards; ok is false when the cards do not cover the scope's customers.
func CustomerWindows(r Reader, region string, subtree bool, windows ...[2]string) ([][]AnnualKWh, bool, error) {
	return customerWindows(r, region, subtree, windows...)
}

// topMemo keeps the annual kWh lists read for the top-customer shares,
// keyed by the query and the card versions of its scope (CardsVersion).
var topMemo = struct {
	sync.Mutex
	key  string
	list []AnnualKWh
}{}

// CustomersByYear answers every customer of region (subtree: and below)
// with its kWh over the 12 months before day's month (Window), from the
// cards; ok false when the cards do not cover the scope. The list is
// shared with a one-entry memo: read it, never change it.
func CustomersByYear(r Reader, region string, subtree bool, day Date) ([]AnnualKWh, bool, error) {
	key, err := CardsVersion(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	if key != "" {
		key = fmt.Sprintf("%s|%t|%s|", region, subtree, day) + key
	}
	if key != "" {
		topMemo.Lock()
		if topMemo.key == key {
			l := topMemo.list
			topMemo.Unlock()
			return l, true, nil
		}
		topMemo.Unlock()
	}
	from, to := Window(day)
	lists, ok, err := customerWindows(r, region, subtree, [2]string{from, to})
	if err != nil || !ok {
		return nil, ok, err
	}
	if key != "" {
		topMemo.Lock()
		topMemo.key, topMemo.list = key, lists[0]
		topMemo.Unlock()
	}
	return lists[0], true, nil
}
