package api_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPI_ValidDocument validates the document the API serves with an
// OpenAPI 3 validator (kin-openapi: parameters unique per operation,
// references resolve, schemas well formed), and checks that every
// operation describes its answers: a success response with a description
// and, unless it has no body (204, a redirect), a media type with a
// schema; the list of a collection names its filterable fields (name and
// phone among a customer's), and a directive's body is a JSON object.
func TestOpenAPI_ValidDocument(t *testing.T) {
	c := newCluster(t, 1)
	admin := adminOf(t, c, 0)
	st, raw := admin.do("GET", "/api/v1/openapi.json", nil)
	if st != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", st, raw)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI 3: %v", err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			name := method + " " + path
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", name)
				continue
			}
			success := 0
			for code, r := range op.Responses.Map() {
				if r.Value == nil || r.Value.Description == nil || *r.Value.Description == "" {
					t.Errorf("%s: response %s has no description", name, code)
					continue
				}
				status, err := strconv.Atoi(code)
				if err != nil || status >= 300 {
					continue
				}
				success++
				if status == 204 {
					continue
				}
				if len(r.Value.Content) == 0 {
					t.Errorf("%s: success response %s describes no body", name, code)
				}
				for ctype, mt := range r.Value.Content {
					if mt.Schema == nil || mt.Schema.Value == nil {
						t.Errorf("%s: success response %s (%s) has no schema", name, code, ctype)
					}
				}
			}
			if success == 0 && op.Responses.Value("302") == nil {
				t.Errorf("%s: no success response", name)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d operations", n)
	}
	list := doc.Paths.Find("/api/v1/customers").Get
	for _, want := range []string{"name", "phone", "account_no", "region"} {
		if list.Parameters.GetByInAndName("query", want) == nil {
			t.Errorf("GET /api/v1/customers does not document the %s filter", want)
		}
	}
	get := doc.Paths.Find("/api/v1/customers/{id}").Get.Responses.Value("200").Value.Content["application/json"].Schema.Value
	if get.Properties["account_no"] == nil || get.Properties["id"] == nil || get.Properties["version"] == nil {
		t.Errorf("GET /api/v1/customers/{id} answers %v; want a customer record", get.Properties)
	}
	body := doc.Paths.Find("/api/v1/directives").Post.RequestBody.Value.Content["application/json"].Schema.Value.Properties["body"].Value
	if !body.Type.Is("object") {
		t.Errorf("a directive's body is typed %v; want a JSON object", body.Type)
	}
}
