package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gridcrm/crm"
)

// Client is the loader's logged-in client of one node's API. Every request
// is sent again after a transient failure, with backoff, until the
// context's deadline:
//
//   - 503 unavailable (no leader, an election, a node shutting down) and
//     429 (Retry-After: too many imports at once): nothing was applied.
//   - a connection that could not be made (refused, unreachable): nothing
//     was sent.
//   - 504 outcome_unknown, or a connection lost after the request was sent:
//     the write may have been applied. The client reads it back first
//     (readBack): a create or import by the id(s) the 504 names, an action
//     or patch by the record's version; only a write that did not happen is
//     sent again, so nothing is written twice. A write it cannot read back
//     is not retried: the error says the outcome is unknown.
//
// Any other answer (4xx, 500) is the caller's at once. Past the context's
// deadline the error wraps context.Cause (Load's names ErrDeadline), the
// request, how many times it was sent and its last failure.
type Client struct {
	base, token string
	http        *http.Client
	// MinBackoff and MaxBackoff bound the wait between attempts (doubling,
	// with jitter); a Retry-After answer is honoured up to MaxRetryAfter.
	MinBackoff, MaxBackoff, MaxRetryAfter time.Duration
}

// NewClient is a client of the API at base (http://host:port), not logged in.
func NewClient(base string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 2 * time.Minute},
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxRetryAfter: 10 * time.Second}
}

// At is a copy of c, logged in as c is, that asks the API at base (another
// node of the same hierarchy).
func (c *Client) At(base string) *Client {
	cc := *c
	cc.base = strings.TrimRight(base, "/")
	return &cc
}

// Base is the API's URL.
func (c *Client) Base() string { return c.base }

// Login logs in as user, trying again on any failure until ctx ends: a
// node just started answers nothing, or 503 until its region is ready, or
// 401 until the bootstrap admin has reached its replica.
func (c *Client) Login(ctx context.Context, user, password string) error {
	body := map[string]string{"username": user, "password": password}
	for attempt := 1; ; attempt++ {
		var out struct{ Token string }
		err := c.Do(ctx, "POST", "/api/v1/auth/login", body, &out)
		if err == nil {
			c.token = out.Token
			return nil
		}
		if ctx.Err() != nil {
			return err // Do named the deadline
		}
		if !c.wait(ctx, attempt, 0) {
			return fmt.Errorf("%w: login at %s (%d attempts; last: %v)", context.Cause(ctx), c.base, attempt, err)
		}
	}
}

// HTTPError is an answer other than 2xx.
type HTTPError struct {
	Method, Path string
	Status       int
	Code         string        // error.code
	ID           string        // error.id: the record a write of unknown outcome was for
	IDs          []string      // error.ids: the records of an import of unknown outcome
	RetryAfter   time.Duration // the Retry-After header
	Body         string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// errUnknown is a write whose outcome the client could not learn.
var errUnknown = errors.New("outcome unknown")

// Do sends one request (body as JSON unless nil) and decodes a 2xx answer
// into out (unless nil), retrying as the Client's comment says.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	var last error
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, method, path, b, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if last == nil {
				last = err
			}
			return fmt.Errorf("%w: %s %s (sent %d times; last: %v)", context.Cause(ctx), method, path, attempt, last)
		}
		last = err
		var retryAfter time.Duration
		switch transient(err) {
		case permanent:
			return err
		case notApplied:
			var he *HTTPError
			if errors.As(err, &he) {
				retryAfter = he.RetryAfter
			}
		case maybeApplied:
			applied, rerr := c.readBack(ctx, method, path, b, err, out)
			switch {
			case rerr != nil:
				return rerr
			case applied:
				return nil
			}
		}
		if !c.wait(ctx, attempt, retryAfter) {
			return fmt.Errorf("%w: %s %s (sent %d times; last: %v)", context.Cause(ctx), method, path, attempt, err)
		}
	}
}

// ImportAll imports rows in requests of at most crm.MaxImportRows and
// answers the new ids in row order.
func (c *Client) ImportAll(ctx context.Context, coll string, rows []any) ([]string, error) {
	var ids []string
	for len(rows) > 0 {
		n := min(len(rows), crm.MaxImportRows)
		var out struct{ IDs []string }
		if err := c.Do(ctx, "POST", "/api/v1/"+coll+"/import", rows[:n], &out); err != nil {
			return nil, err
		}
		if len(out.IDs) != n {
			return nil, fmt.Errorf("import of %d %s answered %d ids", n, coll, len(out.IDs))
		}
		ids = append(ids, out.IDs...)
		rows = rows[n:]
	}
	return ids, nil
}

