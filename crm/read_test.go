package crm_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// listFixture holds 237 customers: in county unless i%3 == 0 (other); the
// category cycles through all five; voltage is 35 kV when i%4 == 0, else 10.
func listFixture(t *testing.T) (*crm.MemTxn, []string) {
	t.Helper()
	tx := crm.NewMemTxn()
	var g crmtest.IDGen
	var ids []string
	for i := range 237 {
		region := county
		if i%3 == 0 {
			region = other
		}
		v := 10
		if i%4 == 0 {
			v = 35
		}
		id := g.Next("cus")
		ids = append(ids, id)
		body := crmtest.CustomerBody(fmt.Sprintf("L-%03d", i), region).With("category", crm.Categories[i%5], "voltage_kv", v,
			"tags", []string{fmt.Sprintf("t%d", i%2)})
		crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, region, 0, body))
	}
	return tx, ids
}

// want answers the fixture ids whose index satisfies keep, in order.
func want(ids []string, keep func(i int) bool) []string {
	var out []string
	for i, id := range ids {
		if keep(i) {
			out = append(out, id)
		}
	}
	return out
}

func TestList_Pagination(t *testing.T) {
	tx, ids := listFixture(t)
	for _, tc := range []struct {
		name    string
		filters map[string]string
		want    []string
	}{
		{"no filter", nil, ids},
		{"index filter", map[string]string{"status": "active"}, ids},
		{"residual filter only", map[string]string{"name": "Xuzhou Steel L-100"}, ids[100:101]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			q := crm.Query{Filters: tc.filters, Limit: 50}
			pages := 0
			for {
				p, err := crm.List(tx, "customers", q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(p.Items) > 50 {
					t.Fatalf("page of %d items", len(p.Items))
				}
				for _, raw := range p.Items {
					got = append(got, crmtest.Decode[crm.Meta](t, raw).ID)
				}
				if p.Next == "" {
					break
				}
				if p.Next != got[len(got)-1] {
					t.Fatalf("next = %s; want the last id of the page", p.Next)
				}
				q.After = p.Next
				if pages > 10 {
					t.Fatal("too many pages")
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("visited %d ids; want %d in id order", len(got), len(tc.want))
			}
			if wantPages := max(1, (len(tc.want)+49)/50); pages != wantPages {
				t.Errorf("%d pages; want %d", pages, wantPages)
			}
		})
	}
}

func TestList_ExactPageHasNoNext(t *testing.T) {
	tx, ids := listFixture(t)
	p, err := crm.List(tx, "customers", crm.Query{After: ids[186], Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 50 || p.Next != "" {
		t.Errorf("last full page: %d items, next %q; want 50 and none", len(p.Items), p.Next)
	}
	p, err = crm.List(tx, "customers", crm.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != crm.DefaultLimit || p.Next == "" {
		t.Errorf("default limit: %d items, next %q", len(p.Items), p.Next)
	}
	p, err = crm.List(tx, "customers", crm.Query{After: ids[236]})
	if err != nil || len(p.Items) != 0 || p.Next != "" || p.Items == nil {
		t.Errorf("after the last id: %+v, %v; want an empty non-nil page", p, err)
	}
}

func TestList_Filters(t *testing.T) {
	tx, ids := listFixture(t)
	inCounty := func(i int) bool { return i%3 != 0 }
	for _, tc := range []struct {
		name    string
		filters map[string]string
		want    []string
	}{
		{"region", map[string]string{"region": county}, want(ids, inCounty)},
		{"region other", map[string]string{"region": other}, want(ids, func(i int) bool { return !inCounty(i) })},
		{"region prefix is not a match", map[string]string{"region": "3207"}, nil},
		{"category", map[string]string{"category": "commercial"}, want(ids, func(i int) bool { return i%5 == 1 })},
		{"account_no", map[string]string{"account_no": "L-042"}, ids[42:43]},
		{"region and category", map[string]string{"region": county, "category": "public"},
			want(ids, func(i int) bool { return inCounty(i) && i%5 == 4 })},
		{"category and voltage", map[string]string{"category": "industrial", "voltage_kv": "35"},
			want(ids, func(i int) bool { return i%5 == 2 && i%4 == 0 })},
		{"region and tag", map[string]string{"region": other, "tags": "t1"},
			want(ids, func(i int) bool { return !inCounty(i) && i%2 == 1 })},
		{"residual only, two fields", map[string]string{"voltage_kv": "35.0", "capacity_kva": "800"},
			want(ids, func(i int) bool { return i%4 == 0 })},
		{"no match", map[string]string{"category": "residential", "voltage_kv": "500"}, nil},
		{"absent optional field equals empty", map[string]string{"region": county, "phone": ""}, want(ids, inCounty)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := crmtest.ListAll(t, tx, "customers", crm.Query{Filters: tc.filters, Limit: 7})
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %d ids; want %d\ngot  %v\nwant %v", len(got), len(tc.want), got, tc.want)
			}
		})
	}
}

func TestList_Errors(t *testing.T) {
	tx, ids := listFixture(t)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", crm.NewID("usr", crmtest.T0), county, 0, crmtest.UserBody("bo", county)))
	for _, tc := range []struct {
		name  string
		coll  string
		q     crm.Query
		code  string
		field string
	}{
		{"negative limit", "customers", crm.Query{Limit: -1}, crm.CodeInvalid, "limit"},
		{"limit too large", "customers", crm.Query{Limit: crm.MaxLimit + 1}, crm.CodeInvalid, "limit"},
		{"unknown filter", "customers", crm.Query{Filters: map[string]string{"colour": "red"}}, crm.CodeInvalid, "colour"},
		{"private filter", "users", crm.Query{Filters: map[string]string{"password_hash": "$argon2id$v=19$fake"}}, crm.CodeInvalid, "password_hash"},
		{"cursor junk", "customers", crm.Query{After: "page2"}, crm.CodeInvalid, "after"},
		{"cursor of another kind", "customers", crm.Query{After: crm.NewID("bil", crmtest.T0)}, crm.CodeInvalid, "after"},
		{"unknown collection", "meters", crm.Query{}, crm.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := crm.List(tx, tc.coll, tc.q)
			crmtest.WantErr(t, err, tc.code, tc.field)
			if p.Items != nil {
				t.Errorf("items returned with an error")
			}
		})
	}
	if p, err := crm.List(tx, "customers", crm.Query{Limit: crm.MaxLimit}); err != nil || len(p.Items) != len(ids) {
		t.Errorf("limit %d: %d items, %v", crm.MaxLimit, len(p.Items), err)
	}
}

func TestKind_PublicStripsPrivateFields(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", id, county, 0, crmtest.UserBody("bo", county)))
	raw := mustGet(t, tx, "users", id)
	if !strings.Contains(string(raw), "password_hash") {
		t.Fatalf("stored user has no hash: %s", raw)
	}
	pub := crm.Kinds["users"].Public(raw)
	var m map[string]any
	if err := json.Unmarshal(pub, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["password_hash"]; ok {
		t.Errorf("Public kept password_hash: %s", pub)
	}
	if m["username"] != "bo" || m["id"] != id {
		t.Errorf("Public dropped other fields: %s", pub)
	}
	// Kinds without private fields pass records through.
	cus := json.RawMessage(`{"id":"x","name":"y"}`)
	if got := crm.Kinds["customers"].Public(cus); string(got) != string(cus) {
		t.Errorf("customers Public = %s", got)
	}
	// Listing users by an index still works, and Public applies to items.
	p, err := crm.List(tx, "users", crm.Query{Filters: map[string]string{"username": "bo"}})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("list users: %+v %v", p, err)
	}
	if strings.Contains(string(crm.Kinds["users"].Public(p.Items[0])), "password_hash") {
		t.Error("listed user keeps its hash after Public")
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	raw := mustGet(t, f.tx, "customers", f.cus)
	if crmtest.Decode[crm.Customer](t, raw).AccountNo != "A-1" {
		t.Errorf("got %s", raw)
	}
	for _, tc := range []struct{ coll, id, code string }{
		{"customers", f.bill, crm.CodeNotFound},
		{"customers", "../bills/" + f.bill, crm.CodeNotFound},
		{"customers", crm.NewID("cus", crmtest.T0), crm.CodeNotFound},
		{"meters", f.cus, crm.CodeNotFound},
	} {
		if _, err := crm.Get(f.tx, tc.coll, tc.id); err == nil || err.Code != tc.code {
			t.Errorf("Get(%s, %s) = %v; want %s", tc.coll, tc.id, err, tc.code)
		}
	}
}
