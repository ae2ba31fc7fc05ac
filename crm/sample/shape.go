package sample

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"time"
)

// Shape categories: the slices of the shared hourly load that stand for a
// customer category (DeriveShapes).
const (
	ShapeResidential = iota // weekend days, all hours: households at home
	ShapeCommercial         // working days, 9:00-17:00: shops and offices open
	ShapeIndustrial         // working days, 0:00-6:00: the base load that runs through the night
	shapeKinds
)

// Time-of-use periods (Jiangsu): peak 8-11 and 17-22, flat 11-17 and 22-24,
// valley 0-8; households have two periods, peak 8-21 and valley 21-8.
const (
	touPeak = iota
	touFlat
	touValley
)

func touOf(hour int) int {
	switch {
	case hour < 8:
		return touValley
	case hour < 11 || (hour >= 17 && hour < 22):
		return touPeak
	}
	return touFlat
}

//go:generate go run ../../scripts/loadshapes -data ../../../shared/data/load -out shapes_table.go

// Shapes are monthly load shapes derived from real hourly load (the four
// PJM zones of ../shared/data/load): how a category's consumption moves
// through the year, and how the time-of-use shares move with it.
type Shapes struct {
	// Monthly[k][m] is the mean load of shape category k in calendar month
	// m (January first) over its mean over the year: energy per day, so a
	// month's energy is Monthly × its days × the mean daily energy. Each
	// row averages 1.
	Monthly [shapeKinds][12]float64
	// TOU[m] is the share of month m's energy in the peak, flat and valley
	// hours (all days); Day[m] the share in the households' peak, 8-21.
	TOU [12][3]float64
	Day [12]float64
	// Zones and ZoneYears say what was read: zones, and complete calendar
	// years (every month with at least 27 days of readings) over them.
	Zones, ZoneYears int
}

// HourReading is one hourly reading: the wall-clock hour and the load.
type HourReading struct {
	At time.Time
	MW float64
}

// DeriveShapes computes Shapes from zones of hourly readings (each in any
// order, one reading an hour; forecast.ReadHourly cleans a shared CSV into
// that). Only complete calendar years count: all twelve months with
// readings on at least 27 days. Every zone weighs the same. Weekends are
// Saturday and Sunday (the zones are American; no holidays are taken out).
// It answers an error when no zone has a complete year.
func DeriveShapes(zones [][]HourReading) (Shapes, error) {
	var out Shapes
	var monthly [shapeKinds][12]float64
	var tou [12][3]float64
	var day [12]float64
	for _, z := range zones {
		type acc struct {
			sum [shapeKinds]float64
			n   [shapeKinds]int
			tou [3]float64
			day float64
			all float64
			dd  map[int]bool
		}
		byMonth := map[[2]int]*acc{}
		for _, h := range z {
			k := [2]int{h.At.Year(), int(h.At.Month()) - 1}
			a := byMonth[k]
			if a == nil {
				a = &acc{dd: map[int]bool{}}
				byMonth[k] = a
			}
			a.dd[h.At.Day()] = true
			hr := h.At.Hour()
			wd := h.At.Weekday()
			weekend := wd == time.Saturday || wd == time.Sunday
			if weekend {
				a.sum[ShapeResidential] += h.MW
				a.n[ShapeResidential]++
			} else {
				if hr >= 9 && hr < 17 {
					a.sum[ShapeCommercial] += h.MW
					a.n[ShapeCommercial]++
				}
				if hr < 6 {
					a.sum[ShapeIndustrial] += h.MW
					a.n[ShapeIndustrial]++
				}
			}
			a.tou[touOf(hr)] += h.MW
			if hr >= 8 && hr < 21 {
				a.day += h.MW
			}
			a.all += h.MW
		}
		var years []int
		seen := map[int]bool{}
		for k := range byMonth {
			if !seen[k[0]] {
				seen[k[0]] = true
				years = append(years, k[0])
			}
		}
		sort.Ints(years)
		var zm [shapeKinds][12]float64
		var zt [12][3]float64
		var zd [12]float64
		ny := 0
	year:
		for _, y := range years {
			for m := range 12 {
				a := byMonth[[2]int{y, m}]
				if a == nil || len(a.dd) < 27 || a.n[ShapeResidential] == 0 || a.n[ShapeCommercial] == 0 || a.n[ShapeIndustrial] == 0 {
					continue year
				}
			}
			ny++
			for k := range shapeKinds {
				var mean [12]float64
				tot := 0.0
				for m := range 12 {
					a := byMonth[[2]int{y, m}]
					mean[m] = a.sum[k] / float64(a.n[k])
					tot += mean[m]
				}
				for m := range 12 {
					zm[k][m] += mean[m] / (tot / 12)
				}
			}
			for m := range 12 {
				a := byMonth[[2]int{y, m}]
				for p := range 3 {
					zt[m][p] += a.tou[p] / a.all
				}
				zd[m] += a.day / a.all
			}
		}
		if ny == 0 {
			continue
		}
		out.Zones++
		out.ZoneYears += ny
		for m := range 12 {
			for k := range shapeKinds {
				monthly[k][m] += zm[k][m] / float64(ny)
			}
			for p := range 3 {
				tou[m][p] += zt[m][p] / float64(ny)
			}
			day[m] += zd[m] / float64(ny)
		}
	}
	if out.Zones == 0 {
		return out, fmt.Errorf("sample: shapes: no zone has a complete calendar year of hourly readings")
	}
	z := float64(out.Zones)
	for m := range 12 {
		for k := range shapeKinds {
			out.Monthly[k][m] = monthly[k][m] / z
		}
		for p := range 3 {
			out.TOU[m][p] = tou[m][p] / z
		}
		out.Day[m] = day[m] / z
	}
	return out, nil
}

