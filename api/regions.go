package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// RegionInfo is a region as GET /api/v1/regions/{code} shows it.
type RegionInfo = crm.RegionState

// regionCode reads :code and checks that the caller may read it.
func (s *Server) regionCode(c *gin.Context) (string, bool) {
	code := c.Param("code")
	if !crm.ValidRegion(code) {
		fail(c, apiErr(crm.CodeInvalid, "code", fmt.Sprintf("%q is not a GB/T 2260 region code", code)))
		return "", false
	}
	if u := who(c).User; !crm.InRegion(code, u.Region) {
		fail(c, &crm.Error{Code: codeForbidden, Field: "code", Owner: code,
			Message: fmt.Sprintf("user %s of region %s may see region %s and its subtree only, not %s", u.Username, u.Region, u.Region, code)})
		return "", false
	}
	if !crm.InRegion(code, s.cfg.Region) && !crm.InRegion(s.cfg.Region, code) {
		fail(c, &crm.Error{Code: crm.CodeWrongOwner, Field: "code", Owner: code,
			Message: fmt.Sprintf("this node serves region %s; region %s is on another branch", s.cfg.Region, code)})
		return "", false
	}
	return code, true
}

func (s *Server) getRegion(c *gin.Context) {
	code, ok := s.regionCode(c)
	if !ok || !s.consistent(c) {
		return
	}
	info, err := crm.RegionStateOf(s.b.Reader(), code)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(200, info)
}

// listRegions answers this region and every region below it that has a
// management setting or records here.
func (s *Server) listRegions(c *gin.Context) {
	if !s.consistent(c) {
		return
	}
	r := s.b.Reader()
	codes := map[string]bool{s.cfg.Region: true}
	_ = r.Iterate([]byte(keyspace.MgmtPrefix), []byte(keyspace.End(keyspace.MgmtPrefix)), func(k, _ []byte) bool {
		codes[strings.TrimPrefix(string(k), keyspace.MgmtPrefix)] = true
		return true
	})
	if sum, err := crm.Summarize(r, s.cfg.Region, true); err == nil {
		for _, reg := range sum.Regions {
			codes[reg] = true
		}
	}
	u := who(c).User
	var out []RegionInfo
	for code := range codes {
		if !crm.InRegion(code, u.Region) || !crm.InRegion(code, s.cfg.Region) {
			continue
		}
		info, err := crm.RegionStateOf(r, code)
		if err != nil {
			fail(c, err)
			return
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	c.JSON(200, gin.H{"regions": out})
}

// putManagement sets a child region's management mode (at its parent).
func (s *Server) putManagement(c *gin.Context) {
	code, ok := s.regionCode(c)
	if !ok {
		return
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		fail(c, err)
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		fail(c, apiErr(crm.CodeInvalid, "", "the body must be a JSON object: "+err.Error()))
		return
	}
	if _, has := req["region"]; has {
		fail(c, apiErr(crm.CodeInvalid, "region", "the region is the one in the path; leave it out of the body"))
		return
	}
	req["region"], _ = json.Marshal(code)
	cmdBody, _ := json.Marshal(req)
	s.proposeOp(c, crm.OpManage, cmdBody)
}

// proposeOp proposes a command of op with body, here, and answers the
// record it returns.
func (s *Server) proposeOp(c *gin.Context, op crm.Op, body []byte) {
	res, ok := s.commit(c, &crm.Command{Op: op, Body: body})
	if !ok {
		return
	}
	if res.Record == nil {
		c.Status(204)
		return
	}
	c.Data(200, "application/json", res.Record)
}

func (s *Server) listConflicts(c *gin.Context) {
	region, _, ok := s.scopeOf(c)
	if !ok || !s.consistent(c) {
		return
	}
	status := c.DefaultQuery("status", "open")
	if status != "open" && status != "all" {
		fail(c, apiErr(crm.CodeInvalid, "status", "must be open or all"))
		return
	}
	cs, err := crm.Conflicts(s.b.Reader(), region, status == "open")
	if err != nil {
		fail(c, err)
		return
	}
	if cs == nil {
		cs = []crm.Conflict{}
	}
	c.JSON(200, gin.H{"conflicts": cs})
}

func (s *Server) resolveConflict(c *gin.Context) {
	body, err := readBody(c, 1<<20)
	if err != nil {
		fail(c, err)
		return
	}
	s.proposeOp(c, crm.OpResolve, body)
}
