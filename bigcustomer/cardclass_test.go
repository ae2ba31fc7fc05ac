package bigcustomer_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// TestClassMemo_IncrementalEqualsRebuilt: random changes of customers and
// bills (created, updated, moved to another voltage or tag, deleted with
// their bills), each followed by reads at the county (Apply) and at the
// province (ApplyReplica): the class memo brought up to date from the
// cards changed equals one read from every card (customers, figures,
// classes, order, counts), the reads answer as from the records, and no
// read after a change of cards reads every card. A directive changing the
// rules, and another window, are read from every card once. The memo's
// lists are cut into runs of 3 here, so updates change, cut and drop runs.
func TestClassMemo_IncrementalEqualsRebuilt(t *testing.T) {
	defer bigcustomer.SetMemoRunMax(bigcustomer.SetMemoRunMax(3)) // lists of many runs, cut as they grow
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	ids, billIDs := w.loadSample(sample.Options{Region: cardCounty, Customers: 100, Months: 14, Seed: 11,
		End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)})
	const day = crm.Date("2026-01-15")
	check := func(step string, compare bool) {
		t.Helper()
		for _, st := range []struct {
			name    string
			r       crm.Reader
			region  string
			subtree bool
		}{{"county", w.county, cardCounty, false}, {"province", w.province, "32", true}} {
			if err := bigcustomer.CheckClassMemo(st.r, st.region, st.subtree, day); err != nil {
				t.Fatalf("%s, %s: %v", step, st.name, err)
			}
			if !compare {
				continue
			}
			q := bigcustomer.ClassQuery{Region: st.region, Subtree: st.subtree, Day: day}
			got, e1 := bigcustomer.ClassifyRegion(st.r, q)
			want, e2 := bigcustomer.ClassifyRegionFromRecords(st.r, q)
			if e1 != nil || e2 != nil {
				t.Fatalf("%s, %s: %v / %v", step, st.name, e1, e2)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %s: the classification from the memo differs from the records'", step, st.name)
			}
			gp, e1 := bigcustomer.Pareto(st.r, st.region, st.subtree, day, 7)
			wp, e2 := bigcustomer.ParetoFromRecords(st.r, st.region, st.subtree, day, 7)
			if e1 != nil || e2 != nil || !reflect.DeepEqual(gp, wp) {
				t.Fatalf("%s, %s: pareto from the memo %+v (%v); from the records %+v (%v)", step, st.name, gp, e1, wp, e2)
			}
			live := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return billIDs[id] == nil })
			id := live[len(live)/2]
			gc, e1 := bigcustomer.Consumption(st.r, id, day)
			wc, e2 := bigcustomer.ConsumptionFromRecords(st.r, id, day)
			if e1 != nil || e2 != nil || !reflect.DeepEqual(gc, wc) {
				t.Fatalf("%s, %s: consumption of %s from the memo %+v (%v); from the records %+v (%v)", step, st.name, id, gc.Compared, e1, wc.Compared, e2)
			}
		}
	}
	check("first read", true)
	full0, patched0 := bigcustomer.ClassMemoStats()

	rng := rand.New(rand.NewPCG(5, 6))
	created := 0
	free := map[string][]string{} // periods of the bills deleted, per customer
	for n := 0; n < 80; n++ {
		cid := ids[rng.IntN(len(ids))]
		bs := billIDs[cid]
		if bs == nil { // deleted
			continue
		}
		var step string
		switch op := rng.IntN(10); {
		case op < 4 && len(bs) > 0: // a bill read again
			j := rng.IntN(len(bs))
			kwh := float64(rng.IntN(4_000_000))
			w.apply(w.cmd(crm.OpUpdate, "bills", bs[j], w.version("bills", bs[j]), map[string]any{"kwh": kwh, "kwh_peak": kwh / 3, "kwh_flat": kwh / 3, "kwh_valley": kwh - 2*(kwh/3),
				"billed": float64(rng.IntN(90_000_000)) / 100, "paid": 0}))
			step = "bill updated"
		case op < 5 && len(bs) > 0:
			j := rng.IntN(len(bs))
			raw, e := crm.Get(w.county, "bills", bs[j])
			if e != nil {
				t.Fatal(e)
			}
			var b crm.Bill
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			free[cid] = append(free[cid], b.Period)
			w.apply(w.cmd(crm.OpDelete, "bills", bs[j], w.version("bills", bs[j]), nil))
			billIDs[cid] = append(bs[:j:j], bs[j+1:]...)
			step = "bill deleted"
		case op < 6 && len(free[cid]) > 0: // a bill for a month of the window whose bill went
			period := free[cid][0]
			free[cid] = free[cid][1:]
			c := w.cmd(crm.OpCreate, "bills", "", 0, map[string]any{"customer_id": cid, "period": period,
				"kwh": float64(rng.IntN(3_000_000)), "billed": 1000.5, "paid": 0})
			w.apply(c)
			billIDs[cid] = append(billIDs[cid], c.ID)
			step = "bill created"
		case op < 8: // voltage and tags: class and grade move
			tags := []string{}
			if rng.IntN(2) == 0 {
				tags = append(tags, "保供民生")
			}
			w.apply(w.cmd(crm.OpUpdate, "customers", cid, w.version("customers", cid), map[string]any{"voltage_kv": []float64{0.4, 10, 35, 110}[rng.IntN(4)], "tags": tags}))
			step = "customer updated"
		case op < 9: // a customer and its bills go
			for _, b := range bs {
				w.apply(w.cmd(crm.OpDelete, "bills", b, w.version("bills", b), nil))
			}
			w.apply(w.cmd(crm.OpDelete, "customers", cid, w.version("customers", cid), nil))
			billIDs[cid] = nil
			step = "customer deleted"
		default: // a new customer
			created++
			c := w.cmd(crm.OpCreate, "customers", "", 0, map[string]any{"account_no": fmt.Sprintf("3207229%06d", created), "name": "新户", "category": "industrial",
				"voltage_kv": 10, "capacity_kva": 800, "region": cardCounty})
			w.apply(c)
			ids = append(ids, c.ID)
			billIDs[c.ID] = []string{}
			step = "customer created"
		}
		check(fmt.Sprintf("step %d (%s)", n, step), n%16 == 0)
	}
	full, patched := bigcustomer.ClassMemoStats()
	if full != full0 || patched == patched0 {
		t.Fatalf("after 80 changes: %d memos read from every card, %d brought up to date; want 0 and some", full-full0, patched-patched0)
	}

	// A directive changes the rules of the county: read from every card
	// once, then brought up to date again.
	w.apply(w.cmd(crm.OpCreate, "directives", "", 0, map[string]any{"kind": "class_thresholds", "title": "county rules", "scope": cardCounty,
		"effective_from": "2025-01-01", "body": map[string]any{"annual_kwh": 200000}}))
	check("directive", true)
	if f, _ := bigcustomer.ClassMemoStats(); f == full {
		t.Fatal("a directive changing the rules did not read the cards again")
	}
	full, _ = bigcustomer.ClassMemoStats()
	w.apply(w.cmd(crm.OpUpdate, "customers", ids[3], w.version("customers", ids[3]), map[string]any{"voltage_kv": 35}))
	check("after the directive", true)
	if f, _ := bigcustomer.ClassMemoStats(); f != full {
		t.Fatalf("a customer change after the directive read %d memos from every card", f-full)
	}
}

