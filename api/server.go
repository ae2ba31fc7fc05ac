package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/ops"
)

// Backend is what the API needs from the node. All methods are safe for
// concurrent use.
type Backend interface {
	// Propose commits cmd through the region's raft log (forwarding to the
	// leader as needed) and answers the domain's Result. An error means the
	// write's outcome is unknown or it was never proposed.
	Propose(ctx context.Context, cmd *crm.Command) (crm.Result, error)
	// ReadBarrier returns once the local replica reflects every write
	// committed before the call (linearizable reads).
	ReadBarrier(ctx context.Context) error
	// Reader reads the local replica as it is now.
	Reader() crm.Reader
	// Ready is nil when the node can serve: store open, leader known,
	// region initialised.
	Ready() error
	// Cluster describes the region's raft group as this node sees it.
	Cluster() ClusterInfo
	// SyncStatus lists this node's links: to its parent (up, down) and from
	// each child region it has heard from.
	SyncStatus() []LinkStatus
	// TunnelPeers describes the WireGuard peers of this node (nil without a tunnel).
	TunnelPeers() []TunnelPeer
	// Freshness says how current this node's copy of each region in scope is.
	Freshness(region string, subtree bool) map[string]Freshness
	// AddVoter and RemoveServer change the region's membership.
	AddVoter(ctx context.Context, id, addr string) error
	RemoveServer(ctx context.Context, id string) error
}

// ClusterInfo is the answer of GET /api/v1/cluster.
type ClusterInfo struct {
	Region     string   `json:"region"`
	Tier       string   `json:"tier"`
	Node       string   `json:"node"`
	State      string   `json:"state"`
	LeaderID   string   `json:"leader_id"`
	LeaderAddr string   `json:"leader_addr"`
	Applied    uint64   `json:"applied_index"`
	Members    []Member `json:"members"`
}

// LinkStatus is one link between tiers as GET /api/v1/sync/status shows it.
type LinkStatus struct {
	Peer        string    `json:"peer"`      // the region at the other end
	Direction   string    `json:"direction"` // "up" (to the parent), "down" (from the parent), "from-child"
	State       string    `json:"state"`     // "up", "down", "resyncing", "idle" (this node does not lead)
	Running     bool      `json:"running"`   // this node runs the link (up, down: the region's leader; from-child: every node); false: no figures here, ask the leader
	AckedSeq    uint64    `json:"acked_seq"` // the receiver's cursor on the sender's feed
	HeadSeq     uint64    `json:"head_seq"`  // the sender's feed head, as last known
	LagEntries  uint64    `json:"lag_entries"`
	LagSeconds  float64   `json:"lag_seconds"`  // how old the newest data the receiver holds from the sender is
	LastContact time.Time `json:"last_contact"` // last successful exchange
	Resyncs     uint64    `json:"resyncs"`
	LastError   string    `json:"last_error,omitempty"`
	// On a from-child link: the child's management mode and epoch as set
	// here, and the writes forwarded to it (partial management) still
	// waiting for their outcome.
	Mode           string `json:"mode,omitempty"`
	Epoch          uint64 `json:"epoch,omitempty"`
	QueuedCommands int    `json:"queued_commands"`
	// Rejected counts the link's batches and changes this node refused
	// since it started: before proposing them, or when applying them
	// (nothing of those was written); Rejections are the latest.
	Rejected   uint64          `json:"rejected"`
	Rejections []LinkRejection `json:"rejections,omitempty"`
}

// LinkRejection is one batch or change a node refused on a link.
type LinkRejection struct {
	Seq     uint64    `json:"seq"`           // the sender's feed sequence (0 for a resync item)
	Key     string    `json:"key,omitempty"` // the record; "" for a whole batch
	Reason  string    `json:"reason"`        // auth, link, range, invalid, owner, authority (link.Reason)
	Message string    `json:"message"`
	Stage   string    `json:"stage"` // proposal (refused before it was proposed) or apply (committed, rejected on apply)
	At      time.Time `json:"at"`
}

