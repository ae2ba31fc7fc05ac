package node_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
	"gridcrm/tiers"
)

// linkView is one link of GET /api/v1/sync/status.
type linkView struct {
	Peer       string  `json:"peer"`
	Direction  string  `json:"direction"`
	State      string  `json:"state"`
	Running    *bool   `json:"running"`
	AckedSeq   uint64  `json:"acked_seq"`
	HeadSeq    uint64  `json:"head_seq"`
	LagEntries uint64  `json:"lag_entries"`
	LagSeconds float64 `json:"lag_seconds"`
	Resyncs    uint64  `json:"resyncs"`
	Rejected   uint64  `json:"rejected"`
	Rejections []struct {
		Seq    uint64 `json:"seq"`
		Key    string `json:"key"`
		Reason string `json:"reason"`
	} `json:"rejections"`
}

// clients keeps one logged-in client per test and node (a login is a
// bcrypt hash: slow on a busy machine).
var clients sync.Map // "<test> <API URL>" → *testcluster.Client

// linkOf reads one link of a node's sync status (ok false when it is not listed).
func linkOf(t *testing.T, n *node.Node, peer, direction string) (linkView, bool) {
	t.Helper()
	key := fmt.Sprintf("%p %s", t, n.APIURL())
	c, ok := clients.Load(key)
	if !ok {
		c, _ = clients.LoadOrStore(key, testcluster.Login(t, n.APIURL(), "admin", testcluster.AdminPassword))
	}
	st, body := c.(*testcluster.Client).Do("GET", "/api/v1/sync/status", nil)
	if st != 200 {
		t.Fatalf("sync status: %d %s", st, body)
	}
	var s struct{ Links []linkView }
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	for _, l := range s.Links {
		if l.Peer == peer && l.Direction == direction {
			return l, true
		}
	}
	return linkView{}, false
}

// withMetrics gives every node a token-free metrics listener.
func withMetrics(c *node.Config) { c.MetricsListen = "127.0.0.1:0" }

// metric answers the value of the first series of name whose labels
// include every one of labels, and whether there is one.
func metric(t *testing.T, n *node.Node, name string, labels ...string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(n.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if match {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v, true
		}
	}
	return 0, false
}