// TestClassMemo_OneBuildAtATime: readers that ask at once for a window no
// memo holds yet (the first reads after a start or a bulk load, beside the
// node's warm-up) read the cards once between them: one waits for the
// other's memo instead of reading every card again.
func TestClassMemo_OneBuildAtATime(t *testing.T) {
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	w.loadSample(sample.Options{Region: cardCounty, Customers: 600, Months: 13, Seed: 21,
		End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)})
	w.county.Iterate(nil, nil, func(k, v []byte) bool { return false }) // sorts its keys now: the readers below only read it
	for round, day := range []crm.Date{"2026-01-20", "2026-02-20"} {    // a window not read before each time
		full0, _ := bigcustomer.ClassMemoStats()
		const readers = 8
		start := make(chan struct{})
		errs := make(chan error, readers)
		var reports [readers]*bigcustomer.ClassReport
		for i := range readers {
			go func() {
				<-start
				rep, e := bigcustomer.ClassifyRegion(w.county, bigcustomer.ClassQuery{Region: cardCounty, Day: day})
				reports[i] = rep
				if e != nil {
					errs <- e
					return
				}
				errs <- nil
			}()
		}
		close(start)
		for range readers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if full, _ := bigcustomer.ClassMemoStats(); full-full0 != 1 {
			t.Fatalf("round %d: %d readers at once read every card %d times, want once", round, readers, full-full0)
		}
		for i := 1; i < readers; i++ {
			if !reflect.DeepEqual(reports[i], reports[0]) {
				t.Fatalf("round %d: reader %d answered otherwise than reader 0", round, i)
			}
		}
	}
}

