package crm_test

import (
	"slices"
	"testing"

	_ "gridcrm/analytics/records" // registers its kinds, as api does
	_ "gridcrm/bigcustomer"       // registers its kinds, as node does
	"gridcrm/crm"
	_ "gridcrm/process" // registers its kinds, as node does
)

// TestCollections_Order pins the order of the collections: crm's core
// records, package process's, package bigcustomer's, package
// analytics/records'. It
// decides the order of whatever is listed or copied by collection
// (exports, the OpenAPI document, management grants), and it must not
// follow the order Go initialises the programmes' packages in (by import
// path: bigcustomer before process).
func TestCollections_Order(t *testing.T) {
	want := []string{
		"customers", "bills", "staff", "contacts", "interactions", "violations", "capacity_changes", "directives", "users",
		"projects", "work_orders", "outages",
		"key_projects", "gold_assignments", "service_plans", "service_memos", "bulletins",
		"backoffice_teams", "service_requests", "pool_entries", "grid_plans", "vip_services",
		"credit_grades", "warning_acks", "consumption_warnings", "analytics_runs", "customer_trends",
	}
	if got := crm.Collections(); !slices.Equal(got, want) {
		t.Errorf("Collections() =\n%q\nwant\n%q", got, want)
	}
	managed := slices.DeleteFunc(slices.Clone(want), func(c string) bool { return c == "directives" || c == "users" })
	if got := crm.ManagedCollections(); !slices.Equal(got, managed) {
		t.Errorf("ManagedCollections() =\n%q\nwant\n%q", got, managed)
	}
}
