package bigcustomer_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/store/keyspace"
)

// cardWorld is a county's store (written by Apply) and a province's copy
// of it (written by ApplyReplica), both with their aggregates, as the FSM
// and the links keep them.
type cardWorld struct {
	t        *testing.T
	county   *crm.MemTxn
	province *crm.MemTxn
	n        int
}

const cardCounty = "320722"

func (w *cardWorld) apply(cmd *crm.Command) crm.Result {
	w.t.Helper()
	rec := &cardRecTxn{MemTxn: w.county}
	res := crm.Apply(rec, cmd)
	if res.Err != nil {
		w.t.Fatalf("Apply %s %s: %v", cmd.Op, cmd.Collection, res.Err)
	}
	// Copy every record change up, deletes too, and keep both stores'
	// aggregates, as FeedTxn and the links do.
	for _, c := range rec.changes {
		w.changed(c.key, c.old, c.new)
	}
	return res
}

// cardRecTxn notes every record write with the value it replaces.
type cardRecTxn struct {
	*crm.MemTxn
	changes []recordChange
}

type recordChange struct {
	key      string
	old, new []byte
}

func (t *cardRecTxn) note(key, value []byte) error {
	if !strings.HasPrefix(string(key), keyspace.RecordPrefix) {
		return nil
	}
	old, err := t.MemTxn.Get(key)
	if err == nil && !(old == nil && value == nil) {
		t.changes = append(t.changes, recordChange{string(key), old, append([]byte(nil), value...)})
		if value == nil {
			t.changes[len(t.changes)-1].new = nil
		}
	}
	return err
}

func (t *cardRecTxn) Set(key, value []byte) error {
	if err := t.note(key, value); err != nil {
		return err
	}
	return t.MemTxn.Set(key, value)
}

func (t *cardRecTxn) Delete(key []byte) error {
	if err := t.note(key, nil); err != nil {
		return err
	}
	return t.MemTxn.Delete(key)
}

func (w *cardWorld) changed(key string, old, new []byte) {
	w.t.Helper()
	if strings.HasPrefix(key, keyspace.AuditPrefix) {
		return
	}
	ds := crm.AggregateDeltas(key, old, new)
	if err := crm.ApplyDeltas(w.county, ds); err != nil {
		w.t.Fatal(err)
	}
	if err := crm.ApplyReplica(w.province, key, new); err != nil {
		w.t.Fatalf("ApplyReplica %s: %v", key, err)
	}
	if err := crm.ApplyDeltas(w.province, ds); err != nil {
		w.t.Fatal(err)
	}
}

func (w *cardWorld) cmd(op crm.Op, coll, id string, version uint64, body any) *crm.Command {
	w.n++
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(w.n) * time.Millisecond)
	if id == "" && op != crm.OpImport {
		id = crm.NewID(crm.Kinds[coll].IDPrefix, at)
	}
	raw, _ := json.Marshal(body)
	return &crm.Command{Op: op, Collection: coll, ID: id, Version: version, Region: cardCounty, Actor: "test", Time: at, Body: raw}
}

func (w *cardWorld) importRows(coll string, rows []any) []string {
	w.t.Helper()
	c := w.cmd(crm.OpImport, coll, "", 0, nil)
	c.Body = nil
	for _, r := range rows {
		w.n++
		c.IDs = append(c.IDs, crm.NewID(crm.Kinds[coll].IDPrefix, c.Time.Add(time.Duration(w.n)*time.Microsecond)))
		raw, _ := json.Marshal(r)
		c.Rows = append(c.Rows, raw)
	}
	w.apply(c)
	return c.IDs
}

func (w *cardWorld) version(coll, id string) uint64 {
	raw, e := crm.Get(w.county, coll, id)
	if e != nil {
		w.t.Fatal(e)
	}
	var m crm.Meta
	_ = json.Unmarshal(raw, &m)
	return m.Version
}

