package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// loadProcesses writes a county's connection projects, work orders and
// outages (crm/sample GenerateProcesses) through the API: each record is
// created, then its stage actions or transitions are applied in order,
// carrying the version each answer returns. Some items are left overdue on
// purpose, so the supervision lists and KPIs have something to show.
func loadProcesses(ctx context.Context, cl *Client, region string, customers []crm.Customer, ids, staffIDs []string) (string, error) {
	cs := make([]crm.Customer, len(customers))
	copy(cs, customers)
	for i := range cs {
		cs[i].ID = ids[i]
	}
	plan := sample.GenerateProcesses(sample.ProcessOptions{Region: region, Customers: cs, StaffIDs: staffIDs, Now: time.Now(), Seed: 20261125})
	type rec struct {
		ID      string `json:"id"`
		Version uint64 `json:"version"`
	}
	act := func(path string, r *rec, step any) error {
		var body map[string]any
		raw, _ := json.Marshal(step)
		_ = json.Unmarshal(raw, &body)
		body["version"] = r.Version
		return cl.Do(ctx, "POST", path+"/"+r.ID+"/"+map[bool]string{true: "stage", false: "transition"}[path == "/api/v1/projects"], body, r)
	}
	for _, p := range plan.Projects {
		var r rec
		if err := cl.Do(ctx, "POST", "/api/v1/projects", p.Project, &r); err != nil {
			return "", err
		}
		for _, s := range p.Steps {
			if err := act("/api/v1/projects", &r, s); err != nil {
				return "", err
			}
		}
	}
	for _, o := range plan.Orders {
		var r rec
		if err := cl.Do(ctx, "POST", "/api/v1/work_orders", o.Order, &r); err != nil {
			return "", err
		}
		for _, s := range o.Steps {
			if err := act("/api/v1/work_orders", &r, s); err != nil {
				return "", err
			}
		}
	}
	for _, o := range plan.Outages {
		if err := cl.Do(ctx, "POST", "/api/v1/outages", o, nil); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d projects, %d work orders, %d outages", len(plan.Projects), len(plan.Orders), len(plan.Outages)), nil
}
