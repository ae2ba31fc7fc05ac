package replication_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
	"gridcrm/pki"
	"gridcrm/replication"
	"gridcrm/store/keyspace"
	"gridcrm/tunnel"
)

func countyCustomer(region, acc string) map[string]any {
	return map[string]any{"account_no": acc, "name": "客户" + acc, "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "region": region}
}

func TestTiers_RollUpAndPushDown(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{
		{Code: "32"}, {Code: "3207"}, {Code: "3208"}, {Code: "320722"}, {Code: "320803"},
	}})
	county := h.Region("320722").Admin(0)
	st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "UP-1"))
	if st != 201 {
		t.Fatalf("create at county: %d %s", st, body)
	}
	var rec struct{ ID string }
	json.Unmarshal(body, &rec)
	h.WaitReplicated("320722", "3207", 10*time.Second)
	h.WaitReplicated("320722", "32", 10*time.Second)
	if st, body := h.Region("32").Admin(0).Do("GET", "/api/v1/customers/"+rec.ID+"?region=320722", nil); st != 200 {
		t.Fatalf("read at the province: %d %s", st, body)
	}
	// A directive from the province reaches every county; one from a city only its own.
	prov := h.Region("32").Admin(0)
	if st, body := prov.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "全省迎峰度夏"}); st != 201 {
		t.Fatalf("province directive: %d %s", st, body)
	}
	city := h.Region("3207").Admin(0)
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "tariff", "title": "连云港分时电价", "body": map[string]any{"peak": 1.6}}); st != 201 {
		t.Fatalf("city directive: %d %s", st, body)
	}
	testcluster.WaitFor(t, 10*time.Second, "directives pushed down", func() bool {
		return dirs(t, h, "320722") == 2 && dirs(t, h, "320803") == 1 && dirs(t, h, "3208") == 1
	})
}

// dirs counts the directive records a region's first node holds.
func dirs(t *testing.T, h *testcluster.Hierarchy, region string) int {
	n := 0
	h.Region(region).Node(0).Group().Reader().Iterate([]byte("r/directives/"), []byte("r/directives0"), func(k, v []byte) bool { n++; return true })
	return n
}

