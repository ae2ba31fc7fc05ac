package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"gridcrm/crm"
)

// apiClient is a minimal logged-in client of one node's API.
type apiClient struct {
	base, token string
	http        *http.Client
}

func login(ctx context.Context, base, user, password string) (*apiClient, error) {
	cl := &apiClient{base: base, http: &http.Client{Timeout: 2 * time.Minute}}
	var lastErr error
	for {
		var out struct{ Token string }
		lastErr = cl.do(ctx, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": password}, &out)
		if lastErr == nil {
			cl.token = out.Token
			return cl, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("login at %s: %w", base, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (cl *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
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
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// importAll imports rows in requests of at most crm.MaxImportRows and
// answers the new ids in row order.
func (cl *apiClient) importAll(ctx context.Context, coll string, rows []any) ([]string, error) {
	var ids []string
	for len(rows) > 0 {
		n := min(len(rows), crm.MaxImportRows)
		var out struct{ IDs []string }
		if err := cl.do(ctx, "POST", "/api/v1/"+coll+"/import", rows[:n], &out); err != nil {
			return nil, err
		}
		ids = append(ids, out.IDs...)
		rows = rows[n:]
	}
	return ids, nil
}
