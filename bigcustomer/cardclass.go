package bigcustomer

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gridcrm/crm"
)

// ownerClasses is one owner region's customers, from its cards, with their
// figures for a window, classified under the rules in force for them: per
// class and grade the customers biggest annual kWh first, and the counts.
// It is kept in memory (classMemo) for the region's card version and the
// rules, so a classification list, a customer's comparison with its class
// or a Pareto report at an upper tier reads a few entries per region
// instead of classifying every customer again. When the region's cards
// change, the memo of the version before is brought up to date from the
// cards changed since (cardJournal, apply): the cost grows with the cards
// changed, a copy of the memo's slices aside, not with the cards read.
// A memo is never changed once stored: an update makes a new one sharing
// the items and the cells that did not change.
type ownerClasses struct {
	version, from, to string
	rulesKey          string                  // the rules of regions, as JSON
	rules             map[string]ClassRuleSet // per customer region
	regions           map[string]int          // customers per customer region
	byID              cellList                // by id (byID)
	cells             [6]cellList             // per classCell
	all               [2]cellList             // every customer: by kWh (byItem), by billed amount (byBilled)
	used              atomic.Int64            // when it was last stored or answered, Unix ns (crm.MemoIdle)
}

// classItem is one customer of a memo and its class and grade
// (classCell); never changed once stored.
type classItem struct {
	crm.CardCustomer
	cell uint8
}

// cellList holds customers in an order (the customers of one class and
// grade biggest annual kWh first, then by id: byItem), in runs of at most
// 2×runMax: an update copies the runs it changes and the list of runs, not
// every customer.
type cellList struct {
	runs []*run // never empty
	n    int
}

// run is a piece of a cellList, with the customers' annual kWh and billed
// amounts side by side (the comparison with a class sums them) and their
// sums (sums[0] of kwh, sums[1] of billed, added in order: the Pareto
// report's totals, cardpareto.go). A run is never changed once made
// (sealed sets the sums).
type run struct {
	items       []*classItem
	kwh, billed []float64
	sums        [2]float64
}

// vals answers the run's kWh (o 0) or billed amounts (o 1).
func (r *run) vals(o int) []float64 {
	if o == 0 {
		return r.kwh
	}
	return r.billed
}

// sealed answers r with its sums set.
func (r run) sealed() run {
	r.sums = [2]float64{}
	for i := range r.kwh {
		r.sums[0] += r.kwh[i]
		r.sums[1] += r.billed[i]
	}
	return r
}

// runMax: a variable for the tests, which cut lists into runs of a few.
var runMax = 2048

// byID orders customers by id.
func byID(a, b *classItem) bool { return a.ID < b.ID }

var classNames, gradeNames = [2]string{"big", "ordinary"}, [3]string{"core", "key", "general"}

func classCell(class, grade string) uint8 {
	c, g := slices.Index(classNames[:], class), slices.Index(gradeNames[:], grade)
	return uint8(c*3 + g)
}

// matches reports whether a cell passes the class and grade filters ("" passes all).
func cellMatches(cell uint8, class, grade string) bool {
	return (class == "" || classNames[cell/3] == class) && (grade == "" || gradeNames[cell%3] == grade)
}

// byItem orders customers biggest annual kWh first, then by id (byKWh).
func byItem(a, b *classItem) bool {
	if a.Figures.AnnualKWh != b.Figures.AnnualKWh {
		return a.Figures.AnnualKWh > b.Figures.AnnualKWh
	}
	return a.ID < b.ID
}

// byBilled orders customers biggest billed amount first, then by id (the
// Pareto report's revenue).
func byBilled(a, b *classItem) bool {
	if a.Figures.AnnualBilled != b.Figures.AnnualBilled {
		return a.Figures.AnnualBilled > b.Figures.AnnualBilled
	}
	return a.ID < b.ID
}

// orders are the orders of the memo's lists: byItem for the cells and
// all[0], byBilled for all[1].
var orders = [2]func(a, b *classItem) bool{byItem, byBilled}

// classMemo keeps per owner region and window the last ownerClasses
// computed, up to memoLineages of them, the newest first.
var classMemo = struct {
	sync.Mutex
	m map[memoKey][]*ownerClasses
}{m: map[memoKey][]*ownerClasses{}}