// TunnelPeer is one WireGuard peer of this node.
type TunnelPeer struct {
	PublicKey           string   `json:"public_key"`
	Addr                string   `json:"addr"`                       // the peer's overlay address
	Endpoint            string   `json:"endpoint"`                   // its UDP endpoint as last seen
	HandshakeAgeSeconds *float64 `json:"last_handshake_age_seconds"` // null before the first handshake
	RxBytes             int64    `json:"rx_bytes"`
	TxBytes             int64    `json:"tx_bytes"`
}

// Freshness is how current a node's copy of one region is.
type Freshness struct {
	AppliedSeq uint64   `json:"applied_seq"`           // the region's own feed sequence applied here
	AgeSeconds *float64 `json:"age_seconds,omitempty"` // age of the region's newest heartbeat held here (0 for the own region)
}

// Member is one voter of the region.
type Member struct {
	ID     string `json:"id"`
	Addr   string `json:"addr"`
	Leader bool   `json:"leader"`
}

// Config configures the API.
type Config struct {
	Region    string        // the node's region: the owner of what it writes
	Tier      string        // province, city or county
	NodeID    string        //
	TokenTTL  time.Duration // default 12h
	MaxBody   int64         // default 1 MiB for one record
	MaxImport int64         // default 32 MiB for an import
	// ForwardWait is how long a write forwarded to a child under partial
	// management waits for the child's outcome before answering 202 with
	// the pending command. Default 5s.
	ForwardWait time.Duration
	// MaxTokenLifetime refuses a token whose exp is further than this from
	// its iat, whatever it says. Default 24h, or TokenTTL if longer.
	MaxTokenLifetime time.Duration
	// Logins slows down and locks failed logins (users_login.go).
	Logins LoginPolicy
	// MaxImports is how many imports this node reads, checks and commits
	// at once; beyond, an import answers 429 too_many_imports with
	// Retry-After ImportRetryAfter. An import holds about its body's size
	// (at most MaxImport) while it runs, so the bound on their memory is
	// MaxImports × MaxImport plus the raft entry. Default 2.
	MaxImports       int
	ImportRetryAfter time.Duration // default 5s
	// BodyTimeout is how long a request's body may take to arrive, from
	// the moment its headers are read: a slower body (one byte every few
	// seconds) answers 408 request_timeout and its connection closes.
	// Default 30s.
	BodyTimeout time.Duration
	// ImportTimeout is BodyTimeout for an import, whose body may be
	// MaxImport bytes. Default 5m (32 MiB at about 1 Mbit/s).
	ImportTimeout time.Duration
	// WriteTimeout is how long an answer may take to be written, from the
	// moment the request's headers are read. The backup stream has none.
	// Default 2m.
	WriteTimeout time.Duration
	// ReadHeaderTimeout (default 10s) and IdleTimeout (default 2m) are
	// HTTPServer's.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxExportRows is the most rows an Excel export holds (export.go);
	// more answer 413. Default 100,000.
	MaxExportRows int
	// Warnings are shown by /readyz (e.g. a plaintext internal listener).
	Warnings []string
	Logger   *slog.Logger
}

// Server is the gin engine with its routes.
type Server struct {
	cfg       Config
	b         Backend
	engine    *gin.Engine
	metrics   *httpMetrics
	key       atomic.Pointer[signingKeys] // the token key ring as last read (tokenkeys.go)
	throttle  *throttle                   // failed logins per address, one login per name at a time (users_login.go)
	auth      *authCache                  // decoded users and sessions of recent requests (users_cache.go)
	imports   chan struct{}               // one token per import running (records.go); cap MaxImports
	auditQ    auditQueue                  // audit events waiting to be proposed (audit.go)
	anonAudit anonLimiter                 // anonymous requests' audit events per source and minute (audit.go)
	auditM    *auditMetrics               // the audit chains as last verified here (audit.go)
}