func TestTiers_StatusSummaryAndFreshness(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	for i, county := range []string{"320722", "320723"} {
		rows := []map[string]any{}
		for j := 0; j < 10*(i+1); j++ {
			rows = append(rows, countyCustomer(county, fmt.Sprintf("S%d-%03d", i, j)))
		}
		if st, body := h.Region(county).Admin(0).Do("POST", "/api/v1/customers/import", rows); st != 201 {
			t.Fatalf("import at %s: %d %s", county, st, body)
		}
	}
	h.WaitReplicated("320722", "32", 10*time.Second)
	h.WaitReplicated("320723", "32", 10*time.Second)
	prov := h.Region("32").Admin(0)
	st, body := prov.Do("GET", "/api/v1/stats/summary?region=32&scope=subtree", nil)
	var sum struct {
		Customers int
		Regions   []string
		Freshness map[string]struct {
			AppliedSeq uint64   `json:"applied_seq"`
			AgeSeconds *float64 `json:"age_seconds"`
		}
	}
	if err := json.Unmarshal(body, &sum); st != 200 || err != nil || sum.Customers != 30 {
		t.Fatalf("province summary: %d %s", st, body)
	}
	if f := sum.Freshness["320723"]; f.AppliedSeq == 0 || f.AgeSeconds == nil || *f.AgeSeconds > 5 {
		t.Fatalf("freshness of 320723 at the province: %s", body)
	}
	// The province and the city keep their subtree totals on apply
	// (crm.ApplyDeltasAt through the node's link domain): the summary
	// above read them.
	for _, region := range []string{"32", "3207"} {
		r := h.Region(region).Node(0).Group().Reader()
		if v, _ := r.Get([]byte("t/m")); string(v) != region {
			t.Fatalf("%s: the subtree totals are not marked kept (%q)", region, v)
		}
		if v, _ := r.Get([]byte("t/s/" + region + "/customers")); len(v) != 8 {
			t.Fatalf("%s: no customers total below it", region)
		}
	}
	if st, body := prov.Do("GET", "/api/v1/stats/summary?region=320722", nil); st != 200 || !json.Valid(body) || !contains(body, `"customers":10`) {
		t.Fatalf("county summary at the province: %d %s", st, body)
	}
	st, body = h.Region("320722").Admin(0).Do("GET", "/api/v1/sync/status", nil)
	var status struct {
		Links []struct {
			Peer, Direction, State string
			AckedSeq               uint64 `json:"acked_seq"`
			HeadSeq                uint64 `json:"head_seq"`
		}
	}
	if err := json.Unmarshal(body, &status); st != 200 || err != nil || len(status.Links) != 2 || status.Links[0].Peer != "3207" || status.Links[0].State != "up" {
		t.Fatalf("county sync status: %d %s", st, body)
	}
	st, body = h.Region("3207").Admin(0).Do("GET", "/api/v1/sync/status", nil)
	if st != 200 || !contains(body, `"direction":"from-child"`) || !contains(body, `"peer":"320723"`) {
		t.Fatalf("city sync status: %d %s", st, body)
	}
	st, body = h.Region("3207").Admin(0).Do("GET", "/metrics", nil)
	if st != 200 || !contains(body, `gridcrm_link_lag_seconds{direction="from-child",node="n1",peer="320722",region="3207"}`) {
		t.Fatalf("link metrics at the city: %d %.2000s", st, body)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestTiers_AccessByRegion(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "3208"}, {Code: "320722"}, {Code: "320723"}}})
	ids := map[string][]string{}
	for _, county := range []string{"320722", "320723"} {
		cl := h.Region(county).Admin(0)
		for i := 0; i < 7; i++ {
			st, body := cl.Do("POST", "/api/v1/customers", countyCustomer(county, fmt.Sprintf("A%s-%d", county, i)))
			if st != 201 {
				t.Fatalf("create: %d %s", st, body)
			}
			var r struct{ ID string }
			json.Unmarshal(body, &r)
			ids[county] = append(ids[county], r.ID)
		}
		h.WaitReplicated(county, "32", 10*time.Second)
	}
	user := func(region, name, role string) *testcluster.Client {
		admin := h.Region(region).Admin(0)
		const pw = "Lantern-quartz-42" // crm.CheckPassword: must not contain the username
		if st, body := admin.Do("POST", "/api/v1/users", map[string]any{"username": name, "role": role, "password": pw}); st != 201 {
			t.Fatalf("create user %s: %d %s", name, st, body)
		}
		return testcluster.Login(t, h.Region(region).Node(0).APIURL(), name, pw)
	}
	county, city, prov := user("320722", "lin", "agent"), user("3207", "zhao", "manager"), user("32", "qian", "analyst")
	wantErr := func(cl *testcluster.Client, method, path string, body any, status int, code, owner string) {
		t.Helper()
		st, out := cl.Do(method, path, body)
		var e struct {
			Error struct{ Code, Field, Owner, Message string }
		}
		json.Unmarshal(out, &e)
		if st != status || e.Error.Code != code || (owner != "" && e.Error.Owner != owner) || e.Error.Message == "" {
			t.Errorf("%s %s: %d %s; want %d %s owner %q", method, path, st, out, status, code, owner)
		}
	}
	// A county user reads no other county, on any list route or the summary.
	for _, coll := range []string{"customers", "bills", "staff", "contacts", "interactions", "directives"} {
		wantErr(county, "GET", "/api/v1/"+coll+"?region=320723", nil, 403, "forbidden", "320723")
		wantErr(county, "GET", "/api/v1/"+coll+"?region=3207&scope=subtree", nil, 403, "forbidden", "3207")
	}
	wantErr(county, "GET", "/api/v1/stats/summary?region=320723", nil, 403, "forbidden", "320723")
	if st, _ := county.Do("GET", "/api/v1/customers/"+ids["320723"][0], nil); st != 404 {
		t.Errorf("county user got another county's customer: %d", st)
	}
	// A city user reads its subtree from the local replica...
	count := func(cl *testcluster.Client, q string) (n int, fresh bool) {
		after := ""
		for {
			st, body := cl.Do("GET", "/api/v1/customers?limit=3&"+q+after, nil)
			if st != 200 {
				t.Fatalf("list %s: %d %s", q, st, body)
			}
			var p struct {
				Items     []json.RawMessage
				Next      string
				Freshness map[string]any
			}
			json.Unmarshal(body, &p)
			n += len(p.Items)
			fresh = len(p.Freshness) > 0
			if p.Next == "" {
				return n, fresh
			}
			after = "&after=" + p.Next
		}
	}
	if n, fresh := count(city, "region=3207&scope=subtree"); n != 14 || !fresh {
		t.Errorf("city subtree list: %d customers (freshness %v); want 14", n, fresh)
	}
	if n, _ := count(city, "region=320722"); n != 7 {
		t.Errorf("city list of 320722: %d; want 7", n)
	}
	if n, _ := count(prov, "region=32&scope=subtree"); n != 14 {
		t.Errorf("province subtree list: %d; want 14", n)
	}
	if st, body := city.Do("GET", "/api/v1/customers/"+ids["320722"][0]+"?region=320722", nil); st != 200 {
		t.Errorf("city get of a county customer: %d %s", st, body)
	}
	wantErr(city, "GET", "/api/v1/customers?region=3208", nil, 403, "forbidden", "3208")
	// ...and cannot write a county's record: the error names the owner.
	wantErr(city, "PATCH", "/api/v1/customers/"+ids["320722"][0], map[string]any{"version": 1, "name": "改名"}, 403, "wrong_owner", "320722")
	wantErr(city, "DELETE", "/api/v1/customers/"+ids["320722"][1], nil, 403, "wrong_owner", "320722")
	wantErr(city, "POST", "/api/v1/customers", countyCustomer("320722", "FROM-CITY"), 403, "wrong_owner", "320722")
	wantErr(prov, "POST", "/api/v1/customers", countyCustomer("320723", "FROM-PROV"), 403, "forbidden", "")
}