// TestCards_SameAnswersAsRecords: classification lists, the Pareto report
// and a customer's comparison with its class read from the customer cards
// equal those computed from the customers and their bills, at the county (Apply) and at the province
// (ApplyReplica, bills arriving before their customers), after creates,
// updates and deletes of bills and customers, for several days, filters
// and limits.
func TestCards_SameAnswersAsRecords(t *testing.T) {
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	d := sample.Generate(sample.Options{Region: cardCounty, Customers: 400, Months: 16, Seed: 7,
		End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)})
	var rows []any
	for i := range d.Customers {
		d.Customers[i].AccountNo = fmt.Sprintf("%s%07d", cardCounty, i+1)
		if i%37 == 0 {
			d.Customers[i].Tags = append(d.Customers[i].Tags, "政府重点工程")
		}
		rows = append(rows, &d.Customers[i])
	}
	ids := w.importRows("customers", rows)
	rows = rows[:0]
	billIDs := map[string][]string{}
	for i := range d.Bills {
		for j := range d.Bills[i] {
			d.Bills[i][j].CustomerID = ids[i]
			rows = append(rows, &d.Bills[i][j])
		}
	}
	bids := w.importRows("bills", rows)
	k := 0
	for i := range d.Bills {
		billIDs[ids[i]] = bids[k : k+len(d.Bills[i])]
		k += len(d.Bills[i])
	}
	// Changes: bills re-read (kWh and amount), bills deleted, a customer
	// moved to 110 kV and re-tagged, a customer deleted with its bills, a
	// bill written for a month in a window.
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 60; n++ {
		cid := ids[rng.IntN(len(ids))]
		bs := billIDs[cid]
		if len(bs) == 0 {
			continue
		}
		j := rng.IntN(len(bs))
		if n%3 == 0 {
			w.apply(w.cmd(crm.OpDelete, "bills", bs[j], w.version("bills", bs[j]), nil))
			billIDs[cid] = append(bs[:j:j], bs[j+1:]...)
			continue
		}
		kwh := float64(rng.IntN(3_000_000))
		w.apply(w.cmd(crm.OpUpdate, "bills", bs[j], w.version("bills", bs[j]), map[string]any{"kwh": kwh, "kwh_peak": kwh, "kwh_flat": 0, "kwh_valley": 0,
			"billed": float64(rng.IntN(9_000_000)) / 100, "paid": 0}))
	}
	w.apply(w.cmd(crm.OpUpdate, "customers", ids[5], w.version("customers", ids[5]), map[string]any{"voltage_kv": 110, "tags": []string{"保供民生"}}))
	for _, b := range billIDs[ids[9]] {
		w.apply(w.cmd(crm.OpDelete, "bills", b, w.version("bills", b), nil))
	}
	w.apply(w.cmd(crm.OpDelete, "customers", ids[9], w.version("customers", ids[9]), nil))
	w.apply(w.cmd(crm.OpCreate, "bills", "", 0, map[string]any{"customer_id": ids[11], "period": "2024-02", "kwh": 2_500_000, "billed": 1_700_000.55, "paid": 0}))

	for _, st := range []struct {
		name    string
		r       crm.Reader
		region  string
		subtree bool
	}{{"county", w.county, cardCounty, false}, {"province", w.province, "32", true}, {"city subtree", w.province, "3207", true}} {
		if !bigcustomer.CardsCover(st.r, st.region, st.subtree) {
			t.Fatalf("%s: the cards do not cover the customers (the reads would not use them)", st.name)
		}
		for _, day := range []crm.Date{"2026-01-15", "2025-08-01", "2025-03-31"} {
			for _, q := range []bigcustomer.ClassQuery{{}, {Class: "big"}, {Grade: "core"}, {Class: "ordinary", Grade: "general"}, {Limit: 7}, {Class: "big", Limit: 3}} {
				q.Region, q.Subtree, q.Day = st.region, st.subtree, day
				got, e1 := bigcustomer.ClassifyRegion(st.r, q)
				lim := q.Limit
				q.Limit = 0
				want, e2 := bigcustomer.ClassifyRegionFromRecords(st.r, q)
				if e1 != nil || e2 != nil {
					t.Fatalf("%s %+v: %v / %v", st.name, q, e1, e2)
				}
				if lim > 0 && len(want.Items) > lim {
					want.Items = want.Items[:lim]
				}
				if len(want.Items) == 0 || want.Matched == 0 {
					t.Fatalf("%s %+v: the records give no item: a test of nothing", st.name, q)
				}
				if !reflect.DeepEqual(got, want) {
					g, _ := json.Marshal(got)
					wn, _ := json.Marshal(want)
					t.Errorf("%s %s %+v (limit %d): from the cards\n%.600s\nfrom the records\n%.600s", st.name, day, q, lim, g, wn)
				}
			}
			if !st.subtree || st.name == "province" { // a customer's comparison with its class, in its own region
				for i := 0; i < len(ids); i += 57 {
					if i == 9 {
						continue // deleted
					}
					got, e1 := bigcustomer.Consumption(st.r, ids[i], day)
					want, e2 := bigcustomer.ConsumptionFromRecords(st.r, ids[i], day)
					if e1 != nil || e2 != nil {
						t.Fatalf("consumption of %s: %v / %v", ids[i], e1, e2)
					}
					if !reflect.DeepEqual(got, want) || want.Compared.Peers == 0 {
						t.Errorf("%s %s: consumption of %s from the cards %+v; from the records %+v", st.name, day, ids[i], got.Compared, want.Compared)
					}
				}
			}
			got, e1 := bigcustomer.Pareto(st.r, st.region, st.subtree, day, 10)
			want, e2 := bigcustomer.ParetoFromRecords(st.r, st.region, st.subtree, day, 10)
			if e1 != nil || e2 != nil {
				t.Fatalf("pareto: %v / %v", e1, e2)
			}
			if !reflect.DeepEqual(got, want) || want.KWh.Customers == 0 {
				t.Errorf("%s %s: pareto from the cards %+v; from the records %+v", st.name, day, got, want)
			}
		}
	}
}

