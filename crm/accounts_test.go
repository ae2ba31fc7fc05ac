package crm_test

import (
	"encoding/json"
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// TestAccounts_DuplicatesAcrossRegions: at the province, the same 户号
// arriving from two counties is listed as a duplicate (both regions, both
// customers) in the subtrees that hold both, not in a county's alone; it
// leaves the list when one copy is renumbered or deleted.
func TestAccounts_DuplicatesAcrossRegions(t *testing.T) {
	tx := crm.NewMemTxn()
	copyOf := func(region, acct string) (string, []byte) {
		w := crmtest.NewWorld(t, region)
		id := w.Create(crmtest.T0, "customers", "cus", crmtest.CustomerBody(acct, region))
		raw, _ := crm.Get(w.Tx, "customers", id)
		return "r/customers/" + id, raw
	}
	arrive := func(key string, raw []byte) {
		t.Helper()
		if err := crm.ApplyReplica(tx, key, raw); err != nil {
			t.Fatal(err)
		}
	}
	dupes := func(region string) []crm.DuplicateAccount {
		t.Helper()
		out, more, err := crm.Duplicates(tx, region, 100)
		if err != nil || more {
			t.Fatalf("Duplicates(%s): %v more %v", region, err, more)
		}
		return out
	}
	k1, a := copyOf("320722", "DUP-1")
	k2, b := copyOf("320723", "DUP-1")
	k3, c := copyOf("320724", "OWN-1")
	arrive(k1, a)
	arrive(k3, c)
	if d := dupes("32"); len(d) != 0 {
		t.Fatalf("duplicates before the second copy: %+v", d)
	}
	arrive(k2, b)
	d := dupes("32")
	if len(d) != 1 || d[0].AccountNo != "DUP-1" || strings.Join(d[0].Regions, ",") != "320722,320723" || len(d[0].Customers) != 2 {
		t.Fatalf("province duplicates: %+v; want DUP-1 in 320722 and 320723", d)
	}
	if d := dupes("3207"); len(d) != 1 {
		t.Errorf("city 3207 sees %+v; want the duplicate", d)
	}
	if d := dupes("320722"); len(d) != 0 {
		t.Errorf("county 320722 alone sees %+v; want none", d)
	}
	// Renumbered at 320723: no longer a duplicate.
	var m map[string]any
	json.Unmarshal(b, &m)
	m["account_no"], m["version"] = "DUP-2", 2
	b2, _ := json.Marshal(m)
	arrive(k2, b2)
	if d := dupes("32"); len(d) != 0 {
		t.Errorf("after renumbering: %+v; want none", d)
	}
	arrive(k2, b) // back again, then deleted
	if d := dupes("32"); len(d) != 1 {
		t.Errorf("numbered back: %+v; want the duplicate", d)
	}
	arrive(k2, nil)
	if d := dupes("32"); len(d) != 0 {
		t.Errorf("after the delete: %+v; want none", d)
	}
}

// TestAccounts_PrefixDirective: an account_prefix directive requires the
// account numbers of its scope's customers to begin with its prefix (the
// narrowest scope's holds): a new customer or a renumbering without it is
// refused naming account_no; customers elsewhere are not bound; a bad
// prefix is refused naming body.prefix.
func TestAccounts_PrefixDirective(t *testing.T) {
	w := crmtest.NewWorld(t, "320722")
	w.Region = "32"
	res := w.At(crmtest.T0, crm.OpCreate, "directives", w.IDs.Next("dir"), 0, crmtest.Obj{"kind": "account_prefix", "title": "bad", "body": crmtest.Obj{"prefix": "07 22"}})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "body.prefix")
	w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "account_prefix", "title": "江苏户号", "scope": "32", "body": crmtest.Obj{"prefix": "32"}})
	w.Region = "320722"
	w.Create(crmtest.T0, "directives", "dir", crmtest.Obj{"kind": "account_prefix", "title": "东海户号", "body": crmtest.Obj{"prefix": "320722-"}})
	res = w.At(crmtest.T0, crm.OpCreate, "customers", w.IDs.Next("cus"), 0, crmtest.CustomerBody("320799-1", "320722"))
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "account_no")
	if res.Err != nil && !strings.Contains(res.Err.Message, `"320722-"`) {
		t.Errorf("message %q does not name the prefix", res.Err.Message)
	}
	id := w.Create(crmtest.T0, "customers", "cus", crmtest.CustomerBody("320722-1", "320722"))
	res = w.At(crmtest.T0, crm.OpUpdate, "customers", id, 1, crmtest.Obj{"account_no": "X-1"})
	crmtest.WantErr(t, res.Err, crm.CodeInvalid, "account_no")
	if res := w.At(crmtest.T0, crm.OpUpdate, "customers", id, 1, crmtest.Obj{"name": "改名"}); res.Err != nil {
		t.Errorf("an update keeping the number: %v", res.Err)
	}
	other := crmtest.NewWorld(t, "320723")
	other.Create(crmtest.T0, "customers", "cus", crmtest.CustomerBody("X-1", "320723"))
}
