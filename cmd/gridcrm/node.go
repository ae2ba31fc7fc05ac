package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"gridcrm/node"
	"gridcrm/ops"
	"gridcrm/replication"
	"gridcrm/tunnel"
)

func nodeCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var configFile, peers, join, logLevel, adminPasswordFlag string
	var logJSON bool
	var tlsFiles node.TLSFiles
	var apiTLS node.APITLS
	c := &cobra.Command{
		Use:   "node",
		Short: "Run one node of a region",
		Long: `Run one node of a region's raft group.

Start a new region with --bootstrap on every initial voter, all given the
same --peers list (id=internal-address,...). To add a node later, start it
without --bootstrap and either pass --join with the URL of a running node's
API (credentials from GRIDCRM_JOIN_USER / GRIDCRM_JOIN_PASSWORD), or call
POST /api/v1/cluster/nodes yourself. Settings come from flags or --config
(YAML with the same names as the flags, underscores for dashes); flags win.

A region without users gets user admin from the admin password, read from
--admin-password-file or GRIDCRM_ADMIN_PASSWORD (never from the command
line, which every user of the machine can read).

Node-to-node connections (raft, forwarding, the links between tiers) are
mutual TLS 1.3 with --tls-cert, --tls-key and --tls-ca (from gridcrm cert).
A node whose internal listener is not loopback, or that runs a tunnel,
refuses to start without them unless --insecure-internal is given.

The public API is HTTPS with --api-tls-cert and --api-tls-key (TLS 1.2+;
the files are re-read when they change), else plain HTTP for a proxy in
front of it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl := cmd.Flags(); fl.Changed("tls-cert") || fl.Changed("tls-key") || fl.Changed("tls-ca") {
				cfg.TLS = &tlsFiles
			}
			if fl := cmd.Flags(); fl.Changed("api-tls-cert") || fl.Changed("api-tls-key") {
				cfg.APITLS = &apiTLS
			}
			if configFile != "" {
				fileCfg, err := loadConfig(configFile)
				if err != nil {
					return err
				}
				mergeFlags(cmd, &fileCfg, cfg)
				cfg = fileCfg
			}
			if cmd.Flags().Changed("admin-password") {
				return errAdminPasswordFlag
			}
			if err := readAdminPassword(&cfg); err != nil {
				return err
			}
			if peers != "" {
				ps, err := parsePeers(peers)
				if err != nil {
					return err
				}
				cfg.Peers = ps
			}
			if _, err := ops.ParseLevel(logLevel); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg.Logger = newLogger(logLevel, logJSON, cmd.ErrOrStderr())
			privateUmask()
			n, err := node.Start(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gridcrm node %s of region %s (%s): api %s, internal %s\n", cfg.NodeID, cfg.Region, n.Config().Tier, n.APIURL(), n.InternalAddr())
			if join != "" {
				if err := joinRegion(join, cfg.NodeID, n.InternalAddr()); err != nil {
					n.Close()
					return err
				}
			}
			waitForSignal()
			return n.Close()
		},
	}
	f := c.Flags()
	f.StringVar(&configFile, "config", "", "YAML config file")
	f.StringVar(&cfg.NodeID, "node-id", "", "node id, unique in the region (required)")
	f.StringVar(&cfg.Region, "region", "", "GB/T 2260 region code: 32 province, 3207 city, 320722 county (required)")
	f.StringVar(&cfg.Tier, "tier", "", "province, city or county (default: from the code's length)")
	f.StringVar(&cfg.DataDir, "data-dir", "", "data directory (required)")
	f.StringVar(&cfg.APIListen, "api-listen", cfg.APIListen, "public HTTP API address")
	f.StringVar(&cfg.InternalListen, "internal-listen", cfg.InternalListen, "raft and internal HTTP address")
	f.StringVar(&cfg.Advertise, "advertise", "", "internal address other nodes dial (default: internal-listen)")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", "", "optional token-free /metrics address for Prometheus")
	f.BoolVar(&cfg.Bootstrap, "bootstrap", false, "bootstrap a new region with --peers if this node has no state")
	f.StringVar(&peers, "peers", "", "initial voters for --bootstrap: id=host:port,... (internal addresses)")
	f.StringVar(&cfg.AdminPasswordFile, "admin-password-file", "", "file holding the password of user admin, created in a region without users (default: $GRIDCRM_ADMIN_PASSWORD)")
	f.StringVar(&adminPasswordFlag, "admin-password", "", "refused: use --admin-password-file or GRIDCRM_ADMIN_PASSWORD")
	_ = f.MarkHidden("admin-password")
	f.DurationVar(&cfg.TokenTTL, "token-ttl", cfg.TokenTTL, "lifetime of login tokens")
	apiLimitFlags(c, &cfg.APILimits) // apilimits.go
	f.StringVar(&apiTLS.Cert, "api-tls-cert", "", "certificate (PEM, then intermediates) for HTTPS on the public API; re-read when the file changes")
	f.StringVar(&apiTLS.Key, "api-tls-key", "", "the public API certificate's key (PEM)")
	f.StringVar(&tlsFiles.Cert, "tls-cert", "", "node certificate for mutual TLS between nodes (gridcrm cert issue)")
	f.StringVar(&tlsFiles.Key, "tls-key", "", "the node certificate's key (mode 0600)")
	f.StringVar(&tlsFiles.CA, "tls-ca", "", "trust directory: root.crt, root.crl, ca/<region>.crt and .crl")
	f.BoolVar(&cfg.InsecureInternal, "insecure-internal", false, "allow plaintext node-to-node connections on a non-loopback internal listener or tunnel (warns at every start)")
	f.StringVar(&join, "join", "", "API URL of a running node of the region to join through")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.BoolVar(&logJSON, "log-json", false, "log JSON lines instead of text")
	return c
}

// fileConfig is node.Config as YAML; peers are a list of {id, addr}.
func loadConfig(path string) (node.Config, error) {
	cfg := node.DefaultConfig()
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err != io.EOF {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if cfg.TopologyFile != "" {
		top, err := loadTopology(cfg.TopologyFile)
		if err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
		cfg.Topology = top
	}
	return cfg, nil
}

// loadTopology reads a tunnel topology file (see tunnel.Topology).
func loadTopology(path string) (*tunnel.Topology, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	var top tunnel.Topology
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&top); err != nil && err != io.EOF {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	return &top, nil
}

// mergeFlags copies every flag the user set over the file's values.
func mergeFlags(cmd *cobra.Command, dst *node.Config, src node.Config) {
	set := func(name string) bool { return cmd.Flags().Changed(name) }
	if set("node-id") {
		dst.NodeID = src.NodeID
	}
	if set("region") {
		dst.Region = src.Region
	}
	if set("tier") {
		dst.Tier = src.Tier
	}
	if set("data-dir") {
		dst.DataDir = src.DataDir
	}
	if set("api-listen") {
		dst.APIListen = src.APIListen
	}
	if set("internal-listen") {
		dst.InternalListen = src.InternalListen
	}
	if set("advertise") {
		dst.Advertise = src.Advertise
	}
	if set("metrics-listen") {
		dst.MetricsListen = src.MetricsListen
	}
	if set("bootstrap") {
		dst.Bootstrap = src.Bootstrap
	}
	if set("admin-password-file") {
		dst.AdminPasswordFile = src.AdminPasswordFile
	}
	if set("token-ttl") {
		dst.TokenTTL = src.TokenTTL
	}
	if set("insecure-internal") {
		dst.InsecureInternal = src.InsecureInternal
	}
	mergeAPILimits(set, &dst.APILimits, src.APILimits) // apilimits.go
	if set("api-tls-cert") || set("api-tls-key") {
		if dst.APITLS == nil {
			dst.APITLS = &node.APITLS{}
		}
		if set("api-tls-cert") {
			dst.APITLS.Cert = src.APITLS.Cert
		}
		if set("api-tls-key") {
			dst.APITLS.Key = src.APITLS.Key
		}
	}
	if set("tls-cert") || set("tls-key") || set("tls-ca") {
		if dst.TLS == nil {
			dst.TLS = &node.TLSFiles{}
		}
		if set("tls-cert") {
			dst.TLS.Cert = src.TLS.Cert
		}
		if set("tls-key") {
			dst.TLS.Key = src.TLS.Key
		}
		if set("tls-ca") {
			dst.TLS.CA = src.TLS.CA
		}
	}
}

// errAdminPasswordFlag refuses --admin-password: a command line is
// readable by every user of the machine (/proc/<pid>/cmdline, ps).
var errAdminPasswordFlag = errors.New("--admin-password is not accepted: a command line is visible to every user of the machine (ps, /proc/<pid>/cmdline); put the password in a file readable only by this user and pass --admin-password-file, or set GRIDCRM_ADMIN_PASSWORD")

// readAdminPassword fills cfg.AdminPassword from admin_password_file (flag
// or YAML) or else GRIDCRM_ADMIN_PASSWORD, and notes where it came from so
// that node's validation names the right setting. A password file others
// may read is refused.
func readAdminPassword(cfg *node.Config) error {
	switch {
	case cfg.AdminPasswordFile != "":
		if cfg.AdminPassword != "" {
			return errors.New("admin_password and admin_password_file are both set: keep admin_password_file")
		}
		fi, err := os.Stat(cfg.AdminPasswordFile)
		if err != nil {
			return fmt.Errorf("admin_password_file: %w", err)
		}
		if fi.Mode().Perm()&0o007 != 0 {
			return fmt.Errorf("admin_password_file %s: other users may read it (mode %v): chmod o-rwx %s", cfg.AdminPasswordFile, fi.Mode().Perm(), cfg.AdminPasswordFile)
		}
		raw, err := os.ReadFile(cfg.AdminPasswordFile)
		if err != nil {
			return fmt.Errorf("admin_password_file: %w", err)
		}
		if cfg.AdminPassword = strings.TrimSpace(string(raw)); cfg.AdminPassword == "" {
			return fmt.Errorf("admin_password_file %s is empty", cfg.AdminPasswordFile)
		}
		cfg.AdminPasswordFrom = "admin_password_file " + cfg.AdminPasswordFile
	case cfg.AdminPassword != "":
		cfg.AdminPasswordFrom = "admin_password (in --config)"
	case os.Getenv("GRIDCRM_ADMIN_PASSWORD") != "":
		cfg.AdminPassword, cfg.AdminPasswordFrom = os.Getenv("GRIDCRM_ADMIN_PASSWORD"), "GRIDCRM_ADMIN_PASSWORD"
	}
	return nil
}

func parsePeers(s string) ([]replication.Peer, error) {
	var out []replication.Peer
	for _, p := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("--peers: %q is not id=host:port", p)
		}
		out = append(out, replication.Peer{ID: id, Addr: addr})
	}
	return out, nil
}

// newLogger sets the process's log level (ops.Level, changeable later
// through PUT /api/v1/ops/log-level) and answers a logger on w.
func newLogger(level string, asJSON bool, w io.Writer) *slog.Logger {
	l, err := ops.ParseLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	ops.Level.Set(l)
	return ops.NewLogger(w, asJSON)
}

func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
	signal.Stop(ch)
}

// joinRegion logs in at a running node and asks it to add this node.
func joinRegion(base, id, addr string) error {
	user, pw := os.Getenv("GRIDCRM_JOIN_USER"), os.Getenv("GRIDCRM_JOIN_PASSWORD")
	if user == "" || pw == "" {
		return fmt.Errorf("--join needs GRIDCRM_JOIN_USER and GRIDCRM_JOIN_PASSWORD (an admin of the region)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var tok struct{ Token string }
	if err := postJSON(ctx, base+"/api/v1/auth/login", "", map[string]string{"username": user, "password": pw}, &tok); err != nil {
		return fmt.Errorf("join: login at %s: %w", base, err)
	}
	if err := postJSON(ctx, base+"/api/v1/cluster/nodes", tok.Token, map[string]string{"id": id, "addr": addr}, nil); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	return nil
}

func postJSON(ctx context.Context, url, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
