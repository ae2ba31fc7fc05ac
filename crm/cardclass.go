package crm

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"gridcrm/store/keyspace"
)

// ownerClasses is one owner region's customers (ownerCards) classified for
// a window under the rules in force for them: each customer's class and
// grade, the customers biggest annual kWh first, and the counts. It is
// kept in memory (classMemo) while the region's card version and the rules
// stay the same, so a classification list, a customer's comparison with
// its class or a Pareto report at an upper tier reads a few entries per
// region instead of classifying every customer again.
type ownerClasses struct {
	list   []cardCustomer // shared with cardMemo: never changed
	cell   []uint8        // per list index: class*3 + grade (classCell)
	order  []int32        // list indexes by byKWh: annual kWh descending, then id
	counts [2][3]int      // class × grade
	rules  map[string]ClassRuleSet
}

var classNames, gradeNames = [2]string{"big", "ordinary"}, [3]string{"core", "key", "general"}

func classCell(class, grade string) uint8 {
	c, g := slices.Index(classNames[:], class), slices.Index(gradeNames[:], grade)
	return uint8(c*3 + g)
}

// matches reports whether a cell passes the class and grade filters ("" passes all).
func cellMatches(cell uint8, class, grade string) bool {
	return (class == "" || classNames[cell/3] == class) && (grade == "" || gradeNames[cell%3] == grade)
}

var classMemo = struct {
	sync.Mutex
	m map[classKey]*ownerClasses
}{m: map[classKey]*ownerClasses{}}

type classKey struct{ owner, version, from, to, rules string }

// classesOf answers owner's customers classified for the window from..to
// under book's rules, from the memo when owner's cards and the rules in
// force for its customers are those it was computed from.
func classesOf(r Reader, owner, version, from, to string, book *RuleBook) (*ownerClasses, error) {
	list, err := ownerCards(r, owner, version, from, to)
	if err != nil {
		return nil, err
	}
	regions := map[string]ClassRuleSet{}
	for i := range list {
		if _, ok := regions[list[i].Region]; !ok {
			regions[list[i].Region] = book.For(list[i].Region)
		}
	}
	fp, _ := json.Marshal(regions) // map keys sorted: the same rules give the same bytes
	k := classKey{owner, version, from, to, string(fp)}
	classMemo.Lock()
	oc := classMemo.m[k]
	classMemo.Unlock()
	if oc != nil {
		return oc, nil
	}
	oc = &ownerClasses{list: list, cell: make([]uint8, len(list)), order: make([]int32, len(list)), rules: regions}
	for i := range list {
		c := list[i].customer()
		cl := Classify(&c, list[i].Figures, regions[c.Region])
		cell := classCell(cl.Class, cl.Grade)
		oc.cell[i] = cell
		oc.counts[cell/3][cell%3]++
		oc.order[i] = int32(i)
	}
	sort.Slice(oc.order, func(a, b int) bool {
		x, y := &list[oc.order[a]], &list[oc.order[b]]
		if x.Figures.AnnualKWh != y.Figures.AnnualKWh {
			return x.Figures.AnnualKWh > y.Figures.AnnualKWh
		}
		return x.ID < y.ID
	})
	classMemo.Lock()
	for old := range classMemo.m { // one entry per region and window: the newest
		if old.owner == owner && old.from == from && old.to == to {
			delete(classMemo.m, old)
		}
	}
	if len(classMemo.m) >= maxMemo {
		clear(classMemo.m)
	}
	classMemo.m[k] = oc
	classMemo.Unlock()
	return oc, nil
}

// cardClasses answers the classified customers of region (or its subtree),
// one ownerClasses per owner region in owner order; ok is false when the
// cards do not cover the customers (see cardCustomers).
func cardClasses(r Reader, region string, subtree bool, day Date, book *RuleBook) ([]*ownerClasses, bool, error) {
	owners, customers, err := cardOwners(r, region, subtree)
	if err != nil {
		return nil, false, err
	}
	from, to := Window(day)
	var out []*ownerClasses
	n := int64(0)
	for _, o := range owners {
		oc, err := classesOf(r, o.owner, o.version, from, to, book)
		if err != nil {
			return nil, false, err
		}
		out = append(out, oc)
		n += int64(len(oc.list))
	}
	return out, n == customers, nil
}

