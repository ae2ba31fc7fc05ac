package market

import (
	"math"
	"slices"
	"strings"
)

// Annual is one customer's energy over a year (the 12 months of a window).
type Annual struct {
	ID  string
	KWh float64
}

// TopEntry is one of the top customers.
type TopEntry struct {
	ID    string  `json:"customer_id"`
	KWh   float64 `json:"kwh"`
	Share float64 `json:"share"` // of the total
}

// TopShare is the concentration of a market's energy in its biggest
// customers over a year.
type TopShare struct {
	Customers      int        `json:"customers"` // customers counted (with or without energy)
	TotalKWh       float64    `json:"total_kwh"`
	Top10KWh       float64    `json:"top_10_kwh"`
	Top10Share     float64    `json:"top_10_share"`
	Top1PctCount   int        `json:"top_1_percent_customers"` // ceil(1% of the customers)
	Top1PctShare   float64    `json:"top_1_percent_share"`
	Top10PctCount  int        `json:"top_10_percent_customers"`
	Top10PctShare  float64    `json:"top_10_percent_share"`
	Top            []TopEntry `json:"top"` // the biggest, at most n
	CustomersFor80 int        `json:"customers_for_80_percent"`
}

// TopShares answers the share of the total the 10 biggest customers, the
// top 1% and the top 10% make, and lists the n biggest. It sorts a
// (biggest first, then id); negative and NaN energy counts as 0.
func TopShares(a []Annual, n int) TopShare {
	for i := range a {
		if !(a[i].KWh > 0) {
			a[i].KWh = 0
		}
	}
	slices.SortFunc(a, func(x, y Annual) int {
		switch {
		case x.KWh > y.KWh:
			return -1
		case x.KWh < y.KWh:
			return 1
		}
		return strings.Compare(x.ID, y.ID)
	})
	out := TopShare{Customers: len(a), Top: []TopEntry{}}
	for _, x := range a {
		out.TotalKWh += x.KWh
	}
	sum := func(k int) float64 {
		s := 0.0
		for _, x := range a[:min(k, len(a))] {
			s += x.KWh
		}
		return s
	}
	share := func(v float64) float64 {
		if out.TotalKWh <= 0 {
			return 0
		}
		return round(v/out.TotalKWh, 4)
	}
	out.Top1PctCount = int(math.Ceil(float64(len(a)) / 100))
	out.Top10PctCount = int(math.Ceil(float64(len(a)) / 10))
	out.Top10KWh = round(sum(10), 2)
	out.Top10Share = share(sum(10))
	out.Top1PctShare = share(sum(out.Top1PctCount))
	out.Top10PctShare = share(sum(out.Top10PctCount))
	cum := 0.0
	for i, x := range a {
		cum += x.KWh
		if out.TotalKWh > 0 && cum >= 0.8*out.TotalKWh-1e-9 {
			out.CustomersFor80 = i + 1
			break
		}
	}
	for _, x := range a[:min(n, len(a))] {
		out.Top = append(out.Top, TopEntry{ID: x.ID, KWh: round(x.KWh, 2), Share: share(x.KWh)})
	}
	out.TotalKWh = round(out.TotalKWh, 2)
	return out
}
