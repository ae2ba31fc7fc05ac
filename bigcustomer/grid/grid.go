package grid

import (
	"fmt"
	"math"
	"sort"
)

// Item is one customer of the pool.
type Item struct {
	ID     string
	Weight float64 // annual kWh; must be >= 0
}

// Stats says how balanced a division is.
type Stats struct {
	MeanWeight    float64   `json:"mean_kwh"`
	MeanCount     float64   `json:"mean_count"`
	MaxWeightDev  float64   `json:"max_kwh_deviation"`   // max |cell kWh - mean| / mean
	MaxCountDev   float64   `json:"max_count_deviation"` // max |cell count - mean| / mean
	CellWeights   []float64 `json:"cell_kwh"`
	CellCounts    []int     `json:"cell_counts"`
	BestCountDev  float64   `json:"best_possible_count_deviation"` // floor from n not divisible by k
	BestWeightDev float64   `json:"best_possible_kwh_deviation"`   // a floor: the heaviest customer plus the lightest others of a balanced count
}

// Division assigns each item (by index into the input) to a cell 0..K-1.
type Division struct {
	K      int
	Assign []int // Assign[i] is the cell of items[i]
}

// ErrInput is returned for a K or items that cannot be divided.
type ErrInput struct{ Field, Message string }

func (e *ErrInput) Error() string { return "grid: " + e.Field + ": " + e.Message }

func checkInput(items []Item, k int) error {
	if k < 1 {
		return &ErrInput{"k", fmt.Sprintf("must be at least 1 (got %d)", k)}
	}
	if k > len(items) {
		return &ErrInput{"k", fmt.Sprintf("is %d but the pool has only %d customers; every cell needs at least one", k, len(items))}
	}
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if it.Weight < 0 || math.IsNaN(it.Weight) || math.IsInf(it.Weight, 0) {
			return &ErrInput{"weight", fmt.Sprintf("customer %s has weight %v; weights must be finite and >= 0", it.ID, it.Weight)}
		}
		if seen[it.ID] {
			return &ErrInput{"id", fmt.Sprintf("customer %s appears twice", it.ID)}
		}
		seen[it.ID] = true
	}
	return nil
}

// Measure computes the balance of d over items.
func Measure(items []Item, d Division) Stats {
	s := Stats{CellWeights: make([]float64, d.K), CellCounts: make([]int, d.K)}
	total := 0.0
	for i, it := range items {
		s.CellWeights[d.Assign[i]] += it.Weight
		s.CellCounts[d.Assign[i]]++
		total += it.Weight
	}
	n := float64(len(items))
	s.MeanWeight, s.MeanCount = total/float64(d.K), n/float64(d.K)
	for j := 0; j < d.K; j++ {
		if s.MeanWeight > 0 {
			s.MaxWeightDev = math.Max(s.MaxWeightDev, math.Abs(s.CellWeights[j]-s.MeanWeight)/s.MeanWeight)
		}
		if s.MeanCount > 0 {
			s.MaxCountDev = math.Max(s.MaxCountDev, math.Abs(float64(s.CellCounts[j])-s.MeanCount)/s.MeanCount)
		}
	}
	if s.MeanCount > 0 && len(items)%d.K != 0 {
		m := s.MeanCount
		s.BestCountDev = round6(math.Max(math.Ceil(m)-m, m-math.Floor(m)) / m)
	}
	// A floor on the weight deviation when counts stay balanced: the cell
	// of the heaviest customer holds at least floor(n/k)-1 others, at best
	// the lightest ones.
	if s.MeanWeight > 0 && len(items) > 0 {
		ws := make([]float64, len(items))
		for i, it := range items {
			ws[i] = it.Weight
		}
		sort.Float64s(ws)
		cell := ws[len(ws)-1]
		for i := 0; i < len(items)/d.K-1 && i < len(ws)-1; i++ {
			cell += ws[i]
		}
		if cell > s.MeanWeight {
			s.BestWeightDev = round6((cell - s.MeanWeight) / s.MeanWeight)
		}
	}
	s.MaxWeightDev, s.MaxCountDev = round6(s.MaxWeightDev), round6(s.MaxCountDev)
	return s
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// RoundRobin is the baseline: item i goes to cell i mod k, in input order.
func RoundRobin(items []Item, k int) (Division, error) {
	if err := checkInput(items, k); err != nil {
		return Division{}, err
	}
	d := Division{K: k, Assign: make([]int, len(items))}
	for i := range items {
		d.Assign[i] = i % k
	}
	return d, nil
}

// Divide splits items into k cells balancing both the weight and the count.
func Divide(items []Item, k int) (Division, error) {
	if err := checkInput(items, k); err != nil {
		return Division{}, err
	}
	n := len(items)
	// Cell capacities: n/k, the first n%k cells one more.
	capOf := func(j int) int {
		c := n / k
		if j < n%k {
			c++
		}
		return c
	}
	order := sortedByWeight(items)
	d := Division{K: k, Assign: make([]int, n)}
	w := make([]float64, k)
	c := make([]int, k)
	// LPT under a cardinality constraint: the heaviest remaining item goes
	// to the lightest cell that still has room.
	for _, i := range order {
		best := -1
		for j := 0; j < k; j++ {
			if c[j] >= capOf(j) {
				continue
			}
			if best < 0 || w[j] < w[best] {
				best = j
			}
		}
		d.Assign[i] = best
		w[best] += items[i].Weight
		c[best]++
	}
	improve(items, &d, nil)
	return d, nil
}

func sortedByWeight(items []Item) []int {
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if items[order[a]].Weight != items[order[b]].Weight {
			return items[order[a]].Weight > items[order[b]].Weight
		}
		return items[order[a]].ID < items[order[b]].ID
	})
	return order
}

