package api

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// op is one documented operation.
type op struct {
	method, path, summary string
	roles                 []string
	body                  any // a schema object for the request body, or nil
	ok                    int
	public                bool
	query                 []string
	out                   any    // the success answer's schema; nil: a JSON object (see successOf)
	ctype                 string // the success answer's media type; "": application/json
}

// operations is the API's documentation table. It is written separately
// from the route registration on purpose: a test checks that both list the
// same routes, so neither can drift.
func operations() []op {
	ops := []op{
		{method: "GET", path: "/healthz", summary: "Process is up", ok: 200, public: true},
		{method: "GET", path: "/readyz", summary: "Store open, leader known, region initialised", ok: 200, public: true},
		{method: "POST", path: "/api/v1/auth/login", summary: "Log in; answers a bearer token naming a new session. With cookie: true (the web console) the token is set in an HttpOnly, SameSite=Strict session cookie instead and the answer holds csrf_token, which every cookie-authenticated write must send in X-CSRF-Token. Failed logins slow down (429 too_many_attempts, Retry-After) and lock the user (429 account_locked)", ok: 200, public: true,
			body: object(map[string]any{"username": str(), "password": str(), "cookie": map[string]any{"type": "boolean"}}, "username", "password")},
		{method: "GET", path: "/api/v1/auth/session", summary: "The caller's session: user, expiry, how it authenticated (bearer or cookie) and, for a cookie session, its CSRF token; {\"authenticated\": false} when the request sends no credential (401 when the one it sends does not hold)", ok: 200, public: true},
		{method: "POST", path: "/api/v1/auth/logout", summary: "End the caller's session, on every node of the region", ok: 204, roles: selfRoles},
		{method: "POST", path: "/api/v1/auth/password", summary: "Change your own password given the current one; ends every session of yours and answers a new login", ok: 200, roles: selfRoles,
			body: object(map[string]any{"old_password": str(), "password": str()}, "old_password", "password")},
		{method: "GET", path: "/api/v1/auth/keys", summary: "The region's token signing keys: ids, created, retire_at, which is current (never the keys). Admins of the region", ok: 200, roles: adminOnly, query: []string{"consistency"}},
		{method: "POST", path: "/api/v1/auth/keys/rotate", summary: "Make a new token signing key (admins of the region). New tokens carry its id (kid); tokens of the keys it replaces hold for grace (a Go duration, default and at most the maximum token lifetime; \"0s\" refuses them at once), then answer 401 (token key retired); keys past their grace leave the ring", ok: 200, roles: adminOnly,
			body: object(map[string]any{"grace": map[string]any{"type": "string", "example": "1h"}})},
		{method: "GET", path: "/api/v1/users/{id}/sessions", summary: "A user's live sessions (issued, expires, source, node) and failed logins, lock", ok: 200, roles: adminOnly, query: []string{"consistency"}},
		{method: "DELETE", path: "/api/v1/users/{id}/sessions", summary: "End every session of a user", ok: 200, roles: adminOnly},
		{method: "DELETE", path: "/api/v1/users/{id}/sessions/{sid}", summary: "End one session of a user", ok: 204, roles: adminOnly},
		{method: "POST", path: "/api/v1/users/{id}/unlock", summary: "Lift a user's lock after failed logins and forget the failures", ok: 200, roles: adminOnly},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/openapi.json", summary: "This description", ok: 200, roles: selfRoles},
		{method: "GET", path: "/api/v1/auth/me", summary: "The logged-in user", ok: 200, roles: selfRoles},
		{method: "GET", path: "/api/v1/cluster", summary: "The region's raft group: members, leader, applied index", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/sync/status", summary: "Links between tiers: cursors, lag in entries and seconds, resyncs", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/stats/summary", summary: "Customers, kWh by month and arrears of a region or subtree, from materialised aggregates", ok: 200, roles: readRoles, query: []string{"region", "scope", "consistency"}},
		{method: "POST", path: "/api/v1/cluster/nodes", summary: "Add a node to the region (it catches up by log or snapshot); a node that does not answer at addr is refused (400 on addr) and nothing changes", ok: 200, roles: adminOnly,
			body: object(map[string]any{"id": str(), "addr": str()}, "id", "addr")},
		{method: "DELETE", path: "/api/v1/cluster/nodes/{id}", summary: "Remove a node from the region", ok: 200, roles: adminOnly},
		{method: "GET", path: "/api/v1/regions", summary: "This region and the regions below it: management mode, epoch, writer, open conflicts", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "GET", path: "/api/v1/regions/{code}", summary: "One region: the management mode and epoch that hold for it, who writes its records", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "PUT", path: "/api/v1/regions/{code}/management", summary: "Set a child region's management (at its parent): autonomous, partial with granted collections, or full (force: without the child's acknowledgement)", ok: 200, roles: adminOnly,
			body: object(map[string]any{"mode": enum([]string{crm.ModeAutonomous, crm.ModePartial, crm.ModeFull}), "collections": map[string]any{"type": "array", "items": str()}, "force": map[string]any{"type": "boolean"}}, "mode")},
		{method: "GET", path: "/api/v1/commands", summary: "Writes forwarded to child regions under partial management, with their outcome (pending, applied, refused and why), in the order they were made, a page at a time (limit: default and at most 1,000; next: the after= of the next page, which may come after a short page: one reads at most 10,000 commands)", ok: 200, roles: readRoles, query: []string{"region", "scope", "status", "limit", "after", "consistency"}},
		{method: "GET", path: "/api/v1/commands/{id}", summary: "One forwarded write and its outcome", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "GET", path: "/api/v1/conflicts", summary: "Writes a child made under an old epoch after a forced takeover, kept with both versions", ok: 200, roles: readRoles, query: []string{"region", "scope", "status", "consistency"}},
		{method: "POST", path: "/api/v1/conflicts/resolve", summary: "Resolve a conflict: keep the child's, the parent's, or a merged body; the result replicates like any write", ok: 200, roles: adminOnly,
			body: object(map[string]any{"id": str(), "keep": enum([]string{crm.KeepChild, crm.KeepParent, crm.KeepMerged}), "body": map[string]any{"type": "object"}}, "id", "keep")},
		// operations (ops.go)
		{method: "GET", path: "/api/v1/ops/backup", summary: "A consistent snapshot of the node's state as a checksummed stream (gridcrm backup)", ok: 200, roles: adminOnly},
		{method: "GET", path: "/api/v1/ops/regions", summary: "Regions held here with their leader, term, mode and heartbeat age (gridcrm status)", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/ops/log-level", summary: "The process's log level", ok: 200, roles: adminOnly},
		{method: "PUT", path: "/api/v1/ops/log-level", summary: "Change the process's log level at runtime", ok: 200, roles: adminOnly,
			body: object(map[string]any{"level": enum([]string{"debug", "info", "warn", "error"})}, "level")},
	}
	for _, coll := range crm.Collections() {
		kind := crm.Kinds[coll]
		one, w, r := singularOf(coll), writeRolesOf[coll], rolesToRead(coll)
		filters := append([]string{"limit", "after", "consistency", "region", "scope"}, filterFields(kind)...)
		rec, page := ref(schemaName(coll)), ref(schemaName(coll)+"Page")
		list := "List " + coll + " (cursor pagination; filters on fields: the indexed ones (" + strings.Join(kind.Filters, ", ") + ") read an index, any other is checked on the records read)"
		if coll == "users" {
			list += ". With region= a region below this one, that region's users, read there through a forwarded command (central administration; no filters or paging): {\"region\", \"users\": [...]}, or 202 with the pending command"
		}
		ops = append(ops,
			op{method: "GET", path: "/api/v1/" + coll, summary: list, ok: 200, roles: r, query: filters, out: page},
			op{method: "GET", path: "/api/v1/" + coll + "/{id}", summary: "Get one " + one, ok: 200, roles: r, query: []string{"consistency", "region"}, out: rec},
			op{method: "DELETE", path: "/api/v1/" + coll + "/{id}", summary: "Delete a " + one, ok: 204, roles: w, query: []string{"version"}},
		)
		if !crudWritable(coll) {
			continue // bulletin_guard.go: written only by their generating route
		}
		patch := op{method: "PATCH", path: "/api/v1/" + coll + "/{id}", summary: "Update fields of a " + one + " (send the version you read)", ok: 200, roles: w, body: patchSchema(kind), out: rec}
		if coll == "users" {
			patch.summary += "; with region= a region below this one, the user of that region (central administration: forwarded there)"
			patch.query = []string{"region"}
		}
		ops = append(ops, patch)
		if coll == "users" {
			ops = append(ops, op{method: "POST", path: "/api/v1/users", summary: "Create a user (region: this one, or a region below, where the user is created through a forwarded command)", ok: 201, roles: w, out: rec,
				body: object(map[string]any{"username": str(), "display_name": str(), "role": enum(crm.Roles), "region": str(), "password": str(), "disabled": map[string]any{"type": "boolean"}}, "username", "role", "password")})
			continue
		}
		ops = append(ops,
			op{method: "POST", path: "/api/v1/" + coll, summary: "Create a " + one, ok: 201, roles: w, body: schemaOf(kind.New(), false), out: rec},
			op{method: "PUT", path: "/api/v1/" + coll + "/{id}", summary: "Replace a " + one + " (send the version you read)", ok: 200, roles: w, body: schemaOf(kind.New(), true), out: rec},
			op{method: "POST", path: "/api/v1/" + coll + "/import", summary: "Import up to 10,000 " + coll + " (JSON array or NDJSON); all or nothing", ok: 201, roles: w,
				body: map[string]any{"type": "array", "maxItems": crm.MaxImportRows, "items": schemaOf(kind.New(), false)},
				out:  object(map[string]any{"imported": map[string]any{"type": "integer"}, "ids": map[string]any{"type": "array", "items": str()}}, "imported", "ids")},
		)
	}
	ops = trimDerived(append(ops, processOps()...)) // process.go
	ops = append(ops, bigCustomerOps()...)          // bigcustomer.go
	ops = append(ops, accountOps()...)              // accounts.go
	ops = append(ops, searchOps()...)               // search.go
	ops = append(ops, analyticsOps()...)            // analytics.go
	ops = append(ops, auditOps()...)                // audit.go
	ops = append(ops, managementOps()...)           // console_manage.go
	ops = append(ops, exportOps()...)               // export.go
	ops = append(ops, warehouseOps()...)            // warehouse.go
	return append(ops, consoleOps()...)             // console.go
}

func singularOf(coll string) string {
	if coll == "staff" {
		return "staff member"
	}
	return strings.TrimSuffix(coll, "s")
}

var (
	specOnce  sync.Once
	specJSON  []byte
	pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)
)