// TestCards_MemoFollowsChanges: a read served from the memo of a region's
// cards sees the next change of a bill and of a customer.
func TestCards_MemoFollowsChanges(t *testing.T) {
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	ids := w.importRows("customers", []any{
		map[string]any{"account_no": "3207220000001", "name": "甲", "category": "industrial", "voltage_kv": 10, "capacity_kva": 800, "region": cardCounty},
		map[string]any{"account_no": "3207220000002", "name": "乙", "category": "industrial", "voltage_kv": 10, "capacity_kva": 800, "region": cardCounty},
	})
	bills := w.importRows("bills", []any{map[string]any{"customer_id": ids[1], "period": "2025-10", "kwh": 2_000_000, "billed": 10}})
	big := func(r crm.Reader, region string) []string {
		t.Helper()
		if !bigcustomer.CardsCover(r, region, true) {
			t.Fatalf("the cards of %s do not cover its customers (the reads would not use them)", region)
		}
		rep, e := bigcustomer.ClassifyRegion(r, bigcustomer.ClassQuery{Region: region, Subtree: true, Day: "2026-01-15", Class: "big"})
		if e != nil {
			t.Fatal(e)
		}
		var out []string
		for _, it := range rep.Items {
			out = append(out, it.CustomerID)
		}
		// The Pareto report, kept while the cards are unchanged, too.
		got, e1 := bigcustomer.Pareto(r, region, true, "2026-01-15", 5)
		want, e2 := bigcustomer.ParetoFromRecords(r, region, true, "2026-01-15", 5)
		if e1 != nil || e2 != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("pareto of %s from the cards %+v (%v); from the records %+v (%v)", region, got, e1, want, e2)
		}
		return out
	}
	if n, err := bigcustomer.WarmClassMemos(w.province, "32", "2026-01-15"); err != nil || n != 2 {
		t.Fatalf("warming the province's memos: %d customers, %v; want 2", n, err)
	}
	for i := 0; i < 2; i++ { // from the memo warmed above
		if got := big(w.province, "32"); !reflect.DeepEqual(got, []string{ids[1]}) {
			t.Fatalf("big customers %v; want %v", got, ids[1:])
		}
	}
	w.apply(w.cmd(crm.OpUpdate, "bills", bills[0], w.version("bills", bills[0]), map[string]any{"kwh": 20, "kwh_peak": 20, "billed": 10}))
	if got := big(w.province, "32"); len(got) != 0 {
		t.Fatalf("after the bill fell to 20 kWh: big customers %v; want none", got)
	}
	w.apply(w.cmd(crm.OpUpdate, "customers", ids[0], w.version("customers", ids[0]), map[string]any{"voltage_kv": 35}))
	if got := big(w.county, cardCounty); !reflect.DeepEqual(got, []string{ids[0]}) {
		t.Fatalf("after the customer moved to 35 kV: big customers %v; want %v", got, ids[:1])
	}
	if got := big(w.province, "32"); !reflect.DeepEqual(got, []string{ids[0]}) {
		t.Fatalf("at the province, after the customer moved to 35 kV: big customers %v; want %v", got, ids[:1])
	}
}

// TestCards_OldStoreReadsRecords: a store whose customers have no cards
// (written before cards were kept) is answered from the records.
func TestCards_OldStoreReadsRecords(t *testing.T) {
	w := &cardWorld{t: t, county: crm.NewMemTxn(), province: crm.NewMemTxn()}
	ids := w.importRows("customers", []any{
		map[string]any{"account_no": "3207220000001", "name": "甲", "category": "industrial", "voltage_kv": 35, "capacity_kva": 800, "region": cardCounty},
		map[string]any{"account_no": "3207220000002", "name": "乙", "category": "industrial", "voltage_kv": 10, "capacity_kva": 800, "region": cardCounty},
	})
	w.importRows("bills", []any{map[string]any{"customer_id": ids[1], "period": "2025-10", "kwh": 2_000_000, "billed": 10}})
	// Drop one card, as a store of the previous version lacks them.
	if err := w.county.Delete([]byte(keyspace.Card(cardCounty, ids[0]))); err != nil {
		t.Fatal(err)
	}
	if bigcustomer.CardsCover(w.county, cardCounty, false) {
		t.Fatal("the cards cover the county with a card missing")
	}
	rep, e := bigcustomer.ClassifyRegion(w.county, bigcustomer.ClassQuery{Region: cardCounty, Day: "2026-01-15", Class: "big"})
	if e != nil {
		t.Fatal(e)
	}
	if rep.Matched != 2 {
		t.Errorf("matched %d big customers; want both (35 kV, and 2 GWh)", rep.Matched)
	}
}
