package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// reserved query parameters of a list; every other one is a filter.
var reserved = map[string]bool{"limit": true, "after": true, "consistency": true, "region": true, "scope": true}

func (s *Server) list(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if kind.Name == "users" && s.listUsersBelow(c) { // users.go: central administration
			return
		}
		q := crm.Query{Filters: map[string]string{}, After: c.Query("after")}
		if l := c.Query("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				fail(c, apiErr(crm.CodeInvalid, "limit", fmt.Sprintf("must be a whole number from 1 to %d", crm.MaxLimit)))
				return
			}
			q.Limit = n
		}
		for k, v := range c.Request.URL.Query() {
			if reserved[k] {
				continue
			}
			if len(v) != 1 {
				fail(c, apiErr(crm.CodeInvalid, k, "give a filter once"))
				return
			}
			q.Filters[k] = v[0]
		}
		scoped := c.Query("region") != "" || c.Query("scope") != ""
		if scoped {
			region, subtree, ok := s.scopeOf(c)
			if !ok {
				return
			}
			q.Owner, q.Subtree = region, subtree
		}
		if !s.consistent(c) {
			return
		}
		page, e := crm.List(s.b.Reader(), kind.Name, q)
		if e != nil {
			fail(c, e)
			return
		}
		var buf bytes.Buffer
		buf.WriteString(`{"items":[`)
		for i, it := range page.Items {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(kind.Public(it))
		}
		buf.WriteString(`],"next":`)
		nx, _ := json.Marshal(page.Next)
		buf.Write(nx)
		if scoped {
			// How current this node's copy of each region in scope is.
			buf.WriteString(`,"freshness":`)
			fr, _ := json.Marshal(s.b.Freshness(q.Owner, q.Subtree))
			buf.Write(fr)
		}
		buf.WriteByte('}')
		c.Data(200, "application/json", buf.Bytes())
	}
}

func (s *Server) get(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.consistent(c) {
			return
		}
		raw, e := crm.Get(s.b.Reader(), kind.Name, c.Param("id"))
		if e != nil {
			fail(c, e)
			return
		}
		owner := crm.RecordOwner(raw)
		if region := c.Query("region"); region != "" && !crm.InRegion(owner, region) {
			fail(c, &crm.Error{Code: crm.CodeNotFound, Field: "id", Owner: owner,
				Message: fmt.Sprintf("%s %s is owned by region %s, not in region %s", kind.Name, c.Param("id"), owner, region)})
			return
		}
		if u := who(c).User; !crm.InRegion(owner, u.Region) && !(kind.Name == "directives" && crm.DirectiveFor(raw, u.Region)) {
			fail(c, &crm.Error{Code: codeForbidden, Field: "id", Owner: owner,
				Message: fmt.Sprintf("user %s of region %s may not read records of region %s", u.Username, u.Region, owner)})
			return
		}
		c.Data(200, "application/json", kind.Public(raw))
	}
}

// commit proposes cmd as the caller, here and now: it fills in Region,
// Actor and Time, and on failure writes the error (from the error table)
// and answers false.
func (s *Server) commit(c *gin.Context, cmd *crm.Command) (crm.Result, bool) {
	cmd.Region, cmd.Actor, cmd.Time = s.cfg.Region, who(c).User.Username, time.Now().UTC()
	s.auditCommand(c, cmd) // audit.go: Apply writes the request's audit entry with the write
	res, err := s.b.Propose(c.Request.Context(), cmd)
	auditCommitted(c, res)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		failWrite(c, cmd.ID, err, cmd.IDs...)
		return res, false
	}
	return res, true
}

