package crm

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// The card-based market lists at scale. The share of the top customers
// needs every customer of a scope in order of its year's kWh; the
// customers whose price rose most need each customer's two windows. Both
// read the cards through the per-owner memo of card.go (an owner region
// whose cards changed is brought up to date from the cards changed), and
// keep what they derive so that a read after a change redoes only what
// the change touched: the ranking of a scope is patched with the entries
// of the owners whose card version moved (their old and new lists
// compared), not sorted again; the effect lists are kept per owner
// (api/market.go), so an owner's change recomputes that owner's only.

// Ranking is the customers of a scope in order of their kWh over a window,
// biggest first then by id (kWh below 0 or not a number counted as 0, as
// analytics/market.TopShares counts them). Shared: read it, never change
// it.
type Ranking struct {
	// Key changes whenever the ranking may have: the scope, the window,
	// the customers counted and every owner region's card version.
	Key    string
	ids    []string
	kwh    []float64
	own    []int32 // index in owners
	owners []rankOwner
}

type rankOwner struct {
	owner, version string
	list           []CardCustomer // the owner's cards for the window, id order
}

// Len answers the customers ranked.
func (k *Ranking) Len() int { return len(k.ids) }

// At answers the i-th customer's id and kWh (biggest first).
func (k *Ranking) At(i int) (string, float64) { return k.ids[i], k.kwh[i] }

// Customer answers the i-th customer as its card has it, with its kWh and
// amount over the window.
func (k *Ranking) Customer(i int) AnnualKWh {
	list := k.owners[k.own[i]].list
	j := sort.Search(len(list), func(j int) bool { return list[j].ID >= k.ids[i] })
	if j == len(list) || list[j].ID != k.ids[i] {
		return AnnualKWh{ID: k.ids[i], KWh: k.kwh[i]}
	}
	c := &list[j]
	return AnnualKWh{ID: c.ID, Name: c.Name, Region: c.Region, Category: c.Category,
		KWh: c.Figures.AnnualKWh, Billed: c.Figures.AnnualBilled, Months: c.Figures.Months}
}

// rankKWh is a card's kWh as the ranking counts it.
func rankKWh(c *CardCustomer) float64 {
	if v := c.Figures.AnnualKWh; v > 0 {
		return v
	}
	return 0
}

// before reports whether (ka, ia) ranks before (kb, ib).
func rankBefore(ka float64, ia string, kb float64, ib string) bool {
	if ka != kb {
		return ka > kb
	}
	return ia < ib
}

// rankMemo keeps the last rankings read, by scope and window.
var rankMemo = struct {
	sync.Mutex
	m     map[string]*Ranking
	order []string // least recently stored first
}{m: map[string]*Ranking{}}

const maxRankings = 8

// rankingsMade counts the rankings CustomersRanked built or patched (not
// those it answered as kept): RankingsMade.
var rankingsMade atomic.Uint64

// RankingsMade answers how many rankings CustomersRanked has built or
// patched in this process (tests: a warmed ranking is not built again).
func RankingsMade() uint64 { return rankingsMade.Load() }

