package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/ops"
)

// OpsBackend is what the operations endpoints need from the node besides
// Backend. A backend without it answers 500 on those routes.
type OpsBackend interface {
	// Backup writes a consistent snapshot of the node's state keyspace to
	// w in the checksummed state format (replication.WriteState) and
	// answers the number of key/value pairs. Called on the request's
	// goroutine; w is the response body.
	Backup(w io.Writer) (uint64, error)
	// Regions lists every region the node holds data of: its own and, at
	// an upper tier, the replicas of its subtree.
	Regions() []RegionStatus
}

// RegionStatus is one region as GET /api/v1/ops/regions shows it.
type RegionStatus struct {
	Region              string   `json:"region"`
	Leader              string   `json:"leader"`                          // node id of the leader that wrote its newest heartbeat ("" if unknown)
	Term                uint64   `json:"term"`                            // that leader's raft term
	Mode                string   `json:"mode"`                            // management mode set by its parent; "autonomous" when never set
	Epoch               uint64   `json:"epoch"`                           // the setting's epoch; 0 when never set
	Writer              string   `json:"writer"`                          // the region writing its records now; "" during a handover
	PendingCommands     int      `json:"pending_commands"`                // writes forwarded to it awaiting their outcome
	OpenConflicts       int      `json:"open_conflicts"`                  // its old-epoch writes kept as conflicts here
	HeartbeatAgeSeconds *float64 `json:"heartbeat_age_seconds,omitempty"` // age of its newest heartbeat held here
}

func (s *Server) opsRoutes(v1 *gin.RouterGroup) {
	v1.GET("/ops/backup", allow(adminOnly...), s.backup)
	v1.GET("/ops/regions", allow(readRoles...), s.regions)
	v1.GET("/ops/log-level", allow(adminOnly...), s.logLevel)
	v1.PUT("/ops/log-level", allow(adminOnly...), s.setLogLevel)
}

func (s *Server) opsBackend(c *gin.Context) (OpsBackend, bool) {
	ob, ok := s.b.(OpsBackend)
	if !ok {
		fail(c, apiErr(codeInternal, "", "this node does not offer operations endpoints"))
	}
	return ob, ok
}

// backup streams the snapshot. Once the first byte is out the status is
// sent: a failure later leaves a truncated stream, which restore refuses
// (the trailer and CRC-32C are missing).
func (s *Server) backup(c *gin.Context) {
	ob, ok := s.opsBackend(c)
	if !ok {
		return
	}
	name := fmt.Sprintf("gridcrm-%s-%s-%s.snap", s.cfg.Region, s.cfg.NodeID, time.Now().UTC().Format("20060102T150405Z"))
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}) // a backup takes what its size takes
	c.Header("Content-Type", "application/octet-stream")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Status(200)
	n, err := ob.Backup(c.Writer)
	if err != nil {
		s.cfg.Logger.Error("api: backup failed midway; the client holds a truncated stream", "err", err, "pairs", n)
		return
	}
	s.cfg.Logger.Info("api: backup", "pairs", n, "user", who(c).User.Username)
}

func (s *Server) regions(c *gin.Context) {
	ob, ok := s.opsBackend(c)
	if !ok {
		return
	}
	rs := ob.Regions()
	if rs == nil {
		rs = []RegionStatus{}
	}
	c.JSON(200, gin.H{"region": s.cfg.Region, "node": s.cfg.NodeID, "regions": rs})
}

type logLevelBody struct {
	Level string `json:"level"`
}

func (s *Server) logLevel(c *gin.Context) {
	c.JSON(200, logLevelBody{Level: levelName(ops.Level.Level())})
}

func (s *Server) setLogLevel(c *gin.Context) {
	body, err := readBody(c, 4<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req logLevelBody
	if e := crm.DecodeStrict(body, &req); e != nil {
		fail(c, e)
		return
	}
	l, err := ops.ParseLevel(req.Level)
	if err != nil || req.Level == "" {
		fail(c, apiErr(crm.CodeInvalid, "level", "must be debug, info, warn or error"))
		return
	}
	old := ops.Level.Level()
	ops.Level.Set(l)
	s.cfg.Logger.Warn("api: log level changed", "from", levelName(old), "to", levelName(l), "user", who(c).User.Username)
	c.JSON(200, logLevelBody{Level: levelName(l)})
}

func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		return map[slog.Level]string{slog.LevelDebug: "debug", slog.LevelInfo: "info", slog.LevelWarn: "warn", slog.LevelError: "error"}[l]
	}
	return l.String()
}
