//go:build unix

package node

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/replication"
	"gridcrm/store"
)

// TestApplier_ActorDisabledAfterCached: the applier keeps the actors it
// found active, and a user disabled (in an earlier batch, or earlier in the
// same batch), renamed or deleted is refused from the next entry on, as
// when every entry read its actor.
func TestApplier_ActorDisabledAfterCached(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApplier("320722", "", nil)
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	index := uint64(0)
	// batch applies cmds as one FSM batch, each its own entry, and
	// answers their results.
	batch := func(cmds ...*crm.Command) []crm.Result {
		t.Helper()
		tx, commit := replication.NewBatchTxn(st)
		var out []crm.Result
		for _, c := range cmds {
			at = at.Add(time.Second)
			c.Region, c.Time = "320722", at
			if c.ID == "" {
				c.ID = crm.NewID(map[string]string{"customers": "cus", "users": "usr"}[c.Collection], at)
			}
			e, err := encodeCommand(c)
			if err != nil {
				t.Fatal(err)
			}
			index++
			var r crm.Result
			if err := json.Unmarshal(a.ApplyEntry(tx, index, e), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	customer := func(actor string, i int) *crm.Command {
		return &crm.Command{Op: crm.OpCreate, Collection: "customers", Actor: actor, Body: load.Customer("320722", "AC", i)}
	}
	user := func(actor, body string) *crm.Command {
		return &crm.Command{Op: crm.OpCreate, Collection: "users", Actor: actor, Body: json.RawMessage(body)}
	}
	mustOK := func(rs []crm.Result) {
		t.Helper()
		for i, r := range rs {
			if r.Err != nil {
				t.Fatalf("command %d: %+v", i, r.Err)
			}
		}
	}
	refused := func(r crm.Result, who string) {
		t.Helper()
		if r.Err == nil || r.Err.Code != "forbidden" || !strings.Contains(r.Err.Message, who) {
			t.Fatalf("a write by %s = %+v; want it refused (forbidden)", who, r.Err)
		}
	}
	mustOK(batch(user(crm.SystemActor, `{"username":"root","role":"admin","password_hash":"h"}`)))
	rs := batch(user("root", `{"username":"ann","role":"agent","password_hash":"h"}`), user("root", `{"username":"bo","role":"agent","password_hash":"h"}`))
	mustOK(rs)
	var ann, bo crm.User
	_ = json.Unmarshal(rs[0].Record, &ann)
	_ = json.Unmarshal(rs[1].Record, &bo)
	mustOK(batch(customer("ann", 1), customer("bo", 2), customer("ann", 3))) // both kept as active

	// Disabled in one batch: refused in the next.
	mustOK(batch(&crm.Command{Op: crm.OpUpdate, Collection: "users", ID: ann.ID, Version: ann.Version, Actor: "root", Body: json.RawMessage(`{"disabled":true}`)}))
	refused(batch(customer("ann", 4))[0], "ann")
	mustOK(batch(customer("bo", 5)))

	// Disabled earlier in the same batch: refused after it.
	rs = batch(customer("bo", 6), &crm.Command{Op: crm.OpUpdate, Collection: "users", ID: bo.ID, Version: bo.Version, Actor: "root", Body: json.RawMessage(`{"disabled":true}`)}, customer("bo", 7))
	mustOK(rs[:2])
	refused(rs[2], "bo")

	// Renamed, then deleted: the old name, then the user, are gone.
	mustOK(batch(user("root", `{"username":"cy","role":"agent","password_hash":"h"}`)))
	mustOK(batch(customer("cy", 8)))
	cy, err := crm.UserByName(replication.StateReaderOf(st), "cy")
	if err != nil || cy == nil {
		t.Fatal(cy, err)
	}
	mustOK(batch(&crm.Command{Op: crm.OpUpdate, Collection: "users", ID: cy.ID, Version: cy.Version, Actor: "root", Body: json.RawMessage(`{"username":"dee"}`)}))
	refused(batch(customer("cy", 9))[0], "cy")
	mustOK(batch(customer("dee", 10)))
	mustOK(batch(&crm.Command{Op: crm.OpDelete, Collection: "users", ID: cy.ID, Actor: "root"}))
	refused(batch(customer("dee", 11))[0], "dee")
}
