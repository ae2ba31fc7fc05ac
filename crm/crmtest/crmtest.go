package crmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/store/keyspace"
)

// T0 is the proposer's clock for every Command in these tests.
var T0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Actor is the user every Command in these tests is from.
const Actor = "alice"

// IDGen hands out ids whose embedded times increase, so they sort in the
// order they were made.
type IDGen struct{ N int }

func (g *IDGen) Next(prefix string) string {
	g.N++
	return crm.NewID(prefix, T0.Add(time.Duration(g.N)*time.Millisecond))
}

// RawJSON marshals v; a string or []byte is taken as JSON text as is.
func RawJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	switch b := v.(type) {
	case nil:
		return nil
	case string:
		return json.RawMessage(b)
	case []byte:
		return json.RawMessage(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return b
}

// NewCmd is a Command of op on coll at T0 by Actor, body as RawJSON makes it.
func NewCmd(t testing.TB, op crm.Op, coll, id, region string, ver uint64, body any) *crm.Command {
	t.Helper()
	return &crm.Command{Op: op, Collection: coll, ID: id, Version: ver, Region: region,
		Actor: Actor, Time: T0, Body: RawJSON(t, body)}
}

// Obj is a JSON object body under construction.
type Obj map[string]any

// With returns a copy of o with kv pairs set; a nil value deletes the key.
func (o Obj) With(kv ...any) Obj {
	out := maps.Clone(o)
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

// CustomerBody is a valid industrial customer of region.
func CustomerBody(acct, region string) Obj {
	return Obj{"account_no": acct, "name": "Xuzhou Steel " + acct, "category": "industrial",
		"voltage_kv": 10, "capacity_kva": 800, "region": region, "grid": "G1"}
}

// BillBody is a valid bill of the customer for period.
func BillBody(customerID, period string) Obj {
	return Obj{"customer_id": customerID, "period": period, "kwh": 1200, "billed": 980.5}
}

// StaffBody is a valid account manager of region.
func StaffBody(no, region string) Obj {
	return Obj{"staff_no": no, "name": "Wang Fang", "role": "account_manager", "region": region}
}

// UserBody is a valid agent of region.
func UserBody(name, region string) Obj {
	return Obj{"username": name, "display_name": "User " + name, "role": "agent", "region": region,
		"password_hash": "$argon2id$v=19$fake"}
}

// MustApply applies cmd and fails the test on an error.
func MustApply(t testing.TB, tx crm.Txn, cmd *crm.Command) crm.Result {
	t.Helper()
	res := crm.Apply(tx, cmd)
	if res.Err != nil {
		t.Fatalf("Apply(%s %s %s): %v (code %s, field %q)", cmd.Op, cmd.Collection, cmd.ID, res.Err, res.Err.Code, res.Err.Field)
	}
	return res
}

// WantErr checks that err is a *crm.Error with code and field.
func WantErr(t testing.TB, err *crm.Error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want code %q field %q", code, field)
	}
	if err.Code != code || err.Field != field {
		t.Fatalf("got code %q field %q (%v); want code %q field %q", err.Code, err.Field, err, code, field)
	}
	if !strings.HasPrefix(err.Error(), "crm: ") {
		t.Errorf("Error() = %q; want the crm: prefix", err.Error())
	}
}

// Snapshot copies every key and value of tx.
func Snapshot(t testing.TB, tx crm.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := tx.Iterate(nil, nil, func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// DiffSnapshots lists the keys removed (-), changed (~) and added (+) from a to b.
func DiffSnapshots(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, fmt.Sprintf("- %q", k))
		} else if w != v {
			d = append(d, fmt.Sprintf("~ %q: %q -> %q", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("+ %q", k))
		}
	}
	return strings.Join(d, "\n")
}

// Decode unmarshals raw into a new T, failing the test on an error.
func Decode[T any](t testing.TB, raw []byte) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return v
}