// internalPost posts body to path on a node's internal listener as a node
// of the child region the body claims to speak for (its "link", or "for")
// would: over mutual TLS with a valid certificate of that region, so that
// what is tested is the check of the content, the attack of a child region
// gone rogue or of a stolen child certificate. A body claiming no region
// presents a certificate of county 320722.
func internalPost(t *testing.T, addr, path string, body any) (int, []byte) {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	var claim struct{ Link, For string }
	json.Unmarshal(raw, &claim)
	region := claim.Link + claim.For
	if _, err := tiers.ParseRegion(region); err != nil {
		region = "320722"
	}
	dial := testcluster.RogueDialer(t, region, "rogue1", nil)
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
		return replication.DialKind(ctx, dial, a, replication.KindHTTP)
	}}}
	resp, err := cl.Post("http://"+addr+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// downlinkEntry is a raft entry carrying a downlink batch, as the child's
// leader proposes it: type 3, the proposal time (8 bytes, Unix ms), the
// batch's JSON.
func downlinkEntry(batch string) []byte {
	out := make([]byte, 9, 9+len(batch))
	out[0] = 3
	binary.BigEndian.PutUint64(out[1:], uint64(time.Now().UnixMilli()))
	return append(out, batch...)
}

func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func uint64At(state map[string]string, key string) uint64 {
	v := state[key]
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64([]byte(v))
}

// A committed downlink change that fails validation (a management setting
// that is a JSON string: the poison pill) is rejected alike on every
// replica: nothing of it is written, the link goes on, the region stays
// healthy, and a node that replays it after a restart does too.
func TestDownlink_PoisonPillRejected(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Region: "320722", Nodes: 3, Node: withMetrics,
		Parent: &tiers.ParentLink{Region: "3207", Nodes: []string{deadAddr(t)}}})
	late := (c.Leader() + 1) % 3
	c.Kill(late) // it applies the pill only when it catches up after its restart
	leader := c.Node(c.Leader())
	propose := func(batch string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ans, err := leader.Group().Propose(ctx, downlinkEntry(batch))
		if err != nil {
			t.Fatalf("propose: %v", err)
		}
		return string(ans)
	}
	now := time.Now().UnixMilli()
	ans := propose(fmt.Sprintf(`{"link":"3207","from":0,"to":1,"head":2,"changes":[{"s":1,"o":"3207","os":7,"k":"r/_mgmt/320722","w":"3207","v":"x","t":%d}]}`, now))
	t.Logf("pill answered %s", ans)
	dir := fmt.Sprintf(`{"id":"dir_01KAQ0000000000000000000PX","owner":"3207","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"admin","updated_by":"admin","kind":"notice","scope":"3207","title":"迎峰度夏"}`)
	ans = propose(fmt.Sprintf(`{"link":"3207","from":1,"to":2,"head":2,"changes":[{"s":2,"o":"3207","os":8,"k":"r/directives/dir_01KAQ0000000000000000000PX","w":"3207","v":%s,"t":%d}]}`, dir, now))
	if !strings.Contains(ans, `"acked":2`) {
		t.Fatalf("the batch after the pill answered %s; want it applied (acked 2)", ans)
	}

	c.Restart(late)
	c.WaitReady()
	state := c.WaitConverged(30 * time.Second)
	if _, ok := state["r/_mgmt/320722"]; ok {
		t.Fatalf("the pill was stored: %q", state["r/_mgmt/320722"])
	}
	if _, ok := state["r/_mack/320722"]; ok {
		t.Fatal("the pill was acknowledged")
	}
	if _, ok := state["r/directives/dir_01KAQ0000000000000000000PX"]; !ok {
		t.Fatal("the directive after the pill is missing: the link did not go on")
	}
	if cur := uint64At(state, "m/link/down/3207"); cur != 2 {
		t.Fatalf("downlink cursor %d, want 2", cur)
	}
	// Every node rejected it, the replayed one too, and says so.
	for _, n := range c.Live() {
		l, _ := linkOf(t, n, "3207", "down")
		if l.Rejected != 1 || len(l.Rejections) != 1 || l.Rejections[0].Key != "r/_mgmt/320722" || l.Rejections[0].Seq != 1 {
			t.Fatalf("%s: down link %+v; want one rejection of r/_mgmt/320722 at seq 1", n.Config().NodeID, l)
		}
		if v, ok := metric(t, n, "gridcrm_link_rejected_total", `peer="3207"`, `direction="down"`, `reason="invalid"`); !ok || v != 1 {
			t.Fatalf("%s: gridcrm_link_rejected_total = %v (%v), want 1", n.Config().NodeID, v, ok)
		}
	}
	// Healthy: it takes writes, and a whole restart comes back.
	for i := 0; i < 3; i++ {
		c.Kill(i)
	}
	for i := 0; i < 3; i++ {
		c.Restart(i)
	}
	c.WaitReady()
	cl := c.Client(c.Leader())
	if st, body := cl.Do("POST", "/api/v1/customers", map[string]any{"account_no": "PILL-1", "name": "灌云县客户", "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": "320722"}); st != 201 {
		t.Fatalf("write after the pill: %d %s", st, body)
	}
	c.WaitConverged(30 * time.Second)
}

func countyCustomer(region, acc string) map[string]any {
	return map[string]any{"account_no": acc, "name": "客户" + acc, "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": region}
}

func create(t *testing.T, cl *testcluster.Client, body map[string]any) map[string]any {
	t.Helper()
	st, raw := cl.Do("POST", "/api/v1/customers", body)
	if st != 201 {
		t.Fatalf("create: %d %s", st, raw)
	}
	var rec map[string]any
	json.Unmarshal(raw, &rec)
	return rec
}

func has(n *node.Node, key string) bool {
	v, _ := n.Group().Reader().Get([]byte(key))
	return v != nil
}

