// Command loadshapes recomputes the demo's load shapes (crm/sample
// shapes_table.go) from the shared hourly load files (../shared/data/load
// *_hourly.csv: read with analytics/forecast.ReadHourly, which copes with
// their mixed date formats, unsorted rows and doubled daylight-saving
// hours). go generate ./crm/sample runs it:
//
//	go run ./scripts/loadshapes -data ../shared/data/load -out crm/sample/shapes_table.go
package main

import (
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"

	"gridcrm/analytics/forecast"
	"gridcrm/crm/sample"
)

func main() {
	data := flag.String("data", "../shared/data/load", "directory of the hourly load CSVs")
	out := flag.String("out", "crm/sample/shapes_table.go", "the Go file to write")
	flag.Parse()
	src, err := generate(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadshapes:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "loadshapes:", err)
		os.Exit(1)
	}
}

func generate(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_hourly.csv"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *_hourly.csv in %s", dir)
	}
	sort.Strings(files)
	var zones [][]sample.HourReading
	var names []string
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		h, err := forecast.ReadHourly(r, filepath.Base(f))
		r.Close()
		if err != nil {
			return nil, err
		}
		z := make([]sample.HourReading, len(h.Hours))
		for i, x := range h.Hours {
			z[i] = sample.HourReading{At: x.At, MW: x.MW}
		}
		zones = append(zones, z)
		names = append(names, filepath.Base(f))
	}
	s, err := sample.DeriveShapes(zones)
	if err != nil {
		return nil, err
	}
	return format.Source(s.GoSource(fmt.Sprintf("shared/data/load %v", names)))
}
