package crm_test

import (
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// probe is a record of a kind registered from outside package crm, as a
// programme's package registers its kinds.
type probe struct {
	crm.Meta
	State string `json:"state"`
}

func (p *probe) Normalize()            {}
func (p *probe) Validate() *crm.Error  { return nil }
func (p *probe) Indexes() []crm.Index  { return nil }
func (p *probe) Uniques() []crm.Unique { return nil }
func (p *probe) Refs() []crm.Ref       { return nil }

// TestRegister_HooksFromOutside: a kind registered by another package gets
// its Check run on create and update (old nil on create) and its OnDelete
// before a delete; a second registration of the name panics.
func TestRegister_HooksFromOutside(t *testing.T) {
	var checked []string
	k := &crm.Kind{Name: "hook_probes", IDPrefix: "hkp", New: func() crm.Record { return &probe{} },
		Check: func(_ crm.Reader, rec, old crm.Record, region string) *crm.Error {
			p := rec.(*probe)
			from := ""
			if old != nil {
				from = old.(*probe).State
			}
			checked = append(checked, from+">"+p.State+"@"+region)
			if from == "closed" {
				return &crm.Error{Code: crm.CodeTransition, Field: "state", Message: "a closed probe stays closed"}
			}
			return nil
		},
		OnDelete: func(_ crm.Txn, old crm.Record, _ *crm.Command) *crm.Error {
			if old.(*probe).State == "closed" {
				return &crm.Error{Code: crm.CodeConflict, Message: "a closed probe stays"}
			}
			return nil
		}}
	crm.Register(k)
	defer delete(crm.Kinds, k.Name)

	tx := crm.NewMemTxn()
	id := crm.NewID("hkp", crmtest.T0)
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpCreate, "hook_probes", id, county, 0, crmtest.Obj{"state": "open"}))
	crmtest.MustApply(t, tx, crmtest.NewCmd(t, crm.OpUpdate, "hook_probes", id, county, 1, crmtest.Obj{"state": "closed"}))
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "hook_probes", id, county, 2, crmtest.Obj{"state": "open"}))
	crmtest.WantErr(t, res.Err, crm.CodeTransition, "state")
	res = crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "hook_probes", id, county, 0, nil))
	crmtest.WantErr(t, res.Err, crm.CodeConflict, "")
	if want := []string{">open@" + county, "open>closed@" + county, "closed>open@" + county}; len(checked) != 3 || checked[0] != want[0] || checked[1] != want[1] || checked[2] != want[2] {
		t.Errorf("Check saw %q; want %q", checked, want)
	}

	defer func() {
		if recover() == nil {
			t.Error("a second hook_probes registered without a panic")
		}
	}()
	crm.Register(&crm.Kind{Name: "hook_probes", IDPrefix: "hkq", New: func() crm.Record { return &probe{} }})
}

// TestRegisterDirectiveBody_Refuses: a directive kind's body check is
// registered once, and only for a kind in DirectiveKinds.
func TestRegisterDirectiveBody_Refuses(t *testing.T) {
	for _, kind := range []string{"rule_set", "class_thresholds", "no_such_kind"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterDirectiveBody(%q) did not panic", kind)
				}
			}()
			crm.RegisterDirectiveBody(kind, func(*crm.Directive) *crm.Error { return nil })
		}()
	}
}

// TestStanding_AsBefore: the ops forwarded whatever the management mode are
// a work order's creation and actions and the users' central
// administration, and nothing else.
func TestStanding_AsBefore(t *testing.T) {
	old := func(coll string, op crm.Op) bool {
		switch coll {
		case "work_orders":
			return op == crm.OpCreate || op == crm.OpAction
		case "users":
			return op == crm.OpCreate || op == crm.OpUpdate || op == crm.OpList
		}
		return false
	}
	for _, coll := range append(crm.Collections(), "no_such") {
		for _, op := range []crm.Op{crm.OpCreate, crm.OpUpdate, crm.OpReplace, crm.OpDelete, crm.OpAction, crm.OpList, crm.OpImport} {
			if got, want := crm.Standing(coll, op), old(coll, op); got != want {
				t.Errorf("Standing(%s, %s) = %v; want %v", coll, op, got, want)
			}
		}
	}
}
