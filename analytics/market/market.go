package market

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Cell is one month of one slice.
type Cell struct {
	KWh   float64 // kWh billed
	Yuan  float64 // amount billed
	Bills int64   // bills, i.e. customers billed that month
}

// Slices are the monthly totals of each value of one dimension: value (a
// category, a voltage class) → month (YYYY-MM) → cell.
type Slices map[string]map[string]Cell

// Price is the average price of one slice in one month.
type Price struct {
	Value      string   `json:"value"`
	Month      string   `json:"month"`
	KWh        float64  `json:"kwh"`
	Yuan       float64  `json:"yuan"`
	YuanPerKWh *float64 `json:"yuan_per_kwh"`          // nil without kWh
	MoM        *float64 `json:"mom,omitempty"`         // change against the month before, as a share
	YoY        *float64 `json:"yoy,omitempty"`         // change against the same month a year before
	KWhYoY     *float64 `json:"kwh_yoy,omitempty"`     // the consumption's change year on year
	YuanYoY    *float64 `json:"yuan_yoy,omitempty"`    // the amount's change year on year
	BillVsKWh  *float64 `json:"bill_vs_kwh,omitempty"` // yuan_yoy - kwh_yoy: the amount moving beyond the consumption
}

// shift answers the month n months after m ("YYYY-MM"); ok false if m is
// not a month.
func shift(m string, n int) (string, bool) {
	if len(m) != 7 || m[4] != '-' {
		return "", false
	}
	y, err1 := strconv.Atoi(m[:4])
	mo, err2 := strconv.Atoi(m[5:])
	if err1 != nil || err2 != nil || mo < 1 || mo > 12 {
		return "", false
	}
	i := y*12 + mo - 1 + n
	return fmt.Sprintf("%04d-%02d", i/12, i%12+1), true
}

func change(now, before float64) *float64 {
	if before <= 0 || math.IsNaN(now) || math.IsNaN(before) {
		return nil
	}
	v := round(now/before-1, 4)
	return &v
}

func round(v float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(v*p) / p
}

func price(c Cell) (float64, bool) {
	if c.KWh <= 0 {
		return math.NaN(), false
	}
	return c.Yuan / c.KWh, true
}

// Prices answers the average price per kWh of every slice and month of s
// within from..to (inclusive, YYYY-MM; "" is open), ordered by value and
// month, with its changes month on month and year on year, and the year-
// on-year changes of its kWh and amount (a bill moving much more than the
// consumption shows as bill_vs_kwh).
func Prices(s Slices, from, to string) []Price {
	out := []Price{}
	for val, months := range s {
		for m, c := range months {
			if (from != "" && m < from) || (to != "" && m > to) {
				continue
			}
			p := Price{Value: val, Month: m, KWh: round(c.KWh, 2), Yuan: round(c.Yuan, 2)}
			now, ok := price(c)
			if ok {
				v := round(now, 4)
				p.YuanPerKWh = &v
			}
			if prev, ok2 := shift(m, -1); ok && ok2 {
				if pc, ok3 := price(months[prev]); ok3 {
					p.MoM = change(now, pc)
				}
			}
			if ya, ok2 := shift(m, -12); ok2 {
				if pc, ok3 := price(months[ya]); ok && ok3 {
					p.YoY = change(now, pc)
				}
				y := months[ya]
				p.KWhYoY, p.YuanYoY = change(c.KWh, y.KWh), change(c.Yuan, y.Yuan)
				if p.KWhYoY != nil && p.YuanYoY != nil {
					d := round(*p.YuanYoY-*p.KWhYoY, 4)
					p.BillVsKWh = &d
				}
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value < out[j].Value
		}
		return out[i].Month < out[j].Month
	})
	return out
}

// Growth is one slice's consumption and customers in a month against the
// same month a year before, with its share of the month's total.
type Growth struct {
	Value            string   `json:"value"`
	KWh              float64  `json:"kwh"`
	KWhYearAgo       float64  `json:"kwh_year_ago"`
	KWhYoY           *float64 `json:"kwh_yoy,omitempty"`
	Customers        int64    `json:"customers_billed"`
	CustomersYearAgo int64    `json:"customers_billed_year_ago"`
	CustomersYoY     *float64 `json:"customers_yoy,omitempty"`
	Share            float64  `json:"kwh_share"` // of the month's kWh over every slice
	ShareYearAgo     float64  `json:"kwh_share_year_ago"`
}