// state is a division under local search.
type state struct {
	items  []Item
	d      *Division
	w      []float64
	c      []int
	mw, mc float64
	cells  [][]int // item indexes per cell, sorted by weight ascending
}

func newState(items []Item, d *Division) *state {
	s := &state{items: items, d: d, w: make([]float64, d.K), c: make([]int, d.K), cells: make([][]int, d.K)}
	total := 0.0
	for i, it := range items {
		j := d.Assign[i]
		s.w[j] += it.Weight
		s.c[j]++
		s.cells[j] = append(s.cells[j], i)
		total += it.Weight
	}
	s.mw, s.mc = total/float64(d.K), float64(len(items))/float64(d.K)
	for j := range s.cells {
		s.sortCell(j)
	}
	return s
}

func (s *state) sortCell(j int) {
	cell := s.cells[j]
	sort.Slice(cell, func(a, b int) bool {
		if s.items[cell[a]].Weight != s.items[cell[b]].Weight {
			return s.items[cell[a]].Weight < s.items[cell[b]].Weight
		}
		return s.items[cell[a]].ID < s.items[cell[b]].ID
	})
}

// cellCost is one cell's contribution to the objective: squared relative
// deviations of weight and count.
func (s *state) cellCost(w float64, c int) float64 {
	cost := 0.0
	if s.mw > 0 {
		x := (w - s.mw) / s.mw
		cost += x * x
	}
	if s.mc > 0 {
		y := (float64(c) - s.mc) / s.mc
		cost += y * y
	}
	return cost
}

// maxDev is the objective minimised first: the worst relative deviation of
// weight or count over all cells.
func (s *state) maxDev() float64 {
	m := 0.0
	for j := range s.w {
		if s.mw > 0 {
			m = math.Max(m, math.Abs(s.w[j]-s.mw)/s.mw)
		}
		m = math.Max(m, math.Abs(float64(s.c[j])-s.mc)/s.mc)
	}
	return m
}

func (s *state) remove(j, i int) {
	cell := s.cells[j]
	for x, v := range cell {
		if v == i {
			s.cells[j] = append(cell[:x], cell[x+1:]...)
			break
		}
	}
	s.w[j] -= s.items[i].Weight
	s.c[j]--
}

func (s *state) add(j, i int) {
	s.cells[j] = append(s.cells[j], i)
	s.sortCell(j)
	s.w[j] += s.items[i].Weight
	s.c[j]++
	s.d.Assign[i] = j
}

