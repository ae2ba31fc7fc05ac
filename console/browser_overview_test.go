package console_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/internal/testcluster"
)

// mapState is what the overview's map holds: the ECharts map registered
// for it, the codes of the registered GeoJSON's features, and the series
// data (one item per feature: code, region when it is held, value).
type mapState struct {
	Map      string   `json:"map"`
	Features []string `json:"features"`
	Data     []struct {
		Name   string `json:"name"`
		Region string `json:"region"`
		Label  string `json:"label"`
		Value  any    `json:"value"`
	} `json:"data"`
	Box [4]float64 `json:"box"` // the map div: left, top, width, height
}

const readMap = `(() => {
  const d = document.getElementById('chart-map');
  const c = d && window.echarts.getInstanceByDom(d);
  if (!c) return '';
  const s = c.getOption().series[0];
  const g = window.echarts.getMap(s.map);
  const fs = ((g && (g.geoJSON || g.geoJson)) || { features: [] }).features;
  const r = d.getBoundingClientRect();
  return JSON.stringify({ map: s.map, features: fs.map((f) => f.properties.code), data: s.data,
    box: [r.left, r.top, r.width, r.height] });
})()`

func (b *browser) mapState() mapState {
	b.t.Helper()
	var m mapState
	b.WaitJS(readMap, func(s string) bool { return s != "" }, "the map")
	if err := json.Unmarshal([]byte(Eval[string](b, readMap)), &m); err != nil {
		b.t.Fatalf("read the map: %v", err)
	}
	return m
}

