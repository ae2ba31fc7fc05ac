package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// rqlitePeer is a 3-node rqlite cluster (rqlite v8: SQLite replicated by
// hashicorp/raft, plain HTTP on loopback, its defaults: the raft log in
// BoltDB, fsynced before an entry is acknowledged). Rows go into one table
// rows(k TEXT PRIMARY KEY, v TEXT) through /db/execute with bound
// parameters; a bulk is one request of 100 INSERTs in a transaction.
type rqlitePeer struct {
	cfg      PeerConfig
	version  string
	procs    []*proc
	apis     []string // HTTP API URLs, by node
	leader   int
	follower int
}

func newRqlite(c PeerConfig) *rqlitePeer { return &rqlitePeer{cfg: c} }

func (p *rqlitePeer) Name() string { return "rqlite" }

func (p *rqlitePeer) Label() string {
	if p.version == "" {
		p.version = p.cfg.Version
		out, _ := exec.Command(p.cfg.Bin, "-version").Output()
		if m := regexp.MustCompile(`rqlited (\S+)`).FindSubmatch(out); m != nil && p.version == "" {
			p.version = string(m[1])
		}
	}
	return strings.TrimSpace("rqlite " + p.version)
}

func (p *rqlitePeer) BulkNote(rows int) string {
	return fmt.Sprintf("%d INSERTs in one transaction", rows)
}

func (p *rqlitePeer) Settings() string {
	return "rqlite's defaults (the raft log in BoltDB, fsynced before an entry is acknowledged; SQLite in WAL mode, snapshot every 8,192 entries or 4 MiB of WAL); writes to a follower forwarded to the leader; plain HTTP between nodes and to clients; one keep-alive connection per load client"
}

func (p *rqlitePeer) PIDs() []int { return pids(p.procs) }

func (p *rqlitePeer) Start(ctx context.Context, dir string) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	var raft []string
	for i := 0; i < 3; i++ {
		raft = append(raft, fmt.Sprintf("127.0.0.1:%d", ports[3+i]))
		p.apis = append(p.apis, fmt.Sprintf("http://127.0.0.1:%d", ports[i]))
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("r%d", i+1)
		args := []string{
			"-node-id", name,
			"-http-addr", strings.TrimPrefix(p.apis[i], "http://"),
			"-raft-addr", raft[i],
			"-bootstrap-expect", "3", "-join", strings.Join(raft, ","),
			filepath.Join(dir, name),
		}
		pr, err := startProc("rqlite-"+name, p.cfg.Bin, args, nil, dir)
		if err != nil {
			p.Stop()
			return err
		}
		p.procs = append(p.procs, pr)
	}
	return p.findLeader(ctx)
}

// findLeader waits until a node says it leads and the table is created
// through it.
func (p *rqlitePeer) findLeader(ctx context.Context) error {
	hc := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, pr := range p.procs {
			if pr.exited() {
				return fmt.Errorf("%s exited: see its log", pr.name)
			}
		}
		last = func() error {
			for i, u := range p.apis {
				st, body, err := do(ctx, hc, "GET", u+"/status", "", nil)
				if err != nil {
					return err
				}
				var s struct {
					Store struct {
						Raft struct {
							State string `json:"state"`
						} `json:"raft"`
					} `json:"store"`
				}
				if st != http.StatusOK || json.Unmarshal(body, &s) != nil {
					return fmt.Errorf("status of %s: %d %.200s", u, st, body)
				}
				if s.Store.Raft.State == "Leader" {
					p.leader, p.follower = i, (i+1)%3
					c := &rqliteConn{hc: hc, url: u}
					return c.execute(ctx, false, []any{"CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v TEXT)"})
				}
			}
			return fmt.Errorf("no leader yet")
		}()
		if last == nil {
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("rqlite: no leader serving writes after 90 s: %v", last)
}

func (p *rqlitePeer) Dial(ctx context.Context, follower bool) (Conn, error) {
	u := p.apis[p.leader]
	if follower {
		u = p.apis[p.follower]
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &rqliteConn{hc: &http.Client{Transport: tr, Timeout: time.Minute}, url: u}, nil
}

func (p *rqlitePeer) Stop() { stopAll(p.procs) }

type rqliteConn struct {
	hc  *http.Client
	url string
	buf bytes.Buffer
}

const rqliteInsert = "INSERT INTO rows(k, v) VALUES(?, ?)"

func (c *rqliteConn) Put(ctx context.Context, key string, row []byte) error {
	return c.execute(ctx, false, []any{rqliteInsert, key, string(row)})
}

func (c *rqliteConn) PutBatch(ctx context.Context, keys []string, rows [][]byte) error {
	stmts := make([]any, len(rows))
	for i := range rows {
		stmts[i] = []any{rqliteInsert, keys[i], string(rows[i])}
	}
	return c.execute(ctx, true, stmts...)
}

// execute posts statements (each [sql, params...]) to /db/execute, in one
// transaction when tx, and fails on any statement's error.
func (c *rqliteConn) execute(ctx context.Context, tx bool, stmts ...any) error {
	c.buf.Reset()
	if err := json.NewEncoder(&c.buf).Encode(stmts); err != nil {
		return err
	}
	path := "/db/execute"
	if tx {
		path += "?transaction"
	}
	st, body, err := do(ctx, c.hc, "POST", c.url+path, "", c.buf.Bytes())
	if err != nil {
		return err
	}
	var r struct {
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Error != "" {
		return fmt.Errorf("POST %s: %d %.200s", path, st, body)
	}
	for _, res := range r.Results {
		if res.Error != "" {
			return fmt.Errorf("POST %s: %s", path, res.Error)
		}
	}
	if len(r.Results) != len(stmts) {
		return fmt.Errorf("POST %s: %d results for %d statements", path, len(r.Results), len(stmts))
	}
	return nil
}

func (c *rqliteConn) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
