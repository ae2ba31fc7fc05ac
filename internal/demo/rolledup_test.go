package demo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// statusNode is a node's GET /api/v1/sync/status answering links.
func statusNode(t *testing.T, links *atomic.Value) string {
	t.Helper()
	srv := httptest.NewServer(&fake{handle: func(w http.ResponseWriter, r *http.Request, _ int) {
		fmt.Fprintf(w, `{"links":%s}`, links.Load().(string))
	}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRolledUp_ReadsTheChildsOwnUplink: a county is caught up only when the
// node running its uplink says nothing is on its way; the parent's view,
// whose head is what the child last sent, does not say so. The case of
// the smoke flake: the city has acked all the county sent (2 of 2), while
// the county's new leader has 30,670 changes waiting.
func TestRolledUp_ReadsTheChildsOwnUplink(t *testing.T) {
	var parent, n1, n2, n3 atomic.Value
	parent.Store(`[{"peer":"320722","direction":"from-child","acked_seq":2,"head_seq":2}]`)
	n1.Store(`[{"peer":"3207","direction":"up","running":false,"acked_seq":0,"lag_entries":0}]`)
	n2.Store(`[{"peer":"3207","direction":"up","running":true,"acked_seq":2,"lag_entries":30670}]`)
	n3.Store(`[{"peer":"3207","direction":"up","running":false}]`)
	cl := map[string]*Client{"3207": NewClient(statusNode(t, &parent))}
	apis := map[string][]string{"320722": {statusNode(t, &n1), statusNode(t, &n2), statusNode(t, &n3)}}
	cl["320722"] = NewClient(apis["320722"][0])

	if got := rolledUp(cl, apis, "320722", "3207"); !strings.Contains(got, "30670 changes") {
		t.Fatalf("the county's leader has 30,670 on their way: %q; want it behind", got)
	}
	n2.Store(`[{"peer":"3207","direction":"up","running":true,"acked_seq":30700,"lag_entries":12}]`)
	if got := rolledUp(cl, apis, "320722", "3207"); got != "" {
		t.Fatalf("12 on their way (the heartbeats): %q; want caught up", got)
	}
	n2.Store(`[{"peer":"3207","direction":"up","running":false}]`) // leadership moving: nobody runs it
	if got := rolledUp(cl, apis, "320722", "3207"); !strings.Contains(got, "no node of 320722 runs its uplink") {
		t.Fatalf("no node runs the uplink: %q; want it behind", got)
	}
	n2.Store(`[{"peer":"3207","direction":"up","running":true,"lag_entries":0}]`)
	parent.Store(`[{"peer":"320722","direction":"from-child","acked_seq":0,"head_seq":0}]`)
	if got := rolledUp(cl, apis, "320722", "3207"); !strings.Contains(got, "nothing of 320722") {
		t.Fatalf("the city has nothing yet: %q; want it behind", got)
	}
}
