package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiClient is a minimal logged-in client of one node's API, for the
// operations commands (credentials.login in ops.go logs it in). The demo
// loader has its own (internal/demo).
type apiClient struct {
	base, token string
	http        *http.Client
}

// do sends one request and decodes a 2xx answer into out. A 503 answer
// says that nothing was applied (no leader, an election, a node shutting
// down): do waits and sends the request again, for up to two minutes. Any
// other failure, a 504 "outcome unknown" included, is the caller's.
func (cl *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	giveUp := time.Now().Add(2 * time.Minute)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		err := cl.once(ctx, method, path, b, out)
		var u errUnavailable
		if !errors.As(err, &u) || time.Now().Add(backoff).After(giveUp) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
}

// errUnavailable is a 503 answer: not applied, safe to send again.
type errUnavailable struct{ error }

func (cl *apiClient) once(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
		if resp.StatusCode == http.StatusServiceUnavailable {
			return errUnavailable{err}
		}
		return err
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
