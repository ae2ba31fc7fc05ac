package api

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// forwardTarget answers the child region a write must be forwarded to: the
// record (or, for a create, the region it names or the customer it belongs
// to) is owned below this region and the tier rules route the write there
// (tiers.RouteWrite: a child under partial management with the collection
// granted, or a standing write). "" means: propose here as usual (and the
// state machine refuses what this region may not write, naming the owner).
func (s *Server) forwardTarget(kind *crm.Kind, cmd *crm.Command) string {
	if !crm.Managed(kind.Name) && !crm.Standing(kind.Name, cmd.Op) {
		return ""
	}
	r := s.b.Reader()
	var owner string
	if cmd.Op == crm.OpCreate {
		var b struct {
			Region     string `json:"region"`
			CustomerID string `json:"customer_id"`
		}
		_ = json.Unmarshal(cmd.Body, &b)
		owner = b.Region
		if owner == "" && b.CustomerID != "" {
			raw, _ := r.Get([]byte(keyspace.Record("customers", b.CustomerID)))
			owner = crm.RecordOwner(raw)
		}
	} else {
		raw, _ := r.Get([]byte(keyspace.Record(kind.Name, cmd.ID)))
		owner = crm.RecordOwner(raw)
	}
	return s.routeTo(owner, kind.Name, cmd.Op)
}

// actionTarget answers the region a stage action or transition on record
// id must be forwarded to: a work order owned below this region (unified
// acceptance, layered handling: an upper tier may act on the orders it
// supervises), or a record of a child under partial management with the
// collection granted. "" means: propose here.
func (s *Server) actionTarget(kind *crm.Kind, id string) string {
	raw, _ := s.b.Reader().Get([]byte(keyspace.Record(kind.Name, id)))
	return s.routeTo(crm.RecordOwner(raw), kind.Name, crm.OpAction)
}

// routeTo answers owner when the tier rules forward a write of op to a
// record of coll owned by owner from this region; "" otherwise (also when
// the management cannot be read: the state machine then decides).
func (s *Server) routeTo(owner, coll string, op crm.Op) string {
	if owner == "" || owner == s.cfg.Region || !crm.InRegion(owner, s.cfg.Region) {
		return ""
	}
	if route, err := crm.RouteOf(s.b.Reader(), s.cfg.Region, owner, coll, op); err != nil || route != tiers.Forward {
		return ""
	}
	return owner
}

// forwardDown commits the write as a command for child (durable and
// ordered in this region's raft log; the downlink delivers it) and waits
// for the child's outcome: the child's answer when it comes within
// ForwardWait, else 202 with the pending command.
func (s *Server) forwardDown(c *gin.Context, child string, kind *crm.Kind, cmd *crm.Command, status int) {
	req := crm.ForwardRequest{Region: child, Op: cmd.Op, Collection: kind.Name, RecordID: cmd.ID, Version: cmd.Version, Body: cmd.Body}
	body, _ := json.Marshal(req)
	fwd := &crm.Command{Op: crm.OpForward, ID: crm.NewID("cmd", time.Now()), Body: body}
	if _, ok := s.commit(c, fwd); !ok {
		return
	}
	c.Header("X-Gridcrm-Forwarded-To", child)
	c.Header("X-Gridcrm-Command", fwd.ID)
	deadline := time.Now().Add(s.cfg.ForwardWait)
	for {
		v, err := crm.CommandOf(s.b.Reader(), fwd.ID)
		if err != nil {
			fail(c, err)
			return
		}
		switch {
		case v != nil && v.Status == crm.CommandRefused:
			fail(c, v.Error)
			return
		case v != nil && v.Status == crm.CommandApplied:
			if cmd.Op == crm.OpCreate {
				c.Header("Location", "/api/v1/"+kind.Name+"/"+cmd.ID)
			}
			if v.Record == nil {
				c.Status(status)
			} else {
				c.Data(status, "application/json", kind.Public(v.Record))
			}
			return
		}
		if time.Now().After(deadline) {
			c.JSON(202, v.Public())
			return
		}
		select {
		case <-c.Request.Context().Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) listCommands(c *gin.Context) {
	region, _, ok := s.scopeOf(c)
	if !ok || !s.consistent(c) {
		return
	}
	status := c.DefaultQuery("status", "")
	if status != "" && status != crm.CommandPending && status != "done" {
		fail(c, apiErr(crm.CodeInvalid, "status", "must be pending or done (or absent for all)"))
		return
	}
	limit, ok := limitOf(c, crm.MaxLimit) // a page as large as a list may be: before pages, this list answered every command
	if !ok {
		return
	}
	after := c.Query("after")
	if after != "" && !strings.HasPrefix(after, "cmd_") {
		fail(c, apiErr(crm.CodeInvalid, "after", "must be a command id (the next of the previous page)"))
		return
	}
	page, err := crm.ForwardedCommandsPage(s.b.Reader(), region, status, after, limit)
	if err != nil {
		fail(c, err)
		return
	}
	cs := make([]crm.CommandView, len(page.Items))
	for i, v := range page.Items {
		cs[i] = v.Public()
	}
	var next any
	if page.Next != "" {
		next = page.Next
	}
	c.JSON(200, gin.H{"commands": cs, "next": next})
}

func (s *Server) getCommand(c *gin.Context) {
	if !s.consistent(c) {
		return
	}
	v, err := crm.CommandOf(s.b.Reader(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	if v == nil || !crm.InRegion(v.Region, who(c).User.Region) {
		fail(c, apiErr(crm.CodeNotFound, "id", "no forwarded command "+c.Param("id")))
		return
	}
	c.JSON(200, v.Public())
}
