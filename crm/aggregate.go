package crm

import (
	"encoding/binary"
	"math"
	"sort"
	"strings"

	"gridcrm/store/keyspace"
)

// Aggregates are counters per owner region, kept in the state next to the
// records and changed in the same batch as every customer or bill write
// (local or replicated), so that a province summary reads a few hundred
// counters instead of scanning a million customers. Key layout:
//
//	a/<region>/<metric>  → float64 (IEEE 754, big-endian)
//
// Metrics: customers; customers.category.<category>;
// customers.voltage.<low|medium|high>; customers.status.<status>;
// kwh.<YYYY-MM>; billed.<YYYY-MM>; arrears; arrears.<YYYY-MM> and
// arrears_bills.<YYYY-MM> (outstanding amount and bills in arrears by the
// billed month, aged at read: overview.go); the process counters of
// package process (projects.*, work_orders.*, outages.*: its kinds' Counters); the credit grades of
// package analytics/records (credit.<YYYY-MM>.<grade>: customers graded
// that month, its credit_grades' Counters); and the market counters of
// market.go (kwh, billed and bills per category and voltage class, and
// the time-of-use kWh, by month; mkt.ind.* from analytics/records'
// customer_trends).
//
// A metric that begins with TallyMark is a tally, not an aggregate: it is
// kept at k/<region>/<name> (name: the metric without the mark), changed
// by the same deltas in the same batch, but neither exported as a series
// (ForEachAggregate reads a/ only) nor summed into the subtree totals. A
// programme keeps there what it reads by key range and would swamp both:
// counts per day, month and person (package process: the KPIs' tallies).
func aggKey(region, metric string) []byte {
	if name, ok := strings.CutPrefix(metric, TallyMark); ok {
		return []byte(keyspace.Tally(region, name))
	}
	return []byte(keyspace.Aggregate(region, metric))
}

// TallyMark begins the metrics of a Counters hook that are tallies
// (aggKey).
const TallyMark = "~"

// isTally reports whether metric is a tally's.
func isTally(metric string) bool { return strings.HasPrefix(metric, TallyMark) }

// Delta is a change to one counter.
type Delta struct {
	Region, Metric string
	Value          float64
}

// VoltageClass buckets a supply voltage: low (< 1 kV), medium (< 35 kV),
// high (35 kV and above, the big-customer threshold).
func VoltageClass(kv float64) string {
	switch {
	case kv < 1:
		return "low"
	case kv < 35:
		return "medium"
	}
	return "high"
}

func customerMetrics(c *Customer) map[string]float64 {
	return map[string]float64{
		"customers":                                      1,
		"customers.category." + c.Category:               1,
		"customers.voltage." + VoltageClass(c.VoltageKV): 1,
		"customers.status." + c.Status:                   1,
	}
}

func billMetrics(b *Bill) map[string]float64 {
	m := map[string]float64{"kwh." + b.Period: b.KWh, "billed." + b.Period: b.Billed, "arrears": b.Arrears}
	if b.Arrears > 0 { // by the billed month, for the ageing buckets (overview.go)
		m["arrears."+b.Period] = b.Arrears
		m["arrears_bills."+b.Period] = 1
	}
	marketMetrics(b, m) // market.go: per category and voltage class, time-of-use
	return m
}

// customerCounters is the customers' Counters hook.
func customerCounters(raw []byte) (string, map[string]float64) {
	var c Customer
	if unmarshal(raw, &c) != nil {
		return "", nil
	}
	return c.Owner, customerMetrics(&c)
}

// billCounters is the bills' Counters hook.
func billCounters(raw []byte) (string, map[string]float64) {
	var b Bill
	if unmarshal(raw, &b) != nil {
		return "", nil
	}
	return b.Owner, billMetrics(&b)
}

