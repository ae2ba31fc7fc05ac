package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// gridcrmPeer is a 3-node gridcrm region (county 320722) of separate
// `gridcrm node` processes on loopback: plaintext between nodes (loopback
// needs no certificates), plain HTTP API, default durability (every
// acknowledged write is in the raft log of a majority, fsynced).
type gridcrmPeer struct {
	cfg      PeerConfig
	procs    []*proc
	apis     []string // API base URLs, by node
	ids      []string
	token    string
	leader   int
	follower int
	imports  int
}

func newGridcrm(c PeerConfig) *gridcrmPeer { return &gridcrmPeer{cfg: c, imports: 8} }

func (p *gridcrmPeer) Name() string { return "gridcrm" }

func (p *gridcrmPeer) Label() string { return strings.TrimSpace("gridcrm " + p.cfg.Version) }

func (p *gridcrmPeer) BulkNote(rows int) string { return fmt.Sprintf("import of %d rows", rows) }

func (p *gridcrmPeer) Settings() string {
	return fmt.Sprintf("`gridcrm node` defaults but --max-imports %d (so 8 bulk clients are served at once); plaintext between nodes on loopback (no certificates, as README Security allows there), plain HTTP API; one login, its token reused; one keep-alive HTTP/1.1 connection per load client", p.imports)
}

func (p *gridcrmPeer) PIDs() []int { return pids(p.procs) }

func (p *gridcrmPeer) Start(ctx context.Context, dir string) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	var peersFlag []string
	for i := 0; i < 3; i++ {
		p.ids = append(p.ids, fmt.Sprintf("g%d", i+1))
		p.apis = append(p.apis, fmt.Sprintf("http://127.0.0.1:%d", ports[i]))
		peersFlag = append(peersFlag, fmt.Sprintf("g%d=127.0.0.1:%d", i+1, ports[3+i]))
	}
	// A fresh admin password each run, given the way the node reads it
	// (never on the command line).
	pw := make([]byte, 12)
	rand.Read(pw)
	password := "Pb-" + hex.EncodeToString(pw)
	for i := 0; i < 3; i++ {
		args := []string{"node",
			"--node-id", p.ids[i], "--region", benchRegion,
			"--data-dir", filepath.Join(dir, p.ids[i]),
			"--api-listen", strings.TrimPrefix(p.apis[i], "http://"),
			"--internal-listen", fmt.Sprintf("127.0.0.1:%d", ports[3+i]),
			"--bootstrap", "--peers", strings.Join(peersFlag, ","),
			// 8 bulk clients import at once (the default admits 2 and
			// answers the rest 429).
			"--max-imports", fmt.Sprint(p.imports),
			"--log-level", "warn",
		}
		pr, err := startProc("gridcrm-"+p.ids[i], p.cfg.Bin, args, []string{"GRIDCRM_ADMIN_PASSWORD=" + password}, dir)
		if err != nil {
			p.Stop()
			return err
		}
		p.procs = append(p.procs, pr)
	}
	return p.ready(ctx, password)
}

// ready waits for every node's /readyz, logs in once and finds the leader
// and a follower that both accept the token.
func (p *gridcrmPeer) ready(ctx context.Context, password string) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	step := func(f func() error) error {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			for _, pr := range p.procs {
				if pr.exited() {
					return fmt.Errorf("%s exited: see its log", pr.name)
				}
			}
			if last = f(); last == nil {
				return nil
			}
			time.Sleep(300 * time.Millisecond)
		}
		return fmt.Errorf("gridcrm: not ready after 90 s: %v", last)
	}
	if err := step(func() error {
		for _, u := range p.apis {
			st, body, err := do(ctx, hc, "GET", u+"/readyz", "", nil)
			if err != nil {
				return err
			}
			if st != 200 {
				return fmt.Errorf("%s/readyz: %d %.200s", u, st, body)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := step(func() error {
		login, _ := json.Marshal(map[string]string{"username": "admin", "password": password})
		st, body, err := do(ctx, hc, "POST", p.apis[0]+"/api/v1/auth/login", "", login)
		if err != nil {
			return err
		}
		var r struct{ Token string }
		if st != 200 || json.Unmarshal(body, &r) != nil || r.Token == "" {
			return fmt.Errorf("login: %d %.200s", st, body)
		}
		p.token = r.Token
		return nil
	}); err != nil {
		return err
	}
	return step(func() error {
		// Every node must know the leader and accept the token (the
		// session is replicated: a follower applies it shortly after).
		p.leader = -1
		for i, u := range p.apis {
			st, body, err := do(ctx, hc, "GET", u+"/api/v1/cluster", p.token, nil)
			if err != nil {
				return err
			}
			var ci struct {
				LeaderID string `json:"leader_id"`
			}
			if st != 200 || json.Unmarshal(body, &ci) != nil || ci.LeaderID == "" {
				return fmt.Errorf("%s cluster: %d %.200s", u, st, body)
			}
			if ci.LeaderID == p.ids[i] {
				p.leader, p.follower = i, (i+1)%3
			}
		}
		if p.leader < 0 {
			return fmt.Errorf("no leader")
		}
		return nil
	})
}

func do(ctx context.Context, hc *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (p *gridcrmPeer) Dial(ctx context.Context, follower bool) (Conn, error) {
	u := p.apis[p.leader]
	if follower {
		u = p.apis[p.follower]
	}
	// One keep-alive connection per client.
	tr := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &gridcrmConn{hc: &http.Client{Transport: tr, Timeout: time.Minute}, url: u, token: p.token}, nil
}

func (p *gridcrmPeer) Stop() { stopAll(p.procs) }

type gridcrmConn struct {
	hc    *http.Client
	url   string
	token string
	buf   bytes.Buffer
}

func (c *gridcrmConn) Put(ctx context.Context, _ string, row []byte) error {
	return c.post(ctx, "/api/v1/customers", row)
}

func (c *gridcrmConn) PutBatch(ctx context.Context, _ []string, rows [][]byte) error {
	c.buf.Reset()
	c.buf.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			c.buf.WriteByte(',')
		}
		c.buf.Write(r)
	}
	c.buf.WriteByte(']')
	return c.post(ctx, "/api/v1/customers/import", c.buf.Bytes())
}

func (c *gridcrmConn) post(ctx context.Context, path string, body []byte) error {
	st, msg, err := do(ctx, c.hc, "POST", c.url+path, c.token, body)
	if err != nil {
		return err
	}
	if st != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %.200s", path, st, msg)
	}
	return nil
}

func (c *gridcrmConn) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
