package records_test

import (
	"slices"
	"testing"

	"gridcrm/analytics/records"
	_ "gridcrm/bigcustomer"
	"gridcrm/crm"
	_ "gridcrm/process"
)

// TestRecords_Registered: the analytics' kinds are registered under
// Programme "analytics", in the order of Collections, and come last in
// crm.Collections, after the process and big-customer programmes'.
func TestRecords_Registered(t *testing.T) {
	for _, name := range records.Collections {
		k := crm.Kinds[name]
		if k == nil || k.Programme != "analytics" {
			t.Fatalf("kind %s: %+v, want one registered with Programme analytics", name, k)
		}
	}
	all := crm.Collections()
	if got := all[len(all)-len(records.Collections):]; !slices.Equal(got, records.Collections) {
		t.Errorf("crm.Collections() ends with %q, want %q", got, records.Collections)
	}
}