// Forged uplink batches are refused before they are proposed, counted and
// reported; the real child's link goes on; a gap is answered with the
// cursor only to a child region, and no error carries it.
func TestUplink_RefusesForgedBatches(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}},
		Node: withMetrics})
	county, city := h.Region("320722"), h.Region("3207")
	create(t, county.Client(0), countyCustomer("320722", "F-1"))
	own := create(t, city.Client(0), countyCustomer("3207", "CITY-1")) // the city's own customer
	h.WaitReplicated("320722", "32", 10*time.Second)
	h.WaitReplicated("3207", "32", 10*time.Second)
	ownKey := "r/customers/" + own["id"].(string)
	ownBefore, _ := city.Node(0).Group().Reader().Get([]byte(ownKey))
	addr := city.InternalAddrs()[0]
	post := func(what string, batch any) (int, []byte) {
		st, body := internalPost(t, addr, "/internal/v1/uplink", batch)
		t.Logf("%s: %d %s", what, st, body)
		return st, body
	}
	now := time.Now().UnixMilli()

	// 1. A batch that carries nothing but moves the cursor far ahead.
	from, _ := linkOf(t, city.Node(0), "320722", "from-child")
	if st, _ := post("empty jump", map[string]any{"link": "320722", "from": from.AckedSeq, "to": from.AckedSeq + 100000, "changes": []any{}}); st == 200 {
		t.Error("a batch moving the cursor past what it carries was accepted")
	}
	// 2. The city's own customer, sent as a change from the county.
	forged := map[string]any{}
	json.Unmarshal(ownBefore, &forged)
	forged["name"], forged["version"] = "篡改", 99
	raw, _ := json.Marshal(forged)
	if st, _ := post("city's own customer", map[string]any{"link": "320722", "from": 0, "to": uint64(1) << 40, "changes": []map[string]any{
		{"s": uint64(1) << 40, "o": "320722", "os": 1, "k": ownKey, "w": "320722", "v": json.RawMessage(raw), "t": now}}}); st == 200 {
		t.Error("a change to the city's own customer was accepted from a county")
	}
	// … and with its owner rewritten to the county's.
	forged["owner"], forged["region"] = "320722", "320722"
	raw, _ = json.Marshal(forged)
	if st, _ := post("city's own customer, owner rewritten", map[string]any{"link": "320722", "from": 0, "to": uint64(1) << 40, "changes": []map[string]any{
		{"s": uint64(1) << 40, "o": "320722", "os": 1, "k": ownKey, "w": "320722", "v": json.RawMessage(raw), "t": now}}}); st == 200 {
		t.Error("a change to the city's own customer, owner rewritten, was accepted from a county")
	}
	// 3. A directive claiming the province's ownership.
	dirKey := "r/directives/dir_01KAQ00000000000000000FAKE"
	dir := `{"id":"dir_01KAQ00000000000000000FAKE","owner":"32","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","created_by":"admin","updated_by":"admin","kind":"notice","scope":"32","title":"伪造"}`
	if st, _ := post("province directive", map[string]any{"link": "320722", "from": 0, "to": uint64(1) << 41, "changes": []map[string]any{
		{"s": uint64(1) << 41, "o": "320722", "os": 2, "k": dirKey, "w": "32", "v": json.RawMessage(dir), "t": now}}}); st == 200 {
		t.Error("a directive claiming the province's ownership was accepted from a county")
	}
	// 4. A gap: the cursor goes only to a child region, and never in an error message.
	st, body := post("gap from a child", map[string]any{"link": "320722", "from": uint64(1) << 50, "to": uint64(1)<<50 + 1, "changes": []map[string]any{
		{"s": uint64(1)<<50 + 1, "o": "320722", "os": 3, "k": "r/_canary/320722", "v": json.RawMessage(fmt.Sprintf(`{"region":"320722","at":%d}`, now)), "t": now}}})
	var gap struct {
		Acked uint64
		Error struct{ Code, Message string }
	}
	json.Unmarshal(body, &gap)
	if st != 200 || gap.Error.Code != "gap" || gap.Acked == 0 {
		t.Errorf("a gap from a child answered %d %s; want the gap with the cursor to resume from", st, body)
	}
	if gap.Acked != 0 && strings.Contains(gap.Error.Message, strconv.FormatUint(gap.Acked, 10)) {
		t.Errorf("the gap's message names the cursor: %q", gap.Error.Message)
	}
	for _, link := range []string{"3208", "32", "", "3207"} {
		st, body := post("not a child: "+link, map[string]any{"link": link, "from": uint64(1) << 50, "to": uint64(1)<<50 + 1})
		if st == 200 || bytes.Contains(body, []byte(`"acked"`)) {
			t.Errorf("link %q: answered %d %s; want a refusal without a cursor", link, st, body)
		}
	}

	// The county's link goes on: its next record arrives.
	create(t, county.Client(0), countyCustomer("320722", "F-2"))
	h.WaitReplicated("320722", "3207", 10*time.Second)
	h.WaitReplicated("320722", "32", 10*time.Second)
	if after, _ := city.Node(0).Group().Reader().Get([]byte(ownKey)); !bytes.Equal(after, ownBefore) {
		t.Errorf("the city's own customer changed: %s", after)
	}
	time.Sleep(500 * time.Millisecond) // a directive at the city would be pulled down by now
	for _, code := range []string{"3207", "320722", "320723"} {
		if has(h.Region(code).Node(0), dirKey) {
			t.Errorf("the forged directive reached %s", code)
		}
	}
	l, _ := linkOf(t, city.Node(0), "320722", "from-child")
	if l.Rejected < 4 {
		t.Errorf("from-child 320722 at the city: %+v; want the four forged batches counted", l)
	}
	var sum float64
	for _, reason := range []string{"range", "authority", "owner", "invalid"} {
		v, _ := metric(t, city.Node(0), "gridcrm_link_rejected_total", `peer="320722"`, `direction="from-child"`, `reason="`+reason+`"`)
		sum += v
	}
	if sum < 4 {
		t.Errorf("gridcrm_link_rejected_total for 320722 at the city sums to %v, want ≥ 4", sum)
	}
}

