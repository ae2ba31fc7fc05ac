package console

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"testing"

	"gridcrm/tiers"
)

// TestGeo_NamesAndCodes checks the vendored map boundaries against the
// region names the hierarchy uses (tiers' GB/T 2260 table): the province
// map has Jiangsu's 13 cities, each named as tiers names it; each city's
// map has one feature per county of that city in tiers' table (南通 3206,
// which tiers leaves out, against the codes of today's divisions), named as
// tiers names it, with geometry; and they are served (gzipped) by the node.
func TestGeo_NamesAndCodes(t *testing.T) {
	type fc struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				Name, Code string
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	read := func(name string) fc {
		t.Helper()
		raw, err := fs.ReadFile(static, "static/vendor/geo/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var c fc
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	prov := read("jiangsu.json")
	var cities []string
	for _, f := range prov.Features {
		code := f.ID[:4]
		cities = append(cities, code)
		if want := tiers.Name(tiers.RegionCode(code)); f.Properties.Name != want || want == "" {
			t.Errorf("jiangsu.json: %s is named %q; tiers names it %q", code, f.Properties.Name, want)
		}
	}
	slices.Sort(cities)
	if len(cities) != 13 || cities[0] != "3201" || cities[12] != "3213" {
		t.Fatalf("jiangsu.json has cities %v; want 3201…3213", cities)
	}
	nantong := map[string]string{"320612": "通州区", "320613": "崇川区", "320614": "海门区", "320623": "如东县", "320681": "启东市", "320682": "如皋市", "320685": "海安市"}
	for _, city := range cities {
		c := read("jiangsu/" + city + ".json")
		got := map[string]string{}
		for _, f := range c.Features {
			got[f.Properties.Code] = f.Properties.Name
			if f.Geometry.Type != "MultiPolygon" || len(f.Geometry.Coordinates) < 10 {
				t.Errorf("%s %s: geometry %s of %d bytes", city, f.Properties.Code, f.Geometry.Type, len(f.Geometry.Coordinates))
			}
		}
		want := map[string]string{}
		for code, name := range nantong {
			if city == "3206" {
				want[code] = name
			}
		}
		for i := 0; i < 100; i++ { // tiers' counties of the city: <city>01 … <city>99
			code := tiers.RegionCode(city + string(rune('0'+i/10)) + string(rune('0'+i%10)))
			if n := tiers.Name(code); n != "" {
				want[string(code)] = n
			}
		}
		if len(want) == 0 || len(got) != len(want) {
			t.Errorf("%s: %d features %v; want %d: %v", city, len(got), got, len(want), want)
		}
		for code, name := range want {
			if got[code] != name {
				t.Errorf("%s: feature %s is named %q; want %q", city, code, got[code], name)
			}
		}
	}
	resp := get(t, "/console/vendor/geo/jiangsu/3207.json", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET a county map: %d %v", resp.StatusCode, resp.Header)
	}
}
