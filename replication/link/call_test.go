package link

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hungNode accepts connections and never answers: a parent node powered
// off behind a tunnel looks like this to a pooled connection (no reset).
func hungNode(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// TestCall_MovesOnFromAParentNodeThatNeverAnswers: the parent region's
// first node takes a call's whole time; the next call starts from the
// second node, which answers, and calls stay there. Before, every call
// started from the first node again (it only moved on an answer), so the
// links to a region with one dead node stalled for as long as it was dead.
func TestCall_MovesOnFromAParentNodeThatNeverAnswers(t *testing.T) {
	var answered atomic.Int32
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answered.Add(1)
		_, _ = w.Write([]byte(`{"acked":7}`))
	}))
	defer good.Close()
	s := &Service{
		cfg:    Config{Parent: "3207", ParentNodes: []string{hungNode(t), strings.TrimPrefix(good.URL, "http://")}},
		log:    slog.New(slog.DiscardHandler),
		client: &http.Client{},
	}
	call := func() (Answer, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		var a Answer
		return a, s.call(ctx, "/internal/v1/uplink", Batch{Link: "320722"}, &a)
	}
	if _, err := call(); err == nil {
		t.Fatal("the first call answered: the hung node was not tried first")
	}
	for i := range 5 {
		a, err := call()
		if err != nil {
			t.Fatalf("call %d after the first: %v (still trying the hung node first)", i+2, err)
		}
		if a.Acked != 7 {
			t.Fatalf("call %d: acked %d, want 7", i+2, a.Acked)
		}
	}
	if n := answered.Load(); n != 5 {
		t.Fatalf("the answering node got %d calls, want 5", n)
	}
}