type memoKey struct{ owner, from, to string }

// maxMemo bounds the memo's entries (regions × windows asked about).
const maxMemo = 1024

// classesOf answers owner's customers classified for the window from..to
// under book's rules: a memo of owner's card version and of the rules in
// force for its customers; else a memo of an earlier version brought up to
// date from the cards changed since, when the journal knows them and the
// rules stayed; else read from every card of owner.
func classesOf(r crm.Reader, owner, version, from, to string, book *RuleBook) (*ownerClasses, error) {
	k := memoKey{owner, from, to}
	if oc, _ := memoOf(k, version, book); oc != nil {
		return oc, nil
	}
	// One build at a time per owner and window: a reader that comes while
	// another (or the node's warm-up, WarmClassMemos) builds waits for it
	// and takes its memo, instead of reading every card a second time.
	mu := buildLock(k)
	mu.Lock()
	defer mu.Unlock()
	oc, olds := memoOf(k, version, book)
	if oc != nil {
		return oc, nil
	}
	var base *ownerClasses
	keep := true
	for _, old := range olds {
		if old.version == version || memoNoPatch.Load() {
			continue
		}
		max := old.byID.n/8 + 256 // past that, reading every card costs about as much
		ids, ok := crm.CardChanges(owner, old.version, version, max)
		keep = ok
		if !ok { // a reader of an older snapshot: the same cards, walked the other way (a few)
			ids, ok = crm.CardChanges(owner, version, old.version, min(max, 1024))
		}
		if !ok {
			continue
		}
		var err error
		if oc, err = old.apply(r, owner, version, ids, book); err != nil {
			return nil, err
		}
		base = old
		break
	}
	if oc != nil {
		memoStats.patched.Add(1)
	} else {
		memoStats.full.Add(1)
		keep = true
		var err error
		if oc, err = readClasses(r, owner, version, from, to, book); err != nil {
			return nil, err
		}
	}
	if keep {
		now := time.Now().UnixNano()
		oc.used.Store(now)
		classMemo.Lock()
		crm.SweepIdle(classMemo.m, func(e *ownerClasses) int64 { return e.used.Load() }, now,
			crm.MemoPinned(classMemo.m, func(k memoKey) (string, string, string) { return k.owner, k.from, k.to }))
		if len(classMemo.m) >= maxMemo {
			clear(classMemo.m)
		}
		list := []*ownerClasses{oc}
		for _, e := range classMemo.m[k] {
			if e != base && e.version != version && len(list) < memoLineages {
				list = append(list, e)
			}
		}
		classMemo.m[k] = list
		classMemo.Unlock()
	}
	return oc, nil
}

// memoOf answers the memo of owner's cards at version for the window of k
// under book's rules, when one is kept, else nil and the memos kept.
func memoOf(k memoKey, version string, book *RuleBook) (*ownerClasses, []*ownerClasses) {
	classMemo.Lock()
	olds := slices.Clone(classMemo.m[k])
	classMemo.Unlock()
	for _, old := range olds {
		if old.version == version {
			if _, key := rulesOf(old.regions, book); key == old.rulesKey {
				old.used.Store(time.Now().UnixNano())
				return old, nil
			}
		}
	}
	return nil, olds
}

// classBuilds holds a lock per owner region and window, taken while a memo
// of it is built (classesOf).
var classBuilds = struct {
	sync.Mutex
	m map[memoKey]*sync.Mutex
}{m: map[memoKey]*sync.Mutex{}}

func buildLock(k memoKey) *sync.Mutex {
	classBuilds.Lock()
	defer classBuilds.Unlock()
	mu := classBuilds.m[k]
	if mu == nil {
		if len(classBuilds.m) >= maxMemo { // a lock let go of while held only lets a second build run beside it
			clear(classBuilds.m)
		}
		mu = new(sync.Mutex)
		classBuilds.m[k] = mu
	}
	return mu
}

// memoLineages bounds the memos kept per owner region and window. Stores
// of the same cards may reach them by different histories of writes (a
// county writes a batch's cards in one order, its city and province copies
// in another), so their versions differ: one process holding several
// tiers (tests, benchmarks) keeps a memo per history.
const memoLineages = 4