// ListAll walks every page of a list and answers the ids in order.
func ListAll(t testing.TB, r crm.Reader, coll string, q crm.Query) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("list does not end")
		}
		p, err := crm.List(r, coll, q)
		if err != nil {
			t.Fatalf("List(%s, %+v): %v", coll, q, err)
		}
		for _, raw := range p.Items {
			ids = append(ids, Decode[crm.Meta](t, raw).ID)
		}
		if p.Next == "" {
			return ids
		}
		q.After = p.Next
	}
}

// IsCrmError reports whether err is a *crm.Error with code.
func IsCrmError(err error, code string) bool {
	return errors.Is(err, &crm.Error{Code: code})
}

// CST makes a time in China Standard Time.
func CST(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, workday.CST)
}

// World is a county's state in memory, written through crm.Apply as the
// node would: what the tests of crm and of its programmes build on.
type World struct {
	T      *testing.T
	Tx     *crm.MemTxn
	IDs    IDGen
	Region string
}

// NewWorld is an empty World of region.
func NewWorld(t *testing.T, region string) *World {
	return &World{T: t, Tx: crm.NewMemTxn(), Region: region}
}

// At applies a Command of op on coll at now.
func (w *World) At(now time.Time, op crm.Op, coll, id string, ver uint64, body any) crm.Result {
	w.T.Helper()
	cmd := NewCmd(w.T, op, coll, id, w.Region, ver, body)
	cmd.Time = now.UTC()
	return crm.Apply(Counting{w.Tx}, cmd)
}

// Counting is a Txn that keeps the counters and tallies of the records
// written through it, as the node's feed does (crm.AggregateDeltas, in
// the same Txn): a county's, with no subtree totals.
type Counting struct{ crm.Txn }

// Set implements crm.Txn.
func (c Counting) Set(key, value []byte) error {
	old, err := c.record(key)
	if err != nil {
		return err
	}
	if err := c.Txn.Set(key, value); err != nil {
		return err
	}
	return c.count(key, old, value)
}

// Delete implements crm.Txn.
func (c Counting) Delete(key []byte) error {
	old, err := c.record(key)
	if err != nil {
		return err
	}
	if err := c.Txn.Delete(key); err != nil {
		return err
	}
	return c.count(key, old, nil)
}

func (c Counting) record(key []byte) ([]byte, error) {
	if !strings.HasPrefix(string(key), keyspace.RecordPrefix) {
		return nil, nil
	}
	return c.Txn.Get(key)
}

func (c Counting) count(key, old, new []byte) error {
	if old == nil && new == nil || !strings.HasPrefix(string(key), keyspace.RecordPrefix) {
		return nil
	}
	return crm.ApplyDeltas(c.Txn, crm.AggregateDeltas(string(key), old, new))
}

// Create creates a record of coll at now and answers its id.
func (w *World) Create(now time.Time, coll, prefix string, body any) string {
	w.T.Helper()
	id := w.IDs.Next(prefix)
	if res := w.At(now, crm.OpCreate, coll, id, 0, body); res.Err != nil {
		w.T.Fatalf("create %s: %v (field %q)", coll, res.Err, res.Err.Field)
	}
	return id
}

// Customer creates a customer of category at voltage kv.
func (w *World) Customer(category string, kv float64) string {
	w.T.Helper()
	w.IDs.N++
	acct := "ACC-" + strings.Repeat("9", 1) + string(rune('A'+w.IDs.N%26)) + time.Duration(w.IDs.N).String()
	acct = strings.NewReplacer("n", "", "s", "").Replace(acct)
	return w.Create(T0, "customers", "cus", Obj{"account_no": acct, "name": "C " + acct, "category": category,
		"voltage_kv": kv, "capacity_kva": 100, "region": w.Region})
}

// Staff creates an account manager with staff number no.
func (w *World) Staff(no string) string {
	return w.Create(T0, "staff", "stf", StaffBody(no, w.Region))
}

// ClientBody is the JSON a client sends for a record: the record's fields
// without the server-set metadata.
func ClientBody(tb testing.TB, rec any) json.RawMessage {
	tb.Helper()
	raw, err := json.Marshal(rec)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	for _, f := range append(crm.MetaFields, "version") {
		delete(m, f)
	}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
