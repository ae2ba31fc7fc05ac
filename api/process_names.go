package api

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/process"
)

// NamedItem is a supervision or warning item with the names a reader
// needs beside its ids: the project's title or the work order's subject,
// the customer's name and 户号, and the account manager's name. Names are
// looked up per listed item (single-key reads), so only for the page
// answered (?limit=, ?offset=).
type NamedItem struct {
	process.Item
	Title        string `json:"title,omitempty"`
	CustomerName string `json:"customer_name,omitempty"`
	AccountNo    string `json:"account_no,omitempty"`
	ManagerName  string `json:"manager_name,omitempty"`
}

// pageOf reads ?limit= (1..crm.MaxLimit, default crm.DefaultLimit) and
// ?offset= (default 0) for a list of n items and answers the bounds.
func pageOf(c *gin.Context, n int) (from, to int, ok bool) {
	limit, ok := limitOf(c, crm.DefaultLimit)
	if !ok {
		return 0, 0, false
	}
	if o := c.Query("offset"); o != "" {
		v, err := strconv.Atoi(o)
		if err != nil || v < 0 {
			fail(c, apiErr(crm.CodeInvalid, "offset", "must be a whole number from 0"))
			return 0, 0, false
		}
		from = v
	}
	from = min(from, n)
	return from, min(n, from+limit), true
}

// nameItems answers items with their names, reading each record named
// once (a page holds at most crm.MaxLimit items).
func (s *Server) nameItems(items []process.Item) []NamedItem {
	r := s.b.Reader()
	type rec struct {
		Name      string `json:"name"`
		Title     string `json:"title"`
		Subject   string `json:"subject"`
		AccountNo string `json:"account_no"`
	}
	cache := map[string]*rec{}
	get := func(coll, id string) *rec {
		if id == "" {
			return &rec{}
		}
		k := coll + "/" + id
		if v, ok := cache[k]; ok {
			return v
		}
		v := &rec{}
		if raw, e := crm.Get(r, coll, id); e == nil {
			_ = json.Unmarshal(raw, v)
		}
		cache[k] = v
		return v
	}
	out := make([]NamedItem, len(items))
	for i, it := range items {
		n := NamedItem{Item: it}
		switch it.Type {
		case "project_stage":
			n.Title = get("projects", it.ID).Title
		case "work_order":
			n.Title = get("work_orders", it.ID).Subject
		}
		cu := get("customers", it.CustomerID)
		n.CustomerName, n.AccountNo = cu.Name, cu.AccountNo
		n.ManagerName = get("staff", it.ManagerID).Name
		out[i] = n
	}
	return out
}