// memoStats counts the memos read from every card and those brought up to
// date from the cards changed (tests, benchmarks).
var memoStats struct{ full, patched atomic.Int64 }

// memoNoPatch set reads every card again after a change (benchmarks: the
// cost before the journal).
var memoNoPatch atomic.Bool

// rulesOf answers the rules in force for each of regions, and them as JSON
// (map keys sorted: the same rules give the same bytes).
func rulesOf(regions map[string]int, book *RuleBook) (map[string]ClassRuleSet, string) {
	rules := make(map[string]ClassRuleSet, len(regions))
	for region := range regions {
		rules[region] = book.For(region)
	}
	fp, _ := json.Marshal(rules)
	return rules, string(fp)
}

// classify sets it's cell under rules.
func (it *classItem) classify(rules map[string]ClassRuleSet) {
	c := it.Customer()
	cl := Classify(&c, it.Figures, rules[c.Region])
	it.cell = classCell(cl.Class, cl.Grade)
}

// readClasses builds owner's memo from every card of owner.
func readClasses(r crm.Reader, owner, version, from, to string, book *RuleBook) (*ownerClasses, error) {
	items := make([]classItem, 0, crm.CardsIn(version))
	if err := crm.ScanCards(r, owner, from, to, func(c *crm.CardCustomer) {
		items = append(items, classItem{CardCustomer: *c})
	}); err != nil {
		return nil, err
	}
	oc := &ownerClasses{version: version, from: from, to: to, regions: map[string]int{}}
	ids := make([]*classItem, len(items))
	for i := range items {
		oc.regions[items[i].Region]++
		ids[i] = &items[i]
	}
	oc.byID = newCellList(ids)
	oc.rules, oc.rulesKey = rulesOf(oc.regions, book)
	var cells [6][]*classItem
	for _, it := range ids {
		it.classify(oc.rules)
		cells[it.cell] = append(cells[it.cell], it)
	}
	for c := range cells {
		sort.Slice(cells[c], func(a, b int) bool { return byItem(cells[c][a], cells[c][b]) })
		oc.cells[c] = newCellList(cells[c])
	}
	for o, less := range orders {
		all := slices.Clone(ids)
		sort.Slice(all, func(a, b int) bool { return less(all[a], all[b]) })
		oc.all[o] = newCellList(all)
	}
	return oc, nil
}

// newCellList cuts items (in order) into runs.
func newCellList(items []*classItem) cellList {
	l := cellList{n: len(items)}
	for len(items) > 0 {
		k := min(runMax, len(items))
		r := newRun(items[:k:k])
		l.runs = append(l.runs, &r)
		items = items[k:]
	}
	return l
}

func newRun(items []*classItem) run {
	r := run{items: items, kwh: make([]float64, len(items)), billed: make([]float64, len(items))}
	for i, it := range items {
		r.kwh[i], r.billed[i] = it.Figures.AnnualKWh, it.Figures.AnnualBilled
	}
	return r.sealed()
}

// runOf answers the index of the run where it is or would go in l (ordered
// by less): the first whose last item is not ordered before it, or the last.
func (l *cellList) runOf(it *classItem, less func(a, b *classItem) bool) int {
	i := sort.Search(len(l.runs), func(i int) bool { r := l.runs[i]; return !less(r.items[len(r.items)-1], it) })
	return min(i, len(l.runs)-1)
}

// each calls fn with the items of l in order, and their kWh and billed
// amounts, until it answers false.
func (l *cellList) each(fn func(it *classItem, kwh, billed float64) bool) {
	for _, r := range l.runs {
		for i, it := range r.items {
			if !fn(it, r.kwh[i], r.billed[i]) {
				return
			}
		}
	}
}

// cursor walks a cellList in order.
type cursor struct {
	runs []*run // the runs left, the first at i
	i    int
}

func (l *cellList) cursor() cursor { return cursor{runs: l.runs} }

// item answers the item at the cursor, nil past the end.
func (c *cursor) item() *classItem {
	if len(c.runs) == 0 {
		return nil
	}
	return c.runs[0].items[c.i]
}