// propose sends cmd and writes the answer: status on success, the error
// table otherwise.
func (s *Server) propose(c *gin.Context, kind *crm.Kind, cmd *crm.Command, status int) {
	if child := s.forwardTarget(kind, cmd); child != "" {
		s.forwardDown(c, child, kind, cmd, status)
		return
	}
	cmd.Collection = kind.Name
	res, ok := s.commit(c, cmd)
	if !ok {
		return
	}
	switch {
	case cmd.Op == crm.OpImport:
		c.JSON(status, gin.H{"imported": len(res.IDs), "ids": res.IDs})
	case res.Record == nil:
		c.Status(status)
	default:
		if cmd.Op == crm.OpCreate {
			c.Header("Location", "/api/v1/"+kind.Name+"/"+cmd.ID)
		}
		c.Data(status, "application/json", kind.Public(res.Record))
	}
}

func (s *Server) create(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := readBody(c, s.cfg.MaxBody)
		if err != nil {
			fail(c, err)
			return
		}
		if hook := createHooks[kind.Name]; hook != nil { // process.go
			var ok bool
			if body, ok = hook(s, c, body); !ok {
				return
			}
		}
		if _, e := kind.CheckNew(body, s.cfg.Region); e != nil {
			fail(c, e)
			return
		}
		s.propose(c, kind, &crm.Command{Op: crm.OpCreate, ID: crm.NewID(kind.IDPrefix, time.Now()), Body: body}, 201)
	}
}

func (s *Server) replace(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := readBody(c, s.cfg.MaxBody)
		if err != nil {
			fail(c, err)
			return
		}
		v, e := kind.CheckReplace(body, s.cfg.Region)
		if e != nil {
			fail(c, e)
			return
		}
		s.propose(c, kind, &crm.Command{Op: crm.OpReplace, ID: c.Param("id"), Version: v, Body: body}, 200)
	}
}

func (s *Server) update(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := readBody(c, s.cfg.MaxBody)
		if err != nil {
			fail(c, err)
			return
		}
		var hash string
		if kind.Name == "users" {
			if body, hash, err = s.extractPassword(c, body); err != nil { // users.go
				fail(c, err)
				return
			}
		}
		v, patch, e := kind.CheckPatch(body)
		if e != nil {
			fail(c, e)
			return
		}
		if hash != "" {
			var p map[string]any
			_ = json.Unmarshal(patch, &p)
			p["password_hash"] = hash
			patch, _ = json.Marshal(p)
		}
		cmd := &crm.Command{Op: crm.OpUpdate, ID: c.Param("id"), Version: v, Body: patch}
		if kind.Name == "users" && s.patchUserBelow(c, cmd) { // users.go: central administration
			return
		}
		s.propose(c, kind, cmd, 200)
	}
}

func (s *Server) remove(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		var v uint64
		if q := c.Query("version"); q != "" {
			n, err := strconv.ParseUint(q, 10, 64)
			if err != nil || n == 0 {
				fail(c, apiErr(crm.CodeInvalid, "version", "must be a positive whole number"))
				return
			}
			v = n
		}
		if kind.Name == "users" && c.Param("id") == who(c).User.ID {
			fail(c, apiErr(crm.CodeInvalid, "id", "you cannot delete yourself"))
			return
		}
		s.propose(c, kind, &crm.Command{Op: crm.OpDelete, ID: c.Param("id"), Version: v}, 204)
	}
}

// importRows takes a JSON array or an NDJSON stream of up to
// crm.MaxImportRows new records; all of them are written or none. At most
// Config.MaxImports run at once on a node (429 too_many_imports with
// Retry-After beyond), and the body is decoded as it arrives, one row at a
// time, so a body with too many rows is refused at the first row too many
// and an import holds about its body's size once (the rows) until it is
// committed.
func (s *Server) importRows(kind *crm.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		select {
		case s.imports <- struct{}{}:
			s.metrics.imports.Inc()
			defer func() { <-s.imports; s.metrics.imports.Dec() }()
		default:
			closeAfter(c)
			c.Header("Retry-After", strconv.Itoa(int(s.cfg.ImportRetryAfter/time.Second)))
			fail(c, apiErr(codeTooManyImports, "", fmt.Sprintf("this node runs at most %d imports at once; retry after %s", cap(s.imports), s.cfg.ImportRetryAfter)))
			return
		}
		setReadDeadline(c, s.cfg.ImportTimeout)
		mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
		rows, lines, e := readImport(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxImport), mt, s.cfg.MaxBody)
		if e != nil {
			closeAfter(c) // refused before the body's end, perhaps
		} else if e = s.takeImported(kind, rows, lines); e == nil { // process.go: taking_region
			e = checkImport(kind, rows, lines, s.cfg.Region)
		}
		if e != nil {
			fail(c, e)
			return
		}
		now := time.Now()
		ids := make([]string, len(rows))
		for i := range ids {
			ids[i] = crm.NewID(kind.IDPrefix, now)
		}
		s.propose(c, kind, &crm.Command{Op: crm.OpImport, Rows: rows, IDs: ids}, 201)
	}
}

