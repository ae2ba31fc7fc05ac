package api

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// The console's 管理 page (console/static/pages/management.js): what a
// city's or the province's admin manages below. One guarded read answers
// the children with their mode and epoch, the commands forwarded to them
// still pending, and the open conflicts kept here; changing a mode and
// resolving a conflict use PUT /regions/{code}/management and POST
// /conflicts/resolve.

// managementPageLimit bounds the pending commands and conflicts one answer
// carries (the counts are whole).
const managementPageLimit = 200

func (s *Server) managementRoutes(v1 *gin.RouterGroup) {
	v1.GET("/management", allow(adminOnly...), s.management)
}

func managementOps() []op {
	return []op{
		{method: "GET", path: "/api/v1/management", summary: "The console's management page: each region directly below this one (or below the admin's region, when deeper) with its management mode, epoch, writer and counts; the commands forwarded down still pending and the open conflicts kept here (both versions, who and when), first 200 of each. Admins only (403 to other roles); at a county manages is false, with the reason",
			ok: 200, roles: adminOnly, query: []string{"consistency"}},
	}
}

// ManagedChild is one region below as the management page shows it.
type ManagedChild struct {
	crm.RegionState
	Name string `json:"name"`
	Tier string `json:"tier"`
}

func (s *Server) management(c *gin.Context) {
	region := s.cfg.Region
	if u := who(c).User; len(u.Region) > len(region) && crm.InRegion(u.Region, region) {
		region = u.Region
	}
	ref := regionRef(region)
	if tiers.RegionCode(region).Tier() == tiers.County {
		// Nothing below to manage: the page says so (无权查看) as it does for a refusal.
		c.JSON(200, gin.H{"region": region, "name": ref.Name, "tier": ref.Tier, "manages": false,
			"reason":   fmt.Sprintf("region %s is a county: it has no region below to manage (management is at a city or the province)", region),
			"children": []ManagedChild{}, "pending_commands": []crm.CommandView{}, "pending_count": 0, "conflicts": []crm.Conflict{}, "conflict_count": 0})
		return
	}
	if !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	codes := map[string]bool{}
	child := func(code string) {
		if tiers.RegionCode(code).Parent() == tiers.RegionCode(region) {
			codes[code] = true
		}
	}
	_ = r.Iterate([]byte(keyspace.MgmtPrefix), []byte(keyspace.End(keyspace.MgmtPrefix)), func(k, _ []byte) bool {
		child(strings.TrimPrefix(string(k), keyspace.MgmtPrefix))
		return true
	})
	sum, err := crm.Summarize(r, region, true)
	if err != nil {
		fail(c, err)
		return
	}
	for _, reg := range sum.Regions {
		// a county's records also name its city as a child of the province
		for _, a := range append(tiers.RegionCode(reg).Ancestors(), tiers.RegionCode(reg)) {
			child(string(a))
		}
	}
	children := []ManagedChild{}
	for code := range codes {
		st, err := crm.RegionStateOf(r, code)
		if err != nil {
			fail(c, err)
			return
		}
		ref := regionRef(code)
		children = append(children, ManagedChild{RegionState: st, Name: ref.Name, Tier: ref.Tier})
	}
	sort.Slice(children, func(i, j int) bool { return children[i].Region < children[j].Region })
	pending, err := crm.ForwardedCommands(r, region, crm.CommandPending)
	if err != nil {
		fail(c, err)
		return
	}
	conflicts, err := crm.Conflicts(r, region, true)
	if err != nil {
		fail(c, err)
		return
	}
	np, nc := len(pending), len(conflicts)
	pending, conflicts = pending[:min(np, managementPageLimit)], conflicts[:min(nc, managementPageLimit)]
	for i := range pending {
		pending[i] = pending[i].Public()
	}
	if pending == nil {
		pending = []crm.CommandView{}
	}
	if conflicts == nil {
		conflicts = []crm.Conflict{}
	}
	c.JSON(200, gin.H{"region": region, "name": ref.Name, "tier": ref.Tier, "manages": true, "children": children,
		"pending_commands": pending, "pending_count": np, "conflicts": conflicts, "conflict_count": nc})
}