// Spec returns the OpenAPI 3 description as JSON.
func Spec() []byte {
	specOnce.Do(func() {
		paths := map[string]map[string]any{}
		for _, o := range operations() {
			if paths[o.path] == nil {
				paths[o.path] = map[string]any{}
			}
			m := map[string]any{
				"summary":     o.summary,
				"operationId": strings.ToLower(o.method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(o.path),
				"responses": map[string]any{
					itoa(int64(o.ok)): successOf(o),
					"default":         map[string]any{"description": "error", "content": jsonContent(ref("Error"))},
				},
			}
			if o.method != "GET" {
				r := m["responses"].(map[string]any)
				r["503"] = map[string]any{"description": "unavailable: nothing was applied; safe to retry (Retry-After)", "content": jsonContent(ref("Error"))}
				r["504"] = map[string]any{"description": "outcome_unknown: sent for commit, no answer; error.id names the record: read it before retrying", "content": jsonContent(ref("Error"))}
			}
			if !o.public {
				m["security"] = []any{map[string]any{"bearer": []string{}}}
				m["description"] = "Roles: " + strings.Join(o.roles, ", ")
			} else {
				m["security"] = []any{}
			}
			var params []any
			for _, p := range pathParam.FindAllStringSubmatch(o.path, -1) {
				params = append(params, map[string]any{"name": p[1], "in": "path", "required": true, "schema": str()})
			}
			seen := map[string]bool{}
			for _, q := range o.query {
				if seen[q] {
					continue // a parameter is declared once (OpenAPI 3: unique by name and location)
				}
				seen[q] = true
				params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": str()})
			}
			if params != nil {
				m["parameters"] = params
			}
			if o.body != nil {
				m["requestBody"] = map[string]any{"required": true, "content": jsonContent(o.body)}
				r := m["responses"].(map[string]any)
				r["400"] = map[string]any{"description": "invalid: error.field names the field; besides the field rules, the input rules (invalid UTF-8, a repeated key, control or bidirectional formatting characters, an array over 10,000 elements, nesting over 32)", "content": jsonContent(ref("Error"))}
				r["408"] = map[string]any{"description": "request_timeout: the body did not arrive within the deadline; the connection is closed", "content": jsonContent(ref("Error"))}
				r["413"] = map[string]any{"description": "too_large: the body is over its limit (1 MiB a record, 32 MiB an import) or an import over 10,000 rows", "content": jsonContent(ref("Error"))}
				r["415"] = map[string]any{"description": "unsupported_media_type: send Content-Type application/json (an import also takes application/x-ndjson); error.field is Content-Type", "content": jsonContent(ref("Error"))}
				if strings.HasSuffix(o.path, "/import") {
					m["requestBody"].(map[string]any)["content"].(map[string]any)["application/x-ndjson"] = map[string]any{"schema": str()}
					r["429"] = map[string]any{"description": "too_many_imports: the node runs its most imports at once; retry after Retry-After seconds", "content": jsonContent(ref("Error")),
						"headers": map[string]any{"Retry-After": map[string]any{"description": "seconds to wait", "schema": map[string]any{"type": "integer"}}}}
				}
			}
			paths[o.path][strings.ToLower(o.method)] = m
		}
		schemas := map[string]any{"Error": object(map[string]any{"error": object(map[string]any{
			"code": str(), "message": str(), "field": str(), "owner": str(), "id": str(), "ids": map[string]any{"type": "array", "items": str()},
			"rows": map[string]any{"type": "array", "items": object(map[string]any{"row": map[string]any{"type": "integer"}, "line": map[string]any{"type": "integer", "description": "the row's line in an NDJSON body (from 1)"}, "code": str(), "field": str(), "message": str()})},
		}, "code", "message")}, "error")}
		for _, coll := range crm.Collections() {
			kind := crm.Kinds[coll]
			schemas[schemaName(coll)] = recordSchema(kind)
			schemas[schemaName(coll)+"Page"] = map[string]any{"type": "object", "required": []string{"items"}, "properties": map[string]any{
				"items": map[string]any{"type": "array", "items": ref(schemaName(coll))},
				"next":  map[string]any{"type": "string", "description": "the cursor of the next page (after=); absent at the end"}}}
		}
		spec := map[string]any{
			"openapi": "3.0.3",
			"info":    map[string]any{"title": "gridcrm API", "version": "v1", "description": "The same API on every tier (province, city, county)."},
			"paths":   paths,
			"components": map[string]any{
				"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
				"schemas":         schemas,
			},
		}
		specJSON = mustJSON(spec)
	})
	return specJSON
}

func (s *Server) openapi(c *gin.Context) { c.Data(200, "application/json", Spec()) }

// successOf describes o's success answer: none for 204 and a redirect,
// else its media type and schema (o.out; a JSON object when the operation
// does not say more).
func successOf(o op) map[string]any {
	switch o.ok {
	case 204:
		return map[string]any{"description": "done; no body"}
	case 301, 302, 303, 307, 308:
		return map[string]any{"description": "redirect", "headers": map[string]any{"Location": map[string]any{"description": "where to go", "schema": str()}}}
	}
	ctype, schema := o.ctype, o.out
	switch {
	case ctype != "":
	case o.path == "/metrics":
		ctype, schema = "text/plain", str()
	case o.path == "/api/v1/ops/backup":
		ctype, schema = "application/octet-stream", map[string]any{"type": "string", "format": "binary"}
	case strings.HasPrefix(o.path, "/console/"):
		ctype, schema = "text/html", str()
	case strings.HasSuffix(o.path, "/html"):
		ctype, schema = "text/html", str()
	case strings.HasSuffix(o.path, "/pdf"):
		ctype, schema = "application/pdf", map[string]any{"type": "string", "format": "binary"}
	case strings.HasSuffix(o.path, "/export"):
		ctype, schema = "application/x-ndjson", str()
	default:
		ctype = "application/json"
	}
	if schema == nil {
		schema = map[string]any{"type": "object", "description": "see the summary"}
	}
	desc := "success"
	if o.ok == 201 {
		desc = "created"
	}
	return map[string]any{"description": desc, "content": map[string]any{ctype: map[string]any{"schema": schema}}}
}

// schemaName is the component name of a collection's records ("WorkOrder").
func schemaName(coll string) string {
	var b strings.Builder
	for _, w := range strings.Split(singularOf(coll), " ") {
		for _, p := range strings.Split(w, "_") {
			if p != "" {
				b.WriteString(strings.ToUpper(p[:1]) + p[1:])
			}
		}
	}
	return b.String()
}

// recordSchema describes a stored record as the API answers it: the
// metadata, every field (derived ones included), never a private one.
func recordSchema(kind *crm.Kind) map[string]any {
	sc := schemaOf(kind.New(), false)
	props := sc["properties"].(map[string]any)
	for _, p := range kind.Private {
		delete(props, p)
	}
	for _, f := range []string{"id", "owner", "created_by", "updated_by"} {
		props[f] = str()
	}
	props["version"] = map[string]any{"type": "integer", "minimum": 1}
	for _, f := range []string{"created_at", "updated_at"} {
		props[f] = map[string]any{"type": "string", "format": "date-time"}
	}
	return map[string]any{"type": "object", "properties": props, "required": []string{"id", "owner", "version"}}
}

// filterFields are the fields a list of kind filters on: its indexed
// filters, then every other field of a plain value (string, number,
// boolean) that is not private, in name order. List takes any of them.
func filterFields(kind *crm.Kind) []string {
	out := append([]string(nil), kind.Filters...)
	props := recordSchema(kind)["properties"].(map[string]any)
	var rest []string
	for name, sc := range props {
		switch sc.(map[string]any)["type"] {
		case "string", "number", "integer", "boolean":
			if !slices.Contains(out, name) && kind.HasField(name) {
				rest = append(rest, name)
			}
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func str() map[string]any               { return map[string]any{"type": "string"} }
func ref(name string) map[string]any    { return map[string]any{"$ref": "#/components/schemas/" + name} }
func enum(vals []string) map[string]any { return map[string]any{"type": "string", "enum": vals} }
func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// schemaOf describes a record type's client-writable fields.
func schemaOf(rec any, withVersion bool) map[string]any {
	props := map[string]any{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				if f.Type != reflect.TypeOf(crm.Meta{}) {
					walk(f.Type) // an embedded group of fields (big-customer records' subject)
				}
				continue // Meta: server-set
			}
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" || name == "-" || name == "password_hash" || name == "arrears" {
				continue
			}
			props[name] = typeSchema(f.Type)
		}
	}
	walk(reflect.TypeOf(rec))
	if withVersion {
		props["version"] = map[string]any{"type": "integer", "minimum": 1}
	}
	return object(props)
}

func typeSchema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"type": "object", "description": "a JSON object"}
	case t.Kind() == reflect.String:
		return str()
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return map[string]any{"type": "number"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "format": "byte"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	}
	return map[string]any{"type": "object"}
}

// patchSchema is a kind's update body; users also take a new password.
func patchSchema(kind *crm.Kind) map[string]any {
	sc := schemaOf(kind.New(), true)
	if kind.Name == "users" {
		sc["properties"].(map[string]any)["password"] = str()
	}
	return sc
}