// wait sleeps before attempt+1: the backoff (doubling from MinBackoff to
// MaxBackoff, ±20% jitter), or retryAfter when the server said so. It
// answers false when ctx ends first.
func (c *Client) wait(ctx context.Context, attempt int, retryAfter time.Duration) bool {
	d := c.MinBackoff << min(attempt-1, 20)
	if d > c.MaxBackoff || d <= 0 {
		d = c.MaxBackoff
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if retryAfter > 0 {
		d = min(retryAfter, c.MaxRetryAfter)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type kind int

const (
	permanent    kind = iota
	notApplied        // safe to send again
	maybeApplied      // read back before sending again
)

// transient classifies a failed attempt.
func transient(err error) kind {
	var he *HTTPError
	if errors.As(err, &he) {
		switch he.Status {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			return notApplied
		case http.StatusGatewayTimeout:
			return maybeApplied
		}
		return permanent
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) {
		return notApplied // nothing was sent
	}
	var ue *url.Error
	var le lostError
	if errors.As(err, &ue) || errors.As(err, &le) {
		return maybeApplied // the request may have left (and been applied), the answer did not arrive
	}
	return permanent // an undecodable answer
}

// lostError is an answer cut off while it was read.
type lostError struct{ error }

func (e lostError) Unwrap() error { return e.error }

// readBack learns whether a write whose outcome is unknown (failed with
// cause) was applied: applied means out holds its answer; false, nil means
// it was not and may be sent again; an error means the client cannot tell
// (or the read failed) and the write must not be retried.
func (c *Client) readBack(ctx context.Context, method, path string, body []byte, cause error, out any) (applied bool, err error) {
	unknown := func() (bool, error) {
		return false, fmt.Errorf("%w, not sent again since it may have been applied: %v", errUnknown, cause)
	}
	switch method {
	case "GET", "HEAD", "PUT", "DELETE":
		return false, nil // idempotent: sending it again does no harm
	}
	if path == "/api/v1/auth/login" {
		return false, nil
	}
	var he *HTTPError
	errors.As(cause, &he)
	seg := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")
	exists := func(coll, id string, into any) (bool, error) {
		err := c.Do(ctx, "GET", "/api/v1/"+coll+"/"+id, nil, into)
		var ge *HTTPError
		if errors.As(err, &ge) && ge.Status == http.StatusNotFound {
			return false, nil
		}
		return err == nil, err
	}
	switch {
	case method == "POST" && len(seg) == 1: // a create: the 504 names its id
		if he == nil || he.ID == "" {
			return unknown()
		}
		return exists(seg[0], he.ID, out)
	case method == "POST" && len(seg) == 2 && seg[1] == "import": // all or nothing: the first id tells
		if he == nil || len(he.IDs) == 0 {
			return unknown()
		}
		ok, err := exists(seg[0], he.IDs[0], nil)
		if ok && out != nil {
			raw, _ := json.Marshal(map[string]any{"imported": len(he.IDs), "ids": he.IDs})
			err = json.Unmarshal(raw, out)
		}
		return ok, err
	case method == "POST" && seg[len(seg)-1] == "run": // an analytics run skips what it has done: safe to send again
		return false, nil
	case method == "PATCH" && len(seg) == 2, method == "POST" && len(seg) == 3 && (seg[2] == "stage" || seg[2] == "transition"):
		// A write of the version read: applied iff the record moved past it
		// (the loader is the only writer of its records while it loads).
		var sent struct{ Version uint64 }
		if json.Unmarshal(body, &sent) != nil || sent.Version == 0 {
			return unknown()
		}
		var raw json.RawMessage
		ok, err := exists(seg[0], seg[1], &raw)
		if err != nil || !ok {
			return false, err
		}
		var now struct{ Version uint64 }
		if err := json.Unmarshal(raw, &now); err != nil {
			return false, err
		}
		if now.Version <= sent.Version {
			return false, nil
		}
		if out != nil {
			return true, json.Unmarshal(raw, out)
		}
		return true, nil
	}
	return unknown()
}

func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return lostError{fmt.Errorf("%s %s: reading the answer: %w", method, path, err)}
	}
	if resp.StatusCode/100 != 2 {
		e := &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
		var env struct {
			Error struct {
				Code string   `json:"code"`
				ID   string   `json:"id"`
				IDs  []string `json:"ids"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &env) == nil {
			e.Code, e.ID, e.IDs = env.Error.Code, env.Error.ID, env.Error.IDs
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not what was expected: %w", method, path, err)
		}
	}
	return nil
}
