package api

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// Duplicate 户号: the account numbers that customers of two regions or more
// hold, as an upper tier sees them roll up (crm.Duplicates, read from the
// duplicate entries maintained as customers are written and arrive).

func (s *Server) duplicateRoutes(v1 *gin.RouterGroup) {
	v1.GET("/customers/duplicates", allow(rolesToRead("customers")...), s.duplicateAccounts)
}

func accountOps() []op {
	return []op{{method: "GET", path: "/api/v1/customers/duplicates",
		summary: "Account numbers (户号) held by customers of two regions or more in a region's subtree (default: this region's), as they rolled up here; read from an index kept on roll-up, not a scan. limit (default 100, at most " + strconv.Itoa(crm.MaxLimit) + "); more says whether there are others",
		ok:      200, roles: rolesToRead("customers"), query: []string{"region", "limit", "consistency"},
		out: object(map[string]any{"region": str(), "count": map[string]any{"type": "integer"}, "more": map[string]any{"type": "boolean"},
			"duplicates": map[string]any{"type": "array", "items": object(map[string]any{"account_no": str(), "regions": map[string]any{"type": "array", "items": str()},
				"customers": map[string]any{"type": "array", "items": object(map[string]any{"id": str(), "owner": str()})}})}})}}
}

func (s *Server) duplicateAccounts(c *gin.Context) {
	if q := c.Query("scope"); q != "" && q != "subtree" {
		fail(c, apiErr(crm.CodeInvalid, "scope", "duplicates are found across a subtree; leave scope out"))
		return
	}
	region, _, ok := s.scopeOf(c)
	if !ok {
		return
	}
	limit, ok := limitOf(c, 100)
	if !ok {
		return
	}
	if !s.consistent(c) {
		return
	}
	list, more, err := crm.Duplicates(s.b.Reader(), region, limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, gin.H{"region": region, "count": len(list), "more": more, "duplicates": list})
}