// An idle three-tier hierarchy never resyncs: a middle tier keeps the feed
// entries its children's downlinks have not pulled, although its own
// parent has them.
func TestDownlink_IdleHierarchyDoesNotResync(t *testing.T) {
	idle := 20 * time.Second
	if s, err := strconv.Atoi(os.Getenv("GRIDCRM_IDLE_SECONDS")); err == nil {
		idle = time.Duration(s) * time.Second
	}
	regions := []string{"3207", "320722", "320723"}
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	resyncs := func() map[string]uint64 {
		out := map[string]uint64{}
		for _, code := range regions {
			c := h.Region(code)
			out[code] = uint64At(testcluster.StateOf(t, c.Node(0)), "m/resyncs/down/"+code[:len(code)-2])
		}
		return out
	}
	for _, code := range regions {
		n := h.Region(code).Node(0)
		testcluster.WaitFor(t, 10*time.Second, code+"'s links up", func() bool {
			d, _ := linkOf(t, n, code[:len(code)-2], "down")
			u, _ := linkOf(t, n, code[:len(code)-2], "up")
			return d.State == "up" && u.State == "up"
		})
	}
	city := h.Region("3207").Node(0)
	firstBefore, _, _ := replication.FeedBounds(city.Group().Reader())
	before := resyncs()
	time.Sleep(idle) // idle on purpose: the hierarchy runs only its heartbeats
	after := resyncs()
	first, head, _ := replication.FeedBounds(city.Group().Reader())
	t.Logf("the city's feed: first %d → %d, head %d", firstBefore, first, head)
	if first <= firstBefore {
		t.Errorf("the city's feed was not pruned while idle (first %d → %d)", firstBefore, first)
	}
	for _, code := range regions {
		t.Logf("%s: %d downlink resyncs in %v idle", code, after[code]-before[code], idle)
		if after[code] != before[code] {
			t.Errorf("%s's downlink resynced %d times in %v of idleness", code, after[code]-before[code], idle)
		}
	}
}

// With its parent cut off, a county's uplink shows how much has not been
// shipped, in entries and in seconds, in its status and its metrics.
func TestUplink_CutLinkShowsLag(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}, Node: withMetrics})
	county := h.Region("320722")
	create(t, county.Client(0), countyCustomer("320722", "CUT-0"))
	h.WaitReplicated("320722", "3207", 10*time.Second)
	h.Faults.Cut("320722")
	n := county.Node(0)
	testcluster.WaitFor(t, 10*time.Second, "the uplink down", func() bool {
		l, _ := linkOf(t, n, "3207", "up")
		return l.State == "down"
	})
	for i := 1; i <= 5; i++ {
		create(t, county.Client(0), countyCustomer("320722", fmt.Sprintf("CUT-%d", i)))
	}
	time.Sleep(1500 * time.Millisecond)
	l, _ := linkOf(t, n, "3207", "up")
	t.Logf("cut uplink: %+v", l)
	if l.State != "down" || l.LagEntries < 5 || l.HeadSeq-l.AckedSeq != l.LagEntries || l.LagSeconds < 1 {
		t.Fatalf("cut uplink %+v; want down, ≥ 5 entries behind, over a second old", l)
	}
	if v, _ := metric(t, n, "gridcrm_link_lag_entries", `direction="up"`); v < 5 {
		t.Errorf("gridcrm_link_lag_entries{direction=up} = %v, want ≥ 5", v)
	}
	if v, _ := metric(t, n, "gridcrm_link_lag_seconds", `direction="up"`); v < 1 {
		t.Errorf("gridcrm_link_lag_seconds{direction=up} = %v, want ≥ 1", v)
	}
	if v, ok := metric(t, n, "gridcrm_link_up", `direction="up"`); !ok || v != 0 {
		t.Errorf("gridcrm_link_up{direction=up} = %v (%v), want 0", v, ok)
	}
	h.Faults.Heal("320722")
	h.WaitReplicated("320722", "3207", 10*time.Second)
	testcluster.WaitFor(t, 10*time.Second, "the uplink's lag back under a second", func() bool {
		l, _ := linkOf(t, n, "3207", "up")
		return l.State == "up" && l.LagSeconds < 1
	})
}

