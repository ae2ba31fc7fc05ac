package node_test

import (
	"encoding/json"
	"testing"

	"gridcrm/internal/testcluster"
)

func TestNode_CreateAndReadBack(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 3})
	a, b := c.Client(0), c.Client(2)
	st, body := a.Do("POST", "/api/v1/customers", map[string]any{"account_no": "3207220000001", "name": "灌云县恒通纺织有限公司", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"})
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var rec struct {
		ID      string
		Version int
	}
	json.Unmarshal(body, &rec)
	if rec.ID == "" || rec.Version != 1 {
		t.Fatalf("create answered %s", body)
	}
	st, body = b.Do("GET", "/api/v1/customers/"+rec.ID, nil)
	if st != 200 {
		t.Fatalf("read back on another node: %d %s", st, body)
	}
}
