package sample_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
	case *crm.BackofficeTeam:
		return "backoffice_teams"
	case *crm.PoolEntry:
		return "pool_entries"
	case *crm.KeyProject:
		return "key_projects"
	case *crm.ServicePlan:
		return "service_plans"
	case *crm.ServiceMemo:
		return "service_memos"
	case *crm.GoldAssignment:
		return "gold_assignments"
	case *crm.ServiceRequest:
		return "service_requests"
	case *crm.VIPService:
		return "vip_services"
	}
	return ""
}