// classifyFromCards is classifyRegion from the memo of classified cards:
// the counts add up, and only the items answered are classified again
// (for their reasons). ok is false when the cards do not cover the region.
func classifyFromCards(r Reader, q ClassQuery, book *RuleBook, rep *ClassReport) (bool, *Error) {
	ocs, ok, err := cardClasses(r, q.Region, q.Subtree, q.Day, book)
	if err != nil {
		return false, AsError(err)
	}
	if !ok {
		return false, nil
	}
	for _, oc := range ocs {
		for c := range 2 {
			for g := range 3 {
				rep.Counts[classNames[c]][gradeNames[g]] += oc.counts[c][g]
				if cellMatches(uint8(c*3+g), q.Class, q.Grade) {
					rep.Matched += oc.counts[c][g]
				}
			}
		}
		for region, rs := range oc.rules {
			rep.Rules[region] = rs
		}
		taken := 0
		for _, i := range oc.order {
			if q.Limit > 0 && taken == q.Limit {
				break
			}
			if !cellMatches(oc.cell[i], q.Class, q.Grade) {
				continue
			}
			c := oc.list[i].customer()
			rep.Items = append(rep.Items, Classify(&c, oc.list[i].Figures, oc.rules[c.Region]))
			taken++
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
// the biggest 200. ok is false when the cards do not cover the region.
func peersFromCards(r Reader, region string, day Date, cl *Classification, annualKWh float64, cmp *ClassComparison) (bool, error) {
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return false, e
	}
	ocs, ok, err := cardClasses(r, region, false, day, book)
	if err != nil || !ok {
		return false, err
	}
	cell := classCell(cl.Class, cl.Grade)
	kwhs := []float64{}
	var billed, peakSum, touSum float64
	below := 0
	for _, oc := range ocs { // one owner: region itself
		for _, i := range oc.order {
			if oc.cell[i] != cell {
				continue
			}
			it := &oc.list[i]
			kwhs = append(kwhs, it.Figures.AnnualKWh)
			billed += it.Figures.AnnualBilled
			if it.Figures.AnnualKWh < annualKWh {
				below++
			}
			if cmp.PeerPeakSampled < 200 {
				peakSum += it.touPeak
				touSum += it.touKWh
				cmp.PeerPeakSampled++
			}
		}
	}
	cmp.Peers = len(kwhs)
	finishComparison(cmp, kwhs, billed, below, annualKWh, peakSum, touSum)
	return true, nil
}

type ownerVersion struct{ owner, version string }

// cardOwners lists the regions holding cards in region (or its subtree),
// in code order, with their card versions, and answers the customers the
// aggregates count there.
func cardOwners(r Reader, region string, subtree bool) ([]ownerVersion, int64, error) {
	sum, err := Summarize(r, region, subtree)
	if err != nil {
		return nil, 0, err
	}
	var out []ownerVersion
	if subtree {
		prefix := []byte(keyspace.CardVersionsOf(region))
		err = r.Iterate(prefix, prefixEnd(prefix), func(k, v []byte) bool {
			out = append(out, ownerVersion{string(k[len(keyspace.CardVersionPrefix):]), string(v)})
			return true
		})
	} else {
		var v []byte
		if v, err = r.Get([]byte(keyspace.CardVersion(region))); v != nil {
			out = append(out, ownerVersion{region, string(v)})
		}
	}
	return out, sum.Customers, err
}

// paretoMemo keeps Pareto reports computed from cards, keyed by the query
// and the card versions of every region it covered: a report is computed
// again only when a customer or a bill in its scope changed.
var paretoMemo = struct {
	sync.Mutex
	m map[string]*ParetoReport
}{m: map[string]*ParetoReport{}}

// paretoKey answers the memo key of a Pareto query over the cards, or ""
// when the cards do not cover the scope.
func paretoKey(r Reader, region string, subtree bool, day Date, topN int) (string, error) {
	owners, customers, err := cardOwners(r, region, subtree)
	if err != nil || len(owners) == 0 {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%t|%s|%d|%d", region, subtree, day, topN, customers)
	for _, o := range owners {
		b.WriteString("|" + o.owner + "=" + o.version)
	}
	return b.String(), nil
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
