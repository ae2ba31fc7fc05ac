package market

import (
	"fmt"
	"math"
	"sort"
)

// The effect of a tariff change (a tariff directive taking effect in a
// month): the average price per kWh of each slice in the months before
// against the months from it, and who pays more for the same energy.

// Window is the months compared on each side of a tariff change.
type Window struct {
	At                   string `json:"at"` // the first month under the new tariff, YYYY-MM
	Months               int    `json:"months"`
	BeforeFrom, BeforeTo string `json:"-"`
	AfterFrom, AfterTo   string `json:"-"`
	Before, After        [2]string
}

// EffectWindow answers the months compared: the n months before at, and
// at with the n-1 after it.
func EffectWindow(at string, n int) (Window, error) {
	if n < 1 || n > 12 {
		return Window{}, fmt.Errorf("market: %d months: want 1..12", n)
	}
	bf, ok := shift(at, -n)
	if !ok {
		return Window{}, fmt.Errorf("market: %q is not a month of the form YYYY-MM", at)
	}
	bt, _ := shift(at, -1)
	at2, _ := shift(at, 0)
	af, _ := shift(at, n-1)
	return Window{At: at2, Months: n, BeforeFrom: bf, BeforeTo: bt, AfterFrom: at2, AfterTo: af,
		Before: [2]string{bf, bt}, After: [2]string{at2, af}}, nil
}

// Side is one side of the comparison: kWh and amount over its months.
type Side struct {
	KWh        float64  `json:"kwh"`
	Yuan       float64  `json:"yuan"`
	Months     int      `json:"months"` // months with bills
	YuanPerKWh *float64 `json:"yuan_per_kwh"`
}

// Effect is one slice's price before and after.
type Effect struct {
	Value  string   `json:"value"`
	Before Side     `json:"before"`
	After  Side     `json:"after"`
	Change *float64 `json:"price_change"` // after over before price, minus 1
	// ExtraYuan is what the slice paid more (less: negative) in the months
	// after for their energy than it would have at the price before.
	ExtraYuan *float64 `json:"extra_yuan"`
}

func side(months map[string]Cell, from, to string) Side {
	var s Side
	for m, c := range months {
		if m < from || m > to || (c.KWh == 0 && c.Yuan == 0) {
			continue
		}
		s.KWh += c.KWh
		s.Yuan += c.Yuan
		s.Months++
	}
	s.KWh, s.Yuan = round(s.KWh, 2), round(s.Yuan, 2)
	if s.KWh > 0 {
		p := round(s.Yuan/s.KWh, 4)
		s.YuanPerKWh = &p
	}
	return s
}

func effectOf(value string, before, after Side) Effect {
	e := Effect{Value: value, Before: before, After: after}
	if before.KWh > 0 && after.KWh > 0 && before.Yuan > 0 {
		pb, pa := before.Yuan/before.KWh, after.Yuan/after.KWh
		e.Change = change(pa, pb)
		x := round((pa-pb)*after.KWh, 2)
		e.ExtraYuan = &x
	}
	return e
}

// Effects answers the effect of the change of w on every slice of s with
// bills on both sides, the largest price rise first (then by value); the
// slices with bills on one side only come last, by value.
func Effects(s Slices, w Window) []Effect {
	out := []Effect{}
	for val, months := range s {
		b, a := side(months, w.BeforeFrom, w.BeforeTo), side(months, w.AfterFrom, w.AfterTo)
		if b.Months == 0 && a.Months == 0 {
			continue
		}
		out = append(out, effectOf(val, b, a))
	}
	sortEffects(out, func(i int) string { return out[i].Value })
	return out
}

func sortEffects(out []Effect, key func(int) string) {
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	rank := func(e Effect) float64 {
		if e.Change == nil {
			return math.Inf(-1)
		}
		return *e.Change
	}
	keys := make([]string, len(out))
	for i := range out {
		keys[i] = key(i)
	}
	sort.SliceStable(idx, func(x, y int) bool {
		a, b := out[idx[x]], out[idx[y]]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra > rb
		}
		return keys[idx[x]] < keys[idx[y]]
	})
	sorted := make([]Effect, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	copy(out, sorted)
}

// CustomerSide is one customer's kWh and amount over one side's months.
type CustomerSide struct {
	KWh, Yuan float64
	Months    int // months billed
}

// CustomerEffect is one customer's price before and after a change.
type CustomerEffect struct {
	ID               string  `json:"customer_id"`
	Name             string  `json:"name,omitempty"`
	Category         string  `json:"category,omitempty"`
	Region           string  `json:"region,omitempty"`
	KWhBefore        float64 `json:"kwh_before"`
	KWhAfter         float64 `json:"kwh_after"`
	YuanPerKWhBefore float64 `json:"yuan_per_kwh_before"`
	YuanPerKWhAfter  float64 `json:"yuan_per_kwh_after"`
	Change           float64 `json:"price_change"`
	KWhChange        float64 `json:"kwh_change"`
	ExtraYuan        float64 `json:"extra_yuan"` // paid more after for its energy than at its price before
}

// CustomerEffectOf answers a customer's effect, ok false unless both
// sides are billed in every one of their n months with energy and amount.
func CustomerEffectOf(id string, before, after CustomerSide, n int) (CustomerEffect, bool) {
	if before.Months < n || after.Months < n || before.KWh <= 0 || after.KWh <= 0 || before.Yuan <= 0 {
		return CustomerEffect{}, false
	}
	pb, pa := before.Yuan/before.KWh, after.Yuan/after.KWh
	return CustomerEffect{ID: id, KWhBefore: round(before.KWh, 2), KWhAfter: round(after.KWh, 2),
		YuanPerKWhBefore: round(pb, 4), YuanPerKWhAfter: round(pa, 4), Change: round(pa/pb-1, 4),
		KWhChange: round(after.KWh/before.KWh-1, 4), ExtraYuan: round((pa-pb)*after.KWh, 2)}, true
}

// TopEffects keeps the limit customers whose price rose most (the bill
// that rose most for the same energy), then by the extra paid, then id.
// It sorts cs.
func TopEffects(cs []CustomerEffect, limit int) []CustomerEffect {
	sort.Slice(cs, func(i, j int) bool { return EffectBefore(&cs[i], &cs[j]) })
	return cs[:min(limit, len(cs))]
}

// EffectBefore reports whether a comes before b in TopEffects' order.
func EffectBefore(a, b *CustomerEffect) bool {
	if a.Change != b.Change {
		return a.Change > b.Change
	}
	if a.ExtraYuan != b.ExtraYuan {
		return a.ExtraYuan > b.ExtraYuan
	}
	return a.ID < b.ID
}

// TopEffectsKeeper keeps the first Limit effects it is given in
// TopEffects' order, without holding or sorting the others.
type TopEffectsKeeper struct {
	Limit int
	top   []CustomerEffect // in order
}

// Add offers e.
func (k *TopEffectsKeeper) Add(e CustomerEffect) {
	if k.Limit <= 0 || len(k.top) == k.Limit && !EffectBefore(&e, &k.top[len(k.top)-1]) {
		return
	}
	i := sort.Search(len(k.top), func(i int) bool { return EffectBefore(&e, &k.top[i]) })
	if len(k.top) < k.Limit {
		k.top = append(k.top, CustomerEffect{})
	}
	copy(k.top[i+1:], k.top[i:len(k.top)-1])
	k.top[i] = e
}

// Top answers the effects kept, in order.
func (k *TopEffectsKeeper) Top() []CustomerEffect {
	if k.top == nil {
		return []CustomerEffect{}
	}
	return k.top
}
