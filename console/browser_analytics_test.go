package console_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/crm/sample"
	"gridcrm/internal/testcluster"
)

// seedMonths imports n sample customers with months of bills up to end
// into region through the API, and answers their ids.
func seedMonths(t *testing.T, cl *testcluster.Client, region string, n, months int, end time.Time) []string {
	t.Helper()
	d := sample.Generate(sample.Options{Region: region, Customers: n, Months: months, End: end, Seed: 14})
	st, body := cl.Do("POST", "/api/v1/customers/import", d.Customers)
	if st != 201 {
		t.Fatalf("import customers into %s: %d %s", region, st, body)
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.IDs) != n {
		t.Fatalf("import customers into %s: %s", region, body)
	}
	var bills []any
	for i, id := range out.IDs {
		for _, b := range d.Bills[i] {
			b.CustomerID = id
			bills = append(bills, b)
		}
	}
	for len(bills) > 0 { // an import takes up to 10,000 rows
		k := min(len(bills), 5000)
		if st, body := cl.Do("POST", "/api/v1/bills/import", bills[:k]); st != 201 {
			t.Fatalf("import bills into %s: %d %s", region, st, body)
		}
		bills = bills[k:]
	}
	return out.IDs
}

// TestBrowser_AnalyticsSessionExport starts one city with one county and
// runs two browser tests on it: the 分析 analytics page (analytics below)
// and the session and Excel export (sessionAndExport,
// browser_session_test.go). The county holds 24 sample customers with 37
// months of bills and a 110 kV steelworks whose last month reads zero,
// with a gold manager; the credit-grade and warning runs of the last month
// are run at the county through the API and roll up to the city.
func TestBrowser_AnalyticsSessionExport(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	cl := h.Region("320722").Client(0)
	end := time.Now().UTC().AddDate(0, -1, 0)
	end = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	latest := end.Format("2006-01")
	seedMonths(t, cl, "320722", 24, 37, end)
	create := func(coll string, body any) string {
		t.Helper()
		st, out := cl.Do("POST", "/api/v1/"+coll, body)
		if st != 201 {
			t.Fatalf("create %s: %d %s", coll, st, out)
		}
		var r struct{ ID string }
		json.Unmarshal(out, &r)
		return r.ID
	}
	mgr := create("staff", map[string]any{"staff_no": "G-7", "name": "王建国", "role": "gold_manager", "region": "320722"})
	big := create("customers", map[string]any{"account_no": "B-7", "name": "东海特钢有限公司", "category": "industrial", "voltage_kv": 110,
		"capacity_kva": 40000, "region": "320722", "feeder": "110kV 城东线"})
	create("gold_assignments", map[string]any{"customer_id": big, "staff_id": mgr, "from": end.AddDate(-2, 0, 0).Format(time.DateOnly)})
	var bills []map[string]any
	for i := 36; i >= 0; i-- {
		m := end.AddDate(0, -i, 0)
		k := 0.0 // the last month reads zero: the meter stopped, or the customer left
		if i > 0 {
			k = math.Round(3e4 * (1 + 0.25*math.Cos(2*math.Pi*float64(m.Month()-7)/12)))
		}
		b := map[string]any{"customer_id": big, "period": m.Format("2006-01"), "kwh": k, "billed": math.Round(k * 0.68), "paid": math.Round(k * 0.68)}
		if k > 0 {
			b["pay_date"] = m.AddDate(0, 1, 14).Format(time.DateOnly)
		}
		bills = append(bills, b)
	}
	if st, out := cl.Do("POST", "/api/v1/bills/import", bills); st != 201 {
		t.Fatalf("import the steelworks' bills: %d %s", st, out)
	}
	// The month's runs, at the county, through the API.
	if st, out := cl.Do("POST", "/api/v1/credit/grades/run", map[string]any{"period": latest}); st != 200 {
		t.Fatalf("grade run: %d %s", st, out)
	}
	st, out := cl.Do("POST", "/api/v1/warnings/run", map[string]any{"period": latest})
	var run struct {
		Abnormal, Churn, Trends int
	}
	if st != 200 || json.Unmarshal(out, &run) != nil || run.Abnormal == 0 || run.Trends == 0 {
		t.Fatalf("warning run: %d %s; want abnormal warnings and customer trends", st, out)
	}
	h.WaitReplicated("320722", "3207", 30*time.Second)
	t.Logf("hierarchy up, seeded and the month's runs done in %v (warning run: %s)", time.Since(start).Round(time.Millisecond), out)

	t.Run("analytics", func(t *testing.T) { analytics(t, h, end, big, mgr) })
	t.Run("session_and_export", func(t *testing.T) { sessionAndExport(t, h) })
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

// analytics drives the 分析 page at the city: the overview's sales chart
// shows actual against forecast; the analytics page shows the city's
// demand forecast with its bands and totals, the grade distribution the
// county's run counted, the steelworks' zero reading among the abnormal
// warnings (and alone under its account manager), prices, market and
// rankings. The city's admin may not answer the county's warning: the
// API's refusal shows beside the buttons. On the county's console the
// warning is acknowledged from the page, the answer is stored there and
// rolls up; the abnormal list and the market's voltage-class table export
// to .xlsx; the page and the overview switch to English; the customer page shows the
// credit grade with its reasons and payment, and the forecast; an analyst
// reads the page without answer buttons.
func analytics(t *testing.T, h *testcluster.Hierarchy, end time.Time, big, mgr string) {
	latest := end.Format("2006-01")
	city := h.Region("3207")
	base := city.Node(0).APIURL()
	admin := city.Client(0)
	b := newBrowser(t, base)
	done := watchDownloads(b, t.TempDir())
	do, wantIn, waitTitle, hash := b.Do, b.WantIn, b.WaitTitle, b.Hash
	count := func(sel string) int { return Eval[int](b, `document.querySelectorAll(`+jsString(sel)+`).length`) }

	do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("连云港市")
	// Actual against forecast on the overview: 37 months allow the last 12
	// against the forecast made a year before them (from 25 months).
	if st, body := admin.Do("GET", "/api/v1/forecast/demand?region=3207&scope=subtree&horizon=12&as_of="+end.AddDate(-1, 0, 0).Format("2006-01"), nil); st != 200 || len(body) == 0 {
		t.Errorf("the forecast of a year before: %d %s", st, body)
	}
	b.WaitJS(`(document.querySelector('#forecast-fit')||{}).textContent||''`, func(s string) bool { return strings.Contains(s, "平均绝对百分比误差") },
		"the overview's actual against forecast")
	b.WaitJS(`(() => { const d = document.getElementById('chart-monthly'); const c = d && window.echarts.getInstanceByDom(d);
		return c ? c.getOption().series.map((s) => s.name).join('|') : ''; })()`, func(s string) bool { return strings.Contains(s, "预测售电量") },
		"a forecast series in the monthly chart")

	t0 := time.Now()
	do("open the analytics page", chromedp.Click(chromedp.CSS(`[data-nav="analytics"]`)))
	waitTitle("连云港市 · 分析")
	do("wait for the warnings", chromedp.WaitVisible(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"]`)))
	t.Logf("analytics page: click to rendered in %v", time.Since(t0).Round(time.Millisecond))
	do("wait for the charts", chromedp.WaitVisible(chromedp.CSS(`#chart-forecast canvas`)), chromedp.WaitVisible(chromedp.CSS(`#chart-credit canvas`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-tariff canvas`)))
	if n := count(`#forecast-months tr[data-month]`); n != 12 {
		t.Errorf("the forecast lists %d months, want 12", n)
	}
	if count(`#forecast-quarters tr[data-period]`) == 0 || count(`#forecast-years tr[data-period]`) == 0 {
		t.Error("no quarterly or yearly totals of the forecast")
	}
	wantIn(`#forecast-method`, "预测起点 "+latest)
	// The chart: 24 actual months, then 12 forecast with both bands.
	series := Eval[string](b, `(() => { const c = window.echarts.getInstanceByDom(document.getElementById('chart-forecast'));
		const o = c.getOption(); return JSON.stringify({ x: o.xAxis[0].data.length, s: o.series.map((s) => s.name),
		actual: o.series.find((s) => s.name === '实际').data.filter((v) => v != null).length }); })()`)
	var fc struct {
		X      int      `json:"x"`
		S      []string `json:"s"`
		Actual int      `json:"actual"`
	}
	if json.Unmarshal([]byte(series), &fc) != nil || fc.X != 36 || fc.Actual != 24 || !strings.Contains(strings.Join(fc.S, ","), "80%区间") || !strings.Contains(strings.Join(fc.S, ","), "95%区间") {
		t.Errorf("the forecast chart: %s; want 36 months, 24 of them actual, both bands", series)
	}
	// The grade distribution the county's run counted, rolled up.
	wantIn(`#credit tr[data-period="`+latest+`"]`, "25")
	wantIn(`#abnormal tr[data-customer="`+big+`"]`, "东海特钢有限公司", "零电量", "王建国", "320722")
	for _, sel := range []string{`#tariff tr[data-value]`, `#market-category tr[data-value]`, `#market-voltage tr[data-value="high"]`, `#market-industry tr[data-industry]`, `#ranking tr[data-customer]`} {
		if count(sel) == 0 {
			t.Errorf("no %s", sel)
		}
	}
	if strings.Contains(b.Text(`main`), "无法读取") {
		t.Errorf("a section could not read its route: %.600s", b.Text(`main`))
	}
	do("settle", chromedp.Sleep(300*time.Millisecond))
	b.Shot("analytics")

	// One account manager's warnings: the steelworks alone.
	hash("#/analytics/3207?manager=" + mgr)
	waitTitle("分析")
	do("wait for the manager's list", chromedp.WaitVisible(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"]`)))
	if n := count(`#abnormal tr[data-customer]`); n != 1 {
		t.Errorf("the manager's abnormal list has %d rows, want the steelworks only", n)
	}
	if v := Eval[string](b, `document.getElementById('filter-manager').value`); v != mgr {
		t.Errorf("the manager filter shows %q, want %s", v, mgr)
	}

	// The city may not answer for the county's customer (the county owns
	// it): the API refuses and the page says so beside the buttons.
	b.ExpectRefusals(true)
	do("acknowledge at the city", chromedp.Click(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"] button.ack`)))
	b.WaitJS(`(document.querySelector('#abnormal tr[data-customer="`+big+`"] .ack-error')||{}).textContent||''`,
		func(s string) bool { return strings.Contains(s, "无权处理") }, "the city's refusal beside the buttons")
	b.ExpectRefusals(false)

	// At the county's console the warning is acknowledged from the page;
	// the answer is stored there and rolls up to the city.
	county := h.Region("320722")
	countyURL := county.Node(0).APIURL()
	b.SetNode(countyURL)
	b.ExpectRefusals(true) // the console asks who is logged in: 401 before the login
	do("open the county's console", chromedp.Navigate(countyURL+"/console/#/analytics?manager="+mgr))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("东海县 · 分析")
	b.ExpectRefusals(false)
	do("acknowledge", chromedp.WaitVisible(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"] button.ack`)),
		chromedp.Click(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"] button.ack`)),
		chromedp.WaitVisible(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"] [data-status="acknowledged"]`)))
	st, body := county.Client(0).Do("GET", "/api/v1/warning_acks?customer_id="+big, nil)
	var acks struct {
		Items []struct {
			Kind, Period, Status, Owner string
		} `json:"items"`
	}
	if st != 200 || json.Unmarshal(body, &acks) != nil || len(acks.Items) != 1 || acks.Items[0].Status != "acknowledged" ||
		acks.Items[0].Kind != "abnormal" || acks.Items[0].Period != latest || acks.Items[0].Owner != "320722" {
		t.Fatalf("the stored answer: %d %s", st, body)
	}
	h.WaitReplicated("320722", "3207", 30*time.Second)
	st, body = admin.Do("GET", "/api/v1/warnings/abnormal?region=3207&scope=subtree&status=acknowledged&manager_id="+mgr, nil)
	if st != 200 || !strings.Contains(string(body), big) {
		t.Errorf("the acknowledged list at the city: %d %s", st, body)
	}
	// Open ones no longer list it; all of them do, acknowledged.
	hash("#/analytics/320722?manager=" + mgr + "&status=open")
	waitTitle("分析")
	do("wait for the open list", chromedp.WaitVisible(chromedp.CSS(`#abnormal`)))
	if n := count(`#abnormal tr[data-customer]`); n != 0 {
		t.Errorf("the open list still has %d rows after the answer", n)
	}
	hash("#/analytics/320722?manager=" + mgr + "&status=all")
	waitTitle("分析")
	do("wait for every warning", chromedp.WaitVisible(chromedp.CSS(`#abnormal tr[data-customer="`+big+`"] [data-status="acknowledged"]`)))
	wantIn(`#abnormal tr[data-customer="`+big+`"]`, "已确认")

	// The abnormal list and the market's voltage classes as .xlsx.
	do("export the warnings", chromedp.Click(chromedp.CSS(`button[data-export="/api/v1/warnings/abnormal"]`)))
	rows := readXLSX(t, done)
	if len(rows) != 2 || len(rows[1]) < 13 || rows[0][0] != "客户" || rows[1][0] != "东海特钢有限公司" || rows[1][3] != "工业" || rows[1][5] != "零电量" ||
		rows[1][12] != "已确认" {
		t.Errorf("the abnormal list's export: %q", rows)
	}
	do("export the voltage classes", chromedp.Click(chromedp.CSS(`.panel:has(#market-voltage) button[data-export]`)))
	rows = readXLSX(t, done)
	high := false
	for _, r := range rows[1:] {
		high = high || (len(r) > 0 && r[0] == "高压（≥35千伏）")
	}
	if len(rows) < 2 || rows[0][0] != "电压等级" || !high {
		t.Errorf("the market's voltage-class export: %q", rows)
	}

	// English.
	do("switch to English", chromedp.Click(chromedp.CSS(`#lang`)))
	waitTitle("Analytics")
	wantIn(`main`, "Demand forecast", "Credit-grade distribution", "Abnormal consumption", "Market", "Customer rankings")
	wantIn(`#abnormal tr[data-customer="`+big+`"]`, "zero reading", "Acknowledged", "Industrial")
	do("settle", chromedp.Sleep(300*time.Millisecond))
	b.Shot("analytics-english")
	hash("#/")
	waitTitle("东海县 · County overview")
	wantIn(`#cards`, "Customers", "Sales", "YoY", "Collection rate", "Arrears", "Open work orders", "Overdue stages", "Outages this month")
	do("back to Chinese", chromedp.Click(chromedp.CSS(`#lang`)))
	waitTitle("东海县 · 县级总览")

	// The customer page: the credit grade, its reasons and payment, and the forecast.
	st, body = county.Client(0).Do("GET", "/api/v1/customers/"+big+"/credit", nil)
	var cr struct {
		Grade, Payment string
	}
	if st != 200 || json.Unmarshal(body, &cr) != nil || cr.Grade == "" {
		t.Fatalf("the steelworks' grade: %d %s", st, body)
	}
	hash("#/customer/" + big)
	b.WaitJS(`(document.querySelector('#page-title')||{}).textContent||''`, func(s string) bool { return s != "" }, "the customer page")
	if e := Eval[string](b, `(document.querySelector('#page-error')||{}).textContent||''`); e != "" {
		t.Fatalf("the customer page: %s", e)
	}
	waitTitle("东海特钢有限公司")
	do("wait for the grade", chromedp.WaitVisible(chromedp.CSS(`#credit-grade`)), chromedp.WaitVisible(chromedp.CSS(`#customer-forecast`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-customer-forecast canvas`)))
	if g := b.Text(`#credit-grade`); g != cr.Grade {
		t.Errorf("the customer page shows grade %q, the API %q", g, cr.Grade)
	}
	wantIn(`#credit`, "评价依据", "建议结算方式", cr.Payment)
	wantIn(`#churn-inputs`, "个月投诉") // what the churn risk read beyond the bills (a business customer)
	if count(`#forecast-totals tr[data-period]`) == 0 {
		t.Error("no forecast totals on the customer page")
	}
	do("settle", chromedp.Sleep(300*time.Millisecond))
	b.Shot("customer-credit")

	// An analyst reads the page but gets no buttons to answer a warning.
	if st, body := county.Client(0).Do("POST", "/api/v1/users", map[string]any{"username": "fenxi", "password": "Analyst-320722-spring", "role": "analyst", "region": "320722"}); st != 201 {
		t.Fatalf("create an analyst: %d %s", st, body)
	}
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.Login("fenxi", "Analyst-320722-spring")
	waitTitle("东海特钢有限公司") // the page the admin left, read by the analyst
	hash("#/analytics")
	waitTitle("东海县 · 分析")
	do("wait for the churn list", chromedp.WaitVisible(chromedp.CSS(`#churn tr[data-customer]`)))
	if n := count(`#churn button, #abnormal button`); n != 0 {
		t.Errorf("an analyst sees %d answer buttons", n)
	}
}
