package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
	"gridcrm/ops"
)

// The audit trail as the API takes part in it (crm/audit.go holds the
// entries, the chain and their rules):
//
//   - every write route (any method but GET, and the backup and the audit
//     export, which read what an operator must account for) is wrapped by
//     auditWrites. A Command the route commits carries the request's
//     context (commit sets Command.Audit), and Apply writes its entry in
//     the same batch — whether it applies or is refused there;
//   - what the route answers without such an entry (refused before
//     proposing: input, role, region; a membership change; a commit that
//     failed in raft) and every login (logLogin) become AuditEvents,
//     proposed in batches as OpAudit commands by one goroutine at a time.
//     An event that cannot be committed after retries is counted in
//     gridcrm_audit_events_dropped_total and logged;
//   - GET /api/v1/audit and /audit/export read entries of the node's
//     subtree from the indexes; GET /api/v1/audit/verify checks the chains
//     and sets gridcrm_audit_chain_ok, which a scrape also refreshes when
//     the last check is older than auditVerifyEvery.

// auditRoles may read, export and verify the audit trail (of their own
// region's subtree: auditQuery, verifyAudit): admins and auditors, who may
// do nothing that writes.
var auditRoles = []string{crm.RoleAdmin, crm.RoleAuditor}

// auditReqKey holds the request's *auditReq in the gin context.
const auditReqKey = "gridcrm.audit"

// auditReq is what a request's handlers tell auditWrites.
type auditReq struct {
	applied bool   // Apply wrote the request's entry (commit)
	outcome string // the error code the request was answered with (fail)
}

// auditedRoute reports whether a request to route by method is audited by
// auditWrites. Logins are audited by logLogin, with the name tried.
func auditedRoute(method, route string) bool {
	switch {
	case !strings.HasPrefix(route, "/api/v1/"), route == "/api/v1/auth/login":
		return false
	case method == http.MethodGet:
		return route == "/api/v1/ops/backup" || route == "/api/v1/audit/export" || route == "/api/v1/export.xlsx" || route == "/api/v1/export/:collection" // bulk reads
	}
	return method != http.MethodHead && method != http.MethodOptions
}

// auditHooks is false only in the benchmark that measures what the audit
// trail costs (BenchmarkAPI with GRIDCRM_BENCH_AUDIT=off): nothing else
// turns the trail off.
var auditHooks = true

// auditWrites audits the write routes: see the top of this file.
func (s *Server) auditWrites(c *gin.Context) {
	if !auditHooks || !auditedRoute(c.Request.Method, c.FullPath()) {
		c.Next()
		return
	}
	a := &auditReq{}
	c.Set(auditReqKey, a)
	c.Next()
	if a.applied {
		return
	}
	ev := crm.AuditEvent{AuditContext: s.auditContext(c), At: time.Now().UTC(), Outcome: a.outcome}
	if p := who(c); p != nil {
		ev.User = p.User.Username
	} else if !s.anonAudit.allow(c.RemoteIP(), s.cfg.Logger) {
		s.auditQ.suppressed.Add(1)
		return
	}
	if ev.Outcome == "" {
		if st := c.Writer.Status(); st < 400 {
			ev.Outcome = crm.AuditOK
		} else {
			ev.Outcome = "http_" + strconv.Itoa(st)
		}
	}
	ev.Collection, ev.Record = routeCollection(c.FullPath()), c.Param("id")
	if coll := c.Param("collection"); ev.Collection == "" && crm.Kinds[coll] != nil {
		ev.Collection = coll // warehouse.go: the collection exported
	}
	s.enqueueAudit(ev)
}

// routeCollection is the collection a route writes, "" for none:
// /api/v1/<collection>[/…] of a known collection.
func routeCollection(route string) string {
	rest, _ := strings.CutPrefix(route, "/api/v1/")
	coll, _, _ := strings.Cut(rest, "/")
	if crm.Kinds[coll] != nil {
		return coll
	}
	return ""
}