// TestTiers_ThroughTunnels: every inter-tier link runs through netstack
// WireGuard tunnels (the links dial the parent's overlay addresses, which
// exist only inside the tunnels); a county whose key its city does not know
// replicates nothing.
func TestTiers_ThroughTunnels(t *testing.T) {
	if _, err := os.Stat("/var/run/wireguard"); err != nil && os.MkdirAll("/var/run/wireguard", 0o755) != nil {
		t.Skip("cannot create /var/run/wireguard for the tunnels' UAPI sockets (needs root)")
	}
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Tunnels: true, WrongKey: "320723",
		Regions: []testcluster.RegionSpec{{Code: "32"}, {Code: "3207"}, {Code: "320722"}, {Code: "320723"}}})
	for _, county := range []string{"320722", "320723"} {
		if st, body := h.Region(county).Admin(0).Do("POST", "/api/v1/customers", countyCustomer(county, "TUN-"+county)); st != 201 {
			t.Fatalf("create at %s: %d %s", county, st, body)
		}
	}
	h.WaitReplicated("320722", "32", 20*time.Second)
	if st, body := h.Region("32").Admin(0).Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "经隧道下发"}); st != 201 {
		t.Fatalf("directive: %d %s", st, body)
	}
	testcluster.WaitFor(t, 20*time.Second, "the directive through the tunnels", func() bool { return dirs(t, h, "320722") == 1 })
	// The county's tunnel carried it: handshake done, bytes both ways.
	st, body := h.Region("320722").Admin(0).Do("GET", "/api/v1/sync/status", nil)
	var status struct {
		TunnelPeers []struct {
			HandshakeAge *float64 `json:"last_handshake_age_seconds"`
			RxBytes      int64    `json:"rx_bytes"`
			TxBytes      int64    `json:"tx_bytes"`
		} `json:"tunnel_peers"`
	}
	json.Unmarshal(body, &status)
	if st != 200 || len(status.TunnelPeers) != 1 || status.TunnelPeers[0].HandshakeAge == nil || status.TunnelPeers[0].RxBytes == 0 || status.TunnelPeers[0].TxBytes == 0 {
		t.Fatalf("county tunnel peers: %d %s", st, body)
	}
	// The link endpoints are not served outside the tunnel: on the city's
	// internal listener they answer 403 naming the tunnel address.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return replication.DialKind(ctx, testcluster.Security(t, "320722", "dh9").Dialer(replication.TCPDialer, pki.ServiceUplink), addr, replication.KindHTTP)
	}}}
	resp, err := hc.Post("http://"+h.Region("3207").Node(0).InternalAddr()+"/internal/v1/uplink", "application/json", strings.NewReader(`{"link":"320722"}`))
	if err != nil {
		t.Fatal(err)
	}
	refusal, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !contains(refusal, "answer only through its tunnel, at [fd47:7269:6463::3207:0:1]") {
		t.Fatalf("uplink on the city's internal listener: %d %s", resp.StatusCode, refusal)
	}

	// The county with the wrong key: nothing of it reaches the city.
	time.Sleep(2 * time.Second) // give a wrong handshake time to (not) happen
	if got := testcluster.Records(t, h.Region("3207").Node(0), "320723"); len(got) != 0 {
		t.Fatalf("the city holds %d records of the county with a wrong key", len(got))
	}
	st, body = h.Region("320723").Admin(0).Do("GET", "/api/v1/sync/status", nil)
	status.TunnelPeers = nil
	json.Unmarshal(body, &status)
	if st != 200 || contains(body, `"state":"up"`) || len(status.TunnelPeers) != 1 || status.TunnelPeers[0].HandshakeAge != nil || status.TunnelPeers[0].RxBytes != 0 {
		t.Fatalf("the wrong-key county: no handshake, nothing received, link not up; got %d %s", st, body)
	}
}