// value answers the kWh (o 0) or billed amount (o 1) at the cursor.
func (c *cursor) value(o int) float64 {
	if o == 0 {
		return c.runs[0].kwh[c.i]
	}
	return c.runs[0].billed[c.i]
}

func (c *cursor) next() {
	if c.i++; c.i == len(c.runs[0].items) {
		c.runs, c.i = c.runs[1:], 0
	}
}

// flat answers l's items in order (tests).
func (l *cellList) flat() run {
	var out run
	for _, r := range l.runs {
		out.items = append(out.items, r.items...)
		out.kwh = append(out.kwh, r.kwh...)
		out.billed = append(out.billed, r.billed...)
	}
	return out
}

// kwhAt answers the kWh of the i-th item.
func (l *cellList) kwhAt(i int) float64 {
	for _, r := range l.runs {
		if i < len(r.items) {
			return r.kwh[i]
		}
		i -= len(r.items)
	}
	panic("crm: class memo: index out of range")
}

// below answers how many items of l, ordered by kWh descending, have
// less than kwh.
func (l *cellList) below(kwh float64) int {
	n := l.n
	for _, r := range l.runs {
		if r.kwh[len(r.kwh)-1] < kwh { // the first run holding one below
			return n - sort.Search(len(r.kwh), func(i int) bool { return r.kwh[i] < kwh })
		}
		n -= len(r.items)
	}
	return 0
}

// find answers the customer of id in byID, or nil.
func (oc *ownerClasses) find(id string) *classItem {
	if oc.byID.n == 0 {
		return nil
	}
	r := oc.byID.runs[oc.byID.runOf(&classItem{CardCustomer: crm.CardCustomer{ID: id}}, byID)]
	i := sort.Search(len(r.items), func(i int) bool { return r.items[i].ID >= id })
	if i < len(r.items) && r.items[i].ID == id {
		return r.items[i]
	}
	return nil
}

// apply answers a new memo of version: oc with the cards of ids (sorted,
// each once) read again from r. It answers nil when the rules in force for
// the customers' regions are no longer those oc was classified under (a
// directive, a new region): the caller reads every card.
func (oc *ownerClasses) apply(r crm.Reader, owner, version string, ids []string, book *RuleBook) (*ownerClasses, error) {
	olds := make([]*classItem, len(ids)) // nil: no customer before
	news := make([]*classItem, len(ids)) // nil: none now
	regions := maps.Clone(oc.regions)
	for i, id := range ids {
		if olds[i] = oc.find(id); olds[i] != nil {
			if regions[olds[i].Region]--; regions[olds[i].Region] == 0 {
				delete(regions, olds[i].Region)
			}
		}
		c, ok, err := crm.CardOf(r, owner, id, oc.from, oc.to)
		if err != nil {
			return nil, err
		}
		if ok {
			news[i] = &classItem{CardCustomer: c}
			regions[c.Region]++
		}
	}
	rules, key := rulesOf(regions, book)
	if key != oc.rulesKey {
		return nil, nil
	}
	for _, it := range news {
		if it != nil {
			it.classify(rules)
		}
	}
	out := &ownerClasses{version: version, from: oc.from, to: oc.to, rulesKey: key, rules: rules, regions: regions, byID: oc.byID, cells: oc.cells, all: oc.all}
	// cells: those holding a customer taken out or added are made again.
	var rem, add [6][]*classItem
	for i := range ids {
		if olds[i] != nil {
			rem[olds[i].cell] = append(rem[olds[i].cell], olds[i])
		}
		if news[i] != nil {
			add[news[i].cell] = append(add[news[i].cell], news[i])
		}
	}
	var remAll, addAll []*classItem
	for c := range out.cells {
		if len(rem[c]) > 0 || len(add[c]) > 0 {
			out.cells[c] = oc.cells[c].edit(rem[c], add[c], byItem)
		}
		remAll, addAll = append(remAll, rem[c]...), append(addAll, add[c]...)
	}
	if len(remAll) > 0 || len(addAll) > 0 {
		out.byID = oc.byID.edit(remAll, addAll, byID)
		for o, less := range orders {
			out.all[o] = oc.all[o].edit(remAll, addAll, less)
		}
	}
	return out, nil
}

