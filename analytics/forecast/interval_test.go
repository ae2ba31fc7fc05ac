package forecast

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Every history the default method accepts (12 months on, a month of zero
// among them) gets finite, nested intervals at every horizon: a series of
// 13 to 23 months has out-of-sample errors at short horizons only, and a
// NaN there once made the API answer 200 with an empty body.
func TestForecast_IntervalsFiniteAndNested(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := Default().MinHistory(); n <= 40; n++ {
		for _, zero := range []bool{false, true} {
			s := synthetic(MakeMonth(2021, time.January), n, 0.003)
			for i := range s.Energy {
				s.Energy[i] *= math.Exp(0.05 * rng.NormFloat64())
			}
			if zero {
				s.Energy[n/2] = 0
			}
			o, err := Forecast(s, Default(), Config{Horizon: 12})
			if zero && n-1 < 12 {
				if !errors.Is(err, ErrShortHistory) {
					t.Fatalf("%d months with one of zero: %v, want ErrShortHistory", n, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%d months, zero %v: %v", n, zero, err)
			}
			p := o.Energy
			for h := range p.Point {
				pt, l80, h80, l95, h95 := p.Point[h], p.Lo[0][h], p.Hi[0][h], p.Lo[1][h], p.Hi[1][h]
				for _, v := range []float64{pt, l80, h80, l95, h95} {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%d months, zero %v, horizon %d: point %v 80%% [%v, %v] 95%% [%v, %v]", n, zero, h+1, pt, l80, h80, l95, h95)
					}
				}
				if !(l95 <= l80 && l80 <= pt && pt <= h80 && h80 <= h95) {
					t.Errorf("%d months, zero %v, horizon %d: not nested: 95%% [%v, %v] 80%% [%v, %v] point %v", n, zero, h+1, l95, h95, l80, h80, pt)
				}
				if h > 0 && h95/pt < p.Hi[1][h-1]/p.Point[h-1]-1e-9 {
					t.Errorf("%d months, zero %v, horizon %d: the 95%% band narrows: %v < %v", n, zero, h+1, h95/pt, p.Hi[1][h-1]/p.Point[h-1])
				}
			}
		}
	}
}
