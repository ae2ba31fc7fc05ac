package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdPeer is a 3-node etcd cluster (plain HTTP on loopback, fsync on: etcd's
// defaults; every acknowledged put is in the WAL of a majority, fsynced).
type etcdPeer struct {
	cfg      PeerConfig
	version  string
	procs    []*proc
	clients  []string // client URLs, by node
	leader   int
	follower int
}

func newEtcd(c PeerConfig) *etcdPeer { return &etcdPeer{cfg: c} }

func (p *etcdPeer) Name() string { return "etcd" }

func (p *etcdPeer) Label() string {
	if p.version == "" {
		p.version = p.cfg.Version
		out, _ := exec.Command(p.cfg.Bin, "--version").Output()
		if m := regexp.MustCompile(`etcd Version: (\S+)`).FindSubmatch(out); m != nil {
			p.version = string(m[1])
		}
	}
	return strings.TrimSpace("etcd " + p.version)
}

func (p *etcdPeer) BulkNote(rows int) string { return fmt.Sprintf("txn of %d puts", rows) }

func (p *etcdPeer) Settings() string {
	return "etcd's defaults (fsync of the WAL before an entry is acknowledged, snapshot every 10,000 entries); plain HTTP between nodes and to clients; one gRPC client (one connection) per load client"
}

func (p *etcdPeer) PIDs() []int { return pids(p.procs) }

func (p *etcdPeer) Start(ctx context.Context, dir string) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	var cluster []string
	for i := 0; i < 3; i++ {
		cluster = append(cluster, fmt.Sprintf("e%d=http://127.0.0.1:%d", i+1, ports[3+i]))
		p.clients = append(p.clients, fmt.Sprintf("http://127.0.0.1:%d", ports[i]))
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("e%d", i+1)
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[3+i])
		args := []string{
			"--name", name,
			"--data-dir", filepath.Join(dir, name),
			"--listen-client-urls", p.clients[i], "--advertise-client-urls", p.clients[i],
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", strings.Join(cluster, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", "peerbench",
			"--log-level", "warn",
		}
		pr, err := startProc("etcd-"+name, p.cfg.Bin, args, nil, dir)
		if err != nil {
			p.Stop()
			return err
		}
		p.procs = append(p.procs, pr)
	}
	return p.findLeader(ctx)
}

// findLeader waits until a node leads and a put through it commits.
func (p *etcdPeer) findLeader(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, pr := range p.procs {
			if pr.exited() {
				return fmt.Errorf("%s exited: see its log", pr.name)
			}
		}
		last = func() error {
			cli, err := newEtcdClient(p.clients)
			if err != nil {
				return err
			}
			defer cli.Close()
			c, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			for i, ep := range p.clients {
				st, err := cli.Status(c, ep)
				if err != nil {
					return err
				}
				if st.Leader != 0 && st.Leader == st.Header.MemberId {
					p.leader, p.follower = i, (i+1)%3
					_, err := cli.Put(c, "/peerbench/ready", "1")
					return err
				}
			}
			return fmt.Errorf("no leader yet")
		}()
		if last == nil {
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("etcd: no leader serving writes after 60 s: %v", last)
}

func newEtcdClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

func (p *etcdPeer) Dial(ctx context.Context, follower bool) (Conn, error) {
	ep := p.clients[p.leader]
	if follower {
		ep = p.clients[p.follower]
	}
	cli, err := newEtcdClient([]string{ep})
	if err != nil {
		return nil, err
	}
	return &etcdConn{cli: cli}, nil
}

func (p *etcdPeer) Stop() { stopAll(p.procs) }

type etcdConn struct{ cli *clientv3.Client }

func (c *etcdConn) Put(ctx context.Context, key string, row []byte) error {
	_, err := c.cli.Put(ctx, key, string(row))
	return err
}

func (c *etcdConn) PutBatch(ctx context.Context, keys []string, rows [][]byte) error {
	ops := make([]clientv3.Op, len(rows))
	for i := range rows {
		ops[i] = clientv3.OpPut(keys[i], string(rows[i]))
	}
	r, err := c.cli.Txn(ctx).Then(ops...).Commit()
	if err == nil && !r.Succeeded {
		err = fmt.Errorf("txn did not succeed")
	}
	return err
}

func (c *etcdConn) Close() error { return c.cli.Close() }
