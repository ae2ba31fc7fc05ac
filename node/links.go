package node

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"gridcrm/api"
	"gridcrm/crm"
	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/replication/link"
)

// LinkStatus is api.LinkStatus: one link as the status endpoint shows it.
type LinkStatus = api.LinkStatus

// links is this region's side of its links (replication/link), as node
// wires it: the domain (crm), the raft group, the store, the HTTP client to
// the parent's nodes and the hook that authenticates the children.
type links struct {
	n   *Node
	svc *link.Service
}

// newLinks builds the link service. It needs the raft group; the client
// dials through cfg.LinkDialer as it is when a link connects (Start sets
// the tunnel's dialer after this).
func newLinks(n *Node) (*links, error) {
	svc, err := link.New(link.Config{
		Region: n.cfg.Region, Parent: parentRegion(n.cfg), ParentNodes: parentNodes(n.cfg),
		Group: n.group, Store: n.st, Domain: linkDomain{n.cfg.Region}, Metrics: n.linkm, Logger: n.log,
		Client:       n.linkClient(replication.WriteStall),
		Authenticate: n.authenticateLink, // security.go: the caller's certificate and overlay address are the child's
		Batch:        n.cfg.LinkBatch, DownlinkPoll: n.cfg.DownlinkPoll,
		FeedRetention: n.cfg.FeedRetention, FeedRetentionAge: n.cfg.FeedRetentionAge,
	})
	if err != nil {
		return nil, err
	}
	return &links{n: n, svc: svc}, nil
}

// linkDialTimeout bounds a link's connection to one parent node: a TCP
// connect, or over a tunnel the WireGuard handshake (retried every 5 s when
// a packet is lost) and the connect, and the TLS handshake with mutual TLS.
const linkDialTimeout = 8 * time.Second

// linkClient is the HTTP client the links use to reach the parent's nodes:
// through cfg.LinkDialer (default plain TCP), announcing KindHTTP to the
// parent's connection mux. A connection that takes none of a request's
// bytes for stall fails (replication.GuardWrites): a batch then goes to
// the parent's next node, or a fresh connection, instead of waiting out
// its whole deadline on one that no longer moves.
func (n *Node) linkClient(stall time.Duration) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			dial := n.cfg.LinkDialer
			if dial == nil {
				dial = replication.TCPDialer
			}
			// A parent node that does not answer a dial (powered off
			// behind a tunnel: its packets are dropped, nothing refuses)
			// costs linkDialTimeout, not the call's whole time: the call
			// then tries the parent's other nodes.
			ctx, cancel := context.WithTimeout(ctx, linkDialTimeout)
			defer cancel()
			// With mutual TLS only a node of the parent region may answer.
			c, err := replication.DialKind(ctx, n.sec.Dialer(dial, pki.ServiceUplink), addr, replication.KindHTTP)
			if err != nil {
				return nil, err
			}
			return replication.GuardWrites(c, stall), nil
		},
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}}
}

func parentNodes(c Config) []string {
	if c.Parent == nil {
		return nil
	}
	return c.Parent.Nodes
}

func (l *links) runUplink()   { l.svc.RunUplink(l.n.ctx) }
func (l *links) runDownlink() { l.svc.RunDownlink(l.n.ctx) }

// runRetention bounds the feed of a region that has no parent to ship to.
func (n *Node) runRetention() { n.links.svc.RunRetention(n.ctx) }

// linkHandler is where the parent side of the links is registered.
type linkHandler = link.Handler

// linkRoutes registers the parent side of the links: on the internal
// listener without a tunnel, on the tunnel's own server with one.
func (n *Node) linkRoutes(h linkHandler) { n.links.svc.Routes(h) }

// instrumentLinks registers the link metrics.
func (n *Node) instrumentLinks() {
	n.ops.RegisterLabelled(n.cfg.Region, n.cfg.NodeID, n.linkm.Collectors()...)
	n.ops.MustRegister(link.NewCollector(nodeLabels(n), n.linkStatus))
	n.ops.MustRegister(newTunnelCollector(n))
	n.ops.MustRegister(newManagementCollector(n))
	n.ops.MustRegister(n.processMetrics()) // process_metrics.go
}

// sleep waits d or until the node stops; false when it stops.
func (n *Node) sleep(d time.Duration) bool {
	select {
	case <-n.stop:
		return false
	case <-time.After(d):
		return true
	}
}

func (n *Node) proposeEntry(ctx context.Context, kind byte, v any) (link.Answer, error) {
	data, err := encodeEntry(kind, v)
	if err != nil {
		return link.Answer{}, err
	}
	resp, err := n.group.Propose(ctx, data)
	if err != nil {
		return link.Answer{}, err
	}
	var a link.Answer
	if err := json.Unmarshal(resp, &a); err != nil {
		return link.Answer{}, err
	}
	return a, nil
}

// runCanary writes this region's heartbeat record while this node leads.
func (n *Node) runCanary() {
	for n.sleep(n.cfg.CanaryInterval) {
		if !n.group.IsLeader() {
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		_, _ = n.proposeEntry(ctx, entryCanary, crm.Canary{Region: n.cfg.Region, At: time.Now().UnixMilli(), Leader: n.cfg.NodeID, Term: n.group.Raft().CurrentTerm()})
		cancel()
	}
}
