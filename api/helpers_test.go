package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/ops"
)

// region is the county every test cluster serves; otherRegion is a
// neighbouring county it does not own.
const (
	region      = "320722"
	otherRegion = "320723"
)

var base64URL = base64.RawURLEncoding

var httpClient = &http.Client{Timeout: testcluster.RequestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// client talks to one node's API. auth is the whole Authorization header
// value ("" sends none), so tests can send malformed ones.
type client struct {
	t    testing.TB
	base string
	auth string
}

func newCluster(t *testing.T, nodes int) *testcluster.Cluster {
	t.Helper()
	return testcluster.New(t, testcluster.Opts{Nodes: nodes, Region: region})
}

// adminOf logs in as the bootstrap admin on node i. It first waits for the
// admin to reach the node's replica: every login attempt costs a bcrypt
// hash (most of a second under -race), so retrying logins until the
// bootstrap admin exists would cost seconds.
func adminOf(t testing.TB, c *testcluster.Cluster, i int) client {
	t.Helper()
	n := c.Node(i)
	testcluster.WaitFor(t, 30*time.Second, "the bootstrap admin", func() bool {
		u, err := crm.UserByName(n.Reader(), "admin")
		return err == nil && u != nil
	})
	cl := testcluster.Login(t, n.APIURL(), "admin", testcluster.AdminPassword)
	return client{t: t, base: cl.Base, auth: "Bearer " + cl.Token}
}

// on is the same client reporting to t (use it inside subtests).
func (c client) on(t testing.TB) client { c.t = t; return c }

// asToken is the same node with another token ("" for none).
func (c client) asToken(tok string) client {
	if tok == "" {
		c.auth = ""
	} else {
		c.auth = "Bearer " + tok
	}
	return c
}

// asHeader is the same node with a raw Authorization header.
func (c client) asHeader(h string) client { c.auth = h; return c }

func (c client) token() string { return strings.TrimPrefix(c.auth, "Bearer ") }

// do sends body as JSON: nil sends nothing, []byte and string go as they
// are, anything else is marshalled.
func (c client) do(method, path string, body any) (int, []byte) {
	return c.send(method, path, "application/json", body)
}

// send is do with an explicit Content-Type. It never calls t.Fatal, so it
// may run on any goroutine; a transport error answers status 0.
func (c client) send(method, path, ctype string, body any) (int, []byte) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, []byte(err.Error())
		}
		r = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testcluster.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, []byte(err.Error())
	}
	if ctype != "" && body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// must sends a request that has to answer want and decodes the answer.
func (c client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.do(method, path, body)
	if st != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, want, out)
	}
	var m map[string]any
	if len(out) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, out)
		}
	}
	return m
}

// create posts a record and answers its id.
func (c client) create(coll string, body any) string {
	c.t.Helper()
	m := c.must(201, "POST", "/api/v1/"+coll, body)
	id, _ := m["id"].(string)
	if id == "" {
		c.t.Fatalf("POST /api/v1/%s answered no id: %v", coll, m)
	}
	return id
}

