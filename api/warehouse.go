package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/warehouse"
)

// Export for the data warehouse: GET /api/v1/export/{collection}
// ?region=&scope=&format=parquet|csv[&from=&to=] streams every record of a
// collection in a region (scope=subtree: and below it) as Parquet or CSV
// rows (package warehouse: a typed schema per collection, the owner region
// and version among the columns), for an engine such as DuckDB, ClickHouse
// or Spark to load.
//
// It is a read like the collection's list: the roles that may list the
// collection (users: admins), the caller's region and its subtree only
// (scopeOf; without region and scope, a user whose region lies below the
// node's exports that region's subtree), linearizable by default for its
// first page. Each request is audited as the Excel export and the backup
// are (audit.go: auditedRoute).
//
// It streams: the records are read from the store a page (crm.MaxLimit)
// at a time, by the owner index, each page written out before the next is
// read (Parquet: in row groups of at most warehouse.RowGroupRows rows), so
// a node holds about one page and one row group of an export whatever its
// size; the write deadline is renewed for each page, so a client that
// stops reading for the server's WriteTimeout ends its export. The pages
// are not one snapshot: a record changed during an export is read as it is
// when its page is read.
//
// A complete export ends with the HTTP trailer X-Export-Rows (the rows
// written); an export that fails once its rows have started (a read error)
// ends without it — and a Parquet file without its footer — and is audited
// as failed. `gridcrm export` checks both.

// warehouseParams are the query parameters of the export.
var warehouseParams = []string{"region", "scope", "format", "from", "to", "consistency"}

// warehouseSlots bounds the warehouse exports a node streams at once; one
// more waits up to exportWait, then answers 429 with Retry-After.
var warehouseSlots = make(chan struct{}, 2)

func (s *Server) warehouseRoutes(v1 *gin.RouterGroup) {
	v1.GET("/export/:collection", allow(readRoles...), s.warehouseExport)
}

func warehouseOps() []op {
	return []op{{method: "GET", path: "/api/v1/export/{collection}", summary: "Every record of a collection in a region (scope=subtree: and below it), streamed for a data warehouse as " +
		"Parquet (format=parquet, the default: zstd, row groups of at most " + strconv.Itoa(warehouse.RowGroupRows) + " rows) or CSV (format=csv: RFC 4180, UTF-8, a header row). " +
		"Columns: the records' fields under their JSON names, typed (int64, double, boolean, string, timestamp UTC µs, date, JSON text for nested values), first id, owner, version, created_at, updated_at, created_by, updated_by. " +
		"from and to (YYYY-MM-DD in China time, or RFC 3339) keep the records updated in [from, to). The collection's read roles and the caller's region scope apply; " +
		"a complete export ends with the trailer X-Export-Rows",
		ok: 200, roles: readRoles, query: []string{"region", "scope", "format", "from", "to", "consistency"},
		ctype: "application/vnd.apache.parquet", out: map[string]any{"type": "string", "format": "binary"}}}
}

// parseWhen reads from or to: a day (YYYY-MM-DD, its start in China time)
// or an RFC 3339 time.
func parseWhen(field, v string) (time.Time, *crm.Error) {
	if t, err := time.ParseInLocation(time.DateOnly, v, workday.CST); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, apiErr(crm.CodeInvalid, field, fmt.Sprintf("%q is neither a day (YYYY-MM-DD) nor an RFC 3339 time", v))
}

