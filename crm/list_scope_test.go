package crm_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestList_SubtreeWithIndexedFilter: a subtree list filtered on an indexed
// field answers every matching record of the subtree once, over pages,
// whether the replica holds only that subtree (the field's index is walked:
// id order) or more (the owner index is walked: owner, then id order).
func TestList_SubtreeWithIndexedFilter(t *testing.T) {
	tx := crm.NewMemTxn()
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	n := 0
	add := func(region string, count int) {
		for i := 0; i < count; i++ {
			n++
			cat := []string{"industrial", "residential", "commercial", "industrial", "commercial"}[n%5]
			body, _ := json.Marshal(map[string]any{"account_no": fmt.Sprintf("%s%07d", region, n), "name": fmt.Sprintf("户%d", n), "category": cat,
				"voltage_kv": 10, "capacity_kva": 100, "region": region, "status": []string{"active", "suspended"}[n%2]})
			crmtest.MustApply(t, tx, &crm.Command{Op: crm.OpCreate, Collection: "customers", ID: crm.NewID("cus", at.Add(time.Duration(n)*time.Millisecond)),
				Region: region, Actor: "test", Time: at, Body: body})
		}
	}
	for i := 0; i < 20; i++ { // interleaved, so id order is not owner order
		add("320722", 2)
		add("320723", 1)
	}
	expect := func(owner string, filters map[string]string) []string {
		var out []string
		_ = tx.Iterate([]byte("r/customers/"), []byte("r/customers0"), func(_, v []byte) bool {
			var c crm.Customer
			_ = json.Unmarshal(v, &c)
			if crm.InRegion(c.Owner, owner) && c.Category == filters["category"] && (filters["status"] == "" || c.Status == filters["status"]) {
				out = append(out, c.ID)
			}
			return true
		})
		slices.Sort(out)
		return out
	}
	list := func(owner string, filters map[string]string) (ids []string, idOrder bool) {
		q := crm.Query{Owner: owner, Subtree: true, Filters: filters, Limit: 4}
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("no end of pages")
			}
			page, e := crm.List(tx, "customers", q)
			if e != nil {
				t.Fatal(e)
			}
			for _, raw := range page.Items {
				var m crm.Meta
				_ = json.Unmarshal(raw, &m)
				ids = append(ids, m.ID)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		return ids, slices.IsSorted(ids)
	}
	for _, tc := range []struct {
		owner   string
		filters map[string]string
		idOrder bool // the field's index walked
	}{
		{"32", map[string]string{"category": "industrial"}, true},
		{"3207", map[string]string{"category": "commercial", "status": "active"}, true},
		{"320722", map[string]string{"category": "industrial"}, false}, // 320723 is held too: the owner index
		{"320723", map[string]string{"category": "industrial"}, false}, // and 320722
	} {
		got, idOrder := list(tc.owner, tc.filters)
		want := expect(tc.owner, tc.filters)
		sorted := slices.Sorted(slices.Values(got))
		if len(want) == 0 || !slices.Equal(sorted, want) {
			t.Errorf("%s %v: listed %d %v; want %d %v", tc.owner, tc.filters, len(got), got, len(want), want)
		}
		if tc.idOrder && !idOrder {
			t.Errorf("%s %v: not in id order (the field's index was not walked): %v", tc.owner, tc.filters, got)
		}
	}
	// A record of another city arrives: 3207's subtree no longer holds
	// everything, and its list still holds only its own.
	add("320803", 3)
	got, _ := list("3207", map[string]string{"category": "industrial"})
	if want := expect("3207", map[string]string{"category": "industrial"}); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("3207 with 320803 held: listed %v; want %v", got, want)
	}
}