// edit answers l (ordered by less) without the items of rem (which it
// holds) and with those of add, sharing the runs that do not change.
func (l *cellList) edit(rem, add []*classItem, less func(a, b *classItem) bool) cellList {
	if len(l.runs) == 0 {
		add = slices.Clone(add)
		sort.Slice(add, func(a, b int) bool { return less(add[a], add[b]) })
		return newCellList(add)
	}
	type change struct{ rem, add []*classItem }
	changes := map[int]*change{}
	at := func(it *classItem) *change {
		i := l.runOf(it, less)
		if changes[i] == nil {
			changes[i] = &change{}
		}
		return changes[i]
	}
	for _, it := range rem {
		c := at(it)
		c.rem = append(c.rem, it)
	}
	for _, it := range add {
		c := at(it)
		c.add = append(c.add, it)
	}
	out := cellList{runs: make([]*run, 0, len(l.runs)+1), n: l.n - len(rem) + len(add)}
	for i, r := range l.runs {
		c := changes[i]
		if c == nil {
			out.runs = append(out.runs, r)
			continue
		}
		nr := r.edit(c.rem, c.add, less)
		for len(nr.items) > 2*runMax { // cut in two
			h := len(nr.items) / 2
			first := run{items: nr.items[:h:h], kwh: nr.kwh[:h:h], billed: nr.billed[:h:h]}.sealed()
			out.runs = append(out.runs, &first)
			nr = run{items: nr.items[h:], kwh: nr.kwh[h:], billed: nr.billed[h:]}.sealed()
		}
		if len(nr.items) > 0 {
			out.runs = append(out.runs, &nr)
		}
	}
	return out
}

// edit answers r (ordered by less) without the items of rem (which it
// holds) and with those of add, in order, copying the items between them.
func (l *run) edit(rem, add []*classItem, less func(a, b *classItem) bool) run {
	pos := func(it *classItem) int { // the first index not ordered before it
		return sort.Search(len(l.items), func(i int) bool { return !less(l.items[i], it) })
	}
	type op struct {
		at  int        // index in l
		add *classItem // nil: take out l.items[at]
	}
	ops := make([]op, 0, len(rem)+len(add))
	for _, it := range rem {
		i := pos(it)
		for i < len(l.items) && l.items[i] != it {
			i++
		}
		if i == len(l.items) {
			panic("crm: class memo: an item not in its cell")
		}
		ops = append(ops, op{at: i})
	}
	for _, it := range add {
		ops = append(ops, op{at: pos(it), add: it})
	}
	sort.Slice(ops, func(a, b int) bool {
		x, y := ops[a], ops[b]
		if x.at != y.at {
			return x.at < y.at
		}
		if (x.add == nil) != (y.add == nil) {
			return x.add != nil // insert before the item at the same index is taken out
		}
		return x.add != nil && less(x.add, y.add)
	})
	n := len(l.items) - len(rem) + len(add)
	out := run{items: make([]*classItem, 0, n), kwh: make([]float64, 0, n), billed: make([]float64, 0, n)}
	at := 0
	for _, o := range ops {
		out.items = append(out.items, l.items[at:o.at]...)
		out.kwh = append(out.kwh, l.kwh[at:o.at]...)
		out.billed = append(out.billed, l.billed[at:o.at]...)
		at = o.at
		if o.add != nil {
			out.items = append(out.items, o.add)
			out.kwh = append(out.kwh, o.add.Figures.AnnualKWh)
			out.billed = append(out.billed, o.add.Figures.AnnualBilled)
		} else {
			at++
		}
	}
	out.items = append(out.items, l.items[at:]...)
	out.kwh = append(out.kwh, l.kwh[at:]...)
	out.billed = append(out.billed, l.billed[at:]...)
	return out.sealed()
}