// bestSwap finds the swap of a in cell p and b in cell q that most lowers
// the pair's cost; gain <= 0 means none helps. For each a, the ideal b has
// weight w_a - (w_p - w_q)/2, found by binary search in q's sorted cell.
func (s *state) bestSwap(p, q int, movable func(int) bool) (a, b int, gain float64) {
	before := s.cellCost(s.w[p], s.c[p]) + s.cellCost(s.w[q], s.c[q])
	half := (s.w[p] - s.w[q]) / 2
	qc := s.cells[q]
	a, b = -1, -1
	for _, ia := range s.cells[p] {
		if movable != nil && !movable(ia) {
			continue
		}
		target := s.items[ia].Weight - half
		x := sort.Search(len(qc), func(k int) bool { return s.items[qc[k]].Weight >= target })
		for _, y := range []int{x - 1, x} {
			if y < 0 || y >= len(qc) {
				continue
			}
			ib := qc[y]
			if movable != nil && !movable(ib) {
				continue
			}
			delta := s.items[ia].Weight - s.items[ib].Weight
			after := s.cellCost(s.w[p]-delta, s.c[p]) + s.cellCost(s.w[q]+delta, s.c[q])
			if g := before - after; g > gain+1e-15 {
				a, b, gain = ia, ib, g
			}
		}
	}
	return a, b, gain
}

// bestMove finds the item of p whose move to q most lowers the pair's cost.
func (s *state) bestMove(p, q int, movable func(int) bool) (a int, gain float64) {
	if s.c[p] <= 1 {
		return -1, 0
	}
	before := s.cellCost(s.w[p], s.c[p]) + s.cellCost(s.w[q], s.c[q])
	a = -1
	for _, ia := range s.cells[p] {
		if movable != nil && !movable(ia) {
			continue
		}
		wt := s.items[ia].Weight
		after := s.cellCost(s.w[p]-wt, s.c[p]-1) + s.cellCost(s.w[q]+wt, s.c[q]+1)
		if g := before - after; g > gain+1e-15 {
			a, gain = ia, g
		}
	}
	return a, gain
}

// improve runs pairwise local search until no step lowers the cost
// (bounded, so it always ends): count-preserving swaps first, then single
// moves that keep every cell's count within floor(n/k)..ceil(n/k), so the
// count balance LPT seeded is never traded away for weight.
func improve(items []Item, d *Division, movable func(int) bool) {
	s := newState(items, d)
	lo := len(items) / d.K
	hi := (len(items) + d.K - 1) / d.K
	for round := 0; round < 500; round++ {
		improved := false
		for p := 0; p < d.K; p++ {
			for q := 0; q < d.K; q++ {
				if p == q {
					continue
				}
				if a, b, g := s.bestSwap(p, q, movable); g > 1e-12 {
					s.remove(p, a)
					s.remove(q, b)
					s.add(q, a)
					s.add(p, b)
					improved = true
				}
			}
		}
		if improved {
			continue
		}
		for p := 0; p < d.K; p++ {
			for q := 0; q < d.K; q++ {
				if p == q || s.c[p]-1 < lo || s.c[q]+1 > hi {
					continue
				}
				if a, g := s.bestMove(p, q, movable); g > 1e-12 {
					s.remove(p, a)
					s.add(q, a)
					improved = true
				}
			}
		}
		if !improved {
			return
		}
	}
}

// Move is one customer changing cell in a re-balance. From is -1 for a
// customer new to the pool.
type Move struct {
	ID   string `json:"customer_id"`
	From int    `json:"from"`
	To   int    `json:"to"`
}

