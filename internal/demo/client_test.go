package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a stand-in for a node's API: handle answers each request; it
// counts the requests per "METHOD path".
type fake struct {
	mu     sync.Mutex
	seen   map[string]int
	handle func(w http.ResponseWriter, r *http.Request, n int) // n: how many times this method and path were seen, from 1
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[key]++
	n := f.seen[key]
	f.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	f.handle(w, r, n)
}

func (f *fake) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[key]
}

func fail(w http.ResponseWriter, status int, code, extra string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":"test"%s}}`, code, extra)
}

func unavailable(w http.ResponseWriter) { fail(w, 503, "unavailable", "") }

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// fastClient is a client of srv whose backoff suits a test.
func fastClient(srv *httptest.Server) *Client {
	c := NewClient(srv.URL)
	c.MinBackoff, c.MaxBackoff, c.MaxRetryAfter = time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
	c.token = "t"
	return c
}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeoutCause(context.Background(), d, fmt.Errorf("%w: test deadline %s", ErrDeadline, d))
	t.Cleanup(cancel)
	return ctx
}

// TestLoad_RetriesUnavailable: a loader step (the directives and the
// management setting, at three regions) against a server that answers 503
// (and one 429 with Retry-After) three times to every request before it
// succeeds: the load completes, each write applied once.
func TestLoad_RetriesUnavailable(t *testing.T) {
	f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case n == 2:
			w.Header().Set("Retry-After", "1")
			fail(w, 429, "too_many_imports", "")
		case n <= 3:
			unavailable(w)
		default:
			answer(w, 201, `{"id":"dir_1","version":1}`)
		}
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	clients := map[string]*Client{"32": fastClient(srv), "3207": fastClient(srv), "3208": fastClient(srv)}
	if err := loadDirectives(deadline(t, 10*time.Second), clients); err != nil {
		t.Fatal(err)
	}
	if n := f.count("POST /api/v1/directives"); n != 7 {
		t.Errorf("POST /api/v1/directives sent %d times; want 7 (the first write refused three times, then the four writes applied once each)", n)
	}
	if n := f.count("PUT /api/v1/regions/320804/management"); n != 4 {
		t.Errorf("the management setting was sent %d times; want 4", n)
	}
}

// TestLoad_NeverSucceeds: against a server that only ever answers 503 the
// load gives up at its deadline, not later, with an error that wraps
// ErrDeadline and names the request and the last answer.
func TestLoad_NeverSucceeds(t *testing.T) {
	f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) { unavailable(w) }}
	srv := httptest.NewServer(f)
	defer srv.Close()
	apis := map[string]string{}
	for _, r := range regions {
		apis[r.code] = srv.URL
	}
	start := time.Now()
	_, err := Load(apis, "admin", "pw", 8, 1, 700*time.Millisecond, io.Discard)
	took := time.Since(start)
	if err == nil {
		t.Fatal("the load succeeded against a server that never does")
	}
	if took > 5*time.Second {
		t.Errorf("gave up after %s; the deadline was 700ms", took)
	}
	for _, want := range []string{"loading took longer than 700ms", "--load-timeout", "POST /api/v1/auth/login", "503"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !errors.Is(err, ErrDeadline) {
		t.Errorf("error %v does not wrap ErrDeadline", err)
	}
	if n := f.count("POST /api/v1/auth/login"); n < 3 {
		t.Errorf("login sent %d times before the deadline; want it retried", n)
	}
}