// auditContext is the request's context for its Command or event.
func (s *Server) auditContext(c *gin.Context) crm.AuditContext {
	a := crm.AuditContext{Route: c.Request.Method + " " + c.FullPath(), Source: c.RemoteIP(), Node: s.cfg.NodeID}
	if p := who(c); p != nil {
		a.Role, a.UserRegion = p.User.Role, p.User.Region
	}
	return a
}

// auditCommand puts the request's context into cmd before commit proposes
// it, when the request is audited.
func (s *Server) auditCommand(c *gin.Context, cmd *crm.Command) {
	if _, ok := c.Get(auditReqKey); ok {
		a := s.auditContext(c)
		cmd.Audit = &a
	}
}

// auditCommitted notes that Apply wrote the entry of the request's Command
// (res.Audit), so that auditWrites adds none.
func auditCommitted(c *gin.Context, res crm.Result) {
	if v, ok := c.Get(auditReqKey); ok && res.Audit > 0 {
		v.(*auditReq).applied = true
	}
}

// noteOutcome keeps the error code a request is answered with (fail).
func noteOutcome(c *gin.Context, code string) {
	if v, ok := c.Get(auditReqKey); ok {
		v.(*auditReq).outcome = code
	}
}

// auditLogin audits one login: the name tried, from src, and its outcome.
func (s *Server) auditLogin(name, src, outcome string) {
	if outcome == loginSuccess {
		outcome = crm.AuditOK
	} else if !s.anonAudit.allow(src, s.cfg.Logger) {
		s.auditQ.suppressed.Add(1)
		return
	}
	s.enqueueAudit(crm.AuditEvent{AuditContext: crm.AuditContext{Route: "POST /api/v1/auth/login", Source: src, Node: s.cfg.NodeID},
		At: time.Now().UTC(), User: name, Outcome: outcome})
}

// auditQueue holds the events waiting to be proposed.
type auditQueue struct {
	mu         sync.Mutex
	pending    []crm.AuditEvent // guarded by mu
	running    bool             // guarded by mu: a flusher goroutine is proposing
	dropped    atomic.Uint64    // events given up on
	suppressed atomic.Uint64    // events of anonymous requests over anonLimiter's bound
}

// anonAuditPerMinute bounds the audit entries of requests no user was
// authenticated for (refused with 401 or 403 before any login, failed
// logins) per source address and minute. Each entry is permanent, held at
// every tier above (nothing deletes them), so without a bound a client
// with no credentials could grow every tier's trail at its request rate.
// Past the bound a source's events are counted
// (gridcrm_audit_events_suppressed_total) and logged once a minute with
// their number, not recorded one by one: the trail still shows who tried
// from where and when, and the log how often.
const anonAuditPerMinute = 60

// anonAuditSources bounds the sources counted in one minute: past it, a
// new source's events are suppressed too (a flood from many addresses).
const anonAuditSources = 65536

// anonAuditTotalPerMinute bounds a node's anonymous audit entries in one
// minute over all sources: a flood from many addresses, each under its own
// bound, would otherwise still record up to anonAuditSources ×
// anonAuditPerMinute (3.9 million) entries a minute. Twenty a second is
// far above what expired sessions and mistyped passwords make at a
// province.
const anonAuditTotalPerMinute = 1200

// anonLimiter counts anonymous audit events per source in the current
// minute.
type anonLimiter struct {
	mu     sync.Mutex
	minute int64          // guarded by mu: Unix minute counted
	counts map[string]int // guarded by mu: events per source this minute
	total  int            // guarded by mu: events this minute, all sources
}

