package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/bigcustomer/grid"
	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// loadBigCustomer adds big-customer management data to a loaded county
// through its API: back-office teams, the managed pool, key projects with
// the "four ones" (gold managers, service plans and memos), service
// requests, VIP services, a grid division of the pool and last month's
// work bulletin.
func loadBigCustomer(ctx context.Context, cl *Client, region string, log io.Writer) error {
	day := time.Now().UTC()
	var st sample.BigStaff
	var staff []crm.Staff
	if err := listAll(ctx, cl, "/api/v1/staff", &staff); err != nil {
		return err
	}
	for _, s := range staff {
		switch s.Role {
		case "supervisor":
			st.Supervisor = s.ID
		case "account_manager":
			st.Managers = append(st.Managers, s.ID)
		case "gold_manager":
			st.Gold = append(st.Gold, s.ID)
		case "back_office":
			st.BackOffice = append(st.BackOffice, s.ID)
		}
	}
	if st.Supervisor == "" || len(st.Managers) == 0 {
		return fmt.Errorf("demo: region %s has no supervisor or account managers", region)
	}
	var custs []crm.Customer
	if err := listAll(ctx, cl, "/api/v1/customers", &custs); err != nil {
		return err
	}
	var contacts []crm.Contact
	if err := listAll(ctx, cl, "/api/v1/contacts", &contacts); err != nil {
		return err
	}
	contactOf := map[string]string{}
	for _, c := range contacts {
		if contactOf[c.CustomerID] == "" {
			contactOf[c.CustomerID] = c.ID
		}
	}
	var classes struct {
		Items []bigcustomer.Classification `json:"items"`
	}
	if err := cl.Do(ctx, "GET", "/api/v1/classification?limit=1000", nil, &classes); err != nil {
		return err
	}
	kwh := map[string]float64{}
	for _, it := range classes.Items {
		kwh[it.CustomerID] = it.Figures.AnnualKWh
	}
	var cands []sample.PoolCandidate
	for _, c := range custs {
		cands = append(cands, sample.PoolCandidate{ID: c.ID, Name: c.Name, Category: c.Category, VoltageKV: c.VoltageKV, Tags: c.Tags, AnnualKWh: kwh[c.ID], ContactID: contactOf[c.ID]})
	}

	if _, err := cl.ImportAll(ctx, "backoffice_teams", toAny(sample.BackofficeTeams(region, st))); err != nil {
		return err
	}
	pool := sample.PoolEntries(20261125, cands, st, day, 80)
	if _, err := cl.ImportAll(ctx, "pool_entries", toAny(pool)); err != nil {
		return err
	}
	projects := sample.KeyProjects(20261125, region, cands, day, 6)
	pids, err := cl.ImportAll(ctx, "key_projects", toAny(projects))
	if err != nil {
		return err
	}
	var cids []string
	var plans []bigcustomer.ServicePlan
	var memos []bigcustomer.ServiceMemo
	for i, p := range projects {
		cids = append(cids, p.CustomerID)
		plans = append(plans, sample.ServicePlan(p.CustomerID, pids[i], st, day))
		memos = append(memos, sample.ServiceMemo(p.CustomerID, pids[i], p.CapacityKVA, 110, day))
	}
	for coll, rows := range map[string][]any{
		"gold_assignments": toAny(sample.GoldAssignments(pids, cids, st, day)),
		"service_plans":    toAny(plans), "service_memos": toAny(memos),
	} {
		if _, err := cl.ImportAll(ctx, coll, rows); err != nil {
			return err
		}
	}
	var admitted []string
	for _, p := range pool {
		if p.Status == "admitted" {
			admitted = append(admitted, p.CustomerID)
		}
	}
	n := min(20, len(admitted))
	if _, err := cl.ImportAll(ctx, "service_requests", toAny(sample.ServiceRequests(20261125, admitted[:n], st.Managers))); err != nil {
		return err
	}
	if err := loadVIPServices(ctx, cl, sample.VIPServices(20261125, admitted[:min(15, n)], st.Managers, day)); err != nil {
		return err
	}
	k := cellsFor(admitted, kwh, len(st.Managers))
	var div struct {
		Stats      map[string]any `json:"stats"`
		RoundRobin map[string]any `json:"round_robin"`
	}
	if err := cl.Do(ctx, "POST", "/api/v1/grid_plans/divide", map[string]any{"k": k, "managers": st.Managers[:k], "save": true}, &div); err != nil {
		return err
	}
	period := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	var b bigcustomer.Bulletin
	if err := cl.Do(ctx, "POST", "/api/v1/bulletins/generate", map[string]any{"period": period}, &b); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s big customers: %d in the pool, %d grid cells (kWh deviation %.2f%%, count %.2f%%; round-robin %.2f%%, %.2f%%), %d key projects, bulletin %s with %d overdue stages\n",
		region, len(admitted), k, 100*num(div.Stats["max_kwh_deviation"]), 100*num(div.Stats["max_count_deviation"]),
		100*num(div.RoundRobin["max_kwh_deviation"]), 100*num(div.RoundRobin["max_count_deviation"]), len(pids), period, b.OverdueStages)
	return nil
}

