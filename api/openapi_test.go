package api_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"gridcrm/api"
)

// spec is the part of an OpenAPI document the parity test reads.
type spec struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// operation is one documented operation.
type operation struct {
	OperationID string            `json:"operationId"`
	Description string            `json:"description"`
	Security    []json.RawMessage `json:"security"`
	Responses   map[string]any    `json:"responses"`
	Parameters  []struct {
		Name, In string
	} `json:"parameters"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// TestAPI_OpenAPIParity checks that the served spec and the router list the
// same operations, built independently: the router's routes from
// (*api.Server).Routes(), the spec from GET /api/v1/openapi.json. It also
// checks the spec's security and role notes against the role contract.
func TestAPI_OpenAPIParity(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	served := servedRoutes(t, f.shadow(0))

	st, raw := admin.do("GET", "/api/v1/openapi.json", nil)
	if st != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", st, raw)
	}
	if !json.Valid(raw) {
		t.Fatalf("the spec is not valid JSON: %.200s", raw)
	}
	if !bytes.Equal(raw, api.Spec()) {
		t.Errorf("the served spec differs from api.Spec()")
	}
	var doc spec
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the spec does not decode: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf(`"openapi" is %q, want 3.x`, doc.OpenAPI)
	}

	var documented []route
	ops := map[route]operation{}
	for path, item := range doc.Paths {
		for key, rawOp := range item {
			if !slices.Contains(httpMethods, key) {
				continue // path-level parameters, summary, ...
			}
			r := route{strings.ToUpper(key), path}
			var op operation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Errorf("%s: operation does not decode: %v", r, err)
			}
			documented = append(documented, r)
			ops[r] = op
		}
	}
	sort.Slice(documented, func(i, j int) bool { return documented[i].String() < documented[j].String() })

	t.Run("comparison can fail", func(t *testing.T) {
		extra := append(slices.Clone(served), route{"GET", "/api/v1/undocumented"})
		if d := diffRoutes(extra, documented); len(d) != 1 || d[0].path != "/api/v1/undocumented" {
			t.Errorf("diffRoutes missed an undocumented route: %v", d)
		}
		if d := diffRoutes(documented, served[1:]); len(d) != 1 || d[0] != served[0] {
			t.Errorf("diffRoutes missed an unserved operation: %v", d)
		}
	})

	t.Run("every served route is documented", func(t *testing.T) {
		for _, r := range diffRoutes(served, documented) {
			t.Errorf("%s is served but not in the spec", r)
		}
	})

	t.Run("every documented operation is served", func(t *testing.T) {
		for _, r := range diffRoutes(documented, served) {
			t.Errorf("%s is in the spec but not served", r)
		}
		// And served by the live node, not only by the router's table: a
		// route the node lacks answers no_route or method_not_allowed.
		anon := admin.asHeader("").on(t)
		for _, r := range documented {
			path := strings.ReplaceAll(r.path, "{id}", "x")
			st, out := anon.do(r.method, path, bodyFor(r))
			if st == 405 || st == 404 && strings.Contains(string(out), `"no_route"`) {
				t.Errorf("%s: the node answers %d %s", r, st, out)
			}
		}
	})

	t.Run("operations are complete", func(t *testing.T) {
		ids := map[string]route{}
		for _, r := range documented {
			op := ops[r]
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", r)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", prev, r, op.OperationID)
			}
			ids[op.OperationID] = r
			if _, ok := op.Responses["default"]; !ok || len(op.Responses) < 2 {
				t.Errorf("%s documents responses %v; want a success and the default error", r, op.Responses)
			}
			if strings.Contains(r.path, "{id}") && !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool {
				return p.Name == "id" && p.In == "path"
			}) {
				t.Errorf("%s does not document its path parameter id", r)
			}
		}
	})

	// PATCH /api/v1/users/{id} accepts "password" (records.go
	// extractPassword; TestAPI_Users changes one), but its schema, with
	// additionalProperties false, does not list it.
	t.Run("users PATCH documents password", func(t *testing.T) {
		var body struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		}
		if err := json.Unmarshal(doc.Paths["/api/v1/users/{id}"]["patch"], &body); err != nil {
			t.Fatal(err)
		}
		props := body.RequestBody.Content["application/json"].Schema.Properties
		if _, ok := props["password"]; !ok {
			t.Errorf("PATCH /api/v1/users/{id} documents %v, not password", slices.Sorted(maps.Keys(props)))
		}
	})

	t.Run("security matches the role contract", func(t *testing.T) {
		for _, r := range documented {
			op := ops[r]
			if public(r) {
				if len(op.Security) != 0 {
					t.Errorf("%s is public but documents security %s", r, op.Security)
				}
				continue
			}
			if len(op.Security) == 0 {
				t.Errorf("%s needs a token but documents no security", r)
			}
			roles, known := allowedRoles(r)
			if !known {
				t.Errorf("%s is not in the role contract", r)
				continue
			}
			if want := "Roles: " + strings.Join(roles, ", "); op.Description != want {
				t.Errorf("%s documents %q, want %q", r, op.Description, want)
			}
		}
	})
}
