package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/analytics/forecast"
	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/crm/workday"
)

// seasonal is a customer's kWh in month i of the test history: a yearly
// shape with a small trend, no noise, so that the forecast is checkable.
func seasonal(i int, scale float64) float64 {
	return math.Round(scale * (1 + 0.25*math.Sin(2*math.Pi*float64(i)/12)) * (1 + 0.002*float64(i)))
}

// period of month i of the test history (2023-01 + i).
func period(i int) string {
	return time.Date(2023, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// billsFor imports n months of bills for customer id; kwh(i) is the
// month's energy and late(i) the days after the due day it was paid (-1:
// unpaid).
func billsFor(c client, id string, n int, kwh func(int) float64, late func(int) int) {
	c.t.Helper()
	rows := []obj{}
	for i := range n {
		k := kwh(i)
		b := obj{"customer_id": id, "period": period(i), "kwh": k, "billed": math.Round(k * 60), "paid": 0}
		switch d := late(i); {
		case d < 0:
		default:
			due := time.Date(2023, time.Month(1+i+2), 0, 0, 0, 0, 0, time.UTC) // last day of the next month
			b = b.with("paid", math.Round(k*60), "pay_date", due.AddDate(0, 0, d-10).Format("2006-01-02"))
			if d > 0 {
				b = b.with("pay_date", due.AddDate(0, 0, d).Format("2006-01-02"))
			}
		}
		rows = append(rows, b)
	}
	c.must(201, "POST", "/api/v1/bills/import", rows)
}

func onTime(int) int { return 0 }

// testSeries is n months of energy kwh(i) from 2023-01, no peaks: what the
// routes' series are, for the package to forecast beside them.
func testSeries(n int, kwh func(i int) float64) forecast.Series {
	s := forecast.Series{Name: "x", Start: forecast.MakeMonth(2023, time.January)}
	for i := range n {
		s.Energy = append(s.Energy, kwh(i))
		s.Peak = append(s.Peak, math.NaN())
		s.Hours = append(s.Hours, 0)
	}
	return s
}

// seedAnalytics grades the seeded customer's month and answers a warning
// of it: one record of each analytics collection, for the role contract.
func seedAnalytics(c client, ids map[string]string) {
	c.t.Helper()
	c.must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2026-01"})
	page := c.must(200, "GET", "/api/v1/credit_grades?customer_id="+ids["customers"], nil)
	items, _ := page["items"].([]any)
	if len(items) != 1 {
		c.t.Fatalf("the grade run stored %v", page)
	}
	ids["credit_grades"] = items[0].(map[string]any)["id"].(string)
	ids["warning_acks"] = c.create("warning_acks", obj{"customer_id": ids["customers"], "kind": "churn", "period": "2026-01", "status": "dismissed"})
	ids["violations"] = c.create("violations", violationBody(ids["customers"]))
	ids["capacity_changes"] = c.create("capacity_changes", capacityChangeBody(ids["customers"]).with("from_kva", 800, "to_kva", 500))
	// A zero reading after 2026-01's: the warning run writes its warning;
	// a shop with two years of bills: its trend.
	c.create("bills", billBody(ids["customers"], "2026-03").with("kwh", 0, "billed", 0))
	shop := c.create("customers", customerBody("SEED-SHOP").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 50))
	rows := []obj{}
	for i := range 24 {
		rows = append(rows, obj{"customer_id": shop, "period": period(15 + i), "kwh": 3000 + 10*i, "billed": 2000 + 7*i, "paid": 0})
	}
	c.must(201, "POST", "/api/v1/bills/import", rows)
	if run := c.must(200, "POST", "/api/v1/warnings/run", obj{"period": "2026-03"}); run["abnormal"] != 1.0 {
		c.t.Fatalf("the warning run: %v", run)
	}
	page = c.must(200, "GET", "/api/v1/consumption_warnings?customer_id="+ids["customers"], nil)
	if items, _ = page["items"].([]any); len(items) != 1 {
		c.t.Fatalf("the warning run stored %v", page)
	}
	ids["consumption_warnings"] = items[0].(map[string]any)["id"].(string)
	// A run by hand is recorded for the schedule.
	page = c.must(200, "GET", "/api/v1/analytics_runs?kind=warnings&period=2026-03", nil)
	if items, _ = page["items"].([]any); len(items) != 1 {
		c.t.Fatalf("the warning run's record: %v", page)
	}
	ids["analytics_runs"] = items[0].(map[string]any)["id"].(string)
	page = c.must(200, "GET", "/api/v1/customer_trends?customer_id="+shop, nil)
	if items, _ = page["items"].([]any); len(items) != 1 {
		c.t.Fatalf("the warning run's trend of the shop: %v", page)
	}
	ids["customer_trends"] = items[0].(map[string]any)["id"].(string)
}

type fcAnswer struct {
	Source, Method, Origin string
	WorkingDays            string `json:"working_days"`
	Horizon                int
	Months                 []struct {
		Month                       string
		KWh, Lo80, Hi80, Lo95, Hi95 float64
	}
	Quarters, Years []struct {
		Period                 string
		KWh                    float64
		KnownMonths            int `json:"known_months"`
		ForecastMonths         int `json:"forecast_months"`
		Truncated              bool
		Lo80, Hi80, Lo95, Hi95 float64
	}
}

func decode[T any](t *testing.T, m map[string]any) T {
	t.Helper()
	raw, _ := json.Marshal(m)
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

func TestAPI_Analytics(t *testing.T) {
	cl := newCluster(t, 1)
	admin := adminOf(t, cl, 0)
	const months = 36 // 2023-01 .. 2025-12

	// Two customers: a big industrial one, steady and on time until its
	// last month halves; a residential one three months unpaid.
	big := admin.create("customers", customerBody("AN-1").with("category", "industrial", "voltage_kv", 10, "capacity_kva", 1000, "name", "硅材料厂", "industry", "C30 非金属矿物制品业"))
	billsFor(admin, big, months, func(i int) float64 {
		if i == months-1 {
			return math.Round(seasonal(i, 50000) / 2)
		}
		return seasonal(i, 50000)
	}, onTime)
	res := admin.create("customers", customerBody("AN-2"))
	billsFor(admin, res, months, func(i int) float64 { return seasonal(i, 200) }, func(i int) int {
		if i >= months-3 {
			return -1
		}
		return 0
	})

	t.Run("region forecast from the aggregates", func(t *testing.T) {
		a := decode[fcAnswer](t, admin.on(t).must(200, "GET", "/api/v1/forecast/demand?region="+region+"&horizon=12&as_of=2025-11", nil))
		if a.Source != "aggregates" || a.Origin != "2025-11" || len(a.Months) != 12 || a.Months[0].Month != "2025-12" {
			t.Fatalf("answer %+v", a)
		}
		// The same series through the package: the route adds nothing.
		s := testSeries(months-1, func(i int) float64 { return seasonal(i, 50000) + seasonal(i, 200) })
		want, err := forecast.Forecast(s, forecast.Default(), forecast.Config{Horizon: 12})
		if err != nil {
			t.Fatal(err)
		}
		for h, m := range a.Months {
			if math.Abs(m.KWh-want.Energy.Point[h]) > 0.01 || !(m.Lo95 <= m.Lo80 && m.Lo80 <= m.KWh && m.KWh <= m.Hi80 && m.Hi80 <= m.Hi95) {
				t.Errorf("month %s: %+v; want point %.2f and nested intervals", m.Month, m, want.Energy.Point[h])
			}
		}
		// A noiseless seasonal series: the forecast is within 3% of the truth.
		if got, truth := a.Months[0].KWh, seasonal(35, 50000)+seasonal(35, 200); math.Abs(got/truth-1) > 0.03 {
			t.Errorf("2025-12: %.0f kWh, truth %.0f", got, truth)
		}
		// 2025-Q4: October and November known, December forecast.
		q := a.Quarters[0]
		if q.Period != "2025-Q4" || q.KnownMonths != 2 || q.ForecastMonths != 1 {
			t.Fatalf("first quarter %+v", q)
		}
		if wantQ := seasonal(33, 50000) + seasonal(33, 200) + seasonal(34, 50000) + seasonal(34, 200) + a.Months[0].KWh; math.Abs(q.KWh-wantQ) > 0.05 {
			t.Errorf("2025-Q4 = %.2f, want %.2f", q.KWh, wantQ)
		}
		if len(a.Years) != 2 || a.Years[1].Period != "2026" || a.Years[1].ForecastMonths != 11 || !a.Years[1].Truncated {
			t.Errorf("years %+v", a.Years)
		}
	})

	t.Run("customer forecast from its bills", func(t *testing.T) {
		a := decode[fcAnswer](t, admin.on(t).must(200, "GET", "/api/v1/customers/"+res+"/forecast?horizon=3", nil))
		if a.Source != "bills" || a.Origin != "2025-12" || len(a.Months) != 3 {
			t.Fatalf("answer %+v", a)
		}
		if got, truth := a.Months[0].KWh, seasonal(36, 200); math.Abs(got/truth-1) > 0.03 {
			t.Errorf("2026-01: %.0f kWh, truth %.0f", got, truth)
		}
	})

	t.Run("credit grade of a customer", func(t *testing.T) {
		bad := admin.on(t).must(200, "GET", "/api/v1/customers/"+res+"/credit", nil)
		if bad["grade"] != "C" || fmt.Sprint(bad["reasons"].([]any)[0]) != "veto:arrears_3m" || bad["as_of"] != "2025-12" {
			t.Errorf("three months unpaid: %v", bad)
		}
		good := admin.on(t).must(200, "GET", "/api/v1/customers/"+res+"/credit?as_of=2025-09", nil)
		if good["grade"] == "C" || good["churn_risk"] != nil {
			t.Errorf("paid on time up to 2025-09: %v", good)
		}
		ind := admin.on(t).must(200, "GET", "/api/v1/customers/"+big+"/credit", nil)
		if r, ok := ind["churn_risk"].(float64); !ok || r < 0 || r > 1 || ind["payment"] == "" {
			t.Errorf("industrial customer: %v", ind)
		}
	})

	t.Run("grade run, distribution and churn list", func(t *testing.T) {
		run := admin.on(t).must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-12"})
		if run["graded"] != 2.0 {
			t.Fatalf("run: %v", run)
		}
		again := admin.on(t).must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-12"})
		if again["graded"] != 0.0 || again["skipped_already_graded"] != 2.0 {
			t.Errorf("second run: %v", again)
		}
		admin.on(t).must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-09"})
		d := admin.on(t).must(200, "GET", "/api/v1/credit/distribution?region="+region+"&scope=subtree", nil)
		ms := d["months"].([]any)
		if len(ms) != 2 {
			t.Fatalf("distribution: %v", d)
		}
		dec := ms[1].(map[string]any)
		if dec["period"] != "2025-12" || dec["customers"] != 2.0 || dec["by_grade"].(map[string]any)["C"].(float64) < 1 || dec["previous"] != "2025-09" {
			t.Errorf("2025-12: %v", dec)
		}
		stored := admin.on(t).must(200, "GET", "/api/v1/customers/"+res+"/credit?as_of=2025-12", nil)
		if st, ok := stored["stored"].(map[string]any); !ok || st["grade"] != "C" {
			t.Errorf("stored grade: %v", stored)
		}
		// The warning run: the big customer's halved month and its churn
		// risk; its gold manager is copied into both.
		gold := admin.on(t).create("staff", obj{"staff_no": "G-AN", "name": "金牌经理", "role": "gold_manager", "region": region})
		other := admin.on(t).create("staff", obj{"staff_no": "G-AN2", "name": "另一位", "role": "gold_manager", "region": region})
		admin.on(t).create("gold_assignments", obj{"customer_id": big, "staff_id": gold, "from": "2025-01-01"})
		wr := admin.on(t).must(200, "POST", "/api/v1/warnings/run", obj{"period": "2025-12"})
		if wr["abnormal"] != 1.0 || wr["churn"] != 1.0 || wr["trends"] != 1.0 || wr["customers"] != 2.0 {
			t.Fatalf("warning run: %v", wr)
		}
		if again := admin.on(t).must(200, "POST", "/api/v1/warnings/run", obj{"period": "2025-12"}); again["abnormal"] != 0.0 || again["churn"] != 0.0 || again["skipped_already_done"] != 3.0 {
			t.Errorf("second warning run: %v", again)
		}
		ch := admin.on(t).must(200, "GET", "/api/v1/warnings/churn?threshold=0.000001", nil)
		ws := ch["warnings"].([]any)
		if ch["period"] != "2025-12" || len(ws) != 1 || ws[0].(map[string]any)["customer_id"] != big || ws[0].(map[string]any)["manager_id"] != gold {
			t.Errorf("churn list (business customers only): %v", ch)
		}
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/churn?threshold=0.000001&manager_id="+other, nil)["warnings"].([]any); len(ws) != 0 {
			t.Errorf("another manager's churn list: %v", ws)
		}
		// A client cannot write a grade or a warning.
		st, out := admin.on(t).do("POST", "/api/v1/credit_grades", obj{"customer_id": big, "period": "2025-11", "score": 900, "grade": "A", "rules": "x"})
		if st != 405 {
			t.Errorf("POST /credit_grades: %d %s", st, out)
		}
		st, out = admin.on(t).do("POST", "/api/v1/consumption_warnings", obj{"customer_id": big, "period": "2025-11", "kind": "abnormal", "reasons": []string{"zero"}, "kwh": 0, "detector": "x"})
		if st != 405 {
			t.Errorf("POST /consumption_warnings: %d %s", st, out)
		}
	})

	t.Run("abnormal list, acknowledged", func(t *testing.T) {
		a := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?region="+region+"&scope=subtree", nil)
		ws := a["warnings"].([]any)
		if a["period"] != "2025-12" || a["source"] != "consumption_warnings" || len(ws) != 1 {
			t.Fatalf("abnormal: %v", a)
		}
		w := ws[0].(map[string]any)
		if w["customer_id"] != big || w["status"] != "open" || fmt.Sprint(w["reasons"]) != "[drop]" || w["change"].(float64) > -0.45 ||
			w["expected_kwh"].(float64) < seasonal(months-1, 50000)*0.97 || w["method"] != "seasonal" {
			t.Errorf("warning %v", w)
		}
		gold := w["manager_id"].(string)
		var other string
		for _, s := range admin.on(t).must(200, "GET", "/api/v1/staff?role=gold_manager", nil)["items"].([]any) {
			if id := s.(map[string]any)["id"].(string); id != gold {
				other = id
			}
		}
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?manager_id="+gold, nil)["warnings"].([]any); len(ws) != 1 {
			t.Errorf("the gold manager's list: %v", ws)
		}
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?manager_id="+other, nil)["warnings"].([]any); other == "" || len(ws) != 0 {
			t.Errorf("another manager's list (%s): %v", other, ws)
		}
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?threshold=0.6", nil)["warnings"].([]any); len(ws) != 0 {
			t.Errorf("threshold 0.6 keeps a 50%% drop: %v", ws)
		}
		admin.on(t).create("warning_acks", obj{"customer_id": big, "kind": "abnormal", "period": "2025-12", "status": "acknowledged", "note": "检修停产半月"})
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal", nil)["warnings"].([]any); len(ws) != 0 {
			t.Errorf("open list after the ack: %v", ws)
		}
		all := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?status=all", nil)["warnings"].([]any)
		if len(all) != 1 || all[0].(map[string]any)["status"] != "acknowledged" || all[0].(map[string]any)["note"] != "检修停产半月" {
			t.Errorf("all: %v", all)
		}
		admin.on(t).must(200, "POST", "/api/v1/warnings/run", obj{"period": "2025-11"})
		if ws := admin.on(t).must(200, "GET", "/api/v1/warnings/abnormal?period=2025-11&class=all", nil)["warnings"].([]any); len(ws) != 0 {
			t.Errorf("2025-11 is steady: %v", ws)
		}
	})

	t.Run("tariff, market and a category's forecast from the counters", func(t *testing.T) {
		tf := admin.on(t).must(200, "GET", "/api/v1/analysis/tariff?region="+region+"&scope=subtree&from=2025-12&to=2025-12", nil)
		ps := tf["prices"].([]any)
		if tf["source"] != "aggregates" || len(ps) != 2 {
			t.Fatalf("tariff: %v", tf)
		}
		ind := ps[0].(map[string]any) // industrial sorts first
		if ind["value"] != "industrial" || math.Abs(ind["yuan_per_kwh"].(float64)-60) > 0.01 || ind["kwh_yoy"].(float64) > -0.45 || math.Abs(ind["bill_vs_kwh"].(float64)) > 0.001 {
			t.Errorf("industrial 2025-12: %v", ind)
		}
		if v := admin.on(t).must(200, "GET", "/api/v1/analysis/tariff?dim=voltage_class&from=2025-12&to=2025-12", nil)["prices"].([]any); len(v) != 2 || v[0].(map[string]any)["value"] != "low" {
			t.Errorf("by voltage class: %v", v)
		}
		mk := admin.on(t).must(200, "GET", "/api/v1/analysis/market?period=2025-12", nil)
		bc := mk["by_category"].([]any)
		if mk["period"] != "2025-12" || len(bc) != 2 {
			t.Fatalf("market: %v", mk)
		}
		top := bc[0].(map[string]any)
		if top["value"] != "industrial" || top["customers_billed"] != 1.0 || top["kwh_yoy"].(float64) > -0.45 || top["kwh_share"].(float64) < 0.99 {
			t.Errorf("industrial in the market: %v", top)
		}
		// By industry: the big customer's trend of 2025-12 (its halved
		// December against the year before).
		if bi := mk["by_industry"].([]any); len(bi) != 1 || bi[0].(map[string]any)["industry"] != "C30 非金属矿物制品业" ||
			bi[0].(map[string]any)["customers"] != 1.0 || bi[0].(map[string]any)["growth"].(float64) >= 0 {
			t.Errorf("by industry: %v", bi)
		}
		if def := admin.on(t).must(200, "GET", "/api/v1/analysis/market", nil); def["period"] != "2025-12" {
			t.Errorf("default period: %v", def["period"])
		}
		a := decode[fcAnswer](t, admin.on(t).must(200, "GET", "/api/v1/forecast/demand?category=residential&as_of=2025-11&horizon=1", nil))
		if got, truth := a.Months[0].KWh, seasonal(35, 200); len(a.Months) != 1 || math.Abs(got/truth-1) > 0.03 {
			t.Errorf("residential 2025-12: %.0f kWh, truth %.0f", got, truth)
		}
		st, out := admin.on(t).do("GET", "/api/v1/forecast/demand?category=public", nil)
		wantError(t, st, out, 422, "insufficient_data", "category")

		// The stored trends of 2025-12 (the warning run above): the big
		// customer's last year fell by its halved December.
		for _, rank := range []string{"growing", "shrinking"} {
			cs := admin.on(t).must(200, "GET", "/api/v1/analysis/customers?rank="+rank+"&period=2025-12&region="+region+"&scope=subtree", nil)["customers"].([]any)
			if len(cs) != 1 || cs[0].(map[string]any)["customer_id"] != big || cs[0].(map[string]any)["growth"].(float64) > 0 {
				t.Errorf("%s: %v", rank, cs)
			}
		}
		if cs := admin.on(t).must(200, "GET", "/api/v1/analysis/customers?rank=bill_vs_kwh&period=2025-12", nil)["customers"].([]any); len(cs) != 0 {
			t.Errorf("a bill that moved with its kWh is listed: %v", cs)
		}
		if cs := admin.on(t).must(200, "GET", "/api/v1/analysis/customers?rank=growing", nil); cs["period"] != "2025-12" {
			t.Errorf("default period: %v", cs)
		}
	})

	t.Run("scope: a county user sees no sibling", func(t *testing.T) {
		for _, path := range []string{"/api/v1/forecast/demand", "/api/v1/credit/distribution", "/api/v1/warnings/abnormal", "/api/v1/warnings/churn",
			"/api/v1/analysis/tariff", "/api/v1/analysis/market", "/api/v1/analysis/customers"} {
			st, out := admin.on(t).do("GET", path+"?region="+otherRegion, nil)
			wantError(t, st, out, 403, "forbidden", "region")
		}
	})

	t.Run("bad parameters name the field", func(t *testing.T) {
		for _, tc := range []struct{ path, field string }{
			{"/api/v1/forecast/demand?horizon=0", "horizon"},
			{"/api/v1/forecast/demand?horizon=13", "horizon"},
			{"/api/v1/forecast/demand?horizon=x", "horizon"},
			{"/api/v1/forecast/demand?region=32x", "region"},
			{"/api/v1/forecast/demand?region=" + region + "01", "region"}, // a township below: nothing held
			{"/api/v1/forecast/demand?as_of=2025-13", "as_of"},
			{"/api/v1/forecast/demand?scope=all", "scope"},
			{"/api/v1/customers/" + big + "/forecast?horizon=0", "horizon"},
			{"/api/v1/customers/" + big + "/forecast?horizon=13", "horizon"},
			{"/api/v1/customers/" + big + "/credit?as_of=25-12", "as_of"},
			{"/api/v1/credit/distribution?region=nowhere", "region"},
			{"/api/v1/warnings/abnormal?threshold=0", "threshold"},
			{"/api/v1/warnings/abnormal?period=2025", "period"},
			{"/api/v1/warnings/churn?threshold=2", "threshold"},
			{"/api/v1/warnings/churn?limit=0", "limit"},
			{"/api/v1/warnings/abnormal?limit=1001", "limit"},
			{"/api/v1/warnings/abnormal?after=320722", "after"},
			{"/api/v1/warnings/abnormal?after=3207x/cwn_1", "after"},
			{"/api/v1/warnings/churn?status=maybe", "status"},
			{"/api/v1/warnings/abnormal?class=small", "class"},
			{"/api/v1/analysis/tariff?dim=industry", "dim"},
			{"/api/v1/analysis/tariff?from=2025-13", "from"},
			{"/api/v1/analysis/tariff?from=2025-06&to=2025-01", "to"},
			{"/api/v1/analysis/tariff?scope=all", "scope"},
			{"/api/v1/analysis/market?period=2025", "period"},
			{"/api/v1/analysis/customers", "rank"},
			{"/api/v1/analysis/customers?rank=biggest", "rank"},
			{"/api/v1/analysis/customers?rank=growing&limit=0", "limit"},
			{"/api/v1/analysis/customers?rank=growing&limit=101", "limit"},
			{"/api/v1/analysis/customers?rank=growing&period=x", "period"},
			{"/api/v1/analysis/market?region=3x", "region"},
			{"/api/v1/forecast/demand?category=shops", "category"},
			{"/api/v1/forecast/demand?voltage_class=ultra", "voltage_class"},
			{"/api/v1/forecast/demand?category=industrial&voltage_class=low", "voltage_class"},
			{"/api/v1/warnings/abnormal?manager_id=bob", "manager_id"},
			{"/api/v1/warnings/churn?manager_id=stf_1", "manager_id"},
			{"/api/v1/warnings/churn?period=2025-00", "period"},
		} {
			st, out := admin.on(t).do("GET", tc.path, nil)
			wantError(t, st, out, 400, "invalid", tc.field)
		}
		st, out := admin.on(t).do("POST", "/api/v1/credit/grades/run", obj{"period": "December"})
		wantError(t, st, out, 400, "invalid", "period")
		st, out = admin.on(t).do("POST", "/api/v1/warnings/run", obj{"period": "2025-13"})
		wantError(t, st, out, 400, "invalid", "period")
		st, out = admin.on(t).do("POST", "/api/v1/warnings/run", obj{"month": "2025-12"})
		wantError(t, st, out, 400, "invalid", "month")
		st, out = admin.on(t).do("GET", "/api/v1/forecast/demand?as_of=2022-12", nil)
		wantError(t, st, out, 422, "insufficient_data", "as_of")
	})

	t.Run("tariff effect, top customers and capacity added", func(t *testing.T) {
		// A shop whose price rises 10% from 2025-10 for the same energy:
		// 0.70 → 0.77 a kWh, 210 yuan more over the 3,000 kWh of the 3 months.
		shop := admin.on(t).create("customers", customerBody("AN-3").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100))
		rows := []obj{}
		for i := 30; i < months; i++ {
			billed := 700
			if i >= 33 {
				billed = 770
			}
			rows = append(rows, obj{"customer_id": shop, "period": period(i), "kwh": 1000, "billed": billed, "paid": 0})
		}
		admin.on(t).must(201, "POST", "/api/v1/bills/import", rows)
		dir := admin.on(t).create("directives", obj{"kind": "tariff", "title": "工商业分时电价调整", "effective_from": "2025-10-01", "body": obj{"peak_factor": 1.7}})
		for _, q := range []string{"at=2025-10", "directive=" + dir} {
			ef := admin.on(t).must(200, "GET", "/api/v1/analysis/tariff/effect?months=3&region="+region+"&scope=subtree&"+q, nil)
			if ef["at"] != "2025-10" || ef["months"] != 3.0 {
				t.Fatalf("%s: %v", q, ef)
			}
			byVal := ef["by_value"].([]any)
			com := byVal[0].(map[string]any)
			if len(byVal) != 3 || com["value"] != "commercial" || com["price_change"] != 0.1 || com["extra_yuan"] != 210.0 {
				t.Errorf("%s: by category %v", q, byVal)
			}
			for _, v := range byVal[1:] {
				if c := v.(map[string]any)["price_change"]; c != 0.0 {
					t.Errorf("%s: unchanged price moved: %v", q, v)
				}
			}
			cs := ef["customers"].([]any)
			if len(cs) != 3 || cs[0].(map[string]any)["customer_id"] != shop || cs[0].(map[string]any)["price_change"] != 0.1 || cs[0].(map[string]any)["extra_yuan"] != 210.0 {
				t.Errorf("%s: who pays more %v", q, cs)
			}
			if br := ef["by_region"].([]any); len(br) != 1 || br[0].(map[string]any)["value"] != region {
				t.Errorf("%s: by region %v", q, br)
			}
		}
		// Fewer months billed after at: as many on each side.
		if ef := admin.on(t).must(200, "GET", "/api/v1/analysis/tariff/effect?at=2025-12&months=6", nil); ef["months"] != 1.0 {
			t.Errorf("at the last month: %v months", ef["months"])
		}
		// The node's warm-up builds the default ranking (the 12 months to the
		// last month billed): the list's first request then builds none.
		if err := api.WarmMarketRanking(cl.Node(0).Reader(), region); err != nil {
			t.Fatal(err)
		}
		made := crm.RankingsMade()
		admin.on(t).must(200, "GET", "/api/v1/analysis/market/top?region="+region+"&scope=subtree", nil)
		if crm.RankingsMade() != made {
			t.Errorf("the top-customers list built a ranking after the warm-up built its default one")
		}
		top := admin.on(t).must(200, "GET", "/api/v1/analysis/market/top?period=2025-12&limit=2", nil)
		tl := top["top"].([]any)
		var total float64
		for i := 24; i < months; i++ {
			total += seasonal(i, 200)
			if i >= 30 {
				total += 1000 // the shop
			}
			if i == months-1 {
				total += math.Round(seasonal(i, 50000) / 2)
			} else {
				total += seasonal(i, 50000)
			}
		}
		if top["customers"] != 3.0 || top["top_10_share"] != 1.0 || top["top_1_percent_customers"] != 1.0 || len(tl) != 2 ||
			tl[0].(map[string]any)["customer_id"] != big || math.Abs(top["total_kwh"].(float64)-total) > 0.05 {
			t.Errorf("top customers: %v (total %v)", top, total)
		}
		if d := top["top_1_percent_share"].(float64) - tl[0].(map[string]any)["share"].(float64); d != 0 || tl[0].(map[string]any)["name"] != "硅材料厂" {
			t.Errorf("top 1%%: %v", top)
		}
		if ca := admin.on(t).must(200, "GET", "/api/v1/analysis/capacity?region="+region+"&scope=subtree", nil); ca["kva"] != 0.0 || len(ca["months"].([]any)) != 0 {
			t.Errorf("capacity with no project energised: %v", ca)
		}
		for _, path := range []string{"/api/v1/analysis/tariff/effect?at=2025-10&", "/api/v1/analysis/market/top?", "/api/v1/analysis/capacity?"} {
			st, out := admin.on(t).do("GET", path+"region="+otherRegion, nil)
			wantError(t, st, out, 403, "forbidden", "region")
		}
		for _, tc := range []struct{ path, field string }{
			{"/api/v1/analysis/tariff/effect", "at"},
			{"/api/v1/analysis/tariff/effect?at=2025-13", "at"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&months=0", "months"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&months=13", "months"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&dim=industry", "dim"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&limit=101", "limit"},
			{"/api/v1/analysis/tariff/effect?directive=dir_nothing", "directive"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&directive=" + dir, "directive"},
			{"/api/v1/analysis/tariff/effect?at=2025-10&scope=all", "scope"},
			{"/api/v1/analysis/market/top?period=2025", "period"},
			{"/api/v1/analysis/market/top?limit=0", "limit"},
			{"/api/v1/analysis/capacity?from=2025-13", "from"},
			{"/api/v1/analysis/capacity?from=2025-06&to=2025-01", "to"},
			{"/api/v1/analysis/capacity?region=3x", "region"},
		} {
			st, out := admin.on(t).do("GET", tc.path, nil)
			wantError(t, st, out, 400, "invalid", tc.field)
		}
		st, out := admin.on(t).do("GET", "/api/v1/analysis/tariff/effect?at=2026-05", nil)
		wantError(t, st, out, 422, "insufficient_data", "at")
	})

	t.Run("churn inputs beyond the bills", func(t *testing.T) {
		// Twin shops with the same bills; one has reduced its capacity (a
		// capacity_changes record), its contract ends in March
		// (contract_end), and it complained in November. A third twin
		// says the same with the tags of old data (the fallback).
		plain := admin.on(t).create("customers", customerBody("AN-4").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100, "contract_end", "2027-06-30"))
		leaving := admin.on(t).create("customers", customerBody("AN-5").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100, "contract_end", "2026-03-31"))
		tagged := admin.on(t).create("customers", customerBody("AN-7").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100,
			"tags", []string{"减容", "contract_end:2026-03"}))
		for _, id := range []string{plain, leaving, tagged} {
			billsFor(admin.on(t), id, months, func(i int) float64 { return seasonal(i, 3000) }, onTime)
		}
		// Bad fields are named.
		st, out := admin.on(t).do("POST", "/api/v1/customers", customerBody("AN-8").with("contract_end", "2026-02-30"))
		wantError(t, st, out, 400, "invalid", "contract_end")
		for _, tc := range []struct {
			body  obj
			field string
		}{
			{capacityChangeBody(leaving).with("kind", "increase"), "kind"},
			{capacityChangeBody(leaving).with("to_kva", 160), "to_kva"},
			{capacityChangeBody(leaving).with("start_on", "2025-13-01"), "start_on"},
			{capacityChangeBody(leaving).with("kind", "suspension", "to_kva", 0), "end_on"},
		} {
			st, out := admin.on(t).do("POST", "/api/v1/capacity_changes", tc.body)
			wantError(t, st, out, 400, "invalid", tc.field)
		}
		st, out = admin.on(t).do("POST", "/api/v1/capacity_changes", capacityChangeBody("cus_01JZZZZZZZZZZZZZZZZZZZZZZZ"))
		wantError(t, st, out, 422, "reference", "customer_id")
		admin.on(t).create("capacity_changes", capacityChangeBody(leaving))
		// A suspension that ended in 2024 no longer counts.
		admin.on(t).create("capacity_changes", capacityChangeBody(leaving).with("kind", "suspension", "to_kva", 0, "start_on", "2024-03-01", "end_on", "2024-06-01"))
		for _, id := range []string{leaving, tagged} {
			admin.on(t).create("work_orders", workOrderBody(id).with("received_at", "2025-11-10T02:00:00Z"))
			admin.on(t).create("work_orders", workOrderBody(id).with("received_at", "2025-01-10T02:00:00Z"))                         // before the 6 months
			admin.on(t).create("work_orders", workOrderBody(id).with("kind", "consultation", "received_at", "2025-12-01T02:00:00Z")) // not a complaint
		}
		p := admin.on(t).must(200, "GET", "/api/v1/customers/"+plain+"/credit?as_of=2025-12", nil)
		rp := p["churn_risk"].(float64)
		odds := func(p float64) float64 { return p / (1 - p) }
		for _, tc := range []struct{ id, sources string }{
			{leaving, "[contract_end capacity_changes work_orders]"},
			{tagged, "[tag:减容 tag:contract_end:2026-03 work_orders]"},
		} {
			l := admin.on(t).must(200, "GET", "/api/v1/customers/"+tc.id+"/credit?as_of=2025-12", nil)
			why := fmt.Sprint(l["churn_reasons"])
			if p["churn_reasons"] != nil || why != "[churn:capacity_reduced churn:contract_ends_in_3m churn:complaints_6m=1]" {
				t.Errorf("churn reasons: plain %v, %s %s", p["churn_reasons"], tc.id, why)
			}
			in, _ := l["churn_inputs"].(map[string]any)
			if in == nil || in["complaints"] != 1.0 || in["capacity_reduced"] != true || in["suspended"] != false || in["contract_months_left"] != 3.0 ||
				fmt.Sprint(in["sources"]) != tc.sources {
				t.Errorf("churn inputs of %s: %v; want 1 complaint, reduced, not suspended, 3 months left, sources %s", tc.id, l["churn_inputs"], tc.sources)
			}
			rl := l["churn_risk"].(float64)
			if m := odds(rl) / odds(rp); math.Abs(m-2.5*2*1.5) > 0.05*m || p["score"] != l["score"] {
				t.Errorf("churn risk %v against the twin's %v (odds ×%.2f, want ×7.5); scores %v %v", rl, rp, m, p["score"], l["score"])
			}
		}
		if in, _ := p["churn_inputs"].(map[string]any); in == nil || in["contract_end"] != "2027-06-30" || in["contract_months_left"] != 18.0 {
			t.Errorf("the plain twin's churn inputs: %v", p["churn_inputs"])
		}
	})

	t.Run("violations and theft read by the grade", func(t *testing.T) {
		// A shop paying on time: graded above C; a recorded violation costs
		// its points and is named; a recorded theft within 24 months makes
		// it C with the veto, in the answer and in the grade run's record.
		shop := admin.on(t).create("customers", customerBody("AN-6").with("category", "commercial", "voltage_kv", 0.4, "capacity_kva", 100))
		billsFor(admin.on(t), shop, months, func(i int) float64 { return seasonal(i, 3000) }, onTime)
		grade := func() map[string]any {
			return admin.on(t).must(200, "GET", "/api/v1/customers/"+shop+"/credit?as_of=2025-12", nil)
		}
		before := grade()
		st, out := admin.on(t).do("POST", "/api/v1/violations", violationBody(shop).with("kind", "fraud"))
		wantError(t, st, out, 400, "invalid", "kind")
		st, out = admin.on(t).do("POST", "/api/v1/violations", violationBody("cus_01JZZZZZZZZZZZZZZZZZZZZZZZ"))
		wantError(t, st, out, 422, "reference", "customer_id")
		admin.on(t).create("violations", violationBody(shop))
		viol := grade()
		if viol["score"].(float64) >= before["score"].(float64) || !slices.Contains(viol["reasons"].([]any), any("violation_24m")) {
			t.Errorf("a violation: score %v → %v, reasons %v", before["score"], viol["score"], viol["reasons"])
		}
		admin.on(t).create("violations", violationBody(shop).with("kind", "theft", "subtype", "bypass", "found_on", "2025-06-15"))
		theft := grade()
		if before["grade"] == "C" || theft["grade"] != "C" || fmt.Sprint(theft["reasons"].([]any)[0]) != "veto:theft_24m" {
			t.Errorf("a theft in June: grade %v → %v, reasons %v", before["grade"], theft["grade"], theft["reasons"])
		}
		admin.on(t).must(200, "POST", "/api/v1/credit/grades/run", obj{"period": "2025-10"})
		page := admin.on(t).must(200, "GET", "/api/v1/credit_grades?customer_id="+shop+"&period=2025-10", nil)
		if items, _ := page["items"].([]any); len(items) != 1 || items[0].(map[string]any)["grade"] != "C" ||
			fmt.Sprint(items[0].(map[string]any)["reasons"].([]any)[0]) != "veto:theft_24m" {
			t.Errorf("the grade run's record: %v", page)
		}
	})

	t.Run("a feeder's forecast from its customers' cards", func(t *testing.T) {
		// Two customers on feeder 10kV-牛山线 (a 36-month history each), one
		// on another feeder: the feeder's series is the first two's sum.
		for i, f := range []string{"10kV-牛山线", "10kV-牛山线", "10kV-和平线"} {
			id := admin.create("customers", customerBody(fmt.Sprintf("FD-%d", i)).with("category", "commercial", "capacity_kva", 200, "feeder", f))
			billsFor(admin, id, months, func(m int) float64 { return seasonal(m, float64(1000*(i+1))) }, onTime)
		}
		a := decode[fcAnswer](t, admin.on(t).must(200, "GET", "/api/v1/forecast/demand?feeder="+url.QueryEscape("10kV-牛山线")+"&horizon=6&as_of=2025-12", nil))
		if a.Source != "cards" || a.Origin != "2025-12" || len(a.Months) != 6 {
			t.Fatalf("feeder answer %+v", a)
		}
		s := testSeries(months, func(m int) float64 { return seasonal(m, 1000) + seasonal(m, 2000) })
		want, err := forecast.Forecast(s, forecast.Default(), forecast.Config{Horizon: 6})
		if err != nil {
			t.Fatal(err)
		}
		for h, m := range a.Months {
			if math.Abs(m.KWh-want.Energy.Point[h]) > 0.01 {
				t.Errorf("month %s: %.2f kWh; the two customers' summed series forecasts %.2f", m.Month, m.KWh, want.Energy.Point[h])
			}
		}
		for _, bad := range []struct{ path, field string }{
			{"/api/v1/forecast/demand?feeder=" + url.QueryEscape("10kV-无此线"), "feeder"},
			{"/api/v1/forecast/demand?feeder=x&category=commercial", "feeder"},
		} {
			st, out := admin.on(t).do("GET", bad.path, nil)
			if st/100 != 4 || !strings.Contains(string(out), `"field":"`+bad.field+`"`) {
				t.Errorf("%s: %d %s; want a 4xx naming %s", bad.path, st, out, bad.field)
			}
		}
	})

	t.Run("the region's working-day calendar moves the forecast", func(t *testing.T) {
		// The shipped calendar holds 2025 and 2026 only: a history from 2023
		// forecasts without the regressor, and says which years are missing.
		path := "/api/v1/customers/" + res + "/forecast?horizon=3"
		before := admin.on(t).must(200, "GET", path, nil)
		if w := fmt.Sprint(before["working_days"]); w != "none: the working-day calendar lacks 2023, 2024 (a calendar directive loads a year)" {
			t.Fatalf("working_days before the directive: %q", w)
		}
		// The State Council's Spring Festival of 2023 (late January) and 2024
		// (mid February), loaded by a directive.
		body := obj{"years": obj{
			"2023": obj{"holidays": obj{"春节": []string{"2023-01-21", "2023-01-22", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26", "2023-01-27"}}, "workdays": []string{"2023-01-28", "2023-01-29"}},
			"2024": obj{"holidays": obj{"春节": []string{"2024-02-10", "2024-02-11", "2024-02-12", "2024-02-13", "2024-02-14", "2024-02-15", "2024-02-16", "2024-02-17"}}, "workdays": []string{"2024-02-04", "2024-02-18"}},
		}}
		admin.on(t).create("directives", obj{"kind": "calendar", "title": "2023、2024年春节安排", "body": body})
		after := decode[fcAnswer](t, admin.on(t).must(200, "GET", path, nil))
		if after.WorkingDays != "calendar" {
			t.Fatalf("working_days with 2023 and 2024 loaded: %q", after.WorkingDays)
		}
		raw, _ := json.Marshal(body)
		loaded, err := workday.Parse(raw, "")
		if err != nil {
			t.Fatal(err)
		}
		s := testSeries(months, func(i int) float64 { return seasonal(i, 200) })
		want, err := forecast.Forecast(s, forecast.Default(), forecast.Config{Horizon: 3, WorkingDays: forecast.ChineseWorkingDays(workday.Default().With(loaded))})
		if err != nil {
			t.Fatal(err)
		}
		for h, m := range after.Months {
			if math.Abs(m.KWh-want.Energy.Point[h]) > 0.01 {
				t.Errorf("month %s: %.2f kWh; the package with the region's calendar says %.2f", m.Month, m.KWh, want.Energy.Point[h])
			}
		}
	})
}

func capacityChangeBody(cus string) obj {
	return obj{"customer_id": cus, "kind": "reduction", "from_kva": 100, "to_kva": 63, "start_on": "2025-09-01"}
}

func violationBody(cus string) obj {
	return obj{"customer_id": cus, "kind": "violation", "subtype": "capacity_increase", "found_on": "2025-11-20", "penalty": 2400}
}
