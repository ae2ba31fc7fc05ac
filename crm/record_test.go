package crm_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func TestNewID_SortsByTime(t *testing.T) {
	times := []time.Time{
		time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 998e6, time.UTC),
		time.Date(2025, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 1e6, time.UTC),
		time.Date(2099, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	var ids []string
	for _, tm := range times {
		for range 20 { // random bits must never outweigh a millisecond
			ids = append(ids, crm.NewID("cus", tm))
		}
	}
	for i := 20; i < len(ids); i++ {
		if i%20 == 0 && ids[i-1] >= ids[i] {
			t.Errorf("id at %v (%s) does not sort after %s", times[i/20], ids[i], ids[i-1])
		}
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for i := range ids {
		if i/20 != slices.Index(sorted, ids[i])/20 {
			t.Fatalf("ids of different milliseconds interleave: %v", sorted)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if !crm.Kinds["customers"].ValidID(id) {
			t.Errorf("ValidID(%s) = false", id)
		}
	}
}

func TestKind_ValidID(t *testing.T) {
	good := crm.NewID("bil", crmtest.T0)
	body := good[len("bil_"):]
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{good, true},
		{"bil_" + strings.Repeat("0", 26), true},
		{"", false},
		{"bil_", false},
		{"bil", false},
		{"cus_" + body, false},
		{"bil-" + body, false},
		{"bil_" + body[:25], false},
		{"bil_" + body + "0", false},
		{"bil_" + strings.ToLower(body), strings.ToLower(body) == body},
		{"bil_" + body[:25] + "U", false}, // not in Crockford's alphabet
		{"bil_" + body[:25] + "I", false},
		{"bil_" + body[:25] + "/", false},
		{"bil_" + body[:24] + "\x00A", false},
		{"bil_" + body[:24] + "é", false},
	} {
		if got := crm.Kinds["bills"].ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%q) = %v; want %v", tc.id, got, tc.want)
		}
	}
	for _, name := range crm.Collections() {
		k := crm.Kinds[name]
		if k == nil || k.Name != name {
			t.Fatalf("Kinds[%q] = %v", name, k)
		}
		if id := crm.NewID(k.IDPrefix, crmtest.T0); !k.ValidID(id) {
			t.Errorf("%s: ValidID(NewID) = false for %s", name, id)
		}
	}
	if len(crm.Kinds) != len(crm.Collections()) {
		t.Errorf("%d kinds registered; Collections lists %d", len(crm.Kinds), len(crm.Collections()))
	}
}

func TestKind_FiltersAreFields(t *testing.T) {
	for name, k := range crm.Kinds {
		for _, f := range append(slices.Clone(k.Filters), k.Private...) {
			if !k.HasField(f) {
				t.Errorf("%s: %q is not a field", name, f)
			}
		}
		for _, f := range k.Filters {
			if slices.Contains(k.Private, f) {
				t.Errorf("%s: private field %q is filterable", name, f)
			}
		}
		for _, f := range crm.MetaFields {
			if !k.HasField(f) {
				t.Errorf("%s: meta field %q missing", name, f)
			}
		}
	}
}

func TestUserByName(t *testing.T) {
	tx := crm.NewMemTxn()
	id := crm.NewID("usr", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "users", id, county, 0, crmtest.UserBody(" Zhang.Wei ", county)))
	for _, name := range []string{"zhang.wei", "Zhang.Wei", "ZHANG.WEI"} {
		u, err := crm.UserByName(tx, name)
		if err != nil || u == nil {
			t.Fatalf("UserByName(%q) = %v, %v", name, u, err)
		}
		if u.ID != id || u.Username != "zhang.wei" || u.PasswordHash == "" {
			t.Errorf("UserByName(%q) = %+v", name, u)
		}
	}
	if u, err := crm.UserByName(tx, "li.na"); u != nil || err != nil {
		t.Errorf("unknown user = %v, %v; want nil, nil", u, err)
	}
	// Usernames are unique whatever their case.
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "users", crm.NewID("usr", crmtest.T0.Add(time.Second)), county, 0, crmtest.UserBody("ZHANG.WEI", county)))
	crmtest.WantErr(t, res.Err, crm.CodeDuplicate, "username")
	// Renaming frees the old name.
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "users", id, county, 1, crmtest.Obj{"username": "wei"}))
	if u, _ := crm.UserByName(tx, "zhang.wei"); u != nil {
		t.Errorf("old name still finds %+v", u)
	}
	if u, _ := crm.UserByName(tx, "Wei"); u == nil || u.ID != id {
		t.Errorf("new name finds %+v", u)
	}
}
