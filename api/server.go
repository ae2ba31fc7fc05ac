package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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
	Logger    *slog.Logger
}

// Server is the gin engine with its routes.
type Server struct {
	cfg     Config
	b       Backend
	engine  *gin.Engine
	metrics *httpMetrics
	key     atomic.Pointer[[]byte]
}

// New builds the routes. reg receives the API's metrics and serves /metrics.
func New(cfg Config, b Backend, reg *ops.Registry) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxImport <= 0 {
		cfg.MaxImport = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, b: b, engine: gin.New(), metrics: newHTTPMetrics(cfg.Region, cfg.NodeID)}
	reg.MustRegister(s.metrics)
	s.engine.ContextWithFallback = true
	s.engine.HandleMethodNotAllowed = true
	s.engine.Use(s.observe, gin.CustomRecovery(func(c *gin.Context, err any) {
		cfg.Logger.Error("api: panic", "route", c.FullPath(), "err", err)
		fail(c, apiErr(codeInternal, "", "internal error"))
	}))
	s.engine.NoRoute(func(c *gin.Context) {
		fail(c, apiErr(codeUnknownRoute, "", "no route "+c.Request.Method+" "+c.Request.URL.Path+"; see /api/v1/openapi.json"))
	})
	s.engine.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: apiErr("method_not_allowed", "", "method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path)})
	})
	s.routes(reg)
	return s
}

// Handler is the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler { return s.engine }

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
	e.GET("/readyz", gin.WrapF(ops.Readyz(s.b.Ready)))
	e.POST("/api/v1/auth/login", s.login)

	authed := e.Group("", s.authenticate)
	authed.GET("/metrics", allow(readRoles...), gin.WrapH(reg.Handler()))
	v1 := authed.Group("/api/v1")
	v1.GET("/openapi.json", allow(readRoles...), s.openapi)
	v1.GET("/auth/me", allow(readRoles...), s.me)
	v1.GET("/cluster", allow(readRoles...), s.cluster)
	v1.POST("/cluster/nodes", allow(adminOnly...), s.join)
	v1.DELETE("/cluster/nodes/:id", allow(adminOnly...), s.leave)
	for _, coll := range crm.Collections() {
		kind := crm.Kinds[coll]
		read, write := allow(rolesToRead(coll)...), allow(writeRolesOf[coll]...)
		v1.GET("/"+coll, read, s.list(kind))
		v1.GET("/"+coll+"/:id", read, s.get(kind))
		v1.PATCH("/"+coll+"/:id", write, s.update(kind))
		v1.DELETE("/"+coll+"/:id", write, s.remove(kind))
		if coll == "users" {
			v1.POST("/users", write, s.createUser)
			continue
		}
		v1.POST("/"+coll, write, s.create(kind))
		v1.PUT("/"+coll+"/:id", write, s.replace(kind))
		v1.POST("/"+coll+"/import", write, s.importRows(kind))
	}
}

// readBody reads the request body up to limit bytes.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
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
		fail(c, err)
		return
	}
	c.JSON(200, s.b.Cluster())
}

func (s *Server) leave(c *gin.Context) {
	if err := s.b.RemoveServer(c.Request.Context(), c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, s.b.Cluster())
}
