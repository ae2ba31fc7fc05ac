package api

import (
	"reflect"
	"regexp"
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
}

// operations is the API's documentation table. It is written separately
// from the route registration on purpose: a test checks that both list the
// same routes, so neither can drift.
func operations() []op {
	ops := []op{
		{method: "GET", path: "/healthz", summary: "Process is up", ok: 200, public: true},
		{method: "GET", path: "/readyz", summary: "Store open, leader known, region initialised", ok: 200, public: true},
		{method: "POST", path: "/api/v1/auth/login", summary: "Log in; answers a bearer token naming a new session. Failed logins slow down (429 too_many_attempts, Retry-After) and lock the user (429 account_locked)", ok: 200, public: true,
			body: object(map[string]any{"username": str(), "password": str()}, "username", "password")},
		{method: "POST", path: "/api/v1/auth/logout", summary: "End the caller's session, on every node of the region", ok: 204, roles: readRoles},
		{method: "POST", path: "/api/v1/auth/password", summary: "Change your own password given the current one; ends every session of yours and answers a new login", ok: 200, roles: readRoles,
			body: object(map[string]any{"old_password": str(), "password": str()}, "old_password", "password")},
		{method: "GET", path: "/api/v1/auth/keys", summary: "The region's token signing keys: ids, created, retire_at, which is current (never the keys). Admins of the region", ok: 200, roles: adminOnly, query: []string{"consistency"}},
		{method: "POST", path: "/api/v1/auth/keys/rotate", summary: "Make a new token signing key (admins of the region). New tokens carry its id (kid); tokens of the keys it replaces hold for grace (a Go duration, default and at most the maximum token lifetime; \"0s\" refuses them at once), then answer 401 (token key retired); keys past their grace leave the ring", ok: 200, roles: adminOnly,
			body: object(map[string]any{"grace": map[string]any{"type": "string", "example": "1h"}})},
		{method: "GET", path: "/api/v1/users/{id}/sessions", summary: "A user's live sessions (issued, expires, source, node) and failed logins, lock", ok: 200, roles: adminOnly, query: []string{"consistency"}},
		{method: "DELETE", path: "/api/v1/users/{id}/sessions", summary: "End every session of a user", ok: 200, roles: adminOnly},
		{method: "DELETE", path: "/api/v1/users/{id}/sessions/{sid}", summary: "End one session of a user", ok: 204, roles: adminOnly},
		{method: "POST", path: "/api/v1/users/{id}/unlock", summary: "Lift a user's lock after failed logins and forget the failures", ok: 200, roles: adminOnly},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/openapi.json", summary: "This description", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/auth/me", summary: "The logged-in user", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/cluster", summary: "The region's raft group: members, leader, applied index", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/sync/status", summary: "Links between tiers: cursors, lag in entries and seconds, resyncs", ok: 200, roles: readRoles},
		{method: "GET", path: "/api/v1/stats/summary", summary: "Customers, kWh by month and arrears of a region or subtree, from materialised aggregates", ok: 200, roles: readRoles, query: []string{"region", "scope", "consistency"}},
		{method: "POST", path: "/api/v1/cluster/nodes", summary: "Add a node to the region (it catches up by log or snapshot)", ok: 200, roles: adminOnly,
			body: object(map[string]any{"id": str(), "addr": str()}, "id", "addr")},
		{method: "DELETE", path: "/api/v1/cluster/nodes/{id}", summary: "Remove a node from the region", ok: 200, roles: adminOnly},
		{method: "GET", path: "/api/v1/regions", summary: "This region and the regions below it: management mode, epoch, writer, open conflicts", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "GET", path: "/api/v1/regions/{code}", summary: "One region: the management mode and epoch that hold for it, who writes its records", ok: 200, roles: readRoles, query: []string{"consistency"}},
		{method: "PUT", path: "/api/v1/regions/{code}/management", summary: "Set a child region's management (at its parent): autonomous, partial with granted collections, or full (force: without the child's acknowledgement)", ok: 200, roles: adminOnly,
			body: object(map[string]any{"mode": enum([]string{crm.ModeAutonomous, crm.ModePartial, crm.ModeFull}), "collections": map[string]any{"type": "array", "items": str()}, "force": map[string]any{"type": "boolean"}}, "mode")},
		{method: "GET", path: "/api/v1/commands", summary: "Writes forwarded to child regions under partial management, with their outcome (pending, applied, refused and why)", ok: 200, roles: readRoles, query: []string{"region", "scope", "status", "consistency"}},
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
		filters := []string{"limit", "after", "consistency", "region", "scope"}
		filters = append(filters, kind.Filters...)
		ops = append(ops,
			op{method: "GET", path: "/api/v1/" + coll, summary: "List " + coll + " (cursor pagination; filters on fields)", ok: 200, roles: r, query: filters},
			op{method: "GET", path: "/api/v1/" + coll + "/{id}", summary: "Get one " + one, ok: 200, roles: r, query: []string{"consistency", "region"}},
			op{method: "DELETE", path: "/api/v1/" + coll + "/{id}", summary: "Delete a " + one, ok: 204, roles: w, query: []string{"version"}},
		)
		if !crudWritable(coll) {
			continue // bulletin_guard.go: written only by their generating route
		}
		ops = append(ops, op{method: "PATCH", path: "/api/v1/" + coll + "/{id}", summary: "Update fields of a " + one + " (send the version you read)", ok: 200, roles: w, body: patchSchema(kind)})
		if coll == "users" {
			ops = append(ops, op{method: "POST", path: "/api/v1/users", summary: "Create a user", ok: 201, roles: w,
				body: object(map[string]any{"username": str(), "display_name": str(), "role": enum(crm.Roles), "region": str(), "password": str(), "disabled": map[string]any{"type": "boolean"}}, "username", "role", "password")})
			continue
		}
		ops = append(ops,
			op{method: "POST", path: "/api/v1/" + coll, summary: "Create a " + one, ok: 201, roles: w, body: schemaOf(kind.New(), false)},
			op{method: "PUT", path: "/api/v1/" + coll + "/{id}", summary: "Replace a " + one + " (send the version you read)", ok: 200, roles: w, body: schemaOf(kind.New(), true)},
			op{method: "POST", path: "/api/v1/" + coll + "/import", summary: "Import up to 10,000 " + coll + " (JSON array or NDJSON); all or nothing", ok: 201, roles: w,
				body: map[string]any{"type": "array", "maxItems": crm.MaxImportRows, "items": schemaOf(kind.New(), false)}},
		)
	}
	ops = trimDerived(append(ops, processOps()...)) // process.go
	ops = append(ops, bigCustomerOps()...)          // bigcustomer.go
	ops = append(ops, analyticsOps()...)            // analytics.go
	ops = append(ops, auditOps()...)                // audit.go
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
					itoa(int64(o.ok)): map[string]any{"description": "success"},
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
			for _, q := range o.query {
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
		spec := map[string]any{
			"openapi": "3.0.3",
			"info":    map[string]any{"title": "gridcrm API", "version": "v1", "description": "The same API on every tier (province, city, county)."},
			"paths":   paths,
			"components": map[string]any{
				"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
				"schemas": map[string]any{"Error": object(map[string]any{"error": object(map[string]any{
					"code": str(), "message": str(), "field": str(), "owner": str(), "id": str(), "ids": map[string]any{"type": "array", "items": str()},
					"rows": map[string]any{"type": "array", "items": object(map[string]any{"row": map[string]any{"type": "integer"}, "line": map[string]any{"type": "integer", "description": "the row's line in an NDJSON body (from 1)"}, "code": str(), "field": str(), "message": str()})},
				}, "code", "message")}, "error")},
			},
		}
		specJSON = mustJSON(spec)
	})
	return specJSON
}

func (s *Server) openapi(c *gin.Context) { c.Data(200, "application/json", Spec()) }

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

var timeType = reflect.TypeOf(time.Time{})

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