// GrowthOf answers, for month (YYYY-MM), every slice's consumption and
// customers billed year on year and its share, largest first.
func GrowthOf(s Slices, month string) ([]Growth, error) {
	ya, ok := shift(month, -12)
	if !ok {
		return nil, fmt.Errorf("market: %q is not a month of the form YYYY-MM", month)
	}
	var total, totalYA float64
	out := []Growth{}
	for val, months := range s {
		c, y := months[month], months[ya]
		if c.Bills == 0 && y.Bills == 0 {
			continue
		}
		total += c.KWh
		totalYA += y.KWh
		out = append(out, Growth{Value: val, KWh: round(c.KWh, 2), KWhYearAgo: round(y.KWh, 2), KWhYoY: change(c.KWh, y.KWh),
			Customers: c.Bills, CustomersYearAgo: y.Bills, CustomersYoY: change(float64(c.Bills), float64(y.Bills))})
	}
	for i := range out {
		if total > 0 {
			out[i].Share = round(out[i].KWh/total, 4)
		}
		if totalYA > 0 {
			out[i].ShareYearAgo = round(out[i].KWhYearAgo/totalYA, 4)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].KWh != out[j].KWh {
			return out[i].KWh > out[j].KWh
		}
		return out[i].Value < out[j].Value
	})
	return out, nil
}

// TOUShare is the time-of-use split of a month.
type TOUShare struct {
	Month    string  `json:"month"`
	Peak     float64 `json:"peak"`   // share of the metered kWh
	Flat     float64 `json:"flat"`   //
	Valley   float64 `json:"valley"` //
	Metered  float64 `json:"metered_kwh"`
	Coverage float64 `json:"coverage,omitempty"` // metered kWh over all kWh billed that month (0: unknown)
}

// TOUShares answers the peak, flat and valley shares of each month of tou
// (month → peak, flat, valley, metered kWh) within from..to, with the
// share of the month's kWh (total, month → kWh; nil: unknown) that was
// metered by time of use.
func TOUShares(tou map[string]map[string]float64, total map[string]float64, from, to string) []TOUShare {
	out := []TOUShare{}
	for m, t := range tou {
		if (from != "" && m < from) || (to != "" && m > to) || t["metered"] <= 0 {
			continue
		}
		s := TOUShare{Month: m, Peak: round(t["peak"]/t["metered"], 4), Flat: round(t["flat"]/t["metered"], 4),
			Valley: round(t["valley"]/t["metered"], 4), Metered: round(t["metered"], 2)}
		if total[m] > 0 {
			s.Coverage = round(math.Min(1, t["metered"]/total[m]), 4)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month < out[j].Month })
	return out
}

// IndustryCell is one industry's business customers with a trend in a
// month: how many, and their kWh over the 12 months to it and the 12
// before.
type IndustryCell struct {
	Customers        int64
	KWh12, KWh12Prev float64
}

// IndustryGrowth is one industry's consumption over the 12 months to a
// month against the 12 before.
type IndustryGrowth struct {
	Industry  string   `json:"industry"`
	Customers int64    `json:"customers"`
	KWh12     float64  `json:"kwh_12m"`
	KWh12Prev float64  `json:"kwh_12m_prev"`
	Growth    *float64 `json:"growth,omitempty"` // kwh_12m / kwh_12m_prev - 1
	Share     float64  `json:"kwh_share"`        // of the kWh of every industry
}

// ByIndustry answers each industry's growth and share, largest first
// (then by name).
func ByIndustry(cells map[string]IndustryCell) []IndustryGrowth {
	out := []IndustryGrowth{}
	total := 0.0
	for _, c := range cells {
		total += c.KWh12
	}
	for name, c := range cells {
		if c.Customers == 0 {
			continue
		}
		g := IndustryGrowth{Industry: name, Customers: c.Customers, KWh12: round(c.KWh12, 2), KWh12Prev: round(c.KWh12Prev, 2), Growth: change(c.KWh12, c.KWh12Prev)}
		if total > 0 {
			g.Share = round(c.KWh12/total, 4)
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].KWh12 != out[j].KWh12 {
			return out[i].KWh12 > out[j].KWh12
		}
		return out[i].Industry < out[j].Industry
	})
	return out
}
