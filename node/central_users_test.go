package node_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridcrm/internal/testcluster"
)

// TestCentralAdministration_UsersBelow: an admin of the city creates a
// county user, lists the county's users, resets the user's password and
// disables the user, each through the forwarding path (the county applies
// it as its own write); the user logs in at the county with the password
// the city set, and not after being disabled. Under full management the
// county still shows its users to its manager. No password hash comes
// back up.
func TestCentralAdministration_UsersBelow(t *testing.T) {
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	county, city := h.Region("320722"), h.Region("3207")
	cc := city.Client(0)
	countyURL := county.Node(0).APIURL()

	st, raw := cc.Do("POST", "/api/v1/users", map[string]any{"username": "zhang.wei", "role": "agent", "region": "320722", "password": "Grid-county-2026!"})
	if st != 201 {
		t.Fatalf("the city creates a county user: %d %s", st, raw)
	}
	var u struct {
		ID      string `json:"id"`
		Region  string `json:"region"`
		Owner   string `json:"owner"`
		Version uint64 `json:"version"`
		By      string `json:"created_by"`
	}
	json.Unmarshal(raw, &u)
	if u.Region != "320722" || u.Owner != "320722" || u.By != "admin@3207" || strings.Contains(string(raw), "password_hash") {
		t.Fatalf("created: %s; want a county user owned by the county, created by admin@3207, no hash", raw)
	}
	testcluster.Login(t, countyURL, "zhang.wei", "Grid-county-2026!")
	// The forwarded command that carried it shows no hash either (the link
	// delivers it whole; readers of the command get its public fields).
	for _, path := range []string{"/api/v1/commands?region=320722", "/api/v1/management"} {
		if st, raw := cc.Do("GET", path, nil); st != 200 || strings.Contains(string(raw), "password_hash") || (path == "/api/v1/commands?region=320722" && !strings.Contains(string(raw), "zhang.wei")) {
			t.Errorf("GET %s at the city: %d %s; want the command without password_hash", path, st, raw)
		}
	}

	list := func() []map[string]any {
		t.Helper()
		st, raw := cc.Do("GET", "/api/v1/users?region=320722", nil)
		if st != 200 || strings.Contains(string(raw), "password_hash") {
			t.Fatalf("the city lists the county's users: %d %s", st, raw)
		}
		var out struct {
			Users []map[string]any `json:"users"`
		}
		json.Unmarshal(raw, &out)
		return out.Users
	}
	has := func(us []map[string]any, name string) bool {
		for _, u := range us {
			if u["username"] == name && u["region"] == "320722" {
				return true
			}
		}
		return false
	}
	if us := list(); !has(us, "zhang.wei") {
		t.Errorf("county users seen from the city: %v; want zhang.wei among them", us)
	}

	st, raw = cc.Do("PATCH", "/api/v1/users/"+u.ID+"?region=320722", map[string]any{"version": u.Version, "password": "Reset-by-city-77"})
	if st != 200 {
		t.Fatalf("the city resets the password: %d %s", st, raw)
	}
	json.Unmarshal(raw, &u)
	testcluster.Login(t, countyURL, "zhang.wei", "Reset-by-city-77")
	st, raw = cc.Do("PATCH", "/api/v1/users/"+u.ID+"?region=320722", map[string]any{"version": u.Version, "disabled": true})
	if st != 200 || !strings.Contains(string(raw), `"disabled":true`) {
		t.Fatalf("the city disables the user: %d %s", st, raw)
	}
	st, raw = (&testcluster.Client{Base: countyURL, HTTP: cc.HTTP}).Do("POST", "/api/v1/auth/login", map[string]string{"username": "zhang.wei", "password": "Reset-by-city-77"})
	if st == 200 {
		t.Errorf("a disabled user logged in: %s", raw)
	}

	// Full management: the county's users stay the county's, shown to its manager.
	if st, raw := cc.Do("PUT", "/api/v1/regions/320722/management", map[string]any{"mode": "full"}); st != 200 {
		t.Fatalf("full management: %d %s", st, raw)
	}
	testcluster.WaitFor(t, 30*time.Second, "the county under full management", func() bool {
		st, raw := cc.Do("GET", "/api/v1/regions/320722", nil)
		return st == 200 && strings.Contains(string(raw), `"writer":"3207"`)
	})
	if us := list(); !has(us, "zhang.wei") {
		t.Errorf("county users seen by its full manager: %v; want zhang.wei among them", us)
	}
	st, raw = cc.Do("POST", "/api/v1/users", map[string]any{"username": "li.na", "role": "analyst", "region": "320722", "password": "Full-mgmt-user-9"})
	if st != 201 {
		t.Fatalf("the full manager creates a county user: %d %s", st, raw)
	}
	testcluster.Login(t, countyURL, "li.na", "Full-mgmt-user-9")
}
