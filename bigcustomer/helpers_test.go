package bigcustomer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
)

// t0 is the proposer's clock for every Command in these tests.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const actor = "alice"

// idGen hands out ids whose embedded times increase, so they sort in the
// order they were made.
type idGen struct{ n int }

func (g *idGen) next(prefix string) string {
	g.n++
	return crm.NewID(prefix, t0.Add(time.Duration(g.n)*time.Millisecond))
}

// rawJSON marshals v; a string or []byte is taken as JSON text as is.
func rawJSON(t testing.TB, v any) json.RawMessage {
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

func newCmd(t testing.TB, op crm.Op, coll, id, region string, ver uint64, body any) *crm.Command {
	t.Helper()
	return &crm.Command{Op: op, Collection: coll, ID: id, Version: ver, Region: region,
		Actor: actor, Time: t0, Body: rawJSON(t, body)}
}

// obj is a JSON object body under construction.
type obj map[string]any

// with returns a copy of o with kv pairs set; a nil value deletes the key.
func (o obj) with(kv ...any) obj {
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

func customerBody(acct, region string) obj {
	return obj{"account_no": acct, "name": "Xuzhou Steel " + acct, "category": "industrial",
		"voltage_kv": 10, "capacity_kva": 800, "region": region, "grid": "G1"}
}

func billBody(customerID, period string) obj {
	return obj{"customer_id": customerID, "period": period, "kwh": 1200, "billed": 980.5}
}

func staffBody(no, region string) obj {
	return obj{"staff_no": no, "name": "Wang Fang", "role": "account_manager", "region": region}
}

func userBody(name, region string) obj {
	return obj{"username": name, "display_name": "User " + name, "role": "agent", "region": region,
		"password_hash": "$argon2id$v=19$fake"}
}

// mustApply applies cmd and fails the test on an error.
func mustApply(t testing.TB, tx crm.Txn, cmd *crm.Command) crm.Result {
	t.Helper()
	res := crm.Apply(tx, cmd)
	if res.Err != nil {
		t.Fatalf("Apply(%s %s %s): %v (code %s, field %q)", cmd.Op, cmd.Collection, cmd.ID, res.Err, res.Err.Code, res.Err.Field)
	}
	return res
}

// wantErr checks that err is a *crm.Error with code and field.
func wantErr(t testing.TB, err *crm.Error, code, field string) {
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

// snapshot copies every key and value of tx.
func snapshot(t testing.TB, tx crm.Reader) map[string]string {
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

func diffSnapshots(a, b map[string]string) string {
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

func decode[T any](t testing.TB, raw []byte) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return v
}

// listAll walks every page of a list and answers the ids in order.
func listAll(t testing.TB, r crm.Reader, coll string, q crm.Query) []string {
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
			ids = append(ids, decode[crm.Meta](t, raw).ID)
		}
		if p.Next == "" {
			return ids
		}
		q.After = p.Next
	}
}

func isCrmError(err error, code string) bool {
	return errors.Is(err, &crm.Error{Code: code})
}

const (
	county = "320722" // 东海县
	city   = "3207"   // 连云港市
	other  = "320723" // 灌云县
)