// Rebalance starts from current (cell per item, -1 for an item not yet
// placed) and proposes as few moves as it can so that both deviations are
// within tol (e.g. 0.05), or as close as single moves and swaps get. New
// items are placed first (each counts as a move). It answers the new
// division and the moves, in the order to make them.
func Rebalance(items []Item, k int, current []int, tol float64) (Division, []Move, error) {
	if err := checkInput(items, k); err != nil {
		return Division{}, nil, err
	}
	if len(current) != len(items) {
		return Division{}, nil, &ErrInput{"current", fmt.Sprintf("has %d cells for %d customers", len(current), len(items))}
	}
	d := Division{K: k, Assign: make([]int, len(items))}
	var moves []Move
	var unplaced []int
	for i, j := range current {
		if j < -1 || j >= k {
			return Division{}, nil, &ErrInput{"current", fmt.Sprintf("customer %s is in cell %d; cells are 0..%d", items[i].ID, j, k-1)}
		}
		if j == -1 {
			unplaced = append(unplaced, i)
			d.Assign[i] = 0
			continue
		}
		d.Assign[i] = j
	}
	// Build the state of the placed items only: weights and counts of
	// unplaced ones are added as each is placed.
	placed := make([]bool, len(items))
	for i, j := range current {
		placed[i] = j >= 0
	}
	s := &state{items: items, d: &d, w: make([]float64, k), c: make([]int, k), cells: make([][]int, k)}
	total := 0.0
	for i, it := range items {
		total += it.Weight
		if placed[i] {
			j := d.Assign[i]
			s.w[j] += it.Weight
			s.c[j]++
			s.cells[j] = append(s.cells[j], i)
		}
	}
	s.mw, s.mc = total/float64(k), float64(len(items))/float64(k)
	for j := range s.cells {
		s.sortCell(j)
	}
	// New customers, heaviest first, to the cell that gains the most.
	sort.SliceStable(unplaced, func(a, b int) bool { return items[unplaced[a]].Weight > items[unplaced[b]].Weight })
	for _, i := range unplaced {
		best, bestCost := 0, math.Inf(1)
		for j := 0; j < k; j++ {
			cost := s.cellCost(s.w[j]+items[i].Weight, s.c[j]+1) - s.cellCost(s.w[j], s.c[j])
			if cost < bestCost {
				best, bestCost = j, cost
			}
		}
		s.add(best, i)
		moves = append(moves, Move{ID: items[i].ID, From: -1, To: best})
	}
	// Then the single move or swap that lowers the worst deviation most,
	// until within tolerance. A swap counts as two moves, so it must do
	// better than twice what the best single move does.
	for step := 0; step < 4*len(items) && s.maxDev() > tol; step++ {
		cur := s.maxDev()
		type cand struct {
			a, b, p, q int
			dev        float64
		}
		best := cand{a: -1, dev: cur}
		bestPerMove := 0.0
		for p := 0; p < k; p++ {
			for q := 0; q < k; q++ {
				if p == q {
					continue
				}
				if a, g := s.bestMove(p, q, nil); a >= 0 && g > 0 {
					s.remove(p, a)
					s.add(q, a)
					dev := s.maxDev()
					s.remove(q, a)
					s.add(p, a)
					if per := cur - dev; per > bestPerMove+1e-12 {
						best, bestPerMove = cand{a, -1, p, q, dev}, per
					}
				}
				if a, b, g := s.bestSwap(p, q, nil); a >= 0 && g > 0 {
					s.remove(p, a)
					s.remove(q, b)
					s.add(q, a)
					s.add(p, b)
					dev := s.maxDev()
					s.remove(q, a)
					s.remove(p, b)
					s.add(p, a)
					s.add(q, b)
					if per := (cur - dev) / 2; per > bestPerMove+1e-12 {
						best, bestPerMove = cand{a, b, p, q, dev}, per
					}
				}
			}
		}
		if best.a < 0 {
			break
		}
		s.remove(best.p, best.a)
		s.add(best.q, best.a)
		moves = append(moves, Move{ID: items[best.a].ID, From: best.p, To: best.q})
		if best.b >= 0 {
			s.remove(best.q, best.b)
			s.add(best.p, best.b)
			moves = append(moves, Move{ID: items[best.b].ID, From: best.q, To: best.p})
		}
	}
	return d, compact(moves), nil
}

// compact folds several moves of one customer into one (from its first
// cell to its last) and drops those that end where they began.
func compact(moves []Move) []Move {
	first := map[string]int{}
	var order []string
	last := map[string]int{}
	for _, m := range moves {
		if _, ok := first[m.ID]; !ok {
			first[m.ID] = m.From
			order = append(order, m.ID)
		}
		last[m.ID] = m.To
	}
	out := []Move{}
	for _, id := range order {
		if first[id] != last[id] {
			out = append(out, Move{ID: id, From: first[id], To: last[id]})
		}
	}
	return out
}