// decodeImport is readImport of a body held whole.
func decodeImport(body []byte, mt string, maxRow int64) (rows []json.RawMessage, lines []int, e *crm.Error) {
	return readImport(bytes.NewReader(body), mt, maxRow)
}

// readImport reads an import body of media type mt into its rows as it
// arrives: a JSON array, or NDJSON (one record a line, blank lines
// skipped, none longer than maxRow bytes), when lines holds the line (from
// 1) each row is on. Each row meets the input rules (checkInput, named
// rows[i]); the row after crm.MaxImportRows is refused before the rest of
// the body is read. An error reading the body (too large, too slow) is
// answered as an error of its own.
func readImport(r io.Reader, mt string, maxRow int64) (rows []json.RawMessage, lines []int, e *crm.Error) {
	tooMany := func() *crm.Error {
		return &crm.Error{Code: crm.CodeTooLarge, Field: "rows",
			Message: fmt.Sprintf("more than %d rows; at most %d per request (crm.MaxImportRows): split the import", crm.MaxImportRows, crm.MaxImportRows)}
	}
	switch mt {
	case "application/json":
		dec := json.NewDecoder(r)
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, nil, apiErr(crm.CodeInvalid, "", "the body is empty; an import is a JSON array of records")
		}
		if err != nil {
			return nil, nil, importReadError(err, "", "the array of rows")
		}
		if tok == nil { // null: no rows
			break
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, nil, apiErr(crm.CodeInvalid, "", "an import body must be a JSON array of records, or NDJSON with Content-Type application/x-ndjson")
		}
		for dec.More() {
			if len(rows) == crm.MaxImportRows {
				return nil, nil, tooMany()
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, importReadError(err, "rows["+strconv.Itoa(len(rows))+"]", "row "+strconv.Itoa(len(rows)))
			}
			if e := checkInput(raw, "rows["+strconv.Itoa(len(rows))+"]"); e != nil {
				return nil, nil, e
			}
			rows = append(rows, compactRow(raw))
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, nil, importReadError(err, "", "the array of rows")
		}
		if _, err := dec.Token(); err != io.EOF {
			if err == nil {
				return nil, nil, apiErr(crm.CodeInvalid, "", "unexpected data after the JSON array of rows")
			}
			return nil, nil, importReadError(err, "", "after the array of rows")
		}
	case "application/x-ndjson", "application/jsonl", "application/jsonlines":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), int(maxRow))
		line := 0
		for sc.Scan() {
			line++
			if t := bytes.TrimSpace(sc.Bytes()); len(t) > 0 {
				if len(rows) == crm.MaxImportRows {
					return nil, nil, tooMany()
				}
				if e := checkInput(t, "rows["+strconv.Itoa(len(rows))+"]"); e != nil {
					e.Message = "line " + strconv.Itoa(line) + ": " + e.Field + " " + e.Message
					return nil, nil, e
				}
				rows = append(rows, compactRow(t))
				lines = append(lines, line)
			}
		}
		if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, &crm.Error{Code: crm.CodeTooLarge, Field: "rows", Rows: []crm.RowError{{Row: len(rows), Line: line + 1, Code: crm.CodeTooLarge, Message: "longer than " + byteSize(maxRow)}},
				Message: "NDJSON row " + strconv.Itoa(len(rows)) + " (line " + strconv.Itoa(line+1) + ") is longer than the " + byteSize(maxRow) + " a record may have"}
		} else if err != nil {
			return nil, nil, importReadError(err, "", "NDJSON line "+strconv.Itoa(line+1))
		}
	case "":
		return nil, nil, apiErr(codeUnsupported, "Content-Type", "an import needs Content-Type: application/json (an array) or application/x-ndjson (one record a line)")
	default:
		return nil, nil, apiErr(codeUnsupported, "Content-Type", "send application/json (an array) or application/x-ndjson (one record a line), not "+mt)
	}
	if len(rows) == 0 {
		return nil, nil, apiErr(crm.CodeInvalid, "rows", "no rows to import")
	}
	return rows, lines, nil
}