// allow answers whether an anonymous event from src may be recorded, and
// counts it; on a new minute it logs the sources suppressed in the last.
func (l *anonLimiter) allow(src string, log *slog.Logger) bool {
	now := time.Now().Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	if now != l.minute || l.counts == nil {
		for s, n := range l.counts {
			if n > anonAuditPerMinute && log != nil {
				log.Warn("api: audit: refused anonymous requests not recorded one by one", "source", s, "recorded", anonAuditPerMinute, "not_recorded", n-anonAuditPerMinute, "minute", time.Unix(l.minute*60, 0).UTC())
			}
		}
		if l.total > anonAuditTotalPerMinute && log != nil {
			log.Warn("api: audit: anonymous requests past the node's bound not recorded one by one", "recorded", anonAuditTotalPerMinute, "not_recorded", l.total-anonAuditTotalPerMinute, "minute", time.Unix(l.minute*60, 0).UTC())
		}
		l.minute, l.counts, l.total = now, map[string]int{}, 0
	}
	l.total++
	n, known := l.counts[src]
	if !known && len(l.counts) >= anonAuditSources {
		return false
	}
	l.counts[src] = n + 1
	return n < anonAuditPerMinute && l.total <= anonAuditTotalPerMinute
}

// auditQueueMax bounds the events waiting; beyond, new ones are dropped
// (and counted): a flood of refused requests must not grow memory.
const auditQueueMax = 100_000

// enqueueAudit queues ev and starts the flusher if none runs.
func (s *Server) enqueueAudit(ev crm.AuditEvent) {
	q := &s.auditQ
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= auditQueueMax {
		q.dropped.Add(1)
		return
	}
	q.pending = append(q.pending, ev)
	if !q.running {
		q.running = true
		go s.flushAudit()
	}
}

// flushAudit proposes the queued events, up to crm.MaxAuditEvents a
// command, until none is left. Events that arrive while a command is in
// raft go into the next one.
func (s *Server) flushAudit() {
	q := &s.auditQ
	for {
		q.mu.Lock()
		batch := q.pending
		if len(batch) > crm.MaxAuditEvents {
			batch, q.pending = batch[:crm.MaxAuditEvents:crm.MaxAuditEvents], batch[crm.MaxAuditEvents:]
		} else {
			q.pending = nil
		}
		if len(batch) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		s.proposeAudit(batch)
	}
}

// auditRetries are the waits between attempts to commit a batch of events.
var auditRetries = []time.Duration{200 * time.Millisecond, time.Second, 5 * time.Second}

func (s *Server) proposeAudit(events []crm.AuditEvent) {
	body := mustJSON(crm.AuditBatch{Events: events})
	var err error
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var res crm.Result
		res, err = s.b.Propose(ctx, &crm.Command{Op: crm.OpAudit, Region: s.cfg.Region, Actor: crm.SystemActor, Time: time.Now().UTC(), Body: body})
		cancel()
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err == nil || i == len(auditRetries) {
			break
		}
		time.Sleep(auditRetries[i])
	}
	if err != nil {
		s.auditQ.dropped.Add(uint64(len(events)))
		s.cfg.Logger.Error("api: audit events not committed", "events", len(events), "err", err)
	}
}

// auditVerifyEvery is how old the last check of the chains may be when a
// scrape asks for gridcrm_audit_chain_ok; an older one starts a new check
// (in the background: the scrape answers the last one).
const auditVerifyEvery = 10 * time.Minute

// auditWholeEvery is how often the background check reads every chain
// whole (crm.VerifyAuditWhole); between, it reads each chain from where
// the last check ended (crm.VerifyAuditSince). A province's chains hold
// every write of its subtree: read whole every 10 minutes, a check would
// soon take longer than that, on a core of its own.
const auditWholeEvery = 24 * time.Hour

// auditMetrics exports the chains' state as last verified here.
type auditMetrics struct {
	s       *Server
	ok      *prometheus.Desc
	entries *prometheus.Desc
	checked *prometheus.Desc
	dropped *prometheus.Desc
	supp    *prometheus.Desc

	mu      sync.Mutex
	reports []crm.AuditReport        // guarded by mu: the last check
	at      time.Time                // guarded by mu: when it ended
	marks   map[string]crm.AuditMark // guarded by mu: where it ended, chain by chain
	whole   time.Time                // guarded by mu: when the last check that read every chain whole ended
	running atomic.Bool              // a check runs
}

