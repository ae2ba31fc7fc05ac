package demo

import (
	"context"
	"fmt"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/sample"
)

// loadSample generates a region's data and imports it through the API.
func loadSample(ctx context.Context, cl *Client, region, name string, customers, months int) (string, error) {
	end := time.Now().UTC().AddDate(0, -1, 0)
	data := sample.Generate(sample.Options{Region: region, RegionName: name, Customers: customers, Months: months, End: lastMonth(), Seed: 20261125})
	sample.AssignFeeders(data.Customers, region) // outages find their customers by feeder (process.go)
	ids, err := cl.ImportAll(ctx, "customers", toAny(data.Customers))
	if err != nil {
		return "", err
	}
	var bills, contacts, changes []any
	for i, id := range ids {
		for _, b := range data.Bills[i] {
			b.CustomerID = id
			bills = append(bills, b)
		}
		for _, c := range data.Contacts[i] {
			c.CustomerID = id
			contacts = append(contacts, c)
		}
		for _, c := range data.CapacityChanges[i] { // a leaving customer's 减容: the churn risk reads it
			c.CustomerID = id
			changes = append(changes, c)
		}
	}
	if _, err := cl.ImportAll(ctx, "bills", bills); err != nil {
		return "", err
	}
	if _, err := cl.ImportAll(ctx, "contacts", contacts); err != nil {
		return "", err
	}
	if _, err := cl.ImportAll(ctx, "capacity_changes", changes); err != nil {
		return "", err
	}
	staffIDs, err := cl.ImportAll(ctx, "staff", toAny(data.Staff))
	if err != nil {
		return "", err
	}
	// A visit or call for every non-residential customer, by an account manager.
	var visits []any
	kinds := []string{"visit", "call", "meeting"}
	for i, c := range data.Customers {
		if c.Category == crm.CategoryResidential || len(staffIDs) == 0 {
			continue
		}
		visits = append(visits, crm.Interaction{CustomerID: ids[i], StaffID: staffIDs[i%len(staffIDs)], Kind: kinds[i%3],
			At: end.AddDate(0, 0, -(i % 60)), Summary: "走访了解用电需求与电费缴纳情况", Outcome: "客户用电正常，无新增诉求"})
	}
	if _, err := cl.ImportAll(ctx, "interactions", visits); err != nil {
		return "", err
	}
	procs, err := loadProcesses(ctx, cl, region, data.Customers, ids, staffIDs) // process.go
	if err != nil {
		return "", fmt.Errorf("processes: %w", err)
	}
	return fmt.Sprintf("%d customers, %d bills, %d contacts, %d capacity changes, %d staff, %d interactions, %s", len(ids), len(bills), len(contacts), len(changes), len(staffIDs), len(visits), procs), nil
}

// lastMonth is the first day of the month before the current one: the
// last billed month (time.Now().AddDate(0, -1, 0) is the current month
// again on the 31st of a month after a short one).
func lastMonth() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
}

// runAnalytics runs the credit grades and then the consumption warnings of
// the last billed month at a county (the routes the leader's monthly
// schedule runs from the 5th; each run is recorded, so the schedule skips
// the month), so the analytics lists show the generated credit, churn and
// anomaly processes (crm/sample Traits) as soon as the demo is up.
func runAnalytics(ctx context.Context, cl *Client) (string, error) {
	period := map[string]string{"period": lastMonth().Format("2006-01")}
	var g struct {
		Graded  int            `json:"graded"`
		ByGrade map[string]int `json:"by_grade"`
	}
	if err := cl.Do(ctx, "POST", "/api/v1/credit/grades/run", period, &g); err != nil {
		return "", fmt.Errorf("credit grades: %w", err)
	}
	var w struct {
		Abnormal int            `json:"abnormal"`
		Churn    int            `json:"churn"`
		ByReason map[string]int `json:"by_reason"`
	}
	if err := cl.Do(ctx, "POST", "/api/v1/warnings/run", period, &w); err != nil {
		return "", fmt.Errorf("warnings: %w", err)
	}
	return fmt.Sprintf("%s graded %d (A %d, B %d, C %d), %d abnormal %v, %d churn risks", period["period"], g.Graded,
		g.ByGrade["A"], g.ByGrade["B"], g.ByGrade["C"], w.Abnormal, w.ByReason, w.Churn), nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
