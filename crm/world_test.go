package crm_test

import (
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/workday"
)

// The county world of the process tests (package process), for crm's
// own tests of customers, staff and bills.

// cst makes a time in China Standard Time.
func cst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, workday.CST)
}

// world is a county's state for process tests.
type world struct {
	t      *testing.T
	tx     *crm.MemTxn
	ids    idGen
	region string
}

func newWorld(t *testing.T, region string) *world {
	return &world{t: t, tx: crm.NewMemTxn(), region: region}
}

func (w *world) at(now time.Time, op crm.Op, coll, id string, ver uint64, body any) crm.Result {
	w.t.Helper()
	cmd := newCmd(w.t, op, coll, id, w.region, ver, body)
	cmd.Time = now.UTC()
	return crm.Apply(w.tx, cmd)
}

func (w *world) create(now time.Time, coll, prefix string, body any) string {
	w.t.Helper()
	id := w.ids.next(prefix)
	if res := w.at(now, crm.OpCreate, coll, id, 0, body); res.Err != nil {
		w.t.Fatalf("create %s: %v (field %q)", coll, res.Err, res.Err.Field)
	}
	return id
}

func (w *world) customer(category string, kv float64) string {
	w.t.Helper()
	w.ids.n++
	acct := "ACC-" + strings.Repeat("9", 1) + string(rune('A'+w.ids.n%26)) + time.Duration(w.ids.n).String()
	acct = strings.NewReplacer("n", "", "s", "").Replace(acct)
	return w.create(t0, "customers", "cus", obj{"account_no": acct, "name": "C " + acct, "category": category,
		"voltage_kv": kv, "capacity_kva": 100, "region": w.region})
}

func (w *world) staff(no string) string {
	return w.create(t0, "staff", "stf", staffBody(no, w.region))
}