// cardClasses answers the classified customers of region (or its subtree),
// one ownerClasses per owner region in owner order; ok is false when the
// cards do not cover the customers the aggregates count (a store written
// before cards were kept): the caller then reads the records.
func cardClasses(r crm.Reader, region string, subtree bool, day crm.Date, book *RuleBook) ([]*ownerClasses, bool, error) {
	owners, customers, err := crm.CardOwners(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	from, to := crm.Window(day)
	var out []*ownerClasses
	n := int64(0)
	for _, o := range owners {
		oc, err := classesOf(r, o.Owner, o.Version, from, to, book)
		if err != nil {
			return nil, false, err
		}
		out = append(out, oc)
		n += int64(oc.byID.n)
	}
	return out, n == customers, nil
}

// cardCustomers answers the customers the cards of region (or its
// subtree) hold with their figures for the window of day: one list per
// owner region, in (owner, id) order, as regionCustomers reads them from
// the records. ok is false when the cards do not cover every customer the
// aggregates count (a store written before cards were kept): the caller
// then reads the records. The lists are copies of the class memo's.
func cardCustomers(r crm.Reader, region string, subtree bool, day crm.Date) (out [][]crm.CardCustomer, ok bool, err error) {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return nil, false, e
	}
	ocs, ok, err := cardClasses(r, region, subtree, day, book)
	if err != nil || !ok {
		return nil, ok, err
	}
	for _, oc := range ocs {
		if oc.byID.n == 0 {
			continue
		}
		list := make([]crm.CardCustomer, 0, oc.byID.n)
		oc.byID.each(func(it *classItem, _, _ float64) bool {
			list = append(list, it.CardCustomer)
			return true
		})
		out = append(out, list)
	}
	return out, true, nil
}

// classifyFromCards is classifyRegion from the memo of classified cards:
// the counts add up, and only the items answered are classified again
// (for their reasons), taken from the matching cells biggest first. ok is
// false when the cards do not cover the region.
func classifyFromCards(r crm.Reader, q ClassQuery, book *RuleBook, rep *ClassReport) (bool, *crm.Error) {
	ocs, ok, err := cardClasses(r, q.Region, q.Subtree, q.Day, book)
	if err != nil {
		return false, crm.AsError(err)
	}
	if !ok {
		return false, nil
	}
	for _, oc := range ocs {
		var heads [6]cursor
		for c := range 2 {
			for g := range 3 {
				cell := c*3 + g
				n := oc.cells[cell].n
				rep.Counts[classNames[c]][gradeNames[g]] += n
				if cellMatches(uint8(cell), q.Class, q.Grade) {
					rep.Matched += n
					heads[cell] = oc.cells[cell].cursor()
				}
			}
		}
		for region, rs := range oc.rules {
			rep.Rules[region] = rs
		}
		for taken := 0; q.Limit == 0 || taken < q.Limit; taken++ {
			best := -1
			for c := range heads {
				if it := heads[c].item(); it != nil && (best < 0 || byItem(it, heads[best].item())) {
					best = c
				}
			}
			if best < 0 {
				break
			}
			it := heads[best].item()
			heads[best].next()
			c := it.Customer()
			rep.Items = append(rep.Items, Classify(&c, it.Figures, oc.rules[c.Region]))
		}
	}
	sort.SliceStable(rep.Items, func(i, j int) bool { return byKWh(&rep.Items[i], &rep.Items[j]) })
	if q.Limit > 0 && len(rep.Items) > q.Limit {
		rep.Items = rep.Items[:q.Limit]
	}
	return true, nil
}

// peersFromCards fills the comparison of a customer with the customers of
// its class and grade in region (its owner), as Consumption computes it
// from a classification list: the peers biggest first, the peak share from
// the biggest 200. It reads the memo's cell: its kWh and billed amounts
// side by side, the peak figures of its first 200. ok is false when the
// cards do not cover the region.
func peersFromCards(r crm.Reader, region string, day crm.Date, cl *Classification, annualKWh float64, cmp *ClassComparison) (bool, error) {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return false, e
	}
	ocs, ok, err := cardClasses(r, region, false, day, book)
	if err != nil || !ok {
		return false, err
	}
	if len(ocs) != 1 { // one owner: region itself
		return false, nil
	}
	l := &ocs[0].cells[classCell(cl.Class, cl.Grade)]
	var total, billed, peakSum, touSum float64
	l.each(func(it *classItem, kwh, b float64) bool { // biggest first, as the records' list
		total += kwh
		billed += b
		if cmp.PeerPeakSampled < 200 {
			peakSum += it.TOUPeak
			touSum += it.TOUKWh
			cmp.PeerPeakSampled++
		}
		return true
	})
	cmp.Peers = l.n
	median := 0.0
	if n := l.n; n%2 == 1 {
		median = l.kwhAt(n / 2)
	} else if n > 0 {
		median = (l.kwhAt(n/2) + l.kwhAt(n/2-1)) / 2 // ascending n/2-1 and n/2
	}
	finishSortedComparison(cmp, l.n, total, median, billed, l.below(annualKWh), annualKWh, peakSum, touSum)
	return true, nil
}

