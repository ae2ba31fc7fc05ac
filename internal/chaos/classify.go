package chaos

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

// Outcome is what a client may conclude about one write attempt from the
// answer it got.
type Outcome int

const (
	// Applied: the server acknowledged the write (2xx).
	Applied Outcome = iota
	// NotApplied: the server says the write was certainly not applied and
	// may be retried, or the request never left the client.
	NotApplied
	// Refused: the domain refused the write (a 4xx such as a stale
	// version or a duplicate account number); nothing was applied.
	Refused
	// Unknown: the write may or may not have been applied (timeouts,
	// broken connections, 504, 5xx other than the "not applied" ones).
	Unknown
)

var outcomeNames = [...]string{Applied: "applied", NotApplied: "not-applied", Refused: "refused", Unknown: "unknown"}

func (o Outcome) String() string { return outcomeNames[o] }

// MarshalText writes the outcome's name in reports.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Definite reports whether the write certainly was not applied.
func (o Outcome) Definite() bool { return o == NotApplied || o == Refused }

// answerRule is one row of the classification table: an HTTP status
// (0 = any in the class of Min..Max) and an error code ("" = any code).
type answerRule struct {
	Min, Max int    // status range, inclusive
	Code     string // the error body's code; "" matches any
	Outcome  Outcome
	Why      string
}

// answerTable is the one place that says what an HTTP answer to a write
// means. The first matching row wins. It follows the API's contract as the
// replication fix defines it: 503 "unavailable" = certainly not applied,
// safe to retry; 504 "outcome_unknown" = may or may not have been applied.
// Adjust it here if that contract changes.
var answerTable = []answerRule{
	{200, 299, "", Applied, "acknowledged"},
	{503, 503, "unavailable", NotApplied, "503 unavailable: not applied, safe to retry"},
	{504, 504, "outcome_unknown", Unknown, "504 outcome_unknown: may or may not have been applied"},
	{504, 504, "", Unknown, "504: gateway timeout, outcome unknown"},
	{400, 499, "", Refused, "4xx: refused by the domain or the API, nothing applied"},
	{500, 599, "", Unknown, "5xx: the server failed midway, outcome unknown"},
}

// ClassifyAnswer maps an HTTP status and error code to an Outcome.
func ClassifyAnswer(status int, code string) (Outcome, string) {
	for _, r := range answerTable {
		if status >= r.Min && status <= r.Max && (r.Code == "" || r.Code == code) {
			return r.Outcome, r.Why
		}
	}
	return Unknown, "unexpected status: outcome unknown"
}

// ClassifyError maps a transport error (no HTTP answer) to an Outcome. A
// connection that could not be opened never carried the request: not
// applied. Everything else (timeouts, resets, EOF after sending) may have
// reached the server: unknown.
func ClassifyError(err error) (Outcome, string) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return NotApplied, "connection not opened: the request never left"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return NotApplied, "connection refused: the request never left"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return Unknown, "client timeout: outcome unknown"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Unknown, "client timeout: outcome unknown"
	}
	return Unknown, "connection broke (reset, EOF): outcome unknown"
}

func shortErr(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
