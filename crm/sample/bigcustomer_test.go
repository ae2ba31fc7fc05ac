package sample_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// TestBigCustomer_RecordsValidate: every generated big-customer record
// passes its own validation (the demo imports them through the API).
func TestBigCustomer_RecordsValidate(t *testing.T) {
	id := func(p string, i int) string { return crm.NewID(p, time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)) }
	st := sample.BigStaff{Supervisor: id("stf", 0), Managers: []string{id("stf", 1), id("stf", 2)}, Gold: []string{id("stf", 3), id("stf", 4)}, BackOffice: []string{id("stf", 5), id("stf", 6), id("stf", 7)}}
	var cands []sample.PoolCandidate
	for i := range 40 {
		cands = append(cands, sample.PoolCandidate{ID: id("cus", 10+i), Name: fmt.Sprintf("企业%d", i), Category: crm.CategoryIndustrial,
			VoltageKV: 10, AnnualKWh: float64(1e5 * (i + 1)), ContactID: id("con", 100+i)})
	}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var recs []crm.Record
	for _, r := range sample.BackofficeTeams("320722", st) {
		recs = append(recs, &r)
	}
	pool := sample.PoolEntries(1, cands, st, day, 20)
	admitted := 0
	for _, r := range pool {
		recs = append(recs, &r)
		if r.Status == "admitted" {
			admitted++
		}
	}
	if admitted != 20 || len(pool) != 22 {
		t.Errorf("pool: %d entries, %d admitted; want 22 and 20", len(pool), admitted)
	}
	projects := sample.KeyProjects(1, "320722", cands, day, 6)
	var pids, cids []string
	for i, p := range projects {
		recs = append(recs, &p)
		pids, cids = append(pids, id("kpj", 200+i)), append(cids, p.CustomerID)
		plan := sample.ServicePlan(p.CustomerID, pids[i], st, day)
		memo := sample.ServiceMemo(p.CustomerID, pids[i], p.CapacityKVA, 110, day)
		recs = append(recs, &plan, &memo)
	}
	for _, g := range sample.GoldAssignments(pids, cids, st, day) {
		recs = append(recs, &g)
	}
	for _, q := range sample.ServiceRequests(1, cids, st.Managers) {
		recs = append(recs, &q)
	}
	for _, v := range sample.VIPServices(1, cids, st.Managers, day) {
		recs = append(recs, &v)
	}
	for i, r := range recs {
		// Round-trip through JSON as the API does, then normalise and validate.
		raw, _ := json.Marshal(r)
		fresh := crm.Kinds[kindOf(r)].New()
		if err := json.Unmarshal(raw, fresh); err != nil {
			t.Fatal(err)
		}
		fresh.Normalize()
		if e := fresh.Validate(); e != nil {
			t.Errorf("record %d (%s): %v\n%s", i, kindOf(r), e, raw)
		}
	}
}

func kindOf(r crm.Record) string {
	switch r.(type) {
	case *bigcustomer.BackofficeTeam:
		return "backoffice_teams"
	case *bigcustomer.PoolEntry:
		return "pool_entries"
	case *bigcustomer.KeyProject:
		return "key_projects"
	case *bigcustomer.ServicePlan:
		return "service_plans"
	case *bigcustomer.ServiceMemo:
		return "service_memos"
	case *bigcustomer.GoldAssignment:
		return "gold_assignments"
	case *bigcustomer.ServiceRequest:
		return "service_requests"
	case *bigcustomer.VIPService:
		return "vip_services"
	}
	return ""
}

// sortedReader is a read-only snapshot of a MemTxn with ordered iteration
// by binary search, close to what a Pebble iterator costs per key.
type sortedReader struct {
	keys []string
	m    map[string][]byte
}

func snapshotOf(tx *crm.MemTxn) *sortedReader {
	r := &sortedReader{m: map[string][]byte{}}
	_ = tx.Iterate([]byte{0}, nil, func(k, v []byte) bool {
		r.keys = append(r.keys, string(k))
		r.m[string(k)] = v
		return true
	})
	return r
}

func (r *sortedReader) Get(k []byte) ([]byte, error) { return r.m[string(k)], nil }

func (r *sortedReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	i := sort.SearchStrings(r.keys, string(lower))
	for ; i < len(r.keys) && (upper == nil || r.keys[i] < string(upper)); i++ {
		if !fn([]byte(r.keys[i]), r.m[r.keys[i]]) {
			break
		}
	}
	return nil
}

// BenchmarkClassifyRegion is the cost of computing classes on read: one
// county of 5,000 customers with 12 months of bills each, all classified.
func BenchmarkClassifyRegion(b *testing.B) {
	const region = "320723"
	d := sample.Generate(sample.Options{Region: region, Customers: 5000, Months: 12, Seed: 3})
	tx := crm.NewMemTxn()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	n := 0
	importRows := func(coll, prefix string, rows []any) []string {
		var ids []string
		for lo := 0; lo < len(rows); lo += crm.MaxImportRows {
			hi := min(lo+crm.MaxImportRows, len(rows))
			cmd := &crm.Command{Op: crm.OpImport, Collection: coll, Region: region, Actor: "bench", Time: now}
			for _, r := range rows[lo:hi] {
				n++
				id := crm.NewID(prefix, now.Add(time.Duration(n)*time.Millisecond))
				raw, _ := json.Marshal(r)
				cmd.IDs, cmd.Rows = append(cmd.IDs, id), append(cmd.Rows, raw)
			}
			if res := crm.Apply(tx, cmd); res.Err != nil {
				b.Fatalf("import %s: %v", coll, res.Err)
			}
			ids = append(ids, cmd.IDs...)
		}
		return ids
	}
	var rows []any
	for i := range d.Customers {
		rows = append(rows, &d.Customers[i])
	}
	ids := importRows("customers", "cus", rows)
	rows = rows[:0]
	for i := range d.Bills {
		for j := range d.Bills[i] {
			d.Bills[i][j].CustomerID = ids[i]
			rows = append(rows, &d.Bills[i][j])
		}
	}
	importRows("bills", "bil", rows)
	r := snapshotOf(tx)
	b.ResetTimer()
	for b.Loop() {
		rep, e := bigcustomer.ClassifyRegion(r, bigcustomer.ClassQuery{Region: region, Day: "2026-01-15", Class: "big"})
		if e != nil || rep.Counts["big"]["general"]+rep.Counts["big"]["key"]+rep.Counts["big"]["core"] == 0 {
			b.Fatalf("%v %+v", e, rep.Counts)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5000, "ns/customer")
}
