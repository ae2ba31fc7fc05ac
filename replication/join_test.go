package replication_test

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"gridcrm/internal/testcluster"
)

// TestRegion_JoinRefusesANodeThatDoesNotAnswer: asked to add a node at an
// address nothing answers (a mistyped port, a node not started), the region
// refuses with 400 naming addr and changes nothing. Raft alone would add
// it: a one-node region then counts two voters, has no leader, and cannot
// take the ghost out again (removing it needs the majority it took away).
func TestRegion_JoinRefusesANodeThatDoesNotAnswer(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 1})
	cl := c.Admin(0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ghost := ln.Addr().String()
	ln.Close() // nothing listens there now: a dial is refused

	st, body := cl.Do("POST", "/api/v1/cluster/nodes", map[string]string{"id": "ghost", "addr": ghost})
	var e struct {
		Error struct{ Code, Field, Message string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	if st != 400 || e.Error.Field != "addr" || !strings.Contains(e.Error.Message, ghost) {
		t.Fatalf("join of a node that does not answer: %d %s; want 400 naming addr", st, body)
	}
	st, body = cl.Do("GET", "/api/v1/cluster", nil)
	if st != 200 || strings.Contains(string(body), "ghost") {
		t.Fatalf("cluster after the refused join: %d %s", st, body)
	}
	if st, body := cl.Do("POST", "/api/v1/customers", customer("JOIN-after")); st != 201 {
		t.Fatalf("a write after the refused join: %d %.300s (the region lost its leader)", st, body)
	}
}
