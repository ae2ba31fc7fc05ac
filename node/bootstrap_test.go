package node_test

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/testcluster"
	"gridcrm/node"
	"gridcrm/replication"
)

// logSink collects a node's log lines.
type logSink = testcluster.SyncBuffer

// loneNode is the config of a one-node region in dir.
func loneNode(t *testing.T, dir string, log *logSink) node.Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.Region, cfg.DataDir = "n1", "320722", filepath.Join(dir, "n1")
	cfg.APIListen, cfg.InternalListen = "127.0.0.1:0", addr
	cfg.Bootstrap, cfg.Peers = true, []replication.Peer{{ID: "n1", Addr: addr}}
	cfg.CanaryInterval = time.Hour
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	return cfg
}

// TestBootstrap_BadAdminPasswordRefusesToStart: an admin password the
// password rule refuses stops the node before raft starts, with the
// setting named. Before, a short one made initSystem propose the token key
// every 100 ms for ever (8,533 raft entries in 13.5 minutes).
func TestBootstrap_BadAdminPasswordRefusesToStart(t *testing.T) {
	for _, tc := range []struct{ pw, from, want string }{
		{"short", "", "admin_password: the admin password must be at least 8 characters"},
		{"password", "GRIDCRM_ADMIN_PASSWORD", "GRIDCRM_ADMIN_PASSWORD: the admin password is one of the most common"},
		{"my-admin-pw", "admin_password_file /etc/gridcrm/admin", "admin_password_file /etc/gridcrm/admin: the admin password must not contain the username"},
	} {
		cfg := loneNode(t, t.TempDir(), &logSink{})
		cfg.AdminPassword, cfg.AdminPasswordFrom = tc.pw, tc.from
		n, err := node.Start(cfg)
		if err == nil {
			n.Close()
			t.Errorf("admin password %q: the node started", tc.pw)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("admin password %q: %v; want %q", tc.pw, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "raft")); !os.IsNotExist(err) {
			t.Errorf("admin password %q: raft started (%v)", tc.pw, err)
		}
	}
}

// TestBootstrap_FirstAdminOnRestart: a region bootstrapped without an
// admin password has no user; a restart with one creates admin; a later
// restart with another password changes nothing and says so. Before, the
// password given on restart was silently ignored.
func TestBootstrap_FirstAdminOnRestart(t *testing.T) {
	dir := t.TempDir()
	log := &logSink{}
	cfg := loneNode(t, dir, log)
	start := func(pw string) *node.Node {
		t.Helper()
		c := cfg
		c.AdminPassword = pw
		n, err := node.Start(c)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		testcluster.WaitFor(t, 30*time.Second, "the node ready", func() bool { return n.Ready() == nil })
		return n
	}

	n := start("")
	testcluster.WaitFor(t, 30*time.Second, "the warning that there are no users", func() bool {
		return strings.Contains(log.String(), "the region has no users and no admin password was given")
	})
	if has, err := crm.AnyUser(n.Reader()); err != nil || has {
		t.Fatalf("a region bootstrapped without a password has users: %v %v", has, err)
	}
	n.Close()

	n = start("Harbour-lantern-8")
	testcluster.WaitFor(t, 30*time.Second, "user admin", func() bool {
		u, err := crm.UserByName(n.Reader(), "admin")
		return err == nil && u != nil && u.Role == crm.RoleAdmin
	})
	testcluster.Login(t, n.APIURL(), "admin", "Harbour-lantern-8")
	n.Close()

	n = start("Another-lantern-9")
	defer n.Close()
	testcluster.WaitFor(t, 30*time.Second, "the note that the password is not used", func() bool {
		return strings.Contains(log.String(), "the region has users: the admin password given is not used")
	})
	testcluster.Login(t, n.APIURL(), "admin", "Harbour-lantern-8")
}