// TestTiers_TunnelDownStopsAndResumes: with the county's WireGuard device
// down, its uplink stops (the link reports down, the city receives none of
// the writes the county goes on accepting); brought back up, the link
// resumes from where the city acknowledged and the replicas end equal.
func TestTiers_TunnelDownStopsAndResumes(t *testing.T) {
	if _, err := os.Stat("/var/run/wireguard"); err != nil && os.MkdirAll("/var/run/wireguard", 0o755) != nil {
		t.Skip("cannot create /var/run/wireguard for the tunnels' UAPI sockets (needs root)")
	}
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Tunnels: true,
		Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	county, city := h.Region("320722"), h.Region("3207")
	for i := range 5 {
		if st, body := county.Admin(0).Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("UP-%d", i))); st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	// Customers only: every write and login also leaves an audit entry that
	// rolls up with it.
	customers := func() int {
		n := 0
		for k := range testcluster.Records(t, city.Node(0), "320722") {
			if strings.HasPrefix(k, keyspace.Collection("customers")) {
				n++
			}
		}
		return n
	}
	before := customers()

	sw, ok := county.Node(0).Tunnel().(tunnel.Switch)
	if !ok {
		t.Fatalf("the county's tunnel %T cannot be switched", county.Node(0).Tunnel())
	}
	if err := sw.SetDown(true); err != nil {
		t.Fatal(err)
	}
	linkDown := func() bool {
		_, body := county.Admin(0).Do("GET", "/api/v1/sync/status", nil)
		return contains(body, `"direction":"up"`) && !contains(body, `"state":"up"`)
	}
	// The county goes on working while its tunnel is down.
	for i := range 20 {
		if st, body := county.Admin(0).Do("POST", "/api/v1/customers", countyCustomer("320722", fmt.Sprintf("DOWN-%d", i))); st != 201 {
			t.Fatalf("create with the tunnel down: %d %s", st, body)
		}
	}
	testcluster.WaitFor(t, 30*time.Second, "the county's links to report the tunnel down", linkDown)
	if got := customers(); got != before {
		t.Fatalf("the city received %d customers through a tunnel that is down", got-before)
	}

	if err := sw.SetDown(false); err != nil {
		t.Fatal(err)
	}
	h.WaitReplicated("320722", "3207", 60*time.Second)
	if got := customers(); got != before+20 {
		t.Fatalf("after the tunnel came back the city holds %d customers of the county, want %d", got, before+20)
	}
}