// compactRow is a row without the JSON whitespace between its tokens, in
// memory of its own: an import holds (and its raft entry carries) what its
// rows say, not what padding a client sent (10,000 rows padded to 31 MiB
// held 31 MiB in each copy; compact, about 4 MiB).
func compactRow(raw []byte) json.RawMessage {
	var b bytes.Buffer
	b.Grow(len(raw))
	if json.Compact(&b, raw) != nil { // checkInput has parsed it: not reached
		return bytes.Clone(raw)
	}
	if b.Len() < len(raw)/2 {
		return bytes.Clone(b.Bytes()) // not the buffer grown to the padded size
	}
	return b.Bytes()
}

// importReadError names what failed while reading an import: the body
// (too large, too slow: their own errors) or the JSON at where.
func importReadError(err error, field, where string) *crm.Error {
	var mb *http.MaxBytesError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &mb), errors.Is(err, os.ErrDeadlineExceeded):
		return toAPIError(err)
	case errors.As(err, &syn):
		return apiErr(crm.CodeInvalid, field, fmt.Sprintf("malformed JSON in %s at byte %d of the body: %v", where, syn.Offset, err))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return apiErr(crm.CodeInvalid, field, "the body ends inside "+where)
	}
	return apiErr(crm.CodeInvalid, field, "reading "+where+": "+err.Error())
}

// checkImport checks each row as a new record of kind in region; the
// error lists the first 100 rows refused, each with its field and, for
// NDJSON (lines not nil), its line.
func checkImport(kind *crm.Kind, rows []json.RawMessage, lines []int, region string) *crm.Error {
	var rowErrs []crm.RowError
	for i, row := range rows {
		if _, e := kind.CheckNew(row, region); e != nil && len(rowErrs) < 100 {
			re := crm.RowError{Row: i, Code: e.Code, Field: e.Field, Message: e.Message}
			if lines != nil {
				re.Line = lines[i]
			}
			rowErrs = append(rowErrs, re)
		}
	}
	if len(rowErrs) == 0 {
		return nil
	}
	first := "row " + strconv.Itoa(rowErrs[0].Row)
	if rowErrs[0].Line > 0 {
		first += " (line " + strconv.Itoa(rowErrs[0].Line) + ")"
	}
	return &crm.Error{Code: crm.CodeInvalid, Field: "rows", Rows: rowErrs,
		Message: fmt.Sprintf("%d rows rejected (first: %s, %s: %s); nothing was imported", len(rowErrs), first, rowErrs[0].Field, rowErrs[0].Message)}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// limitOf reads a page size (limit): def when absent, else a whole number
// from 1 to crm.MaxLimit, or the request fails naming limit.
func limitOf(c *gin.Context, def int) (int, bool) {
	l := c.Query("limit")
	if l == "" {
		return def, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > crm.MaxLimit {
		fail(c, apiErr(crm.CodeInvalid, "limit", fmt.Sprintf("must be a whole number from 1 to %d", crm.MaxLimit)))
		return 0, false
	}
	return n, true
}
