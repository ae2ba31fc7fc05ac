package crm_test

import (
	"strings"
	"testing"

	"gridcrm/crm"
)

// TestValidRecord: a record copy arriving over a link is checked for every
// collection, the internal ones included, and a collection this version
// does not know is refused.
func TestValidRecord(t *testing.T) {
	const meta = `"owner":"320722","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a"`
	customer := func(id, extra string) string {
		return `{"id":"` + id + `",` + meta + `,"account_no":"C-1","name":"灌云县客户","category":"industrial","voltage_kv":10,"capacity_kva":630,"region":"320722","status":"active"` + extra + `}`
	}
	const cus = "cus_01KAQ00000000000000000CNTY"
	for _, c := range []struct {
		name, key, value string
		owner            string // "" when refused
	}{
		{"customer", "r/customers/" + cus, customer(cus, ""), "320722"},
		{"customer under another id", "r/customers/cus_01KAQ00000000000000000OTHR", customer(cus, ""), ""},
		{"customer failing validation", "r/customers/" + cus, strings.Replace(customer(cus, ""), "industrial", "martian", 1), ""},
		{"customer as a string", "r/customers/" + cus, `"x"`, ""},
		{"customer as null", "r/customers/" + cus, `null`, ""},
		{"customer with trailing data", "r/customers/" + cus, customer(cus, "") + "x", ""},
		{"customer without owner", "r/customers/" + cus, strings.Replace(customer(cus, ""), `"owner":"320722"`, `"owner":""`, 1), ""},
		{"unknown collection", "r/_future/x", `{"owner":"320722"}`, ""},
		{"not a record key", "m/link/up/320722", `{}`, ""},
		{"directive from above", "r/directives/dir_01KAQ0000000000000000000PX", `{"id":"dir_01KAQ0000000000000000000PX","owner":"32","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","kind":"notice","scope":"32","title":"迎峰度夏"}`, "32"},
		{"directive beyond its owner", "r/directives/dir_01KAQ0000000000000000000PX", `{"id":"dir_01KAQ0000000000000000000PX","owner":"3207","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"a","updated_by":"a","kind":"notice","scope":"32","title":"越权"}`, ""},

		{"management", "r/_mgmt/320722", `{"owner":"3207","region":"320722","mode":"partial","collections":["work_orders"],"epoch":2,"set_by":"a","set_at":"2026-01-01T00:00:00Z"}`, "3207"},
		{"management: the poison pill", "r/_mgmt/320722", `"x"`, ""},
		{"management: null", "r/_mgmt/320722", `null`, ""},
		{"management by the grandparent", "r/_mgmt/320722", `{"owner":"32","region":"320722","mode":"full","epoch":2}`, ""},
		{"management of another region", "r/_mgmt/320722", `{"owner":"3207","region":"320723","mode":"full","epoch":2}`, ""},
		{"management: unknown mode", "r/_mgmt/320722", `{"owner":"3207","region":"320722","mode":"half","epoch":2}`, ""},
		{"management: epoch 0", "r/_mgmt/320722", `{"owner":"3207","region":"320722","mode":"full","epoch":0}`, ""},
		{"management: grants users", "r/_mgmt/320722", `{"owner":"3207","region":"320722","mode":"partial","collections":["users"],"epoch":1}`, ""},
		{"acknowledgement", "r/_mack/320722", `{"owner":"320722","region":"320722","epoch":2,"mode":"full","at":"2026-01-01T00:00:00Z"}`, "320722"},
		{"acknowledgement by the parent", "r/_mack/320722", `{"owner":"3207","region":"320722","epoch":2,"mode":"full"}`, ""},
		{"heartbeat", "r/_canary/320722", `{"region":"320722","at":1767225600000,"leader":"n1","term":3}`, "320722"},
		{"heartbeat of another region", "r/_canary/320722", `{"region":"3207","at":1767225600000}`, ""},
		{"heartbeat without time", "r/_canary/320722", `{"region":"320722"}`, ""},
		{"forwarded command", "r/_cmd/cmd_1", `{"owner":"32","id":"cmd_1","actor":"a","at":"2026-01-01T00:00:00Z","region":"320722","op":"create","coll":"work_orders","record_id":"wo_1"}`, "32"},
		{"forwarded command upwards", "r/_cmd/cmd_1", `{"owner":"320722","id":"cmd_1","region":"3207","op":"create","coll":"work_orders"}`, ""},
		{"forwarded command of no collection", "r/_cmd/cmd_1", `{"owner":"3207","id":"cmd_1","region":"320722","op":"create","coll":"_mgmt"}`, ""},
		{"forwarded command under another id", "r/_cmd/cmd_1", `{"owner":"3207","id":"cmd_2","region":"320722","op":"create","coll":"work_orders"}`, ""},
		{"command result", "r/_cres/cmd_1", `{"owner":"320722","id":"cmd_1","region":"320722","status":"refused","error":{"code":"conflict","message":"stale"}}`, "320722"},
		{"command result of another region", "r/_cres/cmd_1", `{"owner":"3207","id":"cmd_1","region":"320722","status":"applied"}`, ""},
		{"command result: unknown status", "r/_cres/cmd_1", `{"owner":"320722","id":"cmd_1","region":"320722","status":"maybe"}`, ""},
		{"conflict", "r/_conflict/320722/00000000000000000042", `{"owner":"3207","id":"320722/00000000000000000042","region":"320722","key":"r/customers/` + cus + `","epoch":3,"child":null,"parent":null,"status":"open"}`, "3207"},
		{"conflict kept below", "r/_conflict/320722/00000000000000000042", `{"owner":"320722","id":"320722/00000000000000000042","region":"320722","key":"r/customers/x","status":"open"}`, ""},
		{"conflict about no record", "r/_conflict/320722/00000000000000000042", `{"owner":"3207","id":"320722/00000000000000000042","region":"320722","key":"x","status":"open"}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			owner, err := crm.ValidRecord(c.key, []byte(c.value))
			if c.owner == "" {
				if err == nil {
					t.Fatalf("accepted, owner %q; want it refused", owner)
				}
				return
			}
			if err != nil || owner != c.owner {
				t.Fatalf("owner %q, err %v; want owner %s", owner, err, c.owner)
			}
		})
	}
}
