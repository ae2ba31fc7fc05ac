package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/api"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/ops"
)

// loginAnswer is a login's status, Retry-After and error code.
type loginAnswer struct {
	status     int
	retryAfter int // seconds; 0 when absent
	code       string
	token      string
	body       string
}

// tryLogin posts a login to base and never fails the test (any goroutine).
func tryLogin(base, user, password string) loginAnswer {
	b, _ := json.Marshal(obj{"username": user, "password": password})
	ctx, cancel := context.WithTimeout(context.Background(), testcluster.RequestTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/auth/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return loginAnswer{body: err.Error()}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	a := loginAnswer{status: resp.StatusCode, body: string(out)}
	a.retryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	var m struct {
		Token string
		Error struct{ Code string }
	}
	_ = json.Unmarshal(out, &m)
	a.code, a.token = m.Error.Code, m.Token
	return a
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer = testcluster.SyncBuffer

// policyServer serves node n's backend through a second api.Server, as the
// node builds its own, with the login policy (and anything else) the test
// sets; its log and metrics are the test's to read.
type policyServer struct {
	URL     string
	log     *syncBuffer
	metrics *ops.Registry
}

func newPolicyServer(t testing.TB, n *node.Node, set func(*api.Config)) policyServer {
	t.Helper()
	cfg := n.Config()
	ps := policyServer{log: &syncBuffer{}, metrics: ops.NewRegistry()}
	ac := api.Config{Region: cfg.Region, Tier: cfg.Tier, NodeID: cfg.NodeID, TokenTTL: cfg.TokenTTL,
		Logger: slog.New(slog.NewTextHandler(ps.log, nil))}
	set(&ac)
	srv := httptest.NewServer(api.New(ac, n, ps.metrics).Handler())
	t.Cleanup(srv.Close)
	ps.URL = srv.URL
	return ps
}

// loginCount reads gridcrm_logins_total{outcome} from a Prometheus text scrape.
func loginCount(t testing.TB, scrape, outcome string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^gridcrm_logins_total\{[^}]*outcome="` + outcome + `"[^}]*\} (\d+)`).FindStringSubmatch(scrape)
	if m == nil {
		t.Fatalf("no gridcrm_logins_total{outcome=%q} in the scrape", outcome)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (ps policyServer) scrape(t testing.TB) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ps.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestLogin_ThrottledUnderAttack: 8 clients guessing one user's password in
// parallel get 429 with Retry-After after a few tries, and at most
// LockAfter (10) guesses ever reach the password check; the outcomes are
// counted in gridcrm_logins_total. Before, all 96 were checked and
// answered 401.
func TestLogin_ThrottledUnderAttack(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	admin.must(201, "POST", "/api/v1/users", obj{"username": "ulla", "role": "agent", "password": userPassword})

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		answers []loginAnswer
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 12 {
				a := tryLogin(admin.base, "ulla", "Wrong-guess-"+strconv.Itoa(i*100+j))
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	byStatus := map[int]int{}
	for _, a := range answers {
		byStatus[a.status]++
		switch a.status {
		case 401:
		case 429:
			if a.retryAfter < 1 || (a.code != "too_many_attempts" && a.code != "account_locked") {
				t.Errorf("429 without Retry-After or with code %q: Retry-After %d, %s", a.code, a.retryAfter, a.body)
			}
		default:
			t.Errorf("a wrong password answered %d: %s", a.status, a.body)
		}
	}
	t.Logf("96 wrong passwords from 8 clients: %v", byStatus)
	if byStatus[401] > 10 || byStatus[401] == 0 {
		t.Errorf("%d guesses reached the password check; want between 1 and LockAfter (10)", byStatus[401])
	}
	if byStatus[429] < 96-10 {
		t.Errorf("%d answers were 429; want at least 86", byStatus[429])
	}

	st, out := admin.do("GET", "/metrics", nil)
	if st != 200 {
		t.Fatalf("GET /metrics: %d %s", st, out)
	}
	if n := loginCount(t, string(out), "bad_password"); n != byStatus[401] {
		t.Errorf("gridcrm_logins_total{outcome=bad_password} = %d; want %d", n, byStatus[401])
	}
	if n := loginCount(t, string(out), "success"); n < 1 {
		t.Errorf("gridcrm_logins_total{outcome=success} = %d; the admin logged in", n)
	}
	if n := loginCount(t, string(out), "throttled") + loginCount(t, string(out), "locked"); n != byStatus[429] {
		t.Errorf("gridcrm_logins_total{outcome=throttled|locked} = %d; want %d", n, byStatus[429])
	}
}

// TestLogin_LockoutAndAdminUnlock: failed logins lock a user in the
// replicated state (every API server of the region refuses even the right
// password, 429 account_locked with Retry-After) until an admin lifts it;
// every login is logged with user, source and outcome; too many failures
// from one address slow that address down whatever the username.
func TestLogin_LockoutAndAdminUnlock(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	id := admin.create("users", obj{"username": "ulla", "role": "agent", "password": userPassword})
	// LockAfter 3 with no delays before it, so the test waits for nothing.
	ps := newPolicyServer(t, c.Node(0), func(cfg *api.Config) {
		cfg.Logins = api.LoginPolicy{UserFreeFailures: 100, LockAfter: 3, LockFor: time.Hour}
	})

	for i := range 3 {
		if a := tryLogin(ps.URL, "ulla", "Wrong-guess-"+strconv.Itoa(i)); a.status != 401 {
			t.Fatalf("wrong password %d: %d %s", i, a.status, a.body)
		}
	}
	for name, base := range map[string]string{"the server that counted": ps.URL, "the node's own API": admin.base} {
		a := tryLogin(base, "ulla", userPassword)
		if a.status != 429 || a.code != "account_locked" || a.retryAfter < 3000 || a.retryAfter > 3600 {
			t.Errorf("the right password at %s while locked: %d, Retry-After %d: %s", name, a.status, a.retryAfter, a.body)
		}
	}
	st := admin.must(200, "GET", "/api/v1/users/"+id+"/sessions", nil)
	if st["failed_logins"] != 3.0 || st["locked"] != true || st["locked_until"] == nil {
		t.Errorf("GET sessions of a locked user: %v", st)
	}

	agent := addUsers(t, admin, map[string]string{"otto": "agent"})["otto"]
	code, out := agent.do("POST", "/api/v1/users/"+id+"/unlock", nil)
	wantError(t, code, out, 403, "forbidden", "")
	admin.must(200, "POST", "/api/v1/users/"+id+"/unlock", nil)
	if a := tryLogin(ps.URL, "ulla", userPassword); a.status != 200 || a.token == "" {
		t.Fatalf("login after the unlock: %d %s", a.status, a.body)
	}
	tryLogin(ps.URL, "nobody", "Wrong-guess-x")

	logs := ps.log.String()
	for _, want := range []string{
		`msg="api: login" user=ulla source=127.0.0.1 outcome=bad_password failed_logins=1`,
		`msg="api: login" user=ulla source=127.0.0.1 outcome=bad_password failed_logins=3 locked_until=`,
		`msg="api: login" user=ulla source=127.0.0.1 outcome=locked locked_until=`,
		`msg="api: login" user=ulla source=127.0.0.1 outcome=success session=`,
		`msg="api: login" user=nobody source=127.0.0.1 outcome=unknown_user`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no line with %s:\n%s", want, logs)
		}
	}
	scrape := ps.scrape(t)
	for outcome, want := range map[string]int{"bad_password": 3, "locked": 1, "success": 1, "unknown_user": 1, "throttled": 0} {
		if n := loginCount(t, scrape, outcome); n != want {
			t.Errorf("gridcrm_logins_total{outcome=%s} = %d; want %d", outcome, n, want)
		}
	}

	t.Run("failures from one address", func(t *testing.T) {
		ps := newPolicyServer(t, c.Node(0), func(cfg *api.Config) {
			cfg.Logins = api.LoginPolicy{UserFreeFailures: 100, AddrFreeFailures: 2, Delay: time.Hour}
		})
		for _, u := range []string{"nobody-a", "nobody-b"} {
			if a := tryLogin(ps.URL, u, "Wrong-guess-y"); a.status != 401 {
				t.Fatalf("%s: %d %s", u, a.status, a.body)
			}
		}
		a := tryLogin(ps.URL, "ulla", userPassword)
		if a.status != 429 || a.code != "too_many_attempts" || a.retryAfter < 1 || !strings.Contains(a.body, "127.0.0.1") {
			t.Errorf("a third login from the address: %d, Retry-After %d: %s", a.status, a.retryAfter, a.body)
		}
		if n := loginCount(t, ps.scrape(t), "throttled"); n != 1 {
			t.Errorf("gridcrm_logins_total{outcome=throttled} = %d; want 1", n)
		}
	})
}