func newAuditMetrics(s *Server) *auditMetrics {
	l := prometheus.Labels{"node": s.cfg.NodeID}
	return &auditMetrics{s: s,
		ok:      prometheus.NewDesc("gridcrm_audit_chain_ok", "1 when the audit chain of the region (held on this node: its own, or a copy rolled up) verified at the last check: no entry altered or removed; 0 otherwise.", []string{"region"}, l),
		entries: prometheus.NewDesc("gridcrm_audit_chain_entries", "Entries of the region's audit chain held on this node at the last check.", []string{"region"}, l),
		checked: prometheus.NewDesc("gridcrm_audit_verified_timestamp_seconds", "When the audit chains were last verified on this node (Unix seconds; 0 before the first check).", nil, l),
		dropped: prometheus.NewDesc("gridcrm_audit_events_dropped_total", "Audit events of refused requests and logins this node could not commit (raft unavailable after retries, or the queue full).", nil, l),
		supp:    prometheus.NewDesc("gridcrm_audit_events_suppressed_total", "Audit events of anonymous requests (refused before any login, failed logins) not recorded one by one: past 60 a source and minute, logged with their number instead.", nil, l),
	}
}

func (m *auditMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.ok
	ch <- m.entries
	ch <- m.checked
	ch <- m.dropped
	ch <- m.supp
}

func (m *auditMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	reports, at := m.reports, m.at
	m.mu.Unlock()
	if time.Since(at) > auditVerifyEvery && m.running.CompareAndSwap(false, true) {
		go func() {
			defer m.running.Store(false)
			_, _ = m.verify(false)
		}()
	}
	for _, r := range reports {
		v := 0.0
		if r.OK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.ok, prometheus.GaugeValue, v, r.Region)
		ch <- prometheus.MustNewConstMetric(m.entries, prometheus.GaugeValue, float64(r.Entries), r.Region)
	}
	ts := 0.0
	if !at.IsZero() {
		ts = float64(at.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(m.checked, prometheus.GaugeValue, ts)
	ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, float64(m.s.auditQ.dropped.Load()))
	ch <- prometheus.MustNewConstMetric(m.supp, prometheus.CounterValue, float64(m.s.auditQ.suppressed.Load()))
}

// carryBroken answers the reports of an incremental check (cur) with what
// the check before (prev) found that it cannot: a chain found broken stays
// reported so until a whole check says otherwise (the incremental check
// does not see every break: entries without a head, a key before the
// first entry), and a chain whose head went since is reported broken, not
// dropped.
func carryBroken(prev, cur []crm.AuditReport) []crm.AuditReport {
	at := map[string]int{}
	for i, r := range cur {
		at[r.Region] = i
	}
	out := slices.Clone(cur)
	for _, r := range prev {
		i, held := at[r.Region]
		switch {
		case !r.OK && held:
			out[i] = r
		case !r.OK:
			out = append(out, r)
		case !held:
			gone := r
			gone.OK, gone.Problems = false, []crm.AuditProblem{{Seq: r.Head, What: "the chain's head is gone since the last check"}}
			out = append(out, gone)
		}
	}
	slices.SortFunc(out, func(a, b crm.AuditReport) int { return strings.Compare(a.Region, b.Region) })
	return out
}