// loadVIPServices creates the services as planned or confirmed (where a
// service's life starts) and walks the others through their legal
// transitions to the state the sample gives them.
func loadVIPServices(ctx context.Context, cl *Client, svcs []bigcustomer.VIPService) error {
	target := make([]bigcustomer.VIPService, len(svcs))
	copy(target, svcs)
	for i := range svcs {
		if s := svcs[i].Status; s != "planned" {
			svcs[i].Status, svcs[i].DoneOn = "confirmed", ""
		}
	}
	ids, err := cl.ImportAll(ctx, "vip_services", toAny(svcs))
	if err != nil {
		return err
	}
	for i, want := range target {
		steps := map[string][]map[string]any{
			"in_progress": {{"status": "in_progress"}},
			"done":        {{"status": "in_progress"}, {"status": "done", "done_on": want.DoneOn}},
		}[want.Status]
		for v, step := range steps {
			step["version"] = v + 1
			if err := cl.Do(ctx, "PATCH", "/api/v1/vip_services/"+ids[i], step, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// cellsFor picks the most cells (at most one per account manager) whose
// balanced division keeps kWh within ±5% of the mean; a pool shaped by the
// 20/80 rule allows few cells, since one big customer can outweigh a cell.
func cellsFor(ids []string, kwh map[string]float64, managers int) int {
	items := make([]grid.Item, len(ids))
	for i, id := range ids {
		items[i] = grid.Item{ID: id, Weight: kwh[id]}
	}
	best, bestDev := 1, math.Inf(1)
	for k := min(managers, len(items)); k >= 2; k-- {
		d, err := grid.Divide(items, k)
		if err != nil {
			continue
		}
		dev := grid.Measure(items, d).MaxWeightDev
		if dev <= 0.05 {
			return k
		}
		if dev < bestDev {
			best, bestDev = k, dev
		}
	}
	return best
}

func num(v any) float64 { f, _ := v.(float64); return f }

// listAll pages through a collection of the node's own region.
func listAll[T any](ctx context.Context, cl *Client, path string, out *[]T) error {
	after := ""
	for {
		var page struct {
			Items []T    `json:"items"`
			Next  string `json:"next"`
		}
		p := path + "?limit=1000"
		if after != "" {
			p += "&after=" + url.QueryEscape(after)
		}
		if err := cl.Do(ctx, "GET", p, nil, &page); err != nil {
			return err
		}
		*out = append(*out, page.Items...)
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// loadBigCustomerDirectives writes city 3207's class thresholds (more
// specific than the province's, so they win in its counties) from the
// start of the year.
func loadBigCustomerDirectives(ctx context.Context, cl map[string]*Client) error {
	body := map[string]any{"kind": "class_thresholds", "title": "连云港市大客户分级标准", "scope": "3207",
		"effective_from": time.Now().UTC().Format("2006") + "-01-01",
		"body": json.RawMessage(`{"annual_kwh": 800000, "monthly_bill": 80000, "voltage_kv": 35, "tags": ["政府重点工程", "保供民生"],
			"grades": {"core": {"annual_kwh": 8000000, "voltage_kv": 110, "tags": ["政府重点工程"]}, "key": {"annual_kwh": 2000000, "monthly_bill": 150000, "tags": ["保供民生"]}}}`)}
	if err := cl["3207"].Do(ctx, "POST", "/api/v1/directives", body, nil); err != nil {
		return fmt.Errorf("demo: class thresholds at 3207: %w", err)
	}
	return nil
}