// loadSample imports the customers of a sample county (户号 numbered in
// order) and their bills, 10,000 rows a request, and answers the
// customers' ids and each one's bill ids.
func (w *cardWorld) loadSample(o sample.Options) (ids []string, billIDs map[string][]string) {
	d := sample.Generate(o)
	var rows []any
	for i := range d.Customers {
		d.Customers[i].AccountNo = fmt.Sprintf("%s%07d", cardCounty, i+1)
		rows = append(rows, &d.Customers[i])
	}
	ids = w.importRows("customers", rows)
	rows = rows[:0]
	for i := range d.Bills {
		for j := range d.Bills[i] {
			d.Bills[i][j].CustomerID = ids[i]
			rows = append(rows, &d.Bills[i][j])
		}
	}
	var bids []string
	for len(rows) > 0 {
		k := min(len(rows), 10000)
		bids = append(bids, w.importRows("bills", rows[:k])...)
		rows = rows[k:]
	}
	billIDs = map[string][]string{}
	k := 0
	for i := range d.Bills {
		billIDs[ids[i]] = bids[k : k+len(d.Bills[i])]
		k += len(d.Bills[i])
	}
	return ids, billIDs
}

// TestClassMemo_UnusedWindowsGo: the memo of a window nobody asks for any
// more (last month's, after the node's warm-up moved on) goes when a memo
// is stored more than crm.MemoIdle after its last use; the window in use
// stays.
func TestClassMemo_UnusedWindowsGo(t *testing.T) {
	saved := crm.MemoIdle
	crm.MemoIdle = 300 * time.Millisecond
	t.Cleanup(func() { crm.MemoIdle = saved })
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	w.loadSample(sample.Options{Region: cardCounty, Customers: 50, Months: 13, Seed: 5,
		End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)})
	classify := func(day crm.Date) {
		t.Helper()
		if _, e := bigcustomer.ClassifyRegion(w.county, bigcustomer.ClassQuery{Region: cardCounty, Day: day}); e != nil {
			t.Fatal(e)
		}
	}
	old, cur, next := crm.Date("2026-01-20"), crm.Date("2026-02-20"), crm.Date("2026-03-20")
	classify(old)
	classify(cur)
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		classify(cur)
	}
	classify(next) // a store sweeps
	if bigcustomer.ClassMemoHolds(cardCounty, old) {
		t.Fatal("a window unused for longer than MemoIdle is still held")
	}
	if !bigcustomer.ClassMemoHolds(cardCounty, cur) || !bigcustomer.ClassMemoHolds(cardCounty, next) {
		t.Fatal("a window in use went")
	}
}
