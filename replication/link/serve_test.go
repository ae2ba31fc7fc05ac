package link

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"gridcrm/replication"
	"gridcrm/store"
)

// readCountingGroup is a region's group reduced to what the handlers use;
// it counts reads of the replica and proposals.
type readCountingGroup struct {
	st              *store.Store
	reads, proposed atomic.Int32
}

func (g *readCountingGroup) IsLeader() bool { return true }
func (g *readCountingGroup) Reader() replication.StateReader {
	g.reads.Add(1)
	return replication.StateReaderOf(g.st)
}
func (g *readCountingGroup) Propose(context.Context, []byte) ([]byte, error) {
	g.proposed.Add(1)
	return []byte(`{"acked":1}`), nil
}
func (g *readCountingGroup) ReadBarrier(context.Context) error { return nil }

// The Authenticate hook is asked for the region the request claims before
// anything of the state is read; a refusal is a 403 whose JSON error says
// nothing of the state, counted with reason auth. Without a hook, a child
// region's batch goes on to be screened and proposed.
func TestRoutes_Authenticate(t *testing.T) {
	st, err := store.Open(store.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var asked []string
	for _, hook := range []func(*http.Request, string) error{
		func(r *http.Request, claimed string) error {
			asked = append(asked, r.URL.Path+" "+claimed)
			return errors.New("certificate of 320723")
		},
		nil,
	} {
		g := &readCountingGroup{st: st}
		m := NewMetrics(nil)
		s, err := New(Config{Region: "3207", Group: g, Store: st, Domain: fakeDomain{}, Metrics: m, Authenticate: hook})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		s.Routes(mux)
		post := func(path, body string) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(body)))
			return w
		}
		up := post(UplinkPath, `{"link":"320722","from":0,"to":1,"changes":[{"s":1,"o":"320722","os":1,"k":"r/customers/c1","w":"320722","v":{"id":"c1","owner":"320722"},"t":1}]}`)
		down := post(DownlinkPath, `{"for":"320722","from":0,"max":10}`)
		if hook != nil {
			for _, w := range []*httptest.ResponseRecorder{up, down} {
				if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"code":"forbidden"`) || strings.Contains(w.Body.String(), "acked") || strings.Contains(w.Body.String(), "certificate") {
					t.Errorf("refused by the hook: %d %s; want 403 with a JSON error that names nothing", w.Code, w.Body)
				}
			}
			if g.reads.Load() != 0 || g.proposed.Load() != 0 {
				t.Errorf("the state was read %d times, %d proposals, before the hook refused", g.reads.Load(), g.proposed.Load())
			}
			if strings.Join(asked, ",") != UplinkPath+" 320722,"+DownlinkPath+" 320722" {
				t.Errorf("hook asked %v", asked)
			}
			if n, items := m.Rejections("320722", "from-child"); n != 2 || items[0].Reason != ReasonAuth || items[1].Reason != ReasonAuth {
				t.Errorf("rejections %d %+v; want two (uplink, downlink request), reason auth", n, items)
			}
			continue
		}
		if up.Code != http.StatusOK || g.proposed.Load() != 1 {
			t.Errorf("without a hook: uplink %d %s, %d proposals; want it proposed", up.Code, up.Body, g.proposed.Load())
		}
		if down.Code != http.StatusOK || !strings.Contains(down.Body.String(), `"head"`) {
			t.Errorf("without a hook: downlink %d %s", down.Code, down.Body)
		}
	}
}
