package crm

import (
	"fmt"
	"math"
	"strings"
	"sync"
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
// month (customer_trends, package analytics/records, written by the
// warning run) count by industry (the trends' Counters hook there), so
// that growth by industry is a counter read, summed here (Industry):
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