// verify checks every chain held here and keeps the result for the
// metrics: whole when whole is set or the last whole check is older than
// auditWholeEvery, else each chain from where the last check ended.
func (m *auditMetrics) verify(whole bool) ([]crm.AuditReport, error) {
	m.mu.Lock()
	marks, last := m.marks, m.whole
	m.mu.Unlock()
	whole = whole || last.IsZero() || time.Since(last) > auditWholeEvery
	var reports []crm.AuditReport
	var next map[string]crm.AuditMark
	var err error
	if whole {
		reports, next, err = crm.VerifyAuditWhole(m.s.b.Reader(), "")
	} else {
		reports, next, err = crm.VerifyAuditSince(m.s.b.Reader(), marks)
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	m.mu.Lock()
	if !whole {
		reports = carryBroken(m.reports, reports)
	}
	m.reports, m.at, m.marks = reports, now, next
	if whole {
		m.whole = now
	}
	m.mu.Unlock()
	return reports, nil
}

func (s *Server) auditRoutes(v1 *gin.RouterGroup, reg *ops.Registry) {
	s.auditM = newAuditMetrics(s)
	reg.MustRegister(s.auditM)
	v1.GET("/audit", allow(auditRoles...), s.listAudit)
	v1.GET("/audit/export", allow(auditRoles...), s.exportAudit)
	v1.GET("/audit/verify", allow(auditRoles...), s.verifyAudit)
}

// auditQuery reads the filters of /audit and /audit/export and checks
// that the caller may read the region asked (their own region and its
// subtree, held on this node).
func (s *Server) auditQuery(c *gin.Context) (crm.AuditQuery, bool) {
	q := crm.AuditQuery{Region: c.DefaultQuery("region", s.cfg.Region), User: c.Query("user"), Collection: c.Query("collection"),
		Record: c.Query("record"), Outcome: c.Query("outcome"), Cursor: c.Query("cursor")}
	if !crm.ValidRegion(q.Region) {
		fail(c, apiErr(crm.CodeInvalid, "region", fmt.Sprintf("%q is not a GB/T 2260 region code", q.Region)))
		return q, false
	}
	if u := who(c).User; !crm.InRegion(q.Region, u.Region) || !crm.InRegion(q.Region, s.cfg.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "region", Owner: q.Region,
			Message: fmt.Sprintf("the audit trail of region %s is read at its own tier or above, by an admin or auditor of it or of a region above (user %s is of region %s; this node serves %s)", q.Region, u.Username, u.Region, s.cfg.Region)})
		return q, false
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := c.Query(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			d, derr := time.ParseInLocation(time.DateOnly, v, chinaTime)
			if derr != nil {
				fail(c, apiErr(crm.CodeInvalid, f.name, "must be an RFC 3339 time (2026-11-25T09:30:00+08:00) or a date (2026-11-25, from midnight in China)"))
				return q, false
			}
			t = d
		}
		*f.to = t
	}
	var ok bool
	if q.Limit, ok = limitOf(c, q.Limit); !ok {
		return q, false
	}
	return q, s.consistent(c)
}

// chinaTime is the zone a bare date of the audit filters is read in.
var chinaTime = time.FixedZone("CST", 8*3600)

// listAudit answers a page of entries, oldest first: {"items":[…],"next":cursor|null}.
func (s *Server) listAudit(c *gin.Context) {
	q, ok := s.auditQuery(c)
	if !ok {
		return
	}
	page, e := crm.QueryAudit(s.b.Reader(), q)
	if e != nil {
		fail(c, e)
		return
	}
	var next any
	if page.Next != "" {
		next = page.Next
	}
	items := page.Items
	if items == nil {
		items = []json.RawMessage{}
	}
	c.JSON(200, gin.H{"items": items, "next": next})
}

// auditCSV are the columns of the CSV export, in order.
var auditCSV = []string{"id", "owner", "seq", "prev", "at", "user", "role", "user_region", "node", "source", "route", "op",
	"collection", "record", "record_owner", "version_before", "version_after", "rows", "digest", "digest_of", "outcome", "hash"}

