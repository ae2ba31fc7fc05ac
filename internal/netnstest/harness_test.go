package netnstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gridcrm/pki"
	"gridcrm/tiers"
	"gridcrm/tunnel"
)

const adminPassword = "netns-root-pw-7"

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// gridcrmBin builds the gridcrm binary once per test run.
func gridcrmBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "gridcrm-netnstest-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "gridcrm"), "gridcrm/cmd/gridcrm").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/gridcrm: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "gridcrm")
}

// keygen runs `gridcrm keygen` and returns the key file and public key.
func keygen(t testing.TB, bin, dir, name string) (file, pub string) {
	t.Helper()
	file = filepath.Join(dir, name+".key")
	out, err := exec.Command(bin, "keygen", "--out", file).CombinedOutput()
	if err != nil {
		t.Fatalf("gridcrm keygen: %v\n%s", err, out)
	}
	return file, strings.TrimSpace(string(out))
}

// spec is one node of a two-region test: a city 3207 or a county 320722.
type spec struct {
	region   string
	ns       *NS    // nil: the host's namespace
	underlay string // the IP other nodes reach it at (veth or 127.0.0.1)
	api      string // api_listen
	internal string // internal_listen
	udp      string // tunnel UDP endpoint
	keyFile  string
	pub      string
	device   string
}

// overlay returns the node's overlay address (index 1).
func (s *spec) overlay() string {
	a, err := tunnel.OverlayAddr(tunnel.DefaultPrefix, tiers.RegionCode(s.region), 1)
	if err != nil {
		panic(err)
	}
	return a.String()
}

// writeConfig writes the node's YAML config. mode is "direct" (no tunnel:
// the county dials the city's internal address on the underlay),
// "netstack", "tun" or "kernel"; peer is the other node.
func writeConfig(t testing.TB, dir string, s, peer *spec, mode string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "node_id: n%s\nregion: %q\ndata_dir: %s\napi_listen: %s\ninternal_listen: %s\n",
		s.region, s.region, filepath.Join(dir, "data-"+s.region), s.api, s.internal)
	fmt.Fprintf(&b, "bootstrap: true\nadmin_password: %s\ncanary_interval: 200ms\n", adminPassword)
	fmt.Fprintf(&b, "peers:\n  - {id: n%s, addr: %s}\n", s.region, s.internal)
	_, port, _ := net.SplitHostPort(peer.internal)
	if mode != "direct" {
		fmt.Fprintf(&b, "tunnel:\n  mode: %s\n  device: %s\n  region: %q\n  index: 1\n  private_key_file: %s\n  listen: %s\n",
			mode, s.device, s.region, s.keyFile, s.udp)
		fmt.Fprintf(&b, "  prefix: %s\n  mtu: 1420\n  keepalive: 1s\n", tunnel.DefaultPrefix)
		if s.ns == nil && mode == "netstack" {
			b.WriteString("  no_uapi: true\n") // several runs on one host; the socket is not needed here
		}
		fmt.Fprintf(&b, "  peers:\n    - {public_key: %q, endpoint: %q, region: %q, index: 1}\n", peer.pub, peer.udp, peer.region)
		_, own, _ := net.SplitHostPort(s.internal)
		fmt.Fprintf(&b, "tunnel_port: %s\n", own)
	}
	if s.region == "320722" {
		parent := peer.internal
		if mode != "direct" {
			parent = net.JoinHostPort(peer.overlay(), port)
		}
		fmt.Fprintf(&b, "parent:\n  region: \"3207\"\n  nodes: [%q]\n", parent)
	}
	certFile, keyFile, caDir := nodeCert(t, dir, s.region, "n"+s.region)
	fmt.Fprintf(&b, "tls:\n  cert: %s\n  key: %s\n  ca: %s\n", certFile, keyFile, caDir)
	path := filepath.Join(dir, s.region+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is a running `gridcrm node`.
type proc struct {
	t       testing.TB
	name    string
	cmd     *exec.Cmd
	log     string // its stderr
	client  *http.Client
	base    string
	token   string
	started time.Time // when it printed that it started (its tunnel is up)
	done    chan struct{}
}

// start runs `gridcrm node --config cfg` (inside s.ns if set) and waits
// until it prints its start line; stop (also registered in t.Cleanup)
// ends it.
func start(t testing.TB, bin string, s *spec, cfg, logDir string) *proc {
	t.Helper()
	p := &proc{t: t, name: s.region, log: filepath.Join(logDir, s.region+".log"), base: "http://" + s.api, done: make(chan struct{})}
	args := []string{"node", "--config", cfg}
	if s.ns != nil {
		p.cmd = s.ns.Command(context.Background(), bin, args...)
		p.client = &http.Client{Transport: &http.Transport{DialContext: s.ns.DialContext}, Timeout: 30 * time.Second}
	} else {
		p.cmd = exec.Command(bin, args...)
		p.client = &http.Client{Timeout: 30 * time.Second}
	}
	lf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = lf
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				line <- sc.Text()
				first = false
			}
		}
		p.cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	select {
	case l := <-line:
		p.started = time.Now()
		if !strings.HasPrefix(l, "gridcrm node") {
			t.Fatalf("%s printed %q, want its start line\n%s", p.name, l, p.tail())
		}
	case <-p.done:
		t.Fatalf("%s exited at start: %v\n%s", p.name, p.cmd.ProcessState, p.tail())
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not start within 2 minutes\n%s", p.name, p.tail())
	}
	return p
}