// TestTiers_RebuiltParentResyncsBothWays: a city's only node is lost with
// its disk and comes back empty (as after a restore from an older backup,
// its feed is not the one the county's links knew). Up, the county sends
// its records again by snapshot (the city's cursor is past nothing the
// county still holds). Down, the county's cursor is far past the new
// city's feed head: the city answers a snapshot of what goes down once a
// read barrier confirms it, so a directive of the rebuilt city reaches the
// county, and one the rebuilt city no longer holds is dropped there.
// Before, the county waited for the new feed to pass its old cursor and
// then skipped everything below it.
func TestTiers_RebuiltParentResyncsBothWays(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	city, county := h.Region("3207").Admin(0), h.Region("320722").Admin(0)
	for i, acc := range []string{"RB-1", "RB-2"} {
		if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", acc)); st != 201 {
			t.Fatalf("customer %d at the county: %d %s", i, st, body)
		}
	}
	// The city's feed grows past 300 entries the county's downlink scans.
	if st, body := city.Do("POST", "/api/v1/customers/import", json.RawMessage(load.Customers("3207", "RB", 0, 300))); st != 201 {
		t.Fatalf("import at the city: %d %s", st, body)
	}
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "重建前"}); st != 201 {
		t.Fatalf("directive before: %d %s", st, body)
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	cityHead := func() uint64 {
		_, head, err := replication.FeedBounds(h.Region("3207").Node(0).Group().Reader())
		if err != nil {
			t.Fatal(err)
		}
		return head
	}
	testcluster.WaitFor(t, 20*time.Second, "the county's downlink to pull the city's feed and its directive", func() bool {
		return downCursor(t, h) >= 300 && dirs(t, h, "320722") == 1
	})
	old := downCursor(t, h)
	// The county prunes what its city acknowledged (a second after its
	// uplink went idle): only then does the rebuilt city's empty cursor point
	// before the county's feed, which calls for a snapshot up. Under the race
	// detector the wipe came after the prune by luck; without it, before.
	testcluster.WaitFor(t, 20*time.Second, "the county to prune the entries its city acknowledged", func() bool {
		first, _, err := replication.FeedBounds(h.Region("320722").Node(0).Group().Reader())
		return err == nil && first > 1
	})

	h.Region("3207").Wipe(0)
	h.Region("3207").Restart(0)
	city = h.Region("3207").Admin(0)
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "重建后"}); st != 201 {
		t.Fatalf("directive after: %d %s", st, body)
	}
	testcluster.WaitFor(t, 30*time.Second, "the rebuilt city's directive at the county, the old one gone", func() bool {
		titles := directiveTitles(h, "320722")
		return len(titles) == 1 && titles[0] == "重建后"
	})
	if cur, head := downCursor(t, h), cityHead(); cur >= old || cur > head {
		t.Errorf("the county's downlink cursor is %d (was %d), the rebuilt city's feed head %d", cur, old, head)
	}
	h.WaitReplicated("320722", "3207", 30*time.Second) // up: the county's customers at the city again
	if n := len(testcluster.Records(t, h.Region("3207").Node(0), "320722")); n < 2 {
		t.Errorf("the rebuilt city holds %d of the county's records", n)
	}
	// Both by snapshot: one resync down at the county, one up at the city.
	resyncs := func(region, dir, peer string) uint64 {
		v, err := replication.GetUint(h.Region(region).Node(0).Group().Reader(), keyspace.ResyncCount(dir, peer))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if down, up := resyncs("320722", "down", "3207"), resyncs("3207", "up", "320722"); down != 1 || up != 1 {
		t.Errorf("resyncs: down at the county %d, up at the rebuilt city %d; want 1 and 1", down, up)
	}
}

