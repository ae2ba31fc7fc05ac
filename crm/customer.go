package crm

import "strings"

// Customer categories (用电类别).
const (
	CategoryResidential  = "residential"  // 居民
	CategoryCommercial   = "commercial"   // 商业
	CategoryIndustrial   = "industrial"   // 大工业/一般工商业
	CategoryAgricultural = "agricultural" // 农业
	CategoryPublic       = "public"       // 机关/公共
)

// Categories lists the customer categories in a stable order.
var Categories = []string{CategoryResidential, CategoryCommercial, CategoryIndustrial, CategoryAgricultural, CategoryPublic}

// Customer statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusClosed    = "closed"
)

// SupplyVoltages are the standard supply voltages in kV.
var SupplyVoltages = []float64{0.22, 0.38, 0.4, 6, 10, 20, 35, 66, 110, 220, 330, 500}

// Customer is a consumer of electricity (客户/用电户) with its account (户号).
type Customer struct {
	Meta
	AccountNo   string   `json:"account_no"`   // 户号, unique per region
	Name        string   `json:"name"`         // customer or company name
	Category    string   `json:"category"`     // one of Categories
	VoltageKV   float64  `json:"voltage_kv"`   // supply voltage, one of SupplyVoltages
	CapacityKVA float64  `json:"capacity_kva"` // contracted capacity
	Industry    string   `json:"industry,omitempty"`
	Address     string   `json:"address,omitempty"`
	Region      string   `json:"region"` // GB/T 2260 code of the region the customer belongs to
	Grid        string   `json:"grid,omitempty"`
	Phone       string   `json:"phone,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Status      string   `json:"status"` // active (default), suspended, closed
	// ContractEnd is the day the supply contract (供用电合同) ends, if
	// known; a business customer's churn risk reads it.
	ContractEnd Date `json:"contract_end,omitempty"`
	// Where the customer is supplied from (outages find the customers they
	// affect by these); optional.
	Feeder          string `json:"feeder,omitempty"`           // 线路: the 10 kV feeder
	TransformerArea string `json:"transformer_area,omitempty"` // 台区: the distribution transformer area
}

func init() {
	register(&Kind{Name: "customers", IDPrefix: "cus", New: func() Record { return &Customer{} },
		Filters: []string{"region", "category", "status", "grid", "account_no", "feeder", "transformer_area"}, Regional: true,
		Children: []Child{{"bills", "customer_id"}, {"contacts", "customer_id"}, {"interactions", "customer_id"}, {"violations", "customer_id"}, {"capacity_changes", "customer_id"}},
		Check:    WithStateChange((*Customer).checkStateChange), Counters: customerCounters})
}

// Normalize implements Record.
func (c *Customer) Normalize() {
	trim(&c.AccountNo)
	trim(&c.Name)
	trim(&c.Industry)
	trim(&c.Address)
	trim(&c.Region)
	trim(&c.Grid)
	trim(&c.Phone)
	trim(&c.Feeder)
	trim(&c.TransformerArea)
	c.ContractEnd = Date(strings.TrimSpace(string(c.ContractEnd)))
	c.Category = strings.ToLower(strings.TrimSpace(c.Category))
	c.Status = strings.ToLower(strings.TrimSpace(c.Status))
	if c.Status == "" {
		c.Status = StatusActive
	}
	tags := c.Tags[:0]
	seen := map[string]bool{}
	for _, t := range c.Tags {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	c.Tags = tags
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
}

// Validate implements Record.
func (c *Customer) Validate() *Error {
	if c.AccountNo == "" {
		return invalid("account_no", "is required")
	}
	if !accountNoRe.MatchString(c.AccountNo) {
		return invalid("account_no", "%q must be 1-32 letters, digits or '-', starting with a letter or digit", c.AccountNo)
	}
	if e := firstErr(required("name", c.Name, 100), oneOf("category", c.Category, Categories...)); e != nil {
		return e
	}
	if c.VoltageKV == 0 {
		return invalid("voltage_kv", "is required; one of 0.22, 0.38, 0.4, 6, 10, 20, 35, 66, 110, 220, 330, 500")
	}
	ok := false
	for _, v := range SupplyVoltages {
		if c.VoltageKV == v {
			ok = true
		}
	}
	if !ok {
		return invalid("voltage_kv", "%v kV is not a standard supply voltage (0.22, 0.38, 0.4, 6, 10, 20, 35, 66, 110, 220, 330, 500)", c.VoltageKV)
	}
	if e := nonNegative("capacity_kva", c.CapacityKVA, 10_000_000); e != nil {
		return e
	}
	if c.Region == "" {
		return invalid("region", "is required (GB/T 2260 code such as 320722)")
	}
	if !ValidRegion(c.Region) {
		return invalid("region", "%q is not a GB/T 2260 region code (2, 4 or 6 digits, e.g. 320722)", c.Region)
	}
	if e := firstErr(maxLen("industry", c.Industry, 64), maxLen("address", c.Address, 200), maxLen("grid", c.Grid, 64)); e != nil {
		return e
	}
	if e := firstErr(maxLen("feeder", c.Feeder, 64), maxLen("transformer_area", c.TransformerArea, 64)); e != nil {
		return e
	}
	if c.TransformerArea != "" && c.Feeder == "" {
		return invalid("feeder", "is required with transformer_area: an area is supplied by a feeder")
	}
	if c.Phone != "" && !phoneRe.MatchString(c.Phone) {
		return invalid("phone", "%q is not a phone number", c.Phone)
	}
	if e := validDate("contract_end", c.ContractEnd, true); e != nil {
		return e
	}
	if len(c.Tags) > 20 {
		return invalid("tags", "has %d tags; at most 20 allowed", len(c.Tags))
	}
	for _, t := range c.Tags {
		if e := maxLen("tags", t, 32); e != nil {
			return e
		}
	}
	return oneOf("status", c.Status, StatusActive, StatusSuspended, StatusClosed)
}

// Indexes implements Record.
func (c *Customer) Indexes() []Index {
	idx := append(make([]Index, 0, 6), Index{"region", c.Region}, Index{"category", c.Category}, Index{"status", c.Status}, Index{"account_no", c.AccountNo}, Index{OwnerIndex, c.Owner})
	if c.Grid != "" {
		idx = append(idx, Index{"grid", c.Grid})
	}
	if c.Feeder != "" {
		idx = append(idx, Index{"feeder", c.Feeder})
	}
	if c.TransformerArea != "" {
		idx = append(idx, Index{"transformer_area", c.TransformerArea})
	}
	return idx // the search index's entries are written apart (search.go: searchChange)
}

// Uniques implements Record: the account number is unique per region.
func (c *Customer) Uniques() []Unique {
	return []Unique{{Name: "account_no", Scope: c.Region, Value: c.AccountNo, Field: "account_no"}}
}

// Refs implements Record.
func (c *Customer) Refs() []Ref { return nil }
