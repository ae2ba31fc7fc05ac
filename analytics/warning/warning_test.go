package warning

import (
	"slices"
	"testing"
)

func series(v map[int]float64) func(int) (float64, bool) {
	return func(m int) (float64, bool) { x, ok := v[m]; return x, ok }
}

func TestAbnormal(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    map[int]float64
		want []string
	}{
		{"steady", map[int]float64{0: 100, 11: 100, 12: 100}, nil},
		{"zero", map[int]float64{0: 100, 11: 100, 12: 0}, []string{Zero}},
		{"zero after zero", map[int]float64{11: 0, 12: 0}, nil},
		{"half month on month", map[int]float64{0: 100, 11: 100, 12: 50}, []string{DropMoM, DropYoY}},
		{"rise year on year only", map[int]float64{0: 100, 11: 140, 12: 150}, []string{RiseYoY}},
		{"just inside", map[int]float64{11: 100, 12: 71}, nil},
		{"no history", map[int]float64{12: 10}, nil},
	} {
		c, err := Abnormal(series(tc.v), 12, 0.3)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(c.Reasons, tc.want) {
			t.Errorf("%s: reasons %v, want %v", tc.name, c.Reasons, tc.want)
		}
	}
	if _, err := Abnormal(series(map[int]float64{12: 1}), 12, 0); err == nil {
		t.Error("threshold 0 accepted")
	}
	if _, err := Abnormal(series(map[int]float64{}), 12, 0.3); err == nil {
		t.Error("a month without a reading was checked")
	}
}
