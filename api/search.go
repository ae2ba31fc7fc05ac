package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// Customer text search (crm.SearchCustomers): what desk staff type, over a
// region's subtree, from the search indexes kept on apply (no scan).

func (s *Server) searchRoutes(v1 *gin.RouterGroup) {
	v1.GET("/customers/search", allow(rolesToRead("customers")...), s.searchCustomers)
}

func searchOps() []op {
	return []op{{method: "GET", path: "/api/v1/customers/search",
		summary: "Search customers as desk staff type: q is part of a name (one Chinese character or more), a 户号 prefix, part of an address, phone digits (four or more), a feeder, transformer area, grid cell or tag; " +
			"case-, width- (全角/半角) and space-insensitive (NFKC, lower case, white space and punctuation ignored). region (default this node's) and scope (subtree, the default, or region) as other reads: a user searches their own region's subtree only (403 naming region). " +
			"category and status filter; limit (default 20, at most " + strconv.Itoa(crm.MaxLimit) + "); cursor is the next of the previous page. Served from n-gram postings kept on apply and verified on each record; " +
			"a call reads at most a bounded number of index entries and may answer fewer items with partial true and a next cursor to go on. 400 names the field (q too short: fewer than one Chinese character, three letters or four digits)",
		ok: 200, roles: rolesToRead("customers"), query: []string{"q", "region", "scope", "category", "status", "limit", "cursor", "consistency"},
		out: object(map[string]any{"items": map[string]any{"type": "array", "items": ref("Customer")},
			"next": str(), "partial": map[string]any{"type": "boolean"}, "examined": map[string]any{"type": "integer"}})}}
}

func (s *Server) searchCustomers(c *gin.Context) {
	for k, v := range c.Request.URL.Query() {
		switch k {
		case "q", "region", "scope", "category", "status", "limit", "cursor", "consistency":
			if len(v) != 1 {
				fail(c, apiErr(crm.CodeInvalid, k, "give it once"))
				return
			}
		default:
			fail(c, apiErr(crm.CodeInvalid, k, fmt.Sprintf("unknown parameter %q: q, region, scope, category, status, limit, cursor", k)))
			return
		}
	}
	region, subtree, ok := s.scopeOf(c)
	if !ok {
		return
	}
	if c.Query("scope") == "" {
		subtree = true // a search covers the subtree unless told otherwise
	}
	q := crm.SearchQuery{Text: c.Query("q"), Region: region, Subtree: subtree, Category: c.Query("category"), Status: c.Query("status"), After: c.Query("cursor")}
	if q.Limit, ok = limitOf(c, 0); !ok { // 0: the search's own default
		return
	}
	if !s.consistent(c) {
		return
	}
	page, e := crm.SearchCustomers(s.b.Reader(), q)
	if e != nil {
		fail(c, e)
		return
	}
	kind := crm.Kinds["customers"]
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
	fmt.Fprintf(&buf, `,"partial":%t,"examined":%d}`, page.Partial, page.Examined)
	c.Data(200, "application/json", buf.Bytes())
}
