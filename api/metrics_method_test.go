package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/ops"
)

// TestMetrics_MadeUpMethodsShareOneLabel: net/http takes any token as a
// method and the metrics middleware sees requests no route matched, so 40
// made-up methods made 40 label values (a counter and a histogram each,
// kept for the node's life). They count as "other" now.
func TestMetrics_MadeUpMethodsShareOneLabel(t *testing.T) {
	b := newFakeBackend(region)
	key, _ := json.Marshal(fmt.Sprintf("%064x", time.Now().UnixNano()))
	if res, err := b.Propose(context.Background(), &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: key, Region: region, Actor: crm.SystemActor, Time: time.Now().UTC()}); err != nil || res.Err != nil {
		t.Fatalf("token key: %v %v", err, res.Err)
	}
	reg := ops.NewRegistry()
	srv := api.New(api.Config{Region: region, Tier: "county", NodeID: "m1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, b, reg)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	for i := range 40 {
		req, _ := http.NewRequest(fmt.Sprintf("MADEUP%d", i), ts.URL+"/api/v1/customers", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "gridcrm_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	if !methods["other"] || !methods["GET"] || len(methods) != 2 {
		t.Fatalf("method labels %v; want GET and other", methods)
	}
}
