package ops_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/ops"
)

// hierarchy is city 3207 above county 320722, one node each, linked
// through netstack WireGuard tunnels, every node with a token-free metrics
// listener, and a customer with two bills written at the county and rolled
// up, a connection project with an overdue stage and an open work order:
// every family the node exports has at least one series.
func hierarchy(t *testing.T) (*testcluster.Hierarchy, []*node.Node) {
	t.Helper()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{
		Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}},
		Node:    func(c *node.Config) { c.MetricsListen = "127.0.0.1:0" },
		Tunnels: true,
	})
	county := h.Region("320722").Client(0)
	st, body := county.Do("POST", "/api/v1/customers", map[string]any{"account_no": "OPS-1", "name": "客户OPS-1",
		"category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"})
	if st != 201 {
		t.Fatalf("create customer: %d %s", st, body)
	}
	var c struct{ ID string }
	_ = json.Unmarshal(body, &c)
	for _, p := range []string{"2026-01", "2026-02"} {
		if st, body := county.Do("POST", "/api/v1/bills", map[string]any{"customer_id": c.ID, "period": p, "kwh": 1200, "billed": 635.5, "paid": 0}); st != 201 {
			t.Fatalf("create bill: %d %s", st, body)
		}
	}
	// A connection project accepted long ago, its first stage overdue now,
	// and an open work order: the process gauges (node/process_metrics.go).
	if st, body := county.Do("POST", "/api/v1/projects", map[string]any{"kind": "new_connection", "customer_id": c.ID,
		"voltage_kv": 10, "capacity_kva": 630, "accepted_at": "2025-01-06T09:00:00+08:00"}); st != 201 {
		t.Fatalf("create project: %d %s", st, body)
	}
	if st, body := county.Do("POST", "/api/v1/work_orders", map[string]any{"channel": "95598_hotline", "kind": "complaint",
		"subject": "meter reading disputed", "customer_id": c.ID}); st != 201 {
		t.Fatalf("create work order: %d %s", st, body)
	}
	h.WaitReplicated("320722", "3207", 30*time.Second)
	nodes := []*node.Node{h.Region("3207").Node(0), h.Region("320722").Node(0)}
	testcluster.WaitFor(t, 30*time.Second, "a WireGuard handshake on every node", func() bool {
		for _, n := range nodes {
			ok := false
			for _, p := range n.TunnelPeers() {
				ok = ok || p.HandshakeAgeSeconds != nil
			}
			if !ok {
				return false
			}
		}
		return true
	})
	return h, nodes
}

func scrape(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}

// exported answers the sample names a scrape holds (histograms and
// summaries with their _bucket, _sum and _count series).
func exported(t *testing.T, scrape []byte) map[string]bool {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(scrape))
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	out := map[string]bool{}
	for name, f := range fams {
		if len(f.Metric) == 0 {
			continue
		}
		out[name] = true
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			out[name+s] = true
		}
	}
	return out
}