// exportAudit streams every entry the filters select (no limit; limit
// and cursor are ignored) as NDJSON (the stored entries, byte for byte, so
// each line verifies) or CSV (?format=csv).
func (s *Server) exportAudit(c *gin.Context) {
	q, ok := s.auditQuery(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "ndjson")
	if format != "ndjson" && format != "csv" {
		fail(c, apiErr(crm.CodeInvalid, "format", "must be ndjson or csv"))
		return
	}
	q.Limit, q.Cursor = crm.MaxLimit, ""
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}) // a large trail takes a while
	w := bufio.NewWriterSize(c.Writer, 64<<10)
	var cw *csv.Writer
	if format == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="audit-`+q.Region+`.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write(auditCSV)
	} else {
		c.Header("Content-Type", "application/x-ndjson")
		c.Header("Content-Disposition", `attachment; filename="audit-`+q.Region+`.ndjson"`)
	}
	c.Status(200)
	for {
		page, e := crm.QueryAudit(s.b.Reader(), q)
		if e != nil {
			s.cfg.Logger.Error("api: audit export", "err", e) // the status is out: the stream ends short
			break
		}
		for _, raw := range page.Items {
			if cw == nil {
				w.Write(raw)
				w.WriteByte('\n')
				continue
			}
			var e crm.AuditEntry
			if json.Unmarshal(raw, &e) == nil {
				_ = cw.Write(auditRow(&e))
			}
		}
		if page.Next == "" || c.Request.Context().Err() != nil {
			break
		}
		q.Cursor = page.Next
	}
	if cw != nil {
		cw.Flush()
	}
	_ = w.Flush()
}

func auditRow(e *crm.AuditEntry) []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return []string{e.ID, e.Owner, u(e.Seq), e.Prev, e.At.Format(time.RFC3339Nano), e.User, e.Role, e.UserRegion, e.Node, e.Source, e.Route, e.Op,
		e.Collection, e.Record, e.RecordOwner, u(e.VersionBefore), u(e.VersionAfter), strconv.Itoa(e.Rows), e.Digest, e.DigestOf, e.Outcome, e.Hash}
}

// verifyAudit checks the chains of the region's subtree held here:
// {"ok":bool,"chains":[crm.AuditReport…]}; it also refreshes the metrics.
func (s *Server) verifyAudit(c *gin.Context) {
	region := c.DefaultQuery("region", s.cfg.Region)
	if u := who(c).User; !crm.ValidRegion(region) || !crm.InRegion(region, u.Region) || !crm.InRegion(region, s.cfg.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "region", Owner: region, Message: fmt.Sprintf("region %q is not one this node and user %s may verify", region, u.Username)})
		return
	}
	if !s.consistent(c) {
		return
	}
	all, err := s.auditM.verify(true) // an auditor's check reads every chain whole
	if err != nil {
		fail(c, err)
		return
	}
	ok, chains := true, []crm.AuditReport{}
	for _, r := range all {
		if crm.InRegion(r.Region, region) {
			chains = append(chains, r)
			ok = ok && r.OK
		}
	}
	c.JSON(200, gin.H{"region": region, "ok": ok, "chains": chains})
}

// auditOps documents the audit routes (openapi.go).
func auditOps() []op {
	filters := []string{"region", "user", "collection", "record", "outcome", "from", "to", "consistency"}
	return []op{
		{method: "GET", path: "/api/v1/audit", summary: "Audit entries of the region's subtree held on this node (written here, rolled up from below, or about the subtree's records), oldest first, served from the audit indexes: by record (collection and record), else by time (a page examines at most 20,000 entries and may answer fewer items and a next). from/to are RFC 3339 times or dates; next is the cursor of the next page. Each entry: who (user, role, user_region, node, source), when (at), what (route, op, collection, record, record_owner when the writer is its manager, version_before/after, digest of the record or body), outcome, and its place in the region's hash chain (seq, prev, hash)", ok: 200, roles: auditRoles,
			query: append(filters, "limit", "cursor")},
		{method: "GET", path: "/api/v1/audit/export", summary: "Every audit entry the filters select, streamed as NDJSON (the stored entries byte for byte, so each line verifies) or CSV (format=csv)", ok: 200, roles: auditRoles,
			query: append(filters, "format")},
		{method: "GET", path: "/api/v1/audit/verify", summary: "Verify the audit hash chains of the region's subtree held on this node: each entry matches its hash, follows the one before (seq without gaps, prev) and the last is the recorded head; problems name the seq. Also refreshes gridcrm_audit_chain_ok", ok: 200, roles: auditRoles,
			query: []string{"region", "consistency"}},
	}
}
