package market

import (
	"math"
	"testing"
)

func f(p *float64) float64 {
	if p == nil {
		return -999
	}
	return *p
}

func TestPrices(t *testing.T) {
	s := Slices{
		"industrial":  {"2025-01": {KWh: 1000, Yuan: 600, Bills: 2}, "2025-12": {KWh: 1000, Yuan: 650, Bills: 2}, "2026-01": {KWh: 1100, Yuan: 770, Bills: 2}},
		"residential": {"2026-01": {KWh: 0, Yuan: 0, Bills: 1}},
	}
	ps := Prices(s, "2026-01", "")
	if len(ps) != 2 || ps[0].Value != "industrial" || ps[1].Value != "residential" {
		t.Fatalf("prices %+v", ps)
	}
	p := ps[0]
	// 0.70 a kWh against 0.65 the month before and 0.60 a year before; the
	// amount up 28.3% on 10% more kWh.
	if f(p.YuanPerKWh) != 0.7 || f(p.MoM) != 0.0769 || f(p.YoY) != 0.1667 || f(p.KWhYoY) != 0.1 || f(p.YuanYoY) != 0.2833 || f(p.BillVsKWh) != 0.1833 {
		t.Errorf("industrial 2026-01: %+v", p)
	}
	if ps[1].YuanPerKWh != nil || ps[1].MoM != nil {
		t.Errorf("no kWh: no price, %+v", ps[1])
	}
	if got := Prices(s, "2025-02", "2025-11"); len(got) != 0 {
		t.Errorf("window without months: %+v", got)
	}
}

func TestGrowthOf(t *testing.T) {
	s := Slices{
		"industrial":  {"2025-01": {KWh: 800, Bills: 4}, "2026-01": {KWh: 1200, Bills: 5}},
		"residential": {"2025-01": {KWh: 200, Bills: 10}, "2026-01": {KWh: 300, Bills: 12}},
		"public":      {"2024-01": {KWh: 5, Bills: 1}},
	}
	g, err := GrowthOf(s, "2026-01")
	if err != nil || len(g) != 2 {
		t.Fatalf("%+v %v", g, err)
	}
	if g[0].Value != "industrial" || f(g[0].KWhYoY) != 0.5 || f(g[0].CustomersYoY) != 0.25 || g[0].Share != 0.8 || g[0].ShareYearAgo != 0.8 {
		t.Errorf("industrial: %+v", g[0])
	}
	if _, err := GrowthOf(s, "2026-13"); err == nil {
		t.Error("month 13 accepted")
	}
}

func TestTOUShares(t *testing.T) {
	tou := map[string]map[string]float64{"2026-01": {"peak": 500, "flat": 300, "valley": 200, "metered": 1000}, "2025-12": {"metered": 0}}
	got := TOUShares(tou, map[string]float64{"2026-01": 4000}, "", "")
	if len(got) != 1 || got[0].Peak != 0.5 || got[0].Valley != 0.2 || got[0].Coverage != 0.25 {
		t.Errorf("%+v", got)
	}
}

func TestCustomerTrend(t *testing.T) {
	year := func(kwh, yuan, peak float64) []Month {
		out := make([]Month, 12)
		for i := range out {
			out[i] = Month{KWh: kwh, Yuan: yuan, Known: true}
			if peak > 0 {
				out[i].Peak, out[i].Flat, out[i].Valley = kwh*peak, kwh*(1-peak)/2, kwh*(1-peak)/2
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		m        []Month
		capacity bool
		growth   float64
		reason   string
	}{
		{"steady", append(year(100, 60, 0), year(100, 60, 0)...), false, 0, ""},
		{"grew, same price", append(year(100, 60, 0), year(150, 90, 0)...), false, 0.5, ""},
		{"price up", append(year(100, 60, 0), year(100, 72, 0)...), false, 0, ReasonTariff},
		{"peak share up", append(year(100, 60, 0.3), year(100, 72, 0.45)...), false, 0, ReasonPeakShare},
		{"capacity charge", append(year(100, 60, 0), year(50, 40, 0)...), true, -0.5, ReasonCapacity},
	} {
		tr, ok := CustomerTrend(tc.m, tc.capacity)
		if !ok || math.Abs(tr.Growth-tc.growth) > 1e-9 || tr.BillReason != tc.reason {
			t.Errorf("%s: %+v %v; want growth %v reason %q", tc.name, tr, ok, tc.growth, tc.reason)
		}
	}
	short := append(year(100, 60, 0), year(100, 60, 0)...)
	short[3].Known = false
	if _, ok := CustomerTrend(short, false); ok {
		t.Error("a month without a bill gave a trend")
	}
	if _, ok := CustomerTrend(year(1, 1, 0), false); ok {
		t.Error("12 months gave a trend")
	}
}

func TestByIndustry(t *testing.T) {
	got := ByIndustry(map[string]IndustryCell{
		"化工":      {Customers: 2, KWh12: 3000, KWh12Prev: 2000},
		"纺织":      {Customers: 1, KWh12: 1000, KWh12Prev: 1250},
		"unknown": {Customers: 0},
		"新":       {Customers: 1, KWh12: 0, KWh12Prev: 0},
	})
	if len(got) != 3 || got[0].Industry != "化工" || f(got[0].Growth) != 0.5 || got[0].Share != 0.75 || got[1].Industry != "纺织" || f(got[1].Growth) != -0.2 || got[2].Growth != nil {
		t.Errorf("by industry %+v", got)
	}
}