// stop ends the process: SIGTERM, then SIGKILL after 10s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the end of the process's log.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// do sends a request and returns the status and body; status 0 means the
// request failed to reach the node.
func (p *proc) do(method, path string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// login waits until the node is ready and the bootstrap admin can log in.
func (p *proc) login() {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPassword})
	var last string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-p.done:
			p.t.Fatalf("%s exited: %v\n%s", p.name, p.cmd.ProcessState, p.tail())
		default:
		}
		st, b := p.do("POST", "/api/v1/auth/login", body)
		if st == 200 {
			var tok struct{ Token string }
			if err := json.Unmarshal(b, &tok); err != nil || tok.Token == "" {
				p.t.Fatalf("%s login answer %s", p.name, b)
			}
			p.token = tok.Token
			return
		}
		last = fmt.Sprintf("%d %s", st, b)
	}
	p.t.Fatalf("%s: admin login never succeeded; last answer %s\n%s", p.name, last, p.tail())
}

// customers returns how many customers of region the node holds (its own
// or its replica), from the aggregates.
func (p *proc) customers(region string) (int64, error) {
	st, b := p.do("GET", "/api/v1/stats/summary?region="+region, nil)
	if st != 200 {
		return 0, fmt.Errorf("%s summary of %s: %d %s", p.name, region, st, b)
	}
	var s struct{ Customers int64 }
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, err
	}
	return s.Customers, nil
}

// freePort returns a TCP (udp false) or UDP port on 127.0.0.1 that was free
// a moment ago.
func freePort(t testing.TB, udp bool) string {
	t.Helper()
	if udp {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// pair prepares a city 3207 and a county 320722 with keys and addresses:
// in two namespaces joined by a veth pair (underlay 10.97.0.2 and
// 10.97.0.1) when netns is set, else on the host's loopback with free
// ports. In namespaces, the internal listeners (raft, replication) are on
// the underlay in mode direct and on 127.0.0.1 otherwise, so that the
// tunnel is the only way from one node to the other.
func pair(t testing.TB, bin, dir string, netns bool, mode string) (city, county *spec) {
	t.Helper()
	city, county = &spec{region: "3207"}, &spec{region: "320722"}
	if netns {
		city.ns, county.ns = New(t), New(t)
		Veth(t, county.ns, city.ns, "10.97.0.1/24", "10.97.0.2/24")
		county.underlay, city.underlay = "10.97.0.1", "10.97.0.2"
		for _, s := range []*spec{city, county} {
			s.api = "127.0.0.1:8400"
			s.internal = "127.0.0.1:8500"
			if mode == "direct" {
				s.internal = s.underlay + ":8500"
			}
			s.udp = s.underlay + ":51820"
		}
	} else {
		for _, s := range []*spec{city, county} {
			s.underlay = "127.0.0.1"
			s.api, s.internal, s.udp = freePort(t, false), freePort(t, false), freePort(t, true)
		}
	}
	for _, s := range []*spec{city, county} {
		s.keyFile, s.pub = keygen(t, bin, dir, s.region)
		s.device = Unique("gcn")
	}
	return city, county
}

// nodeCert gives node of region a certificate from a province CA kept in
// dir/pki (made on first use): the nodes of a test talk mutual TLS as in
// production, through the tunnels as well as directly.
func nodeCert(t testing.TB, dir, region, node string) (cert, key, ca string) {
	t.Helper()
	ca = filepath.Join(dir, "pki")
	auth, err := pki.OpenAuthority(ca)
	if err != nil {
		if auth, err = pki.InitRoot(ca, tiers.RegionCode(region[:2]), pki.RootOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := pki.NewIdentity(region, node)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = auth.NodeFiles(id)
	if _, err := os.Stat(cert); err != nil {
		if _, err := auth.Issue(pki.NodeRequest{Identity: id}); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, ca
}
