package main

import (
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
)

// runAuth runs gridcrm auth with args.
func runAuth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := authCmd()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestAuth_RotateKey: gridcrm auth rotate-key makes a new current key
// through the API and auth keys lists the ring, never the key bytes; a
// bad --grace is refused naming the field.
func TestAuth_RotateKey(t *testing.T) {
	c := testcluster.New(t, testcluster.Opts{Nodes: 1, Region: "320722"})
	c.WaitReady()
	testcluster.Login(t, c.Node(0).APIURL(), "admin", testcluster.AdminPassword) // waits for the bootstrap admin
	t.Setenv("GRIDCRM_PASSWORD", testcluster.AdminPassword)
	url := c.Node(0).APIURL()

	out, err := runAuth(t, "keys", "--url", url)
	if err != nil || stateOf(out, crm.TokenKeyLegacy) != "current" {
		t.Fatalf("auth keys before a rotation: %v\n%s", err, out)
	}
	out, err = runAuth(t, "rotate-key", "--url", url, "--grace", "30m")
	if err != nil || !strings.Contains(out, "tokens of the previous keys are accepted for 30m0s") {
		t.Fatalf("auth rotate-key: %v\n%s", err, out)
	}
	ring, err := crm.TokenKeys(c.Node(0).Reader())
	if err != nil || ring == nil || ring.Current == crm.TokenKeyLegacy {
		t.Fatalf("the ring after rotate-key: %+v, %v", ring, err)
	}
	for _, k := range ring.Keys {
		if strings.Contains(out, k.Key) {
			t.Errorf("rotate-key printed the bytes of key %s", k.ID)
		}
	}
	out, err = runAuth(t, "keys", "--url", url)
	if err != nil || stateOf(out, ring.Current) != "current" || stateOf(out, crm.TokenKeyLegacy) != "previous" {
		t.Errorf("auth keys after a rotation: %v\n%s", err, out)
	}
	if _, err := runAuth(t, "rotate-key", "--url", url, "--grace", "forever"); err == nil || !strings.Contains(err.Error(), `"field":"grace"`) {
		t.Errorf("a bad --grace: %v", err)
	}
}

// stateOf answers the STATE column of key id in auth keys' table.
func stateOf(out, id string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == id {
			return f[1]
		}
	}
	return ""
}