// New builds the routes. reg receives the API's metrics and serves /metrics.
func New(cfg Config, b Backend, reg *ops.Registry) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.ForwardWait <= 0 {
		cfg.ForwardWait = 5 * time.Second
	}
	if cfg.MaxImport <= 0 {
		cfg.MaxImport = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxTokenLifetime <= 0 {
		cfg.MaxTokenLifetime = max(24*time.Hour, cfg.TokenTTL)
	}
	if cfg.MaxImports <= 0 {
		cfg.MaxImports = 2
	}
	if cfg.ImportRetryAfter < time.Second {
		cfg.ImportRetryAfter = 5 * time.Second
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.ImportTimeout <= 0 {
		cfg.ImportTimeout = 5 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 2 * time.Minute
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.MaxExportRows <= 0 {
		cfg.MaxExportRows = defaultMaxExportRows
	}
	cfg.Logins = cfg.Logins.withDefaults()
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, b: b, engine: gin.New(), metrics: newHTTPMetrics(cfg.Region, cfg.NodeID), throttle: newThrottle(), auth: newAuthCache(),
		imports: make(chan struct{}, cfg.MaxImports)}
	reg.MustRegister(s.metrics)
	s.engine.ContextWithFallback = true
	s.engine.HandleMethodNotAllowed = true
	s.engine.Use(s.deadlines, s.observe, gin.CustomRecovery(func(c *gin.Context, err any) {
		cfg.Logger.Error("api: panic", "route", c.FullPath(), "err", err)
		fail(c, apiErr(codeInternal, "", "internal error"))
	}), unencodable, s.auditWrites) // audit.go: every write leaves an audit entry
	s.engine.NoRoute(func(c *gin.Context) {
		fail(c, apiErr(codeUnknownRoute, "", "no route "+c.Request.Method+" "+c.Request.URL.Path+"; see /api/v1/openapi.json"))
	})
	s.engine.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: apiErr("method_not_allowed", "", "method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path+generatedHint(c.Request.URL.Path))})
	})
	s.routes(reg)
	return s
}

// Handler is the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler { return s.engine }

// HTTPServer is an http.Server for Handler with the API's timeouts:
// headers within ReadHeaderTimeout, each body within BodyTimeout
// (ImportTimeout for an import; set per request by deadlines), answers
// within WriteTimeout, idle connections closed after IdleTimeout.
// ReadTimeout is the longest body deadline, a backstop for a request no
// route sets one for. The caller sets TLSConfig and serves.
func (s *Server) HTTPServer() *http.Server {
	header := s.cfg.ReadHeaderTimeout
	return &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: header,
		ReadTimeout:       header + max(s.cfg.BodyTimeout, s.cfg.ImportTimeout),
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug), // TLS handshake failures of scanners
	}
}

// deadlines gives every request BodyTimeout to send its body and
// WriteTimeout to be answered, counted from now (its headers are read). A
// handler may extend either (setReadDeadline; the backup clears the write
// deadline). A writer without deadlines (httptest) is served without.
func (s *Server) deadlines(c *gin.Context) {
	setReadDeadline(c, s.cfg.BodyTimeout)
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	c.Next()
}

// closeAfter closes the connection after the answer to a request whose
// body was not read to its end: net/http would otherwise read what is
// left (up to 256 KiB, or until the body deadline) before answering.
func closeAfter(c *gin.Context) { c.Header("Connection", "close") }

// setReadDeadline lets the request's body arrive for d from now.
func setReadDeadline(c *gin.Context, d time.Duration) {
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(d))
}

