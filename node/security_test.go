package node_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/pki"
	"gridcrm/replication"
)

// TestConfig_PlaintextRefusedOffLoopback: a node whose internal listener
// others can reach refuses to start without certificates, naming the
// setting and the way out; loopback, TLS, or an explicit insecure setting
// pass; TLS and insecure together are refused.
func TestConfig_PlaintextRefusedOffLoopback(t *testing.T) {
	base := func(listen string) node.Config {
		cfg := node.DefaultConfig()
		cfg.NodeID, cfg.Region, cfg.DataDir = "dh1", "320722", t.TempDir()
		cfg.InternalListen = listen
		return cfg
	}
	for _, listen := range []string{"0.0.0.0:8500", ":8500", "10.1.2.3:8500", "[::]:8500"} {
		cfg := base(listen)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "insecure_internal") || !strings.Contains(err.Error(), "gridcrm cert issue --region 320722 --node dh1") {
			t.Errorf("%s without tls: %v; want a refusal naming insecure_internal and the cert command", listen, err)
		}
		cfg.InsecureInternal = true
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s with insecure_internal: %v", listen, err)
		}
		cfg.TLS = &node.TLSFiles{Cert: "a", Key: "b", CA: "c"}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "choose one") {
			t.Errorf("%s with tls and insecure_internal: %v", listen, err)
		}
		cfg.InsecureInternal = false
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s with tls: %v", listen, err)
		}
		cfg.TLS.CA = ""
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "tls.ca") {
			t.Errorf("%s with tls but no ca: %v", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:8500", "[::1]:8500", "localhost:8500", "127.0.0.2:0"} {
		cfg := base(listen)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s (loopback) without tls: %v", listen, err)
		}
	}
}

