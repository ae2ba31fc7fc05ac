package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// API talks to the nodes' HTTP APIs as user admin of each region. Its
// methods are safe for concurrent use.
type API struct {
	hc       *http.Client
	password string
	layout   Layout

	mu     sync.Mutex        // guards tokens
	tokens map[string]string // region → bearer token
}

// NewAPI returns a client that reaches the nodes through nw.
func NewAPI(nw Network, l Layout, password string) *API {
	tr := &http.Transport{DialContext: nw.DialContext, MaxIdleConnsPerHost: 32, MaxIdleConns: 256,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	return &API{hc: &http.Client{Transport: tr}, password: password, layout: l, tokens: map[string]string{}}
}

// Close drops idle connections.
func (a *API) Close() { a.hc.CloseIdleConnections() }

// Answer is what one request got back.
type Answer struct {
	Status  int
	Code    string // the error body's code
	Message string // the error body's message
	Body    []byte
	Err     error // transport error: no answer
}

// OK reports a 2xx answer.
func (r Answer) OK() bool { return r.Err == nil && r.Status/100 == 2 }

func (r Answer) String() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	if r.Code != "" {
		return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message)
	}
	return fmt.Sprintf("%d", r.Status)
}

// Classify maps the answer to a write outcome (classify.go).
func (r Answer) Classify() (Outcome, string) {
	if r.Err != nil {
		return ClassifyError(r.Err)
	}
	return ClassifyAnswer(r.Status, r.Code)
}

// Do sends one request to node n as admin of n's region, waiting at most
// timeout. body is JSON-encoded when not nil.
func (a *API) Do(ctx context.Context, n NodeSpec, method, path string, body any, timeout time.Duration) Answer {
	tok, err := a.token(ctx, n.Region)
	if err != nil {
		return Answer{Err: err}
	}
	ans := a.send(ctx, n, method, path, tok, body, timeout)
	if ans.Status == http.StatusUnauthorized { // token refused: log in again, once
		a.mu.Lock()
		delete(a.tokens, n.Region)
		a.mu.Unlock()
		if tok, err = a.token(ctx, n.Region); err != nil {
			return Answer{Err: err}
		}
		ans = a.send(ctx, n, method, path, tok, body, timeout)
	}
	return ans
}

func (a *API) send(ctx context.Context, n NodeSpec, method, path, token string, body any, timeout time.Duration) Answer {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return Answer{Err: err}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.APIAddr()+path, rd)
	if err != nil {
		return Answer{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return Answer{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{Err: err} // the status came, the body did not: treat as no answer
	}
	ans := Answer{Status: resp.StatusCode, Body: data}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil {
			ans.Code, ans.Message = e.Error.Code, e.Error.Message
		}
	}
	return ans
}

// token answers a token for region, logging in at its nodes in turn.
func (a *API) token(ctx context.Context, region string) (string, error) {
	a.mu.Lock()
	tok := a.tokens[region]
	a.mu.Unlock()
	if tok != "" {
		return tok, nil
	}
	var last Answer
	for _, n := range a.layout.Region(region) {
		last = a.send(ctx, n, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": a.password}, 5*time.Second)
		if !last.OK() {
			continue
		}
		var out struct{ Token string }
		if err := json.Unmarshal(last.Body, &out); err != nil || out.Token == "" {
			continue
		}
		a.mu.Lock()
		a.tokens[region] = out.Token
		a.mu.Unlock()
		return out.Token, nil
	}
	return "", fmt.Errorf("chaos: cannot log in to region %s: %s", region, last)
}

// ClusterInfo is the part of GET /api/v1/cluster the harness reads.
type ClusterInfo struct {
	Node     string `json:"node"`
	State    string `json:"state"`
	LeaderID string `json:"leader_id"`
	Applied  uint64 `json:"applied_index"`
}

// Cluster reads a node's view of its raft group (a stale read: no barrier).
func (a *API) Cluster(ctx context.Context, n NodeSpec) (ClusterInfo, error) {
	ans := a.Do(ctx, n, http.MethodGet, "/api/v1/cluster?consistency=stale", nil, 2*time.Second)
	if !ans.OK() {
		return ClusterInfo{}, fmt.Errorf("chaos: %s cluster: %s", n.ID, ans)
	}
	var ci ClusterInfo
	err := json.Unmarshal(ans.Body, &ci)
	return ci, err
}

// Ready reports whether a node answers /readyz with 200.
func (a *API) Ready(ctx context.Context, n NodeSpec) bool {
	ans := a.send(ctx, n, http.MethodGet, "/readyz", "", nil, 2*time.Second)
	return ans.OK()
}

// Summary is the part of GET /api/v1/stats/summary the checks compare.
type Summary struct {
	Customers  int64            `json:"customers"`
	ByCategory map[string]int64 `json:"customers_by_category"`
	ByStatus   map[string]int64 `json:"customers_by_status"`
}

// Summary reads node n's local (stale) summary of region.
func (a *API) Summary(ctx context.Context, n NodeSpec, region string) (Summary, error) {
	ans := a.Do(ctx, n, http.MethodGet, "/api/v1/stats/summary?consistency=stale&region="+region, nil, 3*time.Second)
	if !ans.OK() {
		return Summary{}, fmt.Errorf("chaos: %s summary of %s: %s", n.ID, region, ans)
	}
	var s Summary
	err := json.Unmarshal(ans.Body, &s)
	return s, err
}