// CustomersRanked answers the customers of region (subtree: and below) in
// order of their kWh over the 12 months before day's month (Window), from
// their cards; ok is false when the cards do not cover the scope's
// customers. A ranking read before is answered as it is when no card of
// the scope changed, and patched with the changed owners' entries when
// some did (a full sort when more than a quarter changed).
func CustomersRanked(r Reader, region string, subtree bool, day Date) (*Ranking, bool, error) {
	from, to := Window(day)
	owners, customers, err := CardOwners(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	scope := fmt.Sprintf("%s|%t|%s|%s", region, subtree, from, to)
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d", scope, customers)
	for _, o := range owners {
		b.WriteString("|" + o.Owner + "=" + o.Version)
	}
	key := b.String()
	rankMemo.Lock()
	prev := rankMemo.m[scope]
	rankMemo.Unlock()
	if prev != nil && prev.Key == key {
		return prev, true, nil
	}
	next := make([]rankOwner, len(owners))
	n := 0
	for i, o := range owners {
		list, err := OwnerCards(r, o.Owner, o.Version, from, to)
		if err != nil {
			return nil, false, err
		}
		next[i] = rankOwner{o.Owner, o.Version, list}
		n += len(list)
	}
	if int64(n) != customers {
		return nil, false, nil
	}
	var rk *Ranking
	if prev != nil {
		rk = patchRanking(prev, next, n)
	}
	if rk == nil {
		rk = buildRanking(next, n)
	}
	rk.Key = key
	rankingsMade.Add(1)
	rankMemo.Lock()
	if _, ok := rankMemo.m[scope]; !ok {
		rankMemo.order = append(rankMemo.order, scope)
		if len(rankMemo.order) > maxRankings {
			delete(rankMemo.m, rankMemo.order[0])
			rankMemo.order = rankMemo.order[1:]
		}
	}
	rankMemo.m[scope] = rk
	rankMemo.Unlock()
	return rk, true, nil
}

// buildRanking sorts every customer of owners.
func buildRanking(owners []rankOwner, n int) *Ranking {
	type e struct {
		id  string
		kwh float64
		own int32
	}
	all := make([]e, 0, n)
	for i, o := range owners {
		for j := range o.list {
			all = append(all, e{o.list[j].ID, rankKWh(&o.list[j]), int32(i)})
		}
	}
	slices.SortFunc(all, func(x, y e) int {
		if rankBefore(x.kwh, x.id, y.kwh, y.id) {
			return -1
		}
		if rankBefore(y.kwh, y.id, x.kwh, x.id) {
			return 1
		}
		return 0
	})
	rk := &Ranking{ids: make([]string, n), kwh: make([]float64, n), own: make([]int32, n), owners: owners}
	for i, x := range all {
		rk.ids[i], rk.kwh[i], rk.own[i] = x.id, x.kwh, x.own
	}
	return rk
}

// patchRanking answers prev brought to owners (n customers): the entries
// of the owners whose version moved are compared, old list against new,
// and those that changed taken out and put in again in one pass. nil when
// too many changed to be worth it.
func patchRanking(prev *Ranking, owners []rankOwner, n int) *Ranking {
	type e struct {
		id  string
		kwh float64
		own int32
	}
	was := make(map[string]int, len(prev.owners))
	for i, o := range prev.owners {
		was[o.owner] = i
	}
	remap := make([]int32, len(prev.owners)) // prev owner → new, -1 gone
	for i := range remap {
		remap[i] = -1
	}
	var out, in []e // entries taken out (as prev has them) and put in
	limit := len(prev.ids)/4 + 1024
	for i, o := range owners {
		pi, ok := was[o.owner]
		if !ok {
			for j := range o.list {
				in = append(in, e{o.list[j].ID, rankKWh(&o.list[j]), int32(i)})
			}
			continue
		}
		remap[pi] = int32(i)
		po := prev.owners[pi]
		delete(was, o.owner)
		if po.version == o.version {
			continue
		}
		a, b := po.list, o.list
		for len(a) > 0 || len(b) > 0 {
			switch {
			case len(b) == 0 || len(a) > 0 && a[0].ID < b[0].ID:
				out = append(out, e{a[0].ID, rankKWh(&a[0]), int32(pi)})
				a = a[1:]
			case len(a) == 0 || b[0].ID < a[0].ID:
				in = append(in, e{b[0].ID, rankKWh(&b[0]), int32(i)})
				b = b[1:]
			default:
				if ka, kb := rankKWh(&a[0]), rankKWh(&b[0]); ka != kb {
					out = append(out, e{a[0].ID, ka, int32(pi)})
					in = append(in, e{b[0].ID, kb, int32(i)})
				}
				a, b = a[1:], b[1:]
			}
		}
		if len(out)+len(in) > limit {
			return nil
		}
	}
	for _, pi := range was { // owners no longer in scope
		for j := range prev.owners[pi].list {
			c := &prev.owners[pi].list[j]
			out = append(out, e{c.ID, rankKWh(c), int32(pi)})
		}
	}
	if len(out)+len(in) > limit {
		return nil
	}
	gone := make([]bool, len(prev.ids))
	for _, x := range out {
		j := sort.Search(len(prev.ids), func(j int) bool { return !rankBefore(prev.kwh[j], prev.ids[j], x.kwh, x.id) })
		if j == len(prev.ids) || prev.ids[j] != x.id || gone[j] {
			return nil // not where it should be: sort again
		}
		gone[j] = true
	}
	slices.SortFunc(in, func(x, y e) int {
		if rankBefore(x.kwh, x.id, y.kwh, y.id) {
			return -1
		}
		return 1
	})
	rk := &Ranking{ids: make([]string, 0, n), kwh: make([]float64, 0, n), own: make([]int32, 0, n), owners: owners}
	put := func(id string, kwh float64, own int32) {
		rk.ids, rk.kwh, rk.own = append(rk.ids, id), append(rk.kwh, kwh), append(rk.own, own)
	}
	for j := range prev.ids {
		if gone[j] {
			continue
		}
		for len(in) > 0 && rankBefore(in[0].kwh, in[0].id, prev.kwh[j], prev.ids[j]) {
			put(in[0].id, in[0].kwh, in[0].own)
			in = in[1:]
		}
		if remap[prev.own[j]] < 0 {
			return nil
		}
		put(prev.ids[j], prev.kwh[j], remap[prev.own[j]])
	}
	for _, x := range in {
		put(x.id, x.kwh, x.own)
	}
	if len(rk.ids) != n {
		return nil
	}
	return rk
}

// OwnerWindows is one owner region's customers as its cards have them over
// some windows, for reads that keep what they derive per owner (Version
// changes whenever a card of the owner does).
type OwnerWindows struct {
	Owner, Version string
	lists          [][]CardCustomer
}

// Customers answers the owner's customers with their kWh and amount over
// window w (in the order CustomerWindowsByOwner was given them), by id.
// It allocates the list: call it when what was derived from it is not
// kept.
func (o OwnerWindows) Customers(w int) []AnnualKWh {
	out := make([]AnnualKWh, len(o.lists[w]))
	for i := range o.lists[w] {
		c := &o.lists[w][i]
		out[i] = AnnualKWh{ID: c.ID, Name: c.Name, Region: c.Region, Category: c.Category,
			KWh: c.Figures.AnnualKWh, Billed: c.Figures.AnnualBilled, Months: c.Figures.Months}
	}
	return out
}

// CustomerWindowsByOwner answers, per owner region of region's scope
// (subtree: and below), its customers over each window from their cards
// (the memo of card.go: cheap when the owner's cards did not change); ok
// is false when the cards do not cover the scope's customers.
func CustomerWindowsByOwner(r Reader, region string, subtree bool, windows ...[2]string) ([]OwnerWindows, bool, error) {
	owners, customers, err := CardOwners(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	out := make([]OwnerWindows, len(owners))
	for i, o := range owners {
		out[i] = OwnerWindows{Owner: o.Owner, Version: o.Version, lists: make([][]CardCustomer, len(windows))}
	}
	for wi, w := range windows {
		n := 0
		for i, o := range owners {
			list, err := OwnerCards(r, o.Owner, o.Version, w[0], w[1])
			if err != nil {
				return nil, false, err
			}
			out[i].lists[wi] = list
			n += len(list)
		}
		if int64(n) != customers {
			return nil, false, nil
		}
	}
	return out, true, nil
}