// warehouseExport is GET /api/v1/export/{collection}.
func (s *Server) warehouseExport(c *gin.Context) {
	coll := c.Param("collection")
	schema, err := warehouse.For(coll)
	if err != nil {
		fail(c, apiErr(crm.CodeInvalid, "collection", err.Error()))
		return
	}
	u := who(c).User
	if roles := rolesToRead(coll); !slices.Contains(roles, u.Role) {
		fail(c, apiErr(codeForbidden, "collection", fmt.Sprintf("role %q may not read %s; allowed: %s", u.Role, coll, strings.Join(roles, ", "))))
		return
	}
	q := c.Request.URL.Query()
	for k, v := range q {
		if !slices.Contains(warehouseParams, k) {
			fail(c, apiErr(crm.CodeInvalid, k, fmt.Sprintf("is no parameter of the export; parameters: %s", strings.Join(warehouseParams, ", "))))
			return
		}
		if len(v) != 1 {
			fail(c, apiErr(crm.CodeInvalid, k, "give it once"))
			return
		}
	}
	format := c.DefaultQuery("format", "parquet")
	if !slices.Contains(warehouse.Formats, format) {
		fail(c, apiErr(crm.CodeInvalid, "format", fmt.Sprintf("%q: must be one of %s", format, strings.Join(warehouse.Formats, ", "))))
		return
	}
	var opt warehouse.Options
	if v := q.Get("from"); v != "" {
		var e *crm.Error
		if opt.From, e = parseWhen("from", v); e != nil {
			fail(c, e)
			return
		}
	}
	if v := q.Get("to"); v != "" {
		var e *crm.Error
		if opt.To, e = parseWhen("to", v); e != nil {
			fail(c, e)
			return
		}
		if !opt.From.IsZero() && !opt.From.Before(opt.To) {
			fail(c, apiErr(crm.CodeInvalid, "to", fmt.Sprintf("%s is not after from %s", v, q.Get("from"))))
			return
		}
	}
	var (
		region  string
		subtree bool
	)
	if !q.Has("region") && !q.Has("scope") && len(u.Region) > len(s.cfg.Region) {
		region, subtree = u.Region, true
	} else {
		var ok bool
		if region, subtree, ok = s.scopeOf(c); !ok {
			return
		}
	}
	if !s.consistent(c) {
		return
	}
	select {
	case warehouseSlots <- struct{}{}:
		defer func() { <-warehouseSlots }()
	case <-c.Request.Context().Done():
		fail(c, apiErr(codeUnavailable, "", "the request ended while waiting for an export slot"))
		return
	case <-time.After(exportWait):
		c.Header("Retry-After", "10")
		fail(c, apiErr(codeThrottled, "", fmt.Sprintf("%d warehouse exports are streaming from this node: retry in 10 s", cap(warehouseSlots))))
		return
	}
	// The first page before the status: a read that fails now is an
	// ordinary error answer.
	query := crm.Query{Owner: region, Subtree: subtree, Limit: crm.MaxLimit}
	page, e := crm.List(s.b.Reader(), coll, query)
	if e != nil {
		fail(c, e)
		return
	}
	name := coll + "-" + region
	if subtree {
		name += "-subtree"
	}
	c.Header("Content-Type", warehouse.ContentType(format))
	c.Header("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	c.Header("Cache-Control", "no-store")
	c.Header("Trailer", "X-Export-Rows")
	c.Status(http.StatusOK)
	out := &countWriter{w: c.Writer}
	w, err := warehouse.NewWriter(out, schema, format, opt)
	if err != nil { // the format was checked
		panic(err)
	}
	rc := http.NewResponseController(c.Writer)
	// The request has no body: the read deadline (BodyTimeout) would end
	// an export that streams longer, as a client gone.
	_ = rc.SetReadDeadline(time.Time{})
	start := time.Now()
	broken := func(why string, err error) {
		noteOutcome(c, codeInternal) // audit.go: the export is audited as failed
		s.cfg.Logger.Error("api: warehouse export ended short", "collection", coll, "region", region, "rows", w.Rows(), "why", why, "err", err)
	}
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		for _, raw := range page.Items {
			if _, err := w.Write(raw); err != nil {
				broken("write", err)
				return
			}
		}
		if page.Next == "" {
			break
		}
		if err := c.Request.Context().Err(); err != nil {
			broken("client gone", err)
			return
		}
		query.After, page = page.Next, crm.Page{} // the page written is garbage before the next is read
		if page, e = crm.List(s.b.Reader(), coll, query); e != nil {
			broken("read", e)
			return
		}
	}
	if err := w.Close(); err != nil {
		broken("close", err)
		return
	}
	c.Writer.Header().Set("X-Export-Rows", strconv.FormatInt(w.Rows(), 10))
	s.cfg.Logger.Info("api: warehouse export", "collection", coll, "region", region, "subtree", subtree, "format", format,
		"rows", w.Rows(), "bytes", out.n, "seconds", time.Since(start).Seconds())
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