// TestStart_InsecureInternalWarns: a plaintext node on a non-loopback
// listener started knowingly warns in its log and in /readyz.
func TestStart_InsecureInternalWarns(t *testing.T) {
	log := &logSink{}
	cfg := loneNode(t, t.TempDir(), log)
	_, port, _ := net.SplitHostPort(cfg.InternalListen)
	cfg.InternalListen = "0.0.0.0:" + port
	cfg.Peers[0].Addr = "127.0.0.1:" + port
	cfg.Advertise = cfg.Peers[0].Addr
	cfg.InsecureInternal = true
	cfg.AdminPassword = testcluster.AdminPassword
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	testcluster.WaitFor(t, 30*time.Second, "the node ready", func() bool { return n.Ready() == nil })
	if !strings.Contains(log.String(), "PLAINTEXT") {
		t.Errorf("no warning in the log:\n%s", log.String())
	}
	resp, err := http.Get(n.APIURL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status   string   `json:"status"`
		Warnings []string `json:"warnings"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.Status != "ready" || len(body.Warnings) != 1 || !strings.Contains(body.Warnings[0], "PLAINTEXT") {
		t.Errorf("/readyz: %s", raw)
	}
}

// TestStart_CertificateMustBeTheNodes: a node refuses to start with a
// certificate naming another node or region.
func TestStart_CertificateMustBeTheNodes(t *testing.T) {
	for _, who := range [][2]string{{"320722", "n2"}, {"320723", "n1"}} {
		cfg := loneNode(t, t.TempDir(), &logSink{})
		cfg.Security = testcluster.Security(t, who[0], who[1])
		n, err := node.Start(cfg)
		if err == nil {
			n.Close()
			t.Errorf("node n1 of 320722 started with the certificate of %s/%s", who[0], who[1])
			continue
		}
		if !strings.Contains(err.Error(), "a node presents its own certificate") {
			t.Errorf("%s/%s: %v", who[0], who[1], err)
		}
	}
}

// TestStart_TLSFromCertFiles: the files `gridcrm cert` writes (a CA
// directory, a node certificate and key) start a node whose internal
// listener accepts only mutual TLS: a plaintext client's connection fails,
// a node of the region with a certificate of the same root is served.
func TestStart_TLSFromCertFiles(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca")
	auth, err := pki.InitRoot(ca, "32", pki.RootOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(node string) (string, string) {
		id, _ := pki.NewIdentity("320722", node)
		if _, err := auth.Issue(pki.NodeRequest{Identity: id}); err != nil {
			t.Fatal(err)
		}
		return auth.NodeFiles(id)
	}
	cert, key := issue("n1")
	cfg := loneNode(t, t.TempDir(), &logSink{})
	cfg.AdminPassword = testcluster.AdminPassword
	cfg.TLS = &node.TLSFiles{Cert: cert, Key: key, CA: ca}
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	testcluster.WaitFor(t, 30*time.Second, "the node ready", func() bool { return n.Ready() == nil })

	get := func(d replication.Dialer) (int, error) {
		cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
			return replication.DialKind(ctx, d, a, replication.KindHTTP)
		}}}
		resp, err := cl.Post("http://"+n.InternalAddr()+"/internal/v1/readindex", "text/plain", nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(replication.TCPDialer); err == nil {
		t.Errorf("plaintext read index answered %d", code)
	}
	trust, err := pki.LoadTrust(ca)
	if err != nil {
		t.Fatal(err)
	}
	c2, k2 := issue("n2")
	kp, err := pki.LoadKeypair(c2, k2)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := replication.NewSecurity(trust, kp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := get(sec.Dialer(replication.TCPDialer, pki.ServiceReadIndex)); err != nil || code != http.StatusOK {
		t.Errorf("read index from n2 of the region: %d %v", code, err)
	}
}

// postVia posts body to path at addr through dial (which decides what the
// caller presents and which network it comes from).
func postVia(t *testing.T, dial replication.Dialer, addr, path, body string) (int, string, error) {
	t.Helper()
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
		return replication.DialKind(ctx, dial, a, replication.KindHTTP)
	}}}
	resp, err := cl.Post("http://"+addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), nil
}

// TestLinks_ChildSpeaksOnlyForItself is issue 13's "a certificate of region A
// cannot ship as region B": a valid certificate of county 320723 cannot
// ship an uplink batch nor pull the downlink of its sibling 320722 at their
// city; a county's certificate cannot call the province (not its parent);
// a caller without a certificate cannot connect. Refusals are 403 without
// a cursor, counted with reason "auth"; the real link goes on.
func TestLinks_ChildSpeaksOnlyForItself(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}},
		Node: withMetrics})
	city, prov := h.Region("3207").Node(0), h.Region("32").Node(0)
	batch := `{"link":"320722","from":0,"to":1,"changes":[{"s":1,"o":"320722","os":1,"k":"r/_canary/320722","v":{"region":"320722","at":1},"t":1}]}`
	sibling := testcluster.RogueDialer(t, "320723", "gn1", nil)
	for _, c := range []struct{ what, addr, path, body string }{
		{"sibling's uplink", city.InternalAddr(), "/internal/v1/uplink", batch},
		{"sibling's downlink", city.InternalAddr(), "/internal/v1/downlink", `{"for":"320722","from":0}`},
	} {
		code, body, err := postVia(t, sibling, c.addr, c.path, c.body)
		if err != nil || code != http.StatusForbidden || strings.Contains(body, `"acked"`) {
			t.Errorf("%s with 320723's certificate: %d %s %v; want 403 without a cursor", c.what, code, body, err)
		}
	}
	county := testcluster.RogueDialer(t, "320722", "dh9", nil)
	if code, body, err := postVia(t, county, prov.InternalAddr(), "/internal/v1/uplink", batch); err != nil || code != http.StatusForbidden {
		t.Errorf("a county's uplink to the province: %d %s %v; want 403", code, body, err)
	}
	if code, body, err := postVia(t, replication.TCPDialer, city.InternalAddr(), "/internal/v1/uplink", batch); err == nil {
		t.Errorf("plaintext uplink answered %d %s", code, body)
	}
	if v, _ := metric(t, city, "gridcrm_link_rejected_total", `peer="320722"`, `reason="auth"`); v < 2 {
		t.Errorf("gridcrm_link_rejected_total{peer=320722,reason=auth} at the city = %v; want ≥ 2", v)
	}
	create(t, h.Region("320722").Client(0), countyCustomer("320722", "AUTH-1"))
	h.WaitReplicated("320722", "32", 30*time.Second)
}

// TestLinks_TunnelSourceMustBeTheRegion: through WireGuard tunnels, a link
// call must also come from an overlay address of the region it claims. A
// county that holds its sibling's certificate (stolen) and calls through
// its own tunnel is refused by its address; with its own certificate
// claiming the sibling, by the certificate; speaking for itself it passes.
func TestLinks_TunnelSourceMustBeTheRegion(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}, {Code: "320723"}}, Tunnels: true})
	h.WaitReplicated("320723", "3207", 30*time.Second)
	gn := h.Region("320723").Node(0)
	tun := gn.Tunnel()
	viaTunnel := func(ctx context.Context, addr string) (net.Conn, error) { return tun.Dial(ctx, addr) }
	cityAddr := gn.Config().Parent.Nodes[0] // the city's overlay address
	batch := func(region string) string {
		return `{"link":"` + region + `","from":0,"to":1,"changes":[{"s":1,"o":"` + region + `","os":1,"k":"r/_canary/` + region + `","v":{"region":"` + region + `","at":1},"t":1}]}`
	}
	stolen := testcluster.RogueDialer(t, "320722", "dh9", viaTunnel)
	code, body, err := postVia(t, stolen, cityAddr, "/internal/v1/uplink", batch("320722"))
	if err != nil || code != http.StatusForbidden {
		t.Errorf("320722's certificate from 320723's tunnel address: %d %s %v; want 403", code, body, err)
	}
	own := testcluster.RogueDialer(t, "320723", "gn9", viaTunnel)
	if code, body, err = postVia(t, own, cityAddr, "/internal/v1/uplink", batch("320722")); err != nil || code != http.StatusForbidden {
		t.Errorf("320723's certificate claiming 320722: %d %s %v; want 403", code, body, err)
	}
	if code, body, err = postVia(t, own, cityAddr, "/internal/v1/uplink", batch("320723")); err != nil || code == http.StatusForbidden {
		t.Errorf("320723 speaking for itself through its tunnel: %d %s %v; want it past the authentication", code, body, err)
	}
}

// TestStart_DataDirMadePrivate: a data directory that existed 0755 with
// files 0644 (an old raft snapshot, say) ends 0700 with every file 0600
// once the node has started.
func TestStart_DataDirMadePrivate(t *testing.T) {
	cfg := loneNode(t, t.TempDir(), &logSink{})
	old := filepath.Join(cfg.DataDir, "raft", "snapshots", "old")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "state.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	err = filepath.Walk(cfg.DataDir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		switch mode := fi.Mode(); {
		case fi.IsDir() && mode.Perm() != 0o700:
			t.Errorf("%s: mode %v; want 0700", p, mode.Perm())
		case mode.IsRegular() && mode.Perm()&0o077 != 0:
			t.Errorf("%s: mode %v; want 0600", p, mode.Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