// Routes lists the served routes as "METHOD /path" (gin's :param syntax).
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (s *Server) routes(reg *ops.Registry) {
	e := s.engine
	e.GET("/healthz", gin.WrapF(ops.Healthz))
	e.GET("/readyz", gin.WrapF(ops.Readyz(s.b.Ready, s.cfg.Warnings...)))
	e.POST("/api/v1/auth/login", s.login)
	e.GET("/api/v1/auth/session", sessionProbe, s.authenticate, allow(selfRoles...), s.session) // session_cookie.go

	authed := e.Group("", s.authenticate)
	authed.GET("/metrics", allow(readRoles...), gin.WrapH(reg.Handler()))
	v1 := authed.Group("/api/v1")
	v1.GET("/openapi.json", allow(selfRoles...), s.openapi)
	v1.GET("/auth/me", allow(selfRoles...), s.me)
	v1.GET("/cluster", allow(readRoles...), s.cluster)
	v1.GET("/sync/status", allow(readRoles...), s.syncStatus)
	v1.GET("/stats/summary", allow(readRoles...), s.summary)
	v1.POST("/cluster/nodes", allow(adminOnly...), s.join)
	v1.GET("/regions", allow(readRoles...), s.listRegions)
	v1.GET("/regions/:code", allow(readRoles...), s.getRegion)
	v1.PUT("/regions/:code/management", allow(adminOnly...), s.putManagement)
	v1.GET("/conflicts", allow(readRoles...), s.listConflicts)
	v1.GET("/commands", allow(readRoles...), s.listCommands)
	v1.GET("/commands/:id", allow(readRoles...), s.getCommand)
	v1.POST("/conflicts/resolve", allow(adminOnly...), s.resolveConflict)
	v1.DELETE("/cluster/nodes/:id", allow(adminOnly...), s.leave)
	s.opsRoutes(v1)       // ops.go: backup, regions, log level
	s.accountRoutes(v1)   // users.go: logout, own password, sessions, unlock
	s.tokenKeyRoutes(v1)  // tokenkeys.go: list and rotate the token signing keys
	s.duplicateRoutes(v1) // accounts.go: duplicate 户号 across regions
	s.searchRoutes(v1)    // search.go: customer text search
	for _, coll := range crm.Collections() {
		kind := crm.Kinds[coll]
		read, write := allow(rolesToRead(coll)...), allow(writeRolesOf[coll]...)
		v1.GET("/"+coll, read, s.list(kind))
		v1.GET("/"+coll+"/:id", read, s.get(kind))
		v1.DELETE("/"+coll+"/:id", write, s.remove(kind))
		if !crudWritable(coll) {
			continue // bulletin_guard.go: written only by their generating route
		}
		v1.PATCH("/"+coll+"/:id", write, s.update(kind))
		if coll == "users" {
			v1.POST("/users", write, s.createUser)
			continue
		}
		v1.POST("/"+coll, write, s.create(kind))
		v1.PUT("/"+coll+"/:id", write, s.replace(kind))
		v1.POST("/"+coll+"/import", write, s.importRows(kind))
	}
	s.processRoutes(v1)     // process.go
	s.bigCustomerRoutes(v1) // bigcustomer.go
	s.consoleRoutes(e, v1)  // console.go: the web console and its overview figures
	s.managementRoutes(v1)  // console_manage.go: the console's management page
	s.analyticsRoutes(v1)   // analytics.go: forecasts, credit grades, warnings
	s.auditRoutes(v1, reg)  // audit.go: the audit trail, its export and verification
	s.exportRoutes(v1)      // export.go: any list as an Excel workbook
	s.warehouseRoutes(v1)   // warehouse.go: a collection as Parquet or CSV for a data warehouse
}

// readBody reads a JSON request body up to limit bytes and applies the
// input rules (input.go): a body that is not empty must say it is JSON
// (415) and meet checkInput (400 naming the field). An empty body is
// answered as it is, for the handler to refuse or accept.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	checked := c.Request.ContentLength > 0
	if checked {
		if e := checkJSONType(c); e != nil {
			closeAfter(c)
			return nil, e
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		closeAfter(c)
		return nil, err
	}
	if len(body) == 0 {
		return body, nil
	}
	if !checked {
		if e := checkJSONType(c); e != nil {
			return nil, e
		}
	}
	if e := checkInput(body, ""); e != nil {
		return nil, e
	}
	return body, nil
}

// consistent applies the read consistency the request asks for:
// linearizable by default, ?consistency=stale reads the local replica.
func (s *Server) consistent(c *gin.Context) bool {
	switch strings.ToLower(c.Query("consistency")) {
	case "", "linearizable", "strong":
		if c.GetBool(barrierKey) {
			return true // authenticate passed the barrier for this request
		}
		if err := s.b.ReadBarrier(c.Request.Context()); err != nil {
			fail(c, err)
			return false
		}
	case "stale":
	default:
		fail(c, apiErr(crm.CodeInvalid, "consistency", "must be linearizable (the default) or stale"))
		return false
	}
	return true
}

