package crm_test

import (
	"errors"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// faultTxn wraps a MemTxn and fails the chosen operation.
type faultTxn struct {
	*crm.MemTxn
	failGet, failSet, failIterate bool
}

var errDisk = errors.New("disk: injected fault")

func (f *faultTxn) Get(k []byte) ([]byte, error) {
	if f.failGet {
		return nil, errDisk
	}
	return f.MemTxn.Get(k)
}

func (f *faultTxn) Set(k, v []byte) error {
	if f.failSet {
		return errDisk
	}
	return f.MemTxn.Set(k, v)
}

func (f *faultTxn) Iterate(lo, hi []byte, fn func(k, v []byte) bool) error {
	if f.failIterate {
		return errDisk
	}
	return f.MemTxn.Iterate(lo, hi, fn)
}

func TestApply_StoreFaults(t *testing.T) {
	f := newFixture(t)
	newCus := crmtest.CustomerBody("N-1", county)
	for _, tc := range []struct {
		name  string
		fault faultTxn
		cmd   *crm.Command
	}{
		{"get on create", faultTxn{failGet: true}, crmtest.NewCmd(t, crm.OpCreate, "customers", f.g.Next("cus"), county, 0, newCus)},
		{"get on update", faultTxn{failGet: true}, crmtest.NewCmd(t, crm.OpUpdate, "customers", f.cus, county, 1, crmtest.Obj{"name": "x"})},
		{"get on delete", faultTxn{failGet: true}, crmtest.NewCmd(t, crm.OpDelete, "customers", f.cus, county, 0, nil)},
		{"get on init", faultTxn{failGet: true}, &crm.Command{Op: crm.OpInitSys, ID: "x", Body: []byte(`1`)}},
		{"iterate on delete", faultTxn{failIterate: true}, crmtest.NewCmd(t, crm.OpDelete, "customers", f.cus, county, 0, nil)},
		{"set on flush", faultTxn{failSet: true}, crmtest.NewCmd(t, crm.OpCreate, "customers", f.g.Next("cus"), county, 0, newCus)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := crmtest.Snapshot(t, f.tx)
			ft := tc.fault
			ft.MemTxn = f.tx
			res := crm.Apply(&ft, tc.cmd)
			if res.Err == nil || res.Err.Code != "internal" {
				t.Fatalf("Apply = %+v; want an internal error", res)
			}
			if d := crmtest.DiffSnapshots(before, crmtest.Snapshot(t, f.tx)); d != "" {
				t.Errorf("failed Apply changed the store:\n%s", d)
			}
		})
	}
}

func TestList_StoreFaults(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		fault faultTxn
		q     crm.Query
	}{
		{"iterate records", faultTxn{failIterate: true}, crm.Query{}},
		{"iterate index", faultTxn{failIterate: true}, crm.Query{Filters: map[string]string{"region": county}}},
		{"get via index", faultTxn{failGet: true}, crm.Query{Filters: map[string]string{"region": county}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := tc.fault
			ft.MemTxn = f.tx
			if _, err := crm.List(&ft, "customers", tc.q); err == nil || err.Code != "internal" {
				t.Errorf("List = %v; want an internal error", err)
			}
		})
	}
	ft := &faultTxn{MemTxn: f.tx, failGet: true}
	if _, err := crm.Get(ft, "customers", f.cus); err == nil || err.Code != "internal" {
		t.Errorf("Get = %v; want internal", err)
	}
	if u, err := crm.UserByName(ft, "bo"); u != nil || err == nil {
		t.Errorf("UserByName = %v, %v; want the store's error", u, err)
	}
}