// clickRegion scrolls the map into view and clicks it where the region's
// area is drawn: at the point given (lng/lat; nil: the mean of the points
// of the feature's largest ring), converted to pixels by the chart itself.
func (b *browser) clickRegion(code string, at []float64) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
  const d = document.getElementById('chart-map');
  const c = window.echarts.getInstanceByDom(d);
  let at = %s;
  if (!at) {
    const g = window.echarts.getMap(c.getOption().series[0].map);
    const f = (g.geoJSON || g.geoJson).features.find((f) => f.properties.code === %q);
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const ring = polys.map((p) => p[0]).sort((a, b) => b.length - a.length)[0];
    at = [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
  }
  d.scrollIntoView({ block: 'center' });
  const px = c.convertToPixel({ seriesIndex: 0 }, at);
  const r = d.getBoundingClientRect();
  return JSON.stringify([r.left + px[0], r.top + px[1]]);
})()`, jsonOf(at), code)
	var xy []float64
	if err := json.Unmarshal([]byte(Eval[string](b, js)), &xy); err != nil || len(xy) != 2 || math.IsNaN(xy[0]) {
		b.t.Fatalf("where is %s on the map: %v %v", code, xy, err)
	}
	b.Do("click "+code+" on the map", chromedp.MouseClickXY(xy[0], xy[1]))
}

func jsonOf(v []float64) string {
	if v == nil {
		return "null"
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// TestBrowser_OverviewMap logs in at the province of a province → city →
// two counties hierarchy with bills in arrears, a connection project whose
// stage is overdue now and an outage this month: the overview shows every
// card in Chinese (the arrears' ageing buckets among them) with the
// figures the API answers; its map holds every one of Jiangsu's 13 cities,
// the city with data coloured; a click on the city's area opens the city's
// overview with a map of its counties, and a click on a county the
// county's overview and its customer list.
func TestBrowser_OverviewMap(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	cl := h.Region("320722").Client(0)
	ids := seed(t, cl, "320722", 30)
	seed(t, h.Region("320723").Client(0), "320723", 20)
	// A project accepted 60 days ago whose first open stage is past its deadline now.
	if st, body := cl.Do("POST", "/api/v1/projects", map[string]any{"kind": "new_connection", "customer_id": ids[0], "voltage_kv": 0.22,
		"capacity_kva": 8, "accepted_at": time.Now().AddDate(0, 0, -60).Format(time.RFC3339)}); st != 201 {
		t.Fatalf("create a project: %d %s", st, body)
	}
	// A fault outage that started an hour ago (this month but at a month's first hour).
	begun := time.Now().Add(-time.Hour)
	if begun.Month() != time.Now().Month() {
		begun = time.Now()
	}
	if st, body := cl.Do("POST", "/api/v1/outages", map[string]any{"type": "fault", "feeder": "10kV 城东线", "start": begun.Format(time.RFC3339),
		"end": begun.Add(4 * time.Hour).Format(time.RFC3339)}); st != 201 {
		t.Fatalf("create an outage: %d %s", st, body)
	}
	for _, r := range []string{"320722", "320723", "3207"} {
		h.WaitReplicated(r, "32", 20*time.Second)
	}
	prov := h.Region("32")
	var o struct {
		Arrears       float64 `json:"arrears"`
		ArrearsBills  int64   `json:"arrears_bills"`
		ArrearsAgeing []struct {
			Bucket string  `json:"bucket"`
			Amount float64 `json:"amount"`
			Bills  int64   `json:"bills"`
		} `json:"arrears_ageing"`
		Overdue  int64 `json:"project_stages_overdue"`
		Outages  int64 `json:"outages_this_month"`
		Children []struct {
			Region    string `json:"region"`
			Customers int64  `json:"customers"`
		} `json:"children"`
	}
	st, body := prov.Client(0).Do("GET", "/api/v1/stats/overview?region=32", nil)
	if err := json.Unmarshal(body, &o); st != 200 || err != nil {
		t.Fatalf("province overview: %d %s", st, body)
	}
	var aged float64
	var agedBills int64
	for _, b := range o.ArrearsAgeing {
		aged += b.Amount
		agedBills += b.Bills
	}
	if len(o.ArrearsAgeing) != 4 || math.Abs(aged-o.Arrears) > 0.01 || agedBills != o.ArrearsBills || o.ArrearsBills == 0 {
		t.Errorf("ageing buckets %+v add up to %.2f yuan, %d bills; arrears %.2f yuan, %d bills", o.ArrearsAgeing, aged, agedBills, o.Arrears, o.ArrearsBills)
	}
	if o.Overdue != 1 || o.Outages != 1 {
		t.Errorf("province: %d stages overdue, %d outages this month; want 1 and 1 (%s)", o.Overdue, o.Outages, body)
	}
	t.Logf("hierarchy up and seeded in %v", time.Since(start).Round(time.Millisecond))

	base := prov.Node(0).APIURL()
	b := newBrowser(t, base)
	b.Do("open the console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	b.WaitTitle("江苏省")
	b.WantIn(`#cards`, "客户数", "50 户", "售电量", "同比", "环比", "应收电费", "电费回收率", "欠费金额",
		fmt.Sprintf("欠费 %d 笔", o.ArrearsBills), "0–30天", "31–60天", "61–90天", "91天以上",
		"在办工单", "逾期环节", "1 个", "本月停电事件", "1 次", "故障停电 1")
	b.WantIn(`#freshness`, "前")

	// The province's map: every city of Jiangsu, the city held here with its figure.
	m := b.mapState()
	cities := []string{"3201", "3202", "3203", "3204", "3205", "3206", "3207", "3208", "3209", "3210", "3211", "3212", "3213"}
	sort.Strings(m.Features)
	if m.Map != "gc-32" || !slices.Equal(m.Features, cities) {
		t.Errorf("province map %q with features %v; want gc-32 with the 13 cities %v", m.Map, m.Features, cities)
	}
	var names []string
	for _, d := range m.Data {
		names = append(names, d.Label)
		if d.Name == "3207" && (d.Region != "3207" || d.Value == "-" || d.Value == nil) {
			t.Errorf("连云港市 on the map: %+v; want it held, with a value", d)
		}
		if d.Name != "3207" && d.Region != "" {
			t.Errorf("%s on the map is clickable (%+v); no region of the hierarchy is there", d.Name, d)
		}
	}
	for _, want := range []string{"南京市", "苏州市", "南通市", "连云港市", "宿迁市"} {
		if !slices.Contains(names, want) {
			t.Errorf("the province map does not name %s: %v", want, names)
		}
	}
	// Colour by customers: the city's value is its customer count.
	b.Do("colour by customers", chromedp.SetValue(chromedp.CSS(`#measure`), "customers"))
	Eval[any](b, `document.getElementById('measure').dispatchEvent(new Event('change')); 0`)
	m = b.mapState()
	for _, d := range m.Data {
		if d.Name == "3207" && fmt.Sprint(d.Value) != "50" {
			t.Errorf("coloured by customers, 连云港市 has %v; want 50", d.Value)
		}
	}
	b.Do("settle", chromedp.Sleep(300*time.Millisecond))
	b.Shot("overview-1-province-map")

	// A click on 连云港市's area (its centre point in the map file) opens the city's overview and its counties' map.
	t0 := time.Now()
	b.clickRegion("3207", []float64{119.178821, 34.600018})
	b.WaitTitle("连云港市")
	b.WaitJS(`(document.getElementById('chart-map')||{dataset:{}}).dataset.map||''`, func(s string) bool { return s == "gc-3207" }, "the city's map")
	t.Logf("city overview with its map after the click: %v", time.Since(t0).Round(time.Millisecond))
	m = b.mapState()
	sort.Strings(m.Features)
	if want := []string{"320703", "320706", "320707", "320722", "320723", "320724"}; !slices.Equal(m.Features, want) {
		t.Errorf("连云港市's map has features %v; want its counties %v", m.Features, want)
	}
	held := map[string]string{}
	for _, d := range m.Data {
		if d.Region != "" {
			held[d.Region] = d.Label
		}
	}
	if len(held) != 2 || held["320722"] != "东海县" || held["320723"] != "灌云县" {
		t.Errorf("the counties held on the city's map: %v; want 东海县 320722 and 灌云县 320723", held)
	}
	b.WantIn(`#cards`, "50 户") // the city's customers are its counties'
	b.WantIn(`#children`, "东海县", "灌云县")
	b.Do("settle", chromedp.Sleep(300*time.Millisecond))
	b.Shot("overview-2-city-map")

	// A click on 东海县 opens the county's overview; no map there, its customer list instead.
	b.clickRegion("320722", nil)
	b.WaitTitle("东海县")
	b.WantIn(`#cards`, "30 户", "1 个", "1 次")
	if n := Eval[int](b, `document.querySelectorAll('#chart-map').length`); n != 0 {
		t.Errorf("the county's overview has a map")
	}
	b.Shot("overview-3-county")
	b.Do("open the county's customers", chromedp.Click(chromedp.CSS(`#to-customers`)))
	b.WaitTitle("客户")
	if !strings.Contains(Eval[string](b, `location.hash`), "320722") {
		t.Errorf("the customer list is not the county's: %s", Eval[string](b, `location.hash`))
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}
