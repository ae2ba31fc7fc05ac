package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
)

func TestClassifyAnswer(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   Outcome
	}{
		{200, "", Applied},
		{201, "", Applied},
		{503, "unavailable", NotApplied},
		{504, "outcome_unknown", Unknown},
		{504, "", Unknown},
		{503, "something_else", Unknown}, // a 503 that does not say "unavailable" promises nothing
		{409, "conflict", Refused},
		{409, "duplicate", Refused},
		{400, "invalid", Refused},
		{403, "wrong_owner", Refused},
		{500, "internal", Unknown},
		{502, "", Unknown},
		{302, "", Unknown},
	}
	for _, c := range cases {
		if got, why := ClassifyAnswer(c.status, c.code); got != c.want {
			t.Errorf("%d %q: %s (%s), want %s", c.status, c.code, got, why, c.want)
		}
	}
}

func TestClassifyError(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want Outcome
	}{
		{"refused dial", &url.Error{Op: "Post", URL: "http://x", Err: dial}, NotApplied},
		{"dial timeout", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: context.DeadlineExceeded}}, NotApplied},
		{"client timeout", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, Unknown},
		{"reset after sending", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, Unknown},
		{"eof", &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, Unknown},
		{"other", fmt.Errorf("wrapped: %w", errors.New("boom")), Unknown},
	}
	for _, c := range cases {
		if got, why := ClassifyError(c.err); got != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got, why, c.want)
		}
	}
}

func TestOutcomeDefinite(t *testing.T) {
	for o, want := range map[Outcome]bool{Applied: false, NotApplied: true, Refused: true, Unknown: false} {
		if o.Definite() != want {
			t.Errorf("%s.Definite() = %v", o, !want)
		}
	}
}
