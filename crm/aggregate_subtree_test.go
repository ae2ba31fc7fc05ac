package crm_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gridcrm/analytics/records"
	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
)

// totalsWorld writes random records of a province (two cities, four
// counties, records owned at every tier) and applies their aggregate
// deltas as nodes do: a batch of changes at once, summed.
type totalsWorld struct {
	rng     *rand.Rand
	records map[string][]byte // key → the record as it is now
	n       int
}

var totalsRegions = []string{"32", "3207", "3208", "320722", "320723", "320801", "320802"}

func (w *totalsWorld) raw(key, owner string, rng *rand.Rand) []byte {
	coll := strings.Split(key, "/")[1]
	cents := func(hi float64) float64 { return math.Round(rng.Float64()*hi*100) / 100 }
	month := fmt.Sprintf("2025-%02d", 1+rng.IntN(12))
	var v map[string]any
	switch coll {
	case "customers":
		v = map[string]any{"category": []string{"residential", "commercial", "industrial", "agricultural"}[rng.IntN(4)],
			"voltage_kv": []float64{0.4, 10, 35, 110}[rng.IntN(4)], "status": []string{"active", "suspended", "closed"}[rng.IntN(3)]}
	case "bills":
		v = map[string]any{"customer_id": "cus_x", "period": month, "kwh": cents(5000), "billed": cents(4000), "arrears": cents(300) * float64(rng.IntN(2)),
			"category": []string{"residential", "industrial", ""}[rng.IntN(3)], "voltage_class": []string{"low", "medium", "high"}[rng.IntN(3)]}
		if rng.IntN(2) == 0 {
			v["kwh_peak"], v["kwh_flat"], v["kwh_valley"] = cents(1000), cents(1000), cents(1000)
		}
	case "credit_grades":
		v = map[string]any{"customer_id": "cus_x", "period": month, "grade": []string{"A", "B", "C"}[rng.IntN(3)], "score": 600, "rules": "v1"}
	case "customer_trends":
		v = map[string]any{"customer_id": "cus_x", "period": month, "industry": []string{"", "steel", "textiles"}[rng.IntN(3)],
			"kwh_12m": cents(90000), "kwh_12m_prev": cents(90000)}
	case "projects":
		at := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 20, 0, 0, 0, time.UTC)
		v = map[string]any{"kind": []string{"new_connection", "capacity_increase"}[rng.IntN(2)], "class": []string{"lv", "hv_single"}[rng.IntN(2)],
			"status": []string{"open", "energised"}[rng.IntN(2)], "capacity_kva": float64(100 * (1 + rng.IntN(20))), "energised_at": at}
	}
	v["id"], v["owner"], v["version"] = strings.Split(key, "/")[2], owner, 1
	b, _ := json.Marshal(v)
	return b
}