// Round answers s with every figure rounded to 4 decimals, as the
// committed table holds it.
func (s Shapes) Round() Shapes {
	r := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
	for m := range 12 {
		for k := range shapeKinds {
			s.Monthly[k][m] = r(s.Monthly[k][m])
		}
		for p := range 3 {
			s.TOU[m][p] = r(s.TOU[m][p])
		}
		s.Day[m] = r(s.Day[m])
	}
	return s
}

// GoSource is the Go file of the committed table (shapes_table.go) for s,
// rounded; source says where it came from.
func (s Shapes) GoSource(source string) []byte {
	s = s.Round()
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by scripts/loadshapes from %s; DO NOT EDIT.\n\n", source)
	b.WriteString("package sample\n\n")
	b.WriteString("// derived are the load shapes of the shared hourly load (shape.go);\n")
	b.WriteString("// go generate ./crm/sample recomputes them, TestShapes_MatchSharedData checks them.\n")
	b.WriteString("var derived = Shapes{\n\tMonthly: [shapeKinds][12]float64{\n")
	for k := range shapeKinds {
		b.WriteString("\t\t{")
		for m := range 12 {
			if m > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%.4f", s.Monthly[k][m])
		}
		b.WriteString("},\n")
	}
	b.WriteString("\t},\n\tTOU: [12][3]float64{\n")
	for m := range 12 {
		fmt.Fprintf(&b, "\t\t{%.4f, %.4f, %.4f},\n", s.TOU[m][0], s.TOU[m][1], s.TOU[m][2])
	}
	b.WriteString("\t},\n\tDay: [12]float64{")
	for m := range 12 {
		if m > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.4f", s.Day[m])
	}
	fmt.Fprintf(&b, "},\n\tZones: %d, ZoneYears: %d,\n}\n", s.Zones, s.ZoneYears)
	return b.Bytes()
}

// Shared answers the committed shapes (derived from the shared load data).
func Shared() Shapes { return derived }
