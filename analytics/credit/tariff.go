package credit

import (
	"fmt"
	"strconv"
	"strings"
)

// TariffChange is a change of every tariff by Factor from month From on
// (a 电价 directive): what the evaluation applies to the judged customers'
// bills to check that grades do not move with prices (`gridcrm credit
// evaluate --tariff-change`). The customers' behaviour is unchanged: the
// same kWh, the same payments; only the billed yuan.
type TariffChange struct {
	From   Month
	Factor float64
}

// ParseTariffChange reads YYYY-MM:FACTOR (e.g. 2024-09:1.05, every bill
// from September 2024 priced 5% higher).
func ParseTariffChange(s string) (TariffChange, error) {
	m, f, ok := strings.Cut(s, ":")
	if !ok {
		return TariffChange{}, fmt.Errorf("credit: tariff change %q: want YYYY-MM:FACTOR, e.g. 2024-09:1.05", s)
	}
	from, err := ParseMonth(m)
	if err != nil {
		return TariffChange{}, fmt.Errorf("credit: tariff change %q: %w", s, err)
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil || !(v > 0) || v > 10 {
		return TariffChange{}, fmt.Errorf("credit: tariff change %q: factor %q: want a number in (0, 10]", s, f)
	}
	return TariffChange{From: from, Factor: v}, nil
}

// Apply answers copies of cs with the billed yuan of every bill from
// t.From multiplied by t.Factor; cs is not changed.
func (t TariffChange) Apply(cs []Customer) []Customer {
	out := make([]Customer, len(cs))
	for i, c := range cs {
		c.Bills = append([]Bill(nil), c.Bills...)
		for j := range c.Bills {
			if c.Bills[j].Month >= t.From {
				c.Bills[j].Yuan *= t.Factor
			}
		}
		out[i] = c
	}
	return out
}