// batch changes k records (creates, updates, deletes) and answers their
// deltas summed as a node's FSM sums a batch's.
func (w *totalsWorld) batch(k int) []crm.Delta {
	sums := map[[2]string]float64{}
	for range k {
		var key string
		if len(w.records) > 0 && w.rng.IntN(3) > 0 { // an update or a delete of a record there is
			keys := make([]string, 0, len(w.records))
			for k := range w.records {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			key = keys[w.rng.IntN(len(keys))]
		} else {
			w.n++
			colls := []string{"customers", "bills", "bills", "bills", "credit_grades", "customer_trends", "projects"}
			key = fmt.Sprintf("r/%s/x%06d", colls[w.rng.IntN(len(colls))], w.n)
		}
		old := w.records[key]
		var new []byte
		if old == nil || w.rng.IntN(4) > 0 {
			owner := totalsRegions[w.rng.IntN(len(totalsRegions))]
			if old != nil {
				var m crm.Meta
				json.Unmarshal(old, &m)
				owner = m.Owner
			}
			new = w.raw(key, owner, w.rng)
		}
		if new == nil {
			delete(w.records, key)
		} else {
			w.records[key] = new
		}
		for _, d := range crm.AggregateDeltas(key, old, new) {
			sums[[2]string{d.Region, d.Metric}] += d.Value
		}
	}
	out := make([]crm.Delta, 0, len(sums))
	for k, v := range sums {
		out = append(out, crm.Delta{Region: k[0], Metric: k[1], Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region+"/"+out[i].Metric < out[j].Region+"/"+out[j].Metric })
	return out
}

// recomputed answers a store holding the counters of the records as they
// are, with no totals: its reads add up every region's counters.
func (w *totalsWorld) recomputed(t *testing.T) *crm.MemTxn {
	tx := crm.NewMemTxn()
	for key, raw := range w.records {
		if err := crm.ApplyDeltas(tx, crm.AggregateDeltas(key, nil, raw)); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

// sameReads compares every counter read of region (alone and with its
// subtree) between got (kept totals) and want (recomputed), floats to
// rounding.
func sameReads(t *testing.T, stage string, got, want crm.Reader, regions []string) {
	t.Helper()
	reads := map[string]func(r crm.Reader, region string, subtree bool) (any, error){
		"Summarize": func(r crm.Reader, region string, subtree bool) (any, error) { return crm.Summarize(r, region, subtree) },
		"Market": func(r crm.Reader, region string, subtree bool) (any, error) {
			m, err := crm.Market(r, region, subtree)
			return m, err
		},
		"MarketTotals": func(r crm.Reader, region string, subtree bool) (any, error) {
			m, err := crm.MarketTotals(r, region, subtree)
			m.ByRegion, m.CapacityByRegion = nil, nil // region's own only where totals are kept
			return m, err
		},
		"MarketCapacity": func(r crm.Reader, region string, subtree bool) (any, error) {
			m, err := crm.MarketCapacity(r, region, subtree)
			m.ByRegion = nil
			return m, err
		},
		"CreditDistribution": func(r crm.Reader, region string, subtree bool) (any, error) {
			c, regs, err := records.CreditDistribution(r, region, subtree)
			return []any{c, regs}, err
		},
	}
	for name, read := range reads {
		for _, region := range regions {
			for _, subtree := range []bool{false, true} {
				a, err := read(got, region, subtree)
				if err != nil {
					t.Fatal(err)
				}
				b, err := read(want, region, subtree)
				if err != nil {
					t.Fatal(err)
				}
				if d := jsonDiff(a, b); d != "" {
					t.Fatalf("%s: %s(%s, subtree %v): kept totals answer %s", stage, name, region, subtree, d)
				}
			}
		}
	}
}

// jsonDiff compares a and b as JSON, numbers to 1e-9 relative; "" if same.
func jsonDiff(a, b any) string {
	var x, y any
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	json.Unmarshal(ra, &x)
	json.Unmarshal(rb, &y)
	var walk func(path string, x, y any) string
	walk = func(path string, x, y any) string {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				return fmt.Sprintf("at %s %v, want %v", path, x, y)
			}
			for k := range xv {
				if d := walk(path+"."+k, xv[k], yv[k]); d != "" {
					return d
				}
			}
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				return fmt.Sprintf("at %s %v, want %v", path, x, y)
			}
			for i := range xv {
				if d := walk(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); d != "" {
					return d
				}
			}
		case float64:
			yv, ok := y.(float64)
			if !ok || math.Abs(xv-yv) > 1e-9*math.Max(1, math.Abs(yv)) {
				return fmt.Sprintf("at %s %v, want %v", path, x, y)
			}
		default:
			if fmt.Sprint(x) != fmt.Sprint(y) {
				return fmt.Sprintf("at %s %v, want %v", path, x, y)
			}
		}
		return ""
	}
	return walk("", x, y)
}

// TestSubtreeTotals_SameAsRecomputed: the subtree totals a province keeps
// on apply (crm.ApplyDeltasAt) answer the same reads as the counters of
// every region added up, recomputed from the records: on random creates,
// updates and deletes owned at every tier, batches of changes from several
// counties summed as the FSM sums them, totals built over a store that
// held counters before them, and after the store is closed and opened
// again (a restart). A city's node keeps its own subtree's.
func TestSubtreeTotals_SameAsRecomputed(t *testing.T) {
	w := &totalsWorld{rng: rand.New(rand.NewPCG(15, 17)), records: map[string][]byte{}}
	dir := t.TempDir()
	st, err := store.Open(store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	city := crm.NewMemTxn() // the node of city 3207: its subtree's changes only
	apply := func(ds []crm.Delta, here string) {
		t.Helper()
		tx, commit := replication.NewBatchTxn(st)
		if err := crm.ApplyDeltasAt(tx, here, ds); err != nil {
			t.Fatal(err)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		var mine []crm.Delta
		for _, d := range ds {
			if strings.HasPrefix(d.Region, "3207") {
				mine = append(mine, d)
			}
		}
		if err := crm.ApplyDeltasAt(city, "3207", mine); err != nil {
			t.Fatal(err)
		}
	}
	for range 60 { // a store of before the totals: counters only
		apply(w.batch(1+w.rng.IntN(8)), "")
	}
	sameReads(t, "counters only", replication.StateReaderOf(st), w.recomputed(t), totalsRegions)
	for range 80 {
		apply(w.batch(1+w.rng.IntN(20)), "32")
	}
	if v, _ := replication.StateReaderOf(st).Get([]byte("t/m")); string(v) != "32" {
		t.Fatalf("the province's store does not mark its totals kept: %q", v)
	}
	sameReads(t, "kept", replication.StateReaderOf(st), w.recomputed(t), totalsRegions)
	sameReads(t, "city", city, w.recomputed(t), []string{"3207", "320722", "320723"})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = store.Open(store.Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 80 {
		apply(w.batch(1+w.rng.IntN(20)), "32")
	}
	want := w.recomputed(t)
	sameReads(t, "after a restart", replication.StateReaderOf(st), want, totalsRegions)
	sameReads(t, "city", city, want, []string{"3207", "320722", "320723"})
	// The data covered what the totals keep per region.
	m, _ := crm.Market(want, "32", true)
	if len(m.ByRegion) < 5 || len(m.CapacityByRegion) < 3 || len(m.Industry) == 0 || len(m.TOU) == 0 {
		t.Fatalf("the random data left a part uncovered: %d regions billed, %d with capacity, %d months of trends, %d of TOU",
			len(m.ByRegion), len(m.CapacityByRegion), len(m.Industry), len(m.TOU))
	}
	if c, _, _ := records.CreditDistribution(want, "32", true); len(c) == 0 {
		t.Fatal("no grades counted")
	}
	// Everything deleted: the totals come to nothing.
	for len(w.records) > 0 {
		for key, raw := range w.records {
			delete(w.records, key)
			apply(crm.AggregateDeltas(key, raw, nil), "32")
			break
		}
	}
	n := 0
	replication.StateReaderOf(st).Iterate([]byte("t/"), []byte("t0"), func(k, _ []byte) bool {
		if string(k) != "t/m" {
			n++
		}
		return true
	})
	if n != 0 {
		t.Fatalf("%d totals left after every record was deleted", n)
	}
	sameReads(t, "all deleted", replication.StateReaderOf(st), w.recomputed(t), totalsRegions)
}

// BenchmarkApplyDeltasAt: the counters' cost of a rolled-up batch at the
// province, with the subtree totals kept (here 32) and without (""): a
// batch of 100 bills of one county, its deltas summed as the FSM sums
// them, applied to a Pebble batch over a store holding 100 counties'
// counters.
//
//	go test -run XXX -bench ApplyDeltasAt ./crm/
func BenchmarkApplyDeltasAt(b *testing.B) {
	w := &totalsWorld{rng: rand.New(rand.NewPCG(1, 1)), records: map[string][]byte{}}
	var batches [][]crm.Delta
	for range 64 {
		sums := map[[2]string]float64{}
		for range 100 {
			w.n++
			key := fmt.Sprintf("r/bills/x%06d", w.n)
			for _, d := range crm.AggregateDeltas(key, nil, w.raw(key, fmt.Sprintf("32%02d%02d", 1+w.rng.IntN(10), 1+w.rng.IntN(10)), w.rng)) {
				sums[[2]string{"320723", d.Metric}] += d.Value
			}
		}
		var ds []crm.Delta
		for k, v := range sums {
			ds = append(ds, crm.Delta{Region: k[0], Metric: k[1], Value: v})
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].Metric < ds[j].Metric })
		batches = append(batches, ds)
	}
	for _, here := range []string{"", "32"} {
		b.Run("here="+here, func(b *testing.B) {
			st, err := store.Open(store.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			for i := range 100 { // 100 counties' counters, totals built
				tx, commit := replication.NewBatchTxn(st)
				ds := slices.Clone(batches[i%len(batches)])
				for j := range ds {
					ds[j].Region = fmt.Sprintf("32%02d%02d", 1+i/10, 1+i%10)
				}
				if err := crm.ApplyDeltasAt(tx, here, ds); err != nil {
					b.Fatal(err)
				}
				commit()
			}
			b.ResetTimer()
			for i := range b.N {
				tx, commit := replication.NewBatchTxn(st)
				if err := crm.ApplyDeltasAt(tx, here, batches[i%len(batches)]); err != nil {
					b.Fatal(err)
				}
				if err := commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(batches[0])), "deltas/batch")
		})
	}
}