// TestClient_OutcomeUnknown: after a 504 the client reads the write back
// before it sends it again: applied → answered from the read, sent once;
// not applied → sent again; not readable → not sent again, and said so.
func TestClient_OutcomeUnknown(t *testing.T) {
	t.Run("create applied", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.Method + " " + r.URL.Path {
			case "POST /api/v1/customers":
				fail(w, 504, "outcome_unknown", `,"id":"cus_1"`)
			case "GET /api/v1/customers/cus_1":
				if n == 1 {
					unavailable(w) // the read back is retried too
					return
				}
				answer(w, 200, `{"id":"cus_1","version":1}`)
			default:
				t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			}
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		var out struct{ ID string }
		if err := fastClient(srv).Do(deadline(t, 10*time.Second), "POST", "/api/v1/customers", map[string]any{"name": "x"}, &out); err != nil {
			t.Fatal(err)
		}
		if out.ID != "cus_1" || f.count("POST /api/v1/customers") != 1 {
			t.Errorf("answered %+v after %d POSTs; want cus_1 from the read back, one POST", out, f.count("POST /api/v1/customers"))
		}
	})
	t.Run("create not applied", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.Method + " " + r.URL.Path {
			case "POST /api/v1/customers":
				if n == 1 {
					fail(w, 504, "outcome_unknown", `,"id":"cus_1"`)
					return
				}
				answer(w, 201, `{"id":"cus_2","version":1}`)
			case "GET /api/v1/customers/cus_1":
				fail(w, 404, "not_found", "")
			default:
				t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			}
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		var out struct{ ID string }
		if err := fastClient(srv).Do(deadline(t, 10*time.Second), "POST", "/api/v1/customers", map[string]any{"name": "x"}, &out); err != nil {
			t.Fatal(err)
		}
		if out.ID != "cus_2" || f.count("POST /api/v1/customers") != 2 {
			t.Errorf("answered %+v after %d POSTs; want the second POST's cus_2", out, f.count("POST /api/v1/customers"))
		}
	})
	t.Run("import applied", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.Method + " " + r.URL.Path {
			case "POST /api/v1/bills/import":
				fail(w, 504, "outcome_unknown", `,"id":"bil_1","ids":["bil_1","bil_2"]`)
			case "GET /api/v1/bills/bil_1":
				answer(w, 200, `{"id":"bil_1","version":1}`)
			default:
				t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			}
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		ids, err := fastClient(srv).ImportAll(deadline(t, 10*time.Second), "bills", []any{map[string]any{}, map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids, ",") != "bil_1,bil_2" || f.count("POST /api/v1/bills/import") != 1 {
			t.Errorf("ids %v after %d imports; want the 504's ids, one import", ids, f.count("POST /api/v1/bills/import"))
		}
	})
	t.Run("transition applied", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.Method + " " + r.URL.Path {
			case "POST /api/v1/work_orders/wo_1/transition":
				fail(w, 504, "outcome_unknown", `,"id":"wo_1"`)
			case "GET /api/v1/work_orders/wo_1":
				answer(w, 200, `{"id":"wo_1","version":4,"state":"dispatched"}`)
			default:
				t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			}
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		var out struct {
			Version uint64
			State   string
		}
		if err := fastClient(srv).Do(deadline(t, 10*time.Second), "POST", "/api/v1/work_orders/wo_1/transition", map[string]any{"version": 3, "to": "dispatched"}, &out); err != nil {
			t.Fatal(err)
		}
		if out.Version != 4 || out.State != "dispatched" || f.count("POST /api/v1/work_orders/wo_1/transition") != 1 {
			t.Errorf("answered %+v; want version 4 from the read back, one transition", out)
		}
	})
	t.Run("transition not applied", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			switch r.Method + " " + r.URL.Path {
			case "POST /api/v1/work_orders/wo_1/transition":
				if n == 1 {
					fail(w, 504, "outcome_unknown", `,"id":"wo_1"`)
					return
				}
				answer(w, 200, `{"id":"wo_1","version":4}`)
			case "GET /api/v1/work_orders/wo_1":
				answer(w, 200, `{"id":"wo_1","version":3}`)
			}
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		if err := fastClient(srv).Do(deadline(t, 10*time.Second), "POST", "/api/v1/work_orders/wo_1/transition", map[string]any{"version": 3}, nil); err != nil {
			t.Fatal(err)
		}
		if n := f.count("POST /api/v1/work_orders/wo_1/transition"); n != 2 {
			t.Errorf("sent %d times; want 2 (the record had not moved)", n)
		}
	})
	t.Run("analytics run sent again", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				fail(w, 504, "outcome_unknown", "")
				return
			}
			answer(w, 200, `{"graded":3,"by_grade":{"A":3}}`)
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		got, err := runGrades(fastClient(srv), deadline(t, 10*time.Second))
		if err != nil || got != 3 || f.count("POST /api/v1/credit/grades/run") != 2 {
			t.Errorf("graded %d, err %v after %d runs; want 3 from the second run", got, err, f.count("POST /api/v1/credit/grades/run"))
		}
	})
	t.Run("cannot tell", func(t *testing.T) {
		f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) {
			fail(w, 504, "outcome_unknown", "") // an import whose 504 names no ids
		}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := fastClient(srv).ImportAll(deadline(t, 10*time.Second), "bills", []any{map[string]any{}})
		if !errors.Is(err, errUnknown) || !strings.Contains(err.Error(), "may have been applied") || f.count("POST /api/v1/bills/import") != 1 {
			t.Errorf("err %v after %d imports; want outcome unknown, not sent again", err, f.count("POST /api/v1/bills/import"))
		}
	})
}

// TestClient_ConnectionRefused: a node that is not listening (yet) is
// tried again until it is; one that never comes ends at the deadline.
func TestClient_ConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := NewClient("http://" + addr)
	c.MinBackoff, c.MaxBackoff = time.Millisecond, 10*time.Millisecond
	// The node comes up after a while.
	f := &fake{handle: func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, `{"token":"tok"}`) }}
	go func() {
		time.Sleep(100 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		srv := &http.Server{Handler: f}
		t.Cleanup(func() { srv.Close() })
		go srv.Serve(ln)
	}()
	if err := c.Login(deadline(t, 10*time.Second), "admin", "pw"); err != nil || c.token != "tok" {
		t.Fatalf("login once the node listens: %v (token %q)", err, c.token)
	}

	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := ln2.Addr().String()
	ln2.Close()
	c = NewClient("http://" + gone)
	c.MinBackoff, c.MaxBackoff = time.Millisecond, 10*time.Millisecond
	err = c.Do(deadline(t, 300*time.Millisecond), "POST", "/api/v1/customers", map[string]any{}, nil)
	if !errors.Is(err, ErrDeadline) || !strings.Contains(err.Error(), "POST /api/v1/customers") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a node that never listens: %v; want the deadline, the request and the refusal", err)
	}
}

func runGrades(cl *Client, ctx context.Context) (int, error) {
	var g struct{ Graded int }
	err := cl.Do(ctx, "POST", "/api/v1/credit/grades/run", map[string]string{"period": "2026-11"}, &g)
	return g.Graded, err
}