// AggregateDeltas answers the counter changes that replacing old with new
// (either may be nil) at record key brings: those of its kind's Counters
// hook. Records of a kind without one bring none.
func AggregateDeltas(key string, old, new []byte) []Delta {
	coll, _, ok := SplitRecordKey(key)
	if !ok {
		return nil
	}
	k := Kinds[coll]
	if k == nil || k.Counters == nil { // the kind's Counters hook (record.go)
		return nil
	}
	metrics := func(raw []byte) (string, map[string]float64) {
		if raw == nil {
			return "", nil
		}
		return k.Counters(raw)
	}
	oldRegion, oldM := metrics(old)
	newRegion, newM := metrics(new)
	sum := map[[2]string]float64{}
	for m, v := range oldM {
		sum[[2]string{oldRegion, m}] -= v
	}
	for m, v := range newM {
		sum[[2]string{newRegion, m}] += v
	}
	var out []Delta
	for k, v := range sum {
		if v != 0 {
			out = append(out, Delta{Region: k[0], Metric: k[1], Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { // deterministic write order: by region, then metric
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Metric < out[j].Metric
	})
	return out
}

// ApplyDeltas adds the deltas to their counters in tx.
func ApplyDeltas(tx Txn, ds []Delta) error { return applyDeltas(tx, ds, nil) }

// applyDeltas is ApplyDeltas calling born (when not nil) with each delta
// whose counter it creates (+1) or deletes (-1).
func applyDeltas(tx Txn, ds []Delta, born func(d Delta, n float64)) error {
	for _, d := range ds {
		k := aggKey(d.Region, d.Metric)
		cur, err := tx.Get(k)
		if err != nil {
			return err
		}
		v := d.Value
		if len(cur) == 8 {
			v += math.Float64frombits(binary.BigEndian.Uint64(cur))
		}
		if math.Abs(v) < 1e-9 {
			if err := tx.Delete(k); err != nil {
				return err
			}
			if born != nil && len(cur) == 8 {
				born(d, -1)
			}
			continue
		}
		if born != nil && len(cur) != 8 {
			born(d, 1)
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
		if err := tx.Set(k, b[:]); err != nil {
			return err
		}
	}
	return nil
}

// Summary is the answer of a stats summary over one region or a subtree.
type Summary struct {
	Region         string             `json:"region"`
	Scope          string             `json:"scope"` // "region" or "subtree"
	Customers      int64              `json:"customers"`
	ByCategory     map[string]int64   `json:"customers_by_category"`
	ByVoltageClass map[string]int64   `json:"customers_by_voltage_class"`
	ByStatus       map[string]int64   `json:"customers_by_status"`
	KWhByMonth     map[string]float64 `json:"kwh_by_month"`
	BilledByMonth  map[string]float64 `json:"billed_by_month"`
	Arrears        float64            `json:"arrears"`
	// ArrearsByPeriod and ArrearsBillsByPeriod are the outstanding amount
	// and the bills in arrears by billed month (aged by AgeArrears).
	ArrearsByPeriod      map[string]float64 `json:"-"`
	ArrearsBillsByPeriod map[string]int64   `json:"-"`
	Regions              []string           `json:"regions"` // regions that contributed
}

// Summarize adds up the counters of region (subtree: and every region
// under it). It reads counters only, never records: at a node that keeps
// the subtree totals (aggregate_subtree.go), region's own and their sums
// over the regions below.
func Summarize(r Reader, region string, subtree bool) (Summary, error) {
	s := Summary{Region: region, Scope: "region", ByCategory: map[string]int64{}, ByVoltageClass: map[string]int64{},
		ByStatus: map[string]int64{}, KWhByMonth: map[string]float64{}, BilledByMonth: map[string]float64{},
		ArrearsByPeriod: map[string]float64{}, ArrearsBillsByPeriod: map[string]int64{}}
	if subtree {
		s.Scope = "subtree"
	}
	regions, err := sumCounters(r, region, subtree, "", func(_, metric string, x float64) bool {
		switch {
		case metric == "customers":
			s.Customers += int64(math.Round(x))
		case strings.HasPrefix(metric, "customers.category."):
			s.ByCategory[metric[len("customers.category."):]] += int64(math.Round(x))
		case strings.HasPrefix(metric, "customers.voltage."):
			s.ByVoltageClass[metric[len("customers.voltage."):]] += int64(math.Round(x))
		case strings.HasPrefix(metric, "customers.status."):
			s.ByStatus[metric[len("customers.status."):]] += int64(math.Round(x))
		case strings.HasPrefix(metric, "kwh."):
			s.KWhByMonth[metric[4:]] += x
		case strings.HasPrefix(metric, "billed."):
			s.BilledByMonth[metric[7:]] += round2(x)
		case metric == "arrears":
			s.Arrears += x
		case strings.HasPrefix(metric, "arrears."):
			s.ArrearsByPeriod[metric[len("arrears."):]] += x
		case strings.HasPrefix(metric, "arrears_bills."):
			s.ArrearsBillsByPeriod[metric[len("arrears_bills."):]] += int64(math.Round(x))
		}
		return true
	})
	s.Arrears = round2(s.Arrears)
	s.Regions = regions
	if s.Regions == nil {
		s.Regions = []string{}
	}
	return s, err
}