// paretoMemo keeps Pareto reports computed from cards, keyed by the query
// and the card versions of every region it covered: a report is computed
// again only when a customer or a bill in its scope changed.
var paretoMemo = struct {
	sync.Mutex
	m map[string]*ParetoReport
}{m: map[string]*ParetoReport{}}

// paretoKey answers the memo key of a Pareto query over the cards, or ""
// when no region of the scope holds cards.
func paretoKey(r crm.Reader, region string, subtree bool, day crm.Date, topN int) (string, error) {
	v, err := crm.CardsVersion(r, region, subtree)
	if err != nil || v == "" {
		return "", err
	}
	return fmt.Sprintf("%s|%t|%s|%d|", region, subtree, day, topN) + v, nil
}

func paretoMemoGet(key string) *ParetoReport {
	paretoMemo.Lock()
	defer paretoMemo.Unlock()
	return paretoMemo.m[key]
}

func paretoMemoPut(key string, rep *ParetoReport) {
	paretoMemo.Lock()
	defer paretoMemo.Unlock()
	if len(paretoMemo.m) >= 64 {
		clear(paretoMemo.m)
	}
	paretoMemo.m[key] = rep
}

// paretoFromCards computes the Pareto report of region (or its subtree)
// from the class memo's lists of every customer by kWh and by billed
// amount, across owner regions, without sorting and without a pass over
// every customer (paretoMerged): paretoOf's figures up to the rounding of
// the sums. ok is false when the cards do not cover the scope.
func paretoFromCards(r crm.Reader, region string, subtree bool, day crm.Date, topN int) (*ParetoReport, bool, error) {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return nil, false, e
	}
	ocs, ok, err := cardClasses(r, region, subtree, day, book)
	if err != nil || !ok {
		return nil, false, err
	}
	from, to := crm.Window(day)
	rep := &ParetoReport{Region: region, Day: day, Window: [2]string{from, to}}
	for _, oc := range ocs {
		rep.Customers += oc.byID.n
	}
	topN = max(topN, 0)
	rep.KWh = paretoMerged(ocs, 0, topN)
	rep.Revenue = paretoMerged(ocs, 1, topN)
	return rep, true, nil
}