// TestOps_RealScrape runs the checks that need a running hierarchy once:
// the exposition passes promtool, carries every family the issue asks
// for, the dashboard names only exported metrics, and a real Prometheus
// scrapes every node and answers a replication-lag series.
func TestOps_RealScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a two-tier hierarchy with WireGuard tunnels")
	}
	_, nodes := hierarchy(t)
	// A node's audit chains are first verified in the background when a
	// scrape finds no check yet: scrape until every node exports their
	// state (gridcrm_audit_chain_ok, which an alert rule names).
	var names map[string]bool
	var scrapes [][]byte
	testcluster.WaitFor(t, 30*time.Second, "every node's audit chains verified", func() bool {
		names, scrapes = map[string]bool{}, nil
		all := true
		for _, n := range nodes {
			s := scrape(t, n.MetricsURL())
			scrapes = append(scrapes, s)
			ex := exported(t, s)
			for k := range ex {
				names[k] = true
			}
			all = all && ex["gridcrm_audit_chain_ok"]
		}
		return all
	})

	t.Run("families", func(t *testing.T) {
		for _, want := range []string{
			// raft
			"gridcrm_raft_state", "gridcrm_raft_term", "gridcrm_raft_last_index", "gridcrm_raft_commit_index", "gridcrm_raft_applied_index",
			"gridcrm_raft_leader_changes_total", "gridcrm_raft_apply_duration_seconds_bucket", "gridcrm_raft_propose_duration_seconds_count",
			"gridcrm_raft_snapshots_total", "gridcrm_raft_last_snapshot_index",
			// store
			"gridcrm_store_disk_usage_bytes", "gridcrm_store_compactions_total", "gridcrm_store_read_amplification",
			"gridcrm_store_block_cache_hits_total", "gridcrm_store_block_cache_hit_ratio", "gridcrm_store_filesystem_avail_bytes",
			// links
			"gridcrm_link_acked_seq", "gridcrm_link_head_seq", "gridcrm_link_lag_entries", "gridcrm_link_lag_seconds",
			"gridcrm_link_sent_bytes_total", "gridcrm_link_received_bytes_total", "gridcrm_link_batches_total", "gridcrm_link_changes_total",
			"gridcrm_link_resyncs_total", "gridcrm_link_queued_commands",
			// tunnels
			"gridcrm_tunnel_peer_last_handshake_age_seconds", "gridcrm_tunnel_peer_receive_bytes_total", "gridcrm_tunnel_peer_transmit_bytes_total",
			// API
			"gridcrm_http_requests_total", "gridcrm_http_request_duration_seconds_bucket",
			// domain
			"gridcrm_domain_customers", "gridcrm_domain_customers_by_category", "gridcrm_domain_kwh_by_period", "gridcrm_domain_arrears_yuan",
			"gridcrm_domain_stages_overdue", "gridcrm_domain_work_orders_open",
		} {
			if !names[want] {
				t.Errorf("no node exports %s", want)
			}
		}
		// The city holds the county's counters as a replica.
		if !bytes.Contains(scrapes[0], []byte(`gridcrm_domain_customers{node="n1",node_region="3207",region="320722"} 1`)) {
			t.Errorf("the city does not export the county's customers:\n%s", grep(scrapes[0], "gridcrm_domain_customers"))
		}
		// The process gauges, at the county and (replica) at the city.
		for i, nr := range []string{"3207", "320722"} {
			want := `gridcrm_domain_stages_overdue{node="n1",node_region="` + nr + `",region="320722"} 1`
			if !bytes.Contains(scrapes[i], []byte(want)) {
				t.Errorf("node of %s: want %s, got:\n%s", nr, want, grep(scrapes[i], "gridcrm_domain_stages_overdue"))
			}
			re := regexp.MustCompile(`gridcrm_domain_work_orders_open\{kind="complaint",node="n1",node_region="` + nr + `",region="320722",state="[a-z_]+"\} 1\n`)
			if !re.Match(scrapes[i]) || strings.Count(grep(scrapes[i], "gridcrm_domain_work_orders_open{")+"\n", "\n") != 1 {
				t.Errorf("node of %s: want one open complaint work order of 320722, got:\n%s", nr, grep(scrapes[i], "gridcrm_domain_work_orders_open"))
			}
		}
		// Link traffic counted on both sides of the link.
		if !regexp.MustCompile(`gridcrm_link_batches_total\{direction="from-child",node="n1",peer="320722",region="3207"\} [1-9]`).Match(scrapes[0]) {
			t.Errorf("the city counted no batches from the county:\n%s", grep(scrapes[0], "gridcrm_link_batches_total"))
		}
		if !regexp.MustCompile(`gridcrm_link_sent_bytes_total\{direction="up",node="n1",peer="3207",region="320722"\} [1-9]`).Match(scrapes[1]) {
			t.Errorf("the county counted no bytes sent up:\n%s", grep(scrapes[1], "gridcrm_link_sent_bytes_total"))
		}
	})

	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := need(t, "promtool")
		for i, s := range scrapes {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(s)
			out, err := cmd.CombinedOutput()
			// promtool exits 1 on lint problems in any metric; ours must have none.
			var ours []string
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "gridcrm_") {
					ours = append(ours, line)
				}
			}
			if len(ours) > 0 {
				t.Errorf("node %d: promtool check metrics:\n%s", i, strings.Join(ours, "\n"))
			}
			if err != nil && len(ours) == 0 {
				t.Logf("node %d: promtool reports only on foreign metrics: %s", i, out)
			}
		}
	})

	t.Run("dashboard names exported metrics", func(t *testing.T) {
		exprs := dashboardExprs(t)
		if len(exprs) < 20 {
			t.Fatalf("the dashboard has %d queries; expected the full set", len(exprs))
		}
		for _, e := range exprs {
			ms := metricNames(e.expr)
			if len(ms) == 0 {
				t.Errorf("panel %q: query names no metric: %s", e.panel, e.expr)
			}
			for _, m := range ms {
				if !names[m] && !prometheusMade[m] {
					t.Errorf("panel %q: %s is not exported by any node (query %s)", e.panel, m, e.expr)
				}
			}
		}
	})

	t.Run("alert rules name exported metrics", func(t *testing.T) {
		exprs := alertExprs(t)
		if len(exprs) < 8 {
			t.Fatalf("alerts.yml has %d rules; expected the full set", len(exprs))
		}
		for _, e := range exprs {
			ms := metricNames(e.expr)
			if len(ms) == 0 {
				t.Errorf("alert %s: expr names no metric: %s", e.panel, e.expr)
			}
			for _, m := range ms {
				if !names[m] && !prometheusMade[m] {
					t.Errorf("alert %s: %s is not exported by any node (expr %s)", e.panel, m, e.expr)
				}
			}
		}
	})

	t.Run("prometheus scrapes the hierarchy", func(t *testing.T) {
		prom := need(t, "prometheus")
		var targets []ops.ScrapeTarget
		for _, n := range nodes {
			c := n.Config()
			targets = append(targets, ops.ScrapeTarget{Addr: strings.TrimSuffix(strings.TrimPrefix(n.MetricsURL(), "http://"), "/metrics"), Region: c.Region, Node: c.NodeID, Tier: c.Tier})
		}
		rules, _ := filepath.Abs("alerts.yml")
		cfg, err := ops.PrometheusConfig(targets, []string{rules}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr, "--log.level=warn")
		var logs testcluster.SyncBuffer // prometheus writes it while the test may read it
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		base := "http://" + addr
		var last string
		testcluster.WaitFor(t, 60*time.Second, "every target up in Prometheus", func() bool {
			var ans struct {
				Data struct {
					ActiveTargets []struct {
						Health    string `json:"health"`
						ScrapeURL string `json:"scrapeUrl"`
					} `json:"activeTargets"`
				} `json:"data"`
			}
			if promGet(base+"/api/v1/targets?state=active", &ans) != nil {
				return false
			}
			up := 0
			for _, tg := range ans.Data.ActiveTargets {
				if tg.Health == "up" {
					up++
				}
			}
			last = fmt.Sprintf("%d of %d up", up, len(ans.Data.ActiveTargets))
			return len(ans.Data.ActiveTargets) == len(targets) && up == len(targets)
		})
		t.Logf("targets: %s", last)
		// The county's uplink lag, as Prometheus stored it.
		q := `gridcrm_link_lag_entries{region="320722",direction="up",peer="3207"}`
		var series []map[string]any
		testcluster.WaitFor(t, 60*time.Second, "the county's uplink lag in Prometheus", func() bool {
			var ans struct {
				Status string `json:"status"`
				Data   struct {
					Result []struct {
						Metric map[string]any `json:"metric"`
						Value  []any          `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			if promGet(base+"/api/v1/query?query="+urlQuery(q), &ans) != nil || ans.Status != "success" {
				return false
			}
			series = nil
			for _, r := range ans.Data.Result {
				series = append(series, r.Metric)
			}
			return len(series) == 1
		})
		if series[0]["tier"] != "county" || series[0]["node"] != "n1" {
			t.Errorf("lag series labels %v; want tier county, node n1", series[0])
		}
		// The rules loaded (a broken rule file would leave none).
		var rules2 struct {
			Data struct {
				Groups []struct{ Name string } `json:"groups"`
			} `json:"data"`
		}
		if err := promGet(base+"/api/v1/rules", &rules2); err != nil || len(rules2.Data.Groups) != ruleGroups(t) {
			t.Errorf("rule groups loaded: %+v (%v); alerts.yml has %d\n%s", rules2.Data.Groups, err, ruleGroups(t), logs.String())
		}
	})
}

// ruleGroups counts the rule groups of alerts.yml.
func ruleGroups(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(raw), "\n  - name: ")
}

func grep(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed (Debian package prometheus; make test-deps installs it)", tool)
	}
	return p
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func promGet(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "{", "%7B", "}", "%7D", "=", "%3D", ",", "%2C")
	return r.Replace(s)
}

type panelExpr struct{ panel, expr string }

// dashboardExprs answers every query of the shipped dashboard: panel
// targets (rows included) and templating variable queries.
func dashboardExprs(t *testing.T) []panelExpr {
	t.Helper()
	raw, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string  `json:"title"`
		Panels []panel `json:"panels"`
		Templ  struct {
			List []struct {
				Name  string          `json:"name"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var out []panelExpr
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, panelExpr{p.Title, tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templ.List {
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) != nil {
			_ = json.Unmarshal(v.Query, &q.Query)
		}
		if m := labelValuesRE.FindStringSubmatch(q.Query); m != nil {
			q.Query = m[1] // label_values(metric, label): the label is no metric
		}
		if q.Query != "" {
			out = append(out, panelExpr{"variable " + v.Name, q.Query})
		}
	}
	return out
}

// alertExprs answers the expr of every rule of alerts.yml, named by its
// alert (or record) name.
func alertExprs(t *testing.T) []panelExpr {
	t.Helper()
	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var out []panelExpr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, panelExpr{r.Alert + r.Record, r.Expr})
		}
	}
	return out
}

type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

var (
	labelValuesRE = regexp.MustCompile(`^label_values\(\s*([^,]+),[^)]*\)$`)
	identRE       = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	stringRE      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braceRE       = regexp.MustCompile(`\{[^}]*\}`)
	byRE          = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
)

// metricNames answers the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, grouping clauses,
// functions (followed by "(") and keywords are removed.
func metricNames(expr string) []string {
	e := stringRE.ReplaceAllString(expr, `""`)
	e = braceRE.ReplaceAllString(e, " ")
	e = byRE.ReplaceAllString(e, " ")
	e = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(e, " ")
	seen := map[string]bool{}
	for _, loc := range identRE.FindAllStringIndex(e, -1) {
		id := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " ")
		if strings.HasPrefix(rest, "(") || keywords[id] || (loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.')) {
			continue
		}
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// prometheusMade are series Prometheus writes itself for every target.
var prometheusMade = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}

var keywords = map[string]bool{"and": true, "or": true, "unless": true, "offset": true, "bool": true, "by": true, "without": true, "on": true, "ignoring": true, "e": true, "inf": true, "nan": true}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string]string{
		`histogram_quantile(0.99, sum by (route, le) (rate(gridcrm_http_request_duration_seconds_bucket{region=~"$region"}[5m])))`: "gridcrm_http_request_duration_seconds_bucket",
		`gridcrm_store_filesystem_avail_bytes{a="b"} / gridcrm_store_filesystem_size_bytes`:                                        "gridcrm_store_filesystem_avail_bytes gridcrm_store_filesystem_size_bytes",
		`label_values(gridcrm_raft_term, region)`:                                                                                  "gridcrm_raft_term region",
		`up{job="gridcrm"} == 0`:    "up",
		`max by (region) (x) > 1e3`: "x",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
}