// TestTiers_RebuiltParentWhileChildAway: the county is cut off while its
// city is rebuilt from nothing, and the new city's feed grows past the
// county's old downlink cursor before the county is back. Its cursor says
// nothing of the new feed: the feeds' epochs differ, so the city answers
// with a snapshot (before epochs, the county pulled on from its old cursor,
// skipping the new city's directive below it and keeping the old one).
func TestTiers_RebuiltParentWhileChildAway(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	city, county := h.Region("3207").Admin(0), h.Region("320722").Admin(0)
	if st, body := county.Do("POST", "/api/v1/customers", countyCustomer("320722", "AW-1")); st != 201 {
		t.Fatalf("customer at the county: %d %s", st, body)
	}
	if st, body := city.Do("POST", "/api/v1/customers/import", json.RawMessage(load.Customers("3207", "AW", 0, 300))); st != 201 {
		t.Fatalf("import at the city: %d %s", st, body)
	}
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "重建前"}); st != 201 {
		t.Fatalf("directive before: %d %s", st, body)
	}
	testcluster.WaitFor(t, 20*time.Second, "the county's downlink to pull the city's feed and its directive", func() bool {
		return downCursor(t, h) >= 300 && dirs(t, h, "320722") == 1
	})
	old := downCursor(t, h)

	h.Faults.Cut("320722")
	h.Region("3207").Wipe(0)
	h.Region("3207").Restart(0)
	city = h.Region("3207").Admin(0)
	if st, body := city.Do("POST", "/api/v1/directives", map[string]any{"kind": "notice", "title": "重建后"}); st != 201 {
		t.Fatalf("directive after: %d %s", st, body)
	}
	if st, body := city.Do("POST", "/api/v1/customers/import", json.RawMessage(load.Customers("3207", "AW2", 0, int(old)))); st != 201 {
		t.Fatalf("import at the rebuilt city: %d %s", st, body)
	}
	if _, head, _ := replication.FeedBounds(h.Region("3207").Node(0).Group().Reader()); head <= old {
		t.Fatalf("the rebuilt city's feed head %d is not past the county's old cursor %d", head, old)
	}
	h.Faults.Heal("320722")
	testcluster.WaitFor(t, 30*time.Second, "the rebuilt city's directive at the county, the old one gone", func() bool {
		titles := directiveTitles(h, "320722")
		return len(titles) == 1 && titles[0] == "重建后"
	})
	h.WaitReplicated("320722", "3207", 30*time.Second)
}

// downCursor is the county 320722's downlink cursor on its city's feed.
func downCursor(t *testing.T, h *testcluster.Hierarchy) uint64 {
	v, err := replication.GetUint(h.Region("320722").Node(0).Group().Reader(), keyspace.LinkCursor("down", "3207"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// directiveTitles are the titles of the directives region's first node holds.
func directiveTitles(h *testcluster.Hierarchy, region string) []string {
	var titles []string
	h.Region(region).Node(0).Group().Reader().Iterate([]byte("r/directives/"), []byte("r/directives0"), func(_, v []byte) bool {
		var d struct{ Title string }
		json.Unmarshal(v, &d)
		titles = append(titles, d.Title)
		return true
	})
	return titles
}
