package crm_test

import (
	"encoding/json"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

func TestKind_CheckNew(t *testing.T) {
	k := crm.Kinds["customers"]
	for _, tc := range []struct {
		name  string
		body  any
		field string
		fails bool
	}{
		{"good", crmtest.CustomerBody("A-1", county), "", false},
		{"region defaults", crmtest.CustomerBody("A-1", county).With("region", nil), "", false},
		{"unknown field", crmtest.CustomerBody("A-1", county).With("colour", 1), "colour", true},
		{"wrong type", crmtest.CustomerBody("A-1", county).With("voltage_kv", "ten"), "voltage_kv", true},
		{"rule", crmtest.CustomerBody("A-1", county).With("category", "nuclear"), "category", true},
		{"id set", crmtest.CustomerBody("A-1", county).With("id", "cus_x"), "id", true},
		{"owner set", crmtest.CustomerBody("A-1", county).With("owner", county), "owner", true},
		{"version set", crmtest.CustomerBody("A-1", county).With("version", 1), "version", true},
		{"created_at set", crmtest.CustomerBody("A-1", county).With("created_at", crmtest.T0), "created_at", true},
		{"updated_by set", crmtest.CustomerBody("A-1", county).With("updated_by", "eve"), "updated_by", true},
		{"not an object", `[]`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := k.CheckNew(crmtest.RawJSON(t, tc.body), county)
			if !tc.fails {
				if err != nil {
					t.Fatalf("CheckNew = %v", err)
				}
				if c := rec.(*crm.Customer); c.Region != county || c.Status != crm.StatusActive {
					t.Errorf("not defaulted/normalized: %+v", c)
				}
				return
			}
			crmtest.WantErr(t, err, crm.CodeInvalid, tc.field)
		})
	}
}

func TestKind_CheckReplace(t *testing.T) {
	k := crm.Kinds["customers"]
	v, err := k.CheckReplace(crmtest.RawJSON(t, crmtest.CustomerBody("A-1", county).With("version", 4)), county)
	if err != nil || v != 4 {
		t.Fatalf("CheckReplace = %d, %v; want 4", v, err)
	}
	for _, tc := range []struct {
		name  string
		body  crmtest.Obj
		field string
	}{
		{"no version", crmtest.CustomerBody("A-1", county), "version"},
		{"owner set", crmtest.CustomerBody("A-1", county).With("version", 4, "owner", county), "owner"},
		{"rule", crmtest.CustomerBody("A-1", county).With("version", 4, "voltage_kv", 3), "voltage_kv"},
		{"unknown field", crmtest.CustomerBody("A-1", county).With("version", 4, "x", 3), "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.CheckReplace(crmtest.RawJSON(t, tc.body), county)
			crmtest.WantErr(t, err, crm.CodeInvalid, tc.field)
		})
	}
}

func TestKind_CheckPatch(t *testing.T) {
	v, patch, err := crm.Kinds["customers"].CheckPatch([]byte(`{"version": 3, "name": "n", "grid": null}`))
	if err != nil || v != 3 {
		t.Fatalf("CheckPatch = %d, %v", v, err)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil {
		t.Fatal(err)
	}
	if _, ok := p["version"]; ok || string(p["name"]) != `"n"` || string(p["grid"]) != "null" || len(p) != 2 {
		t.Errorf("patch = %s", patch)
	}
	for _, tc := range []struct {
		name, coll, body, field string
	}{
		{"no version", "customers", `{"name":"n"}`, "version"},
		{"version zero", "customers", `{"version":0}`, "version"},
		{"version null", "customers", `{"version":null}`, "version"},
		{"version negative", "customers", `{"version":-1}`, "version"},
		{"version string", "customers", `{"version":"3"}`, "version"},
		{"meta field", "customers", `{"version":3,"owner":"32"}`, "owner"},
		{"unknown field", "customers", `{"version":3,"colour":"red"}`, "colour"},
		{"unknown field set to null", "customers", `{"version":3,"colour":null}`, "colour"},
		{"field in another case", "customers", `{"version":3,"Name":"n"}`, "Name"},
		{"private field", "users", `{"version":3,"password_hash":"x"}`, "password_hash"},
		{"not an object", "customers", `[1]`, ""},
		{"null", "customers", `null`, ""},
		{"malformed", "customers", `{"version":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := crm.Kinds[tc.coll].CheckPatch([]byte(tc.body))
			crmtest.WantErr(t, err, crm.CodeInvalid, tc.field)
		})
	}
}