// paretoMerged is paretoOf over the lists all[o] of ocs, merged: the top
// ids by a merge of the lists' first topN items; the total, the fewest
// customers making 80% of it and the top fifth's share by a search on the
// value threshold over the lists' runs (paretoSearch, cardpareto.go), in
// O(runs · log) rather than per customer; when that does not apply (a
// total ≤ 0, within rounding of 0, or not finite) by every value merged in
// order and summed, as paretoOf does.
func paretoMerged(ocs []*ownerClasses, o, topN int) ParetoShare {
	var lists []*cellList
	n := 0
	for _, oc := range ocs {
		if oc.all[o].n > 0 {
			lists = append(lists, &oc.all[o])
			n += oc.all[o].n
		}
	}
	var out ParetoShare
	var top float64
	ok := false
	if n > 0 {
		out.Total, out.Customers, top, ok = paretoSearch(lists, o, n)
	}
	if !ok {
		if out.Total, out.Customers, top = paretoSequential(lists, o, n); n == 0 || out.Total == 0 {
			return ParetoShare{Total: out.Total}
		}
	}
	var ids []string // the first ids, merged by the list's order (ties by id)
	less := orders[o]
	curs := make([]cursor, len(lists))
	for i, l := range lists {
		curs[i] = l.cursor()
	}
	for len(ids) < min(topN, out.Customers) {
		best := -1
		for i := range curs {
			if it := curs[i].item(); it != nil && (best < 0 || less(it, curs[best].item())) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		ids = append(ids, curs[best].item().ID)
		curs[best].next()
	}
	out.Total = round2(out.Total)
	out.CustomerShare = math.Round(float64(out.Customers)/float64(n)*1e4) / 1e4
	out.TopFifthShare = math.Round(top/out.Total*1e4) / 1e4
	out.TopCustomerIDs = ids
	return out
}

// paretoSequential answers paretoOf's total, fewest customers for 80% and
// the top fifth's sum over every value of lists (o 0: kWh, 1: billed)
// merged in descending order and added in that order: the reference the
// search matches, for the totals it does not handle.
func paretoSequential(lists []*cellList, o, n int) (total float64, customers int, top float64) {
	curs := make([]cursor, len(lists))
	for i, l := range lists {
		curs[i] = l.cursor()
	}
	v := mergedValues(curs, o, n) // every value, in order
	for _, x := range v {
		total += x
	}
	if len(v) == 0 || total == 0 {
		return total, 0, 0
	}
	cum := 0.0
	for i, x := range v {
		cum += x
		if cum >= 0.8*total-1e-9 {
			customers = i + 1
			break
		}
	}
	for _, x := range v[:paretoFifth(n)] {
		top += x
	}
	return total, customers, top
}

// paretoFifth answers the number of customers in the top 20% of n.
func paretoFifth(n int) int { return int(math.Ceil(float64(n) * 0.2)) }

// WarmClassMemos builds the memos of classified cards of region's subtree
// as of day, so that the first classification, Pareto report or customer
// page after a process start does not pay for it (about 11 s for a county
// of a million customers); later changes update them from the card
// journal. It answers how many customers the memos hold.
func WarmClassMemos(r crm.Reader, region string, day crm.Date) (int, error) {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return 0, e
	}
	ocs, _, err := cardClasses(r, region, true, day, book)
	n := 0
	for _, oc := range ocs {
		n += oc.byID.n
	}
	return n, err
}

// mergedValues answers the values (o 0: kWh, 1: billed) of the lists at
// curs merged in descending order: the sequence the lists' orders give
// merged, since items that tie on the value have the same value whatever
// their ids. A heap of the lists' runs by their next value, comparing
// floats only: the merge of a province's million customers over its
// counties costs milliseconds, not a comparison of items per customer
// and list.
func mergedValues(curs []cursor, o, n int) []float64 {
	v := make([]float64, 0, n)
	type head struct {
		vals []float64 // of the current run, from the next value
		runs []*run    // the runs after it
	}
	vals := func(r *run) []float64 {
		if o == 0 {
			return r.kwh
		}
		return r.billed
	}
	var h []head
	for _, c := range curs {
		if len(c.runs) > 0 {
			h = append(h, head{vals(c.runs[0])[c.i:], c.runs[1:]})
		}
	}
	if len(h) == 1 {
		v = append(v, h[0].vals...)
		for _, r := range h[0].runs {
			v = append(v, vals(r)...)
		}
		return v
	}
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < len(h) && h[l].vals[0] > h[big].vals[0] {
				big = l
			}
			if r := l + 1; r < len(h) && h[r].vals[0] > h[big].vals[0] {
				big = r
			}
			if big == i {
				return
			}
			h[i], h[big] = h[big], h[i]
			i = big
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		top := &h[0]
		// Take the top list's values while they are not below the next best head's.
		next := math.Inf(-1)
		for _, c := range []int{1, 2} {
			if c < len(h) && h[c].vals[0] > next {
				next = h[c].vals[0]
			}
		}
		k := 0
		for k < len(top.vals) && top.vals[k] >= next {
			k++
		}
		k = max(k, 1) // a NaN compares false: take it as it comes, never stall
		v = append(v, top.vals[:k]...)
		top.vals = top.vals[k:]
		for len(top.vals) == 0 && len(top.runs) > 0 {
			top.vals, top.runs = vals(top.runs[0]), top.runs[1:]
		}
		if len(top.vals) == 0 {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		if len(h) > 0 {
			down(0)
		}
	}
	return v
}
