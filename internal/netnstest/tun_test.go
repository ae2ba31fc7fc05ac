package netnstest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/internal/load"
	"gridcrm/tunnel"
)

// A county and its city, each a `gridcrm node` process in its own network
// namespace, joined by a veth pair and tun-mode WireGuard. The city's
// internal listener is on 127.0.0.1 of its namespace, so the county can
// reach it only through the tunnel (the overlay address routed through the
// TUN devices). Customers written at the county must show up in the city's
// replica, and `wg show` in the county's namespace must list the city as a
// peer with a completed handshake.
func TestTUN_CountyReplicatesToCityAcrossNamespaces(t *testing.T) {
	Require(t)
	replicateAcrossNamespaces(t, "tun")
}

// The same with kernel WireGuard links, where the kernel has the module.
func TestKernel_CountyReplicatesToCityAcrossNamespaces(t *testing.T) {
	Require(t)
	if err := tunnel.KernelAvailable(); err != nil {
		t.Skipf("kernel mode: %v", err)
	}
	replicateAcrossNamespaces(t, "kernel")
}

func replicateAcrossNamespaces(t *testing.T, mode string) {
	bin := gridcrmBin(t)
	dir := t.TempDir()
	city, county := pair(t, bin, dir, true, mode)
	cityCfg := writeConfig(t, dir, city, county, mode)
	countyCfg := writeConfig(t, dir, county, city, mode)
	cp := start(t, bin, city, cityCfg, dir)
	kp := start(t, bin, county, countyCfg, dir)
	cp.login()
	kp.login()

	// One customer on its own, then an import of 50.
	var ids []string
	st, body := kp.do("POST", "/api/v1/customers", load.Customer("320722", "NS", 0))
	if st != 201 {
		t.Fatalf("create customer at the county: %d %s", st, body)
	}
	var one struct{ ID string }
	json.Unmarshal(body, &one)
	ids = append(ids, one.ID)
	st, body = kp.do("POST", "/api/v1/customers/import", load.Customers("320722", "NS", 1, 50))
	if st != 201 {
		t.Fatalf("import at the county: %d %s", st, body)
	}
	var many struct{ IDs []string }
	json.Unmarshal(body, &many)
	ids = append(ids, many.IDs...)
	if one.ID == "" || len(ids) != 51 {
		t.Fatalf("county answered ids %q and %q", one.ID, many.IDs)
	}

	// The city's replica of the county: every id, read at the city.
	var got []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got = got[:0]
		st, body := cp.do("GET", "/api/v1/customers?region=320722&limit=1000", nil)
		if st == 200 {
			var page struct{ Items []struct{ ID string } }
			json.Unmarshal(body, &page)
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
		}
		slices.Sort(got)
		slices.Sort(ids)
		if slices.Equal(got, ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes the city holds %d of the county's %d customers (last answer %d %.300s)\ncounty log:\n%s\ncity log:\n%s",
				len(got), len(ids), st, body, kp.tail(), cp.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The county's view of its tunnel peer, through the API.
	st, body = kp.do("GET", "/api/v1/sync/status", nil)
	if st != 200 || !strings.Contains(string(body), city.pub) {
		t.Errorf("county sync status lacks the city's tunnel peer %s: %d %s", city.pub, st, body)
	}

	t.Run("wg show", func(t *testing.T) {
		wg, err := exec.LookPath("wg")
		if err != nil {
			t.Skip("no wg binary (install wireguard-tools: apt-get install wireguard-tools)")
		}
		out, err := county.ns.Command(t.Context(), wg, "show", county.device).CombinedOutput()
		if err != nil {
			t.Fatalf("wg show %s in the county's namespace: %v\n%s", county.device, err, out)
		}
		s := string(out)
		for _, want := range []string{
			"interface: " + county.device,
			"listening port: 51820",
			"peer: " + city.pub,
			"endpoint: " + city.udp,
			"allowed ips: " + city.overlay() + "/128",
			"latest handshake: ",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("wg show lacks %q:\n%s", want, s)
			}
		}
		// Bytes went both ways through the device.
		if m := regexp.MustCompile(`transfer: ([0-9.]+ \w+) received, ([0-9.]+ \w+) sent`).FindStringSubmatch(s); m == nil || strings.HasPrefix(m[1], "0 B") || strings.HasPrefix(m[2], "0 B") {
			t.Errorf("wg show: no transfer both ways:\n%s", s)
		}
	})

	t.Run("overlay address on the interface", func(t *testing.T) {
		out, err := county.ns.Command(t.Context(), "ip", "-6", "addr", "show", "dev", county.device).CombinedOutput()
		if err != nil {
			t.Fatalf("ip addr: %v\n%s", err, out)
		}
		if want := fmt.Sprintf("inet6 %s/128", county.overlay()); !strings.Contains(string(out), want) {
			t.Errorf("interface %s lacks %q:\n%s", county.device, want, out)
		}
	})
}