// count pages through a collection and answers how many records it holds.
func (c client) count(coll string) int {
	c.t.Helper()
	n, after := 0, ""
	for {
		path := "/api/v1/" + coll + "?limit=1000"
		if after != "" {
			path += "&after=" + after
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		st, out := c.do("GET", path, nil)
		if st != 200 || json.Unmarshal(out, &page) != nil {
			c.t.Fatalf("GET %s: %d %s", path, st, out)
		}
		n += len(page.Items)
		if page.Next == "" {
			return n
		}
		after = page.Next
	}
}

// snapshot is the first page of every collection as served: any write to
// any record (a new record, a version bump) changes it.
func (c client) snapshot() map[string]string {
	c.t.Helper()
	s := map[string]string{}
	for _, coll := range crm.Collections() {
		st, out := c.do("GET", "/api/v1/"+coll+"?limit=1000", nil)
		if st != 200 {
			c.t.Fatalf("GET /api/v1/%s: %d %s", coll, st, out)
		}
		s[coll] = string(out)
	}
	return s
}

// wantUnchanged fails when anything was written since before.
func (c client) wantUnchanged(before map[string]string) {
	c.t.Helper()
	after := c.snapshot()
	for _, coll := range crm.Collections() {
		if before[coll] != after[coll] {
			c.t.Errorf("a rejected request wrote to %s: %d records before, %d after (or a record changed)",
				coll, itemCount(c.t, before[coll]), itemCount(c.t, after[coll]))
		}
	}
}

func itemCount(t testing.TB, page string) int {
	var p struct{ Items []json.RawMessage }
	if err := json.Unmarshal([]byte(page), &p); err != nil {
		t.Fatalf("list answer: %v", err)
	}
	return len(p.Items)
}

// apiError is the one error shape: {"error":{"code","message","field",...}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
	Owner   string `json:"owner"`
	Rows    []struct {
		Row     int    `json:"row"`
		Line    int    `json:"line"`
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"rows"`
}

// wantError checks status, shape, code, field and a non-empty message.
func wantError(t testing.TB, st int, body []byte, status int, code, field string) apiError {
	t.Helper()
	if st != status {
		t.Errorf("status %d, want %d: %s", st, status, body)
	}
	var env struct {
		Error *apiError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil {
		t.Errorf(`body is not {"error":{"code","message","field"}}: %v: %s`, err, body)
		return apiError{}
	}
	e := *env.Error
	if e.Code != code {
		t.Errorf("error.code = %q, want %q: %s", e.Code, code, body)
	}
	if e.Field != field {
		t.Errorf("error.field = %q, want %q: %s", e.Field, field, body)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("error.message is empty: %s", body)
	}
	return e
}

// obj is a JSON object under construction.
type obj map[string]any

// with answers a copy with the key/value pairs set.
func (o obj) with(kv ...any) obj {
	out := maps.Clone(o)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// without answers a copy without keys.
func (o obj) without(keys ...string) obj {
	out := maps.Clone(o)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func (o obj) String() string {
	b, err := json.Marshal(map[string]any(o))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func customerBody(accountNo string) obj {
	return obj{"account_no": accountNo, "name": "Customer " + accountNo, "category": "residential",
		"voltage_kv": 0.22, "capacity_kva": 8, "region": region, "tags": []string{"t1"}}
}

func billBody(customerID, period string) obj {
	return obj{"customer_id": customerID, "period": period, "kwh": 120, "billed": 63.5, "paid": 0}
}

func staffBody(no string) obj {
	return obj{"staff_no": no, "name": "Staff " + no, "role": "account_manager", "region": region}
}

func contactBody(customerID string) obj {
	return obj{"customer_id": customerID, "name": "Li Lei", "phone": "13800000000"}
}

func interactionBody(customerID string) obj {
	return obj{"customer_id": customerID, "kind": "visit", "at": "2026-03-01T09:30:00+08:00", "summary": "site visit"}
}

func projectBody(customerID string) obj {
	return obj{"kind": "new_connection", "customer_id": customerID, "voltage_kv": 0.22, "capacity_kva": 8}
}

func workOrderBody(customerID string) obj {
	return obj{"channel": "95598_hotline", "kind": "complaint", "subject": "meter reading disputed", "customer_id": customerID}
}

func outageBody() obj {
	return obj{"type": "planned", "feeder": "10kV 城东线", "start": "2026-12-20T08:00:00+08:00", "end": "2026-12-20T16:00:00+08:00"}
}

// seeds holds one record of every collection.
type seeds struct {
	ids map[string]string // collection → id
}

// seed creates one record in every domain collection and a user that the
// tests may write to (never one they log in as).
func seed(c client) seeds {
	c.t.Helper()
	s := seeds{ids: map[string]string{}}
	s.ids["customers"] = c.create("customers", customerBody("SEED-1"))
	s.ids["bills"] = c.create("bills", billBody(s.ids["customers"], "2026-01"))
	s.ids["staff"] = c.create("staff", staffBody("S-1"))
	s.ids["contacts"] = c.create("contacts", contactBody(s.ids["customers"]))
	s.ids["interactions"] = c.create("interactions", interactionBody(s.ids["customers"]))
	s.ids["directives"] = c.create("directives", obj{"kind": "notice", "title": "迎峰度夏有序用电通知", "body": obj{"text": "7月起错峰"}})
	s.ids["users"] = c.create("users", obj{"username": "victim", "role": "analyst", "password": userPassword})
	s.ids["projects"] = c.create("projects", projectBody(s.ids["customers"]))
	s.ids["work_orders"] = c.create("work_orders", workOrderBody(s.ids["customers"]))
	s.ids["outages"] = c.create("outages", outageBody())
	seedBigCustomer(c, s.ids) // bigcustomer_test.go
	seedAnalytics(c, s.ids)   // analytics_test.go
	return s
}

// login logs in as user and answers a client carrying the token.
func login(t testing.TB, base, user, password string) client {
	t.Helper()
	c := client{t: t, base: base}
	st, out := c.do("POST", "/api/v1/auth/login", obj{"username": user, "password": password})
	var ans struct{ Token string }
	if st != 200 || json.Unmarshal(out, &ans) != nil || ans.Token == "" {
		t.Fatalf("login %s: %d %s", user, st, out)
	}
	return c.asToken(ans.Token)
}

// userPassword is the password addUsers gives every user: one the password
// rule accepts for any of the tests' usernames.
const userPassword = "Lantern-quartz-42"

// addUsers creates users (name → role, password userPassword) and logs
// each in, in parallel: every step costs a bcrypt hash. It answers the
// logged-in clients by name.
func addUsers(t testing.TB, admin client, users map[string]string) map[string]client {
	t.Helper()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []string
	)
	out := map[string]client{}
	for name, role := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := userPassword
			st, body := admin.do("POST", "/api/v1/users", obj{"username": name, "role": role, "password": pw})
			var ans struct{ Token string }
			if st == 201 {
				st, body = client{base: admin.base}.do("POST", "/api/v1/auth/login", obj{"username": name, "password": pw})
				_ = json.Unmarshal(body, &ans)
			}
			mu.Lock()
			defer mu.Unlock()
			if ans.Token == "" {
				errs = append(errs, fmt.Sprintf("user %s: %d %s", name, st, body))
				return
			}
			out[name] = client{t: t, base: admin.base}.asToken(ans.Token)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("creating users: %s", strings.Join(errs, "; "))
	}
	return out
}

// shadow builds a second *api.Server over node n's backend, as node.Start
// builds the one it serves: same code, same replicated state and signing
// key, but a config the test chooses. Tests use it to list the router's
// routes and to mint tokens with a tiny TTL.
func shadow(n *node.Node, ttl time.Duration) *api.Server {
	cfg := n.Config()
	return api.New(api.Config{Region: cfg.Region, Tier: cfg.Tier, NodeID: cfg.NodeID, TokenTTL: ttl,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, n, ops.NewRegistry())
}

// expiredToken logs the admin in through srv, a shadow server whose
// tokens live one nanosecond (shadow(n, time.Nanosecond), or a fake's): the
// token is signed with the region's real key and its "exp" (whole seconds)
// is already past.
func expiredToken(t testing.TB, srv *api.Server) string {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(obj{"username": "admin", "password": testcluster.AdminPassword}.String()))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var ans struct{ Token string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || ans.Token == "" {
		t.Fatalf("login through the shadow server: %d %s", rec.Code, rec.Body)
	}
	if exp := tokenClaims(t, ans.Token)["exp"].(float64); int64(exp) > time.Now().Unix() {
		t.Fatalf("token expires at %v, not in the past", exp)
	}
	return ans.Token
}

// tokenClaims decodes a token's payload (without checking it).
func tokenClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	p, _, ok := strings.Cut(tok, ".")
	raw, err := base64URL.DecodeString(p)
	var m map[string]any
	if !ok || err != nil || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("token %q has no JSON payload", tok)
	}
	return m
}

// tamper rewrites a claim of the token's payload and keeps the signature.
func tamper(t testing.TB, tok, claim string, value any) string {
	t.Helper()
	m := tokenClaims(t, tok)
	m[claim] = value
	payload, _ := json.Marshal(m)
	_, sig, _ := strings.Cut(tok, ".")
	return base64URL.EncodeToString(payload) + "." + sig
}