// A follower does not run its region's links: it says so, with no figures,
// and exports no link_up or lag series for them, even after it led.
func TestLinks_FollowerReportsNotRunning(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722", Nodes: 3}}, Node: withMetrics})
	county := h.Region("320722")
	leading := func() *node.Node {
		for _, n := range county.Live() {
			if n.Group().IsLeader() {
				return n
			}
		}
		return nil
	}
	var old *node.Node
	testcluster.WaitFor(t, 10*time.Second, "the leader's downlink up", func() bool {
		if old = leading(); old == nil {
			return false
		}
		l, _ := linkOf(t, old, "3207", "down")
		return l.State == "up"
	})
	old.Group().Raft().LeadershipTransfer()
	var leader *node.Node
	asked := time.Now()
	testcluster.WaitFor(t, 10*time.Second, "another leader's downlink up", func() bool {
		if leader = leading(); leader == old && time.Since(asked) > 2*time.Second {
			old.Group().Raft().LeadershipTransfer() // the last transfer did not take
			asked = time.Now()
		}
		if leader == nil || leader == old {
			return false
		}
		l, _ := linkOf(t, leader, "3207", "down")
		return l.State == "up" && l.Running != nil && *l.Running
	})
	time.Sleep(1200 * time.Millisecond) // long enough for stale figures to show
	// Every node that does not lead (polled: on a busy machine leadership
	// may move while the nodes are asked).
	var wrong []string
	deadline := time.Now().Add(testcluster.Slack(10 * time.Second))
	for {
		wrong = wrong[:0]
		for _, n := range county.Live() {
			if n.Group().IsLeader() {
				continue
			}
			id, before := n.Config().NodeID, len(wrong)
			for _, dir := range []string{"up", "down"} {
				l, ok := linkOf(t, n, "3207", dir)
				if !ok || l.Running == nil || *l.Running || l.LagSeconds != 0 || l.LagEntries != 0 || l.AckedSeq != 0 || l.HeadSeq != 0 {
					wrong = append(wrong, fmt.Sprintf("%s: %s link %+v; want it listed as not running, without figures", id, dir, l))
				}
				if v, ok := metric(t, n, "gridcrm_link_up", `direction="`+dir+`"`); ok {
					wrong = append(wrong, fmt.Sprintf("%s: gridcrm_link_up{direction=%s} = %v; want no series", id, dir, v))
				}
				if v, ok := metric(t, n, "gridcrm_link_lag_seconds", `direction="`+dir+`"`); ok {
					wrong = append(wrong, fmt.Sprintf("%s: gridcrm_link_lag_seconds{direction=%s} = %v; want no series", id, dir, v))
				}
				if v, ok := metric(t, n, "gridcrm_link_running", `direction="`+dir+`"`); !ok || v != 0 {
					wrong = append(wrong, fmt.Sprintf("%s: gridcrm_link_running{direction=%s} = %v (%v); want 0", id, dir, v, ok))
				}
			}
			if n.Group().IsLeader() {
				wrong = wrong[:before] // it led by the time it was asked
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("followers:\n%s", strings.Join(wrong, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leader = leading(); leader != nil {
		if v, ok := metric(t, leader, "gridcrm_link_running", `direction="down"`); !ok || v != 1 {
			t.Errorf("leader: gridcrm_link_running{direction=down} = %v (%v); want 1", v, ok)
		}
	}
}