func (s *Server) me(c *gin.Context) {
	c.Data(200, "application/json", crm.Kinds["users"].Public(mustJSON(who(c).User)))
}

func (s *Server) cluster(c *gin.Context) { c.JSON(200, s.b.Cluster()) }

type joinRequest struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

func (s *Server) join(c *gin.Context) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req joinRequest
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return
	}
	if req.ID == "" {
		fail(c, apiErr(crm.CodeInvalid, "id", "is required: the joining node's node_id"))
		return
	}
	if req.Addr == "" || !strings.Contains(req.Addr, ":") {
		fail(c, apiErr(crm.CodeInvalid, "addr", "is required: the joining node's internal address host:port"))
		return
	}
	if err := s.b.AddVoter(c.Request.Context(), req.ID, req.Addr); err != nil {
		fail(c, joinError(req.ID, req.Addr, err))
		return
	}
	c.JSON(200, s.b.Cluster())
}

// leave removes a member of the region's raft group; a node that is not a
// member answers 404 naming it (raft itself would accept and do nothing).
func (s *Server) leave(c *gin.Context) {
	id := c.Param("id")
	if !slices.ContainsFunc(s.b.Cluster().Members, func(m Member) bool { return m.ID == id }) {
		fail(c, apiErr(crm.CodeNotFound, "id", fmt.Sprintf("node %q is not a member of region %s's raft group (GET /api/v1/cluster lists them)", id, s.cfg.Region)))
		return
	}
	if err := s.b.RemoveServer(c.Request.Context(), id); err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, s.b.Cluster())
}

func (s *Server) syncStatus(c *gin.Context) {
	links := s.b.SyncStatus()
	if links == nil {
		links = []LinkStatus{}
	}
	peers := s.b.TunnelPeers()
	if peers == nil {
		peers = []TunnelPeer{}
	}
	c.JSON(200, gin.H{"region": s.cfg.Region, "node": s.cfg.NodeID, "links": links, "tunnel_peers": peers})
}

// scopeOf reads ?region= and ?scope= (region or subtree) and checks that
// the caller may read there: their own region and its subtree.
func (s *Server) scopeOf(c *gin.Context) (region string, subtree bool, ok bool) {
	region = c.DefaultQuery("region", s.cfg.Region)
	switch c.DefaultQuery("scope", "region") {
	case "region":
	case "subtree":
		subtree = true
	default:
		fail(c, apiErr(crm.CodeInvalid, "scope", "must be region or subtree"))
		return "", false, false
	}
	if !crm.ValidRegion(region) {
		fail(c, apiErr(crm.CodeInvalid, "region", fmt.Sprintf("%q is not a GB/T 2260 region code", region)))
		return "", false, false
	}
	if u := who(c).User; !crm.InRegion(region, u.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "region", Owner: region,
			Message: fmt.Sprintf("user %s of region %s may read region %s and its subtree only, not %s", u.Username, u.Region, u.Region, region)})
		return "", false, false
	}
	if !crm.InRegion(region, s.cfg.Region) {
		fail(c, &crm.Error{Code: crm.CodeWrongOwner, Field: "region", Owner: region,
			Message: fmt.Sprintf("this node serves region %s and its subtree; region %s is read at its own tier or above", s.cfg.Region, region)})
		return "", false, false
	}
	return region, subtree, true
}

func (s *Server) summary(c *gin.Context) {
	region, subtree, ok := s.scopeOf(c)
	if !ok || !s.consistent(c) {
		return
	}
	sum, err := crm.Summarize(s.b.Reader(), region, subtree)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{"region": sum.Region, "scope": sum.Scope, "customers": sum.Customers,
		"customers_by_category": sum.ByCategory, "customers_by_voltage_class": sum.ByVoltageClass,
		"customers_by_status": sum.ByStatus, "kwh_by_month": sum.KWhByMonth, "billed_by_month": sum.BilledByMonth,
		"arrears": sum.Arrears, "regions": sum.Regions, "freshness": s.b.Freshness(region, subtree)})
}
