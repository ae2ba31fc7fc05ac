package crm

import (
	"net/mail"
	"strings"
	"time"
)

// Staff roles.
var StaffRoles = []string{"account_manager", "gold_manager", "back_office", "service_agent", "supervisor"}

// Staff is an employee of a region: account managers (客户经理, "gold" 金牌
// managers for key customers), back-office members, service desk agents.
type Staff struct {
	Meta
	StaffNo string `json:"staff_no"` // unique per region
	Name    string `json:"name"`
	Role    string `json:"role"` // one of StaffRoles
	Region  string `json:"region"`
	Team    string `json:"team,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Active  *bool  `json:"active,omitempty"` // default true
}

func init() {
	register(&Kind{Name: "staff", IDPrefix: "stf", New: func() Record { return &Staff{} },
		Filters: []string{"region", "role", "team"}, Regional: true, Children: []Child{{"interactions", "staff_id"}}})
}

// Normalize implements Record.
func (s *Staff) Normalize() {
	for _, p := range []*string{&s.StaffNo, &s.Name, &s.Region, &s.Team, &s.Phone, &s.Email} {
		trim(p)
	}
	s.Role = strings.ToLower(strings.TrimSpace(s.Role))
	if s.Active == nil {
		t := true
		s.Active = &t
	}
}

// Validate implements Record.
func (s *Staff) Validate() *Error {
	if s.StaffNo == "" {
		return invalid("staff_no", "is required")
	}
	if !accountNoRe.MatchString(s.StaffNo) {
		return invalid("staff_no", "%q must be 1-32 letters, digits or '-'", s.StaffNo)
	}
	if e := firstErr(required("name", s.Name, 64), oneOf("role", s.Role, StaffRoles...)); e != nil {
		return e
	}
	if e := regionField(s.Region); e != nil {
		return e
	}
	return firstErr(maxLen("team", s.Team, 64), phone(s.Phone), email(s.Email))
}

// Indexes implements Record.
func (s *Staff) Indexes() []Index {
	idx := []Index{{"region", s.Region}, {"role", s.Role}, {OwnerIndex, s.Owner}}
	if s.Team != "" {
		idx = append(idx, Index{"team", s.Team})
	}
	return idx
}

// Uniques implements Record.
func (s *Staff) Uniques() []Unique {
	return []Unique{{Name: "staff_no", Scope: s.Region, Value: s.StaffNo, Field: "staff_no"}}
}

// Refs implements Record.
func (s *Staff) Refs() []Ref { return nil }

// Contact is a person at a customer.
type Contact struct {
	Meta
	CustomerID string `json:"customer_id"`
	Name       string `json:"name"`
	Title      string `json:"title,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	Primary    bool   `json:"primary,omitempty"`
}

func init() {
	register(&Kind{Name: "contacts", IDPrefix: "con", New: func() Record { return &Contact{} },
		Filters: []string{"customer_id"}})
}

// Normalize implements Record.
func (c *Contact) Normalize() {
	for _, p := range []*string{&c.CustomerID, &c.Name, &c.Title, &c.Phone, &c.Email} {
		trim(p)
	}
}

// Validate implements Record.
func (c *Contact) Validate() *Error {
	if e := customerRef(c.CustomerID); e != nil {
		return e
	}
	if e := firstErr(required("name", c.Name, 64), maxLen("title", c.Title, 64), phone(c.Phone), email(c.Email)); e != nil {
		return e
	}
	if c.Phone == "" && c.Email == "" {
		return invalid("phone", "a contact needs a phone or an email")
	}
	return nil
}

// Indexes implements Record.
func (c *Contact) Indexes() []Index {
	return []Index{{"customer_id", c.CustomerID}, {OwnerIndex, c.Owner}}
}

// Uniques implements Record.
func (c *Contact) Uniques() []Unique { return nil }

// Refs implements Record.
func (c *Contact) Refs() []Ref { return []Ref{{"customer_id", "customers", c.CustomerID}} }

// Interaction kinds.
var InteractionKinds = []string{"visit", "call", "meeting", "sms", "email", "other"}

// Interaction is one contact with a customer: a visit, call or meeting.
type Interaction struct {
	Meta
	CustomerID string    `json:"customer_id"`
	StaffID    string    `json:"staff_id,omitempty"`
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
	Summary    string    `json:"summary"`
	Outcome    string    `json:"outcome,omitempty"`
}

func init() {
	register(&Kind{Name: "interactions", IDPrefix: "int", New: func() Record { return &Interaction{} },
		Filters: []string{"customer_id", "staff_id", "kind"}})
}

// Normalize implements Record.
func (i *Interaction) Normalize() {
	for _, p := range []*string{&i.CustomerID, &i.StaffID, &i.Summary, &i.Outcome} {
		trim(p)
	}
	i.Kind = strings.ToLower(strings.TrimSpace(i.Kind))
	i.At = i.At.UTC()
}

// Validate implements Record.
func (i *Interaction) Validate() *Error {
	if e := customerRef(i.CustomerID); e != nil {
		return e
	}
	if i.StaffID != "" && !Kinds["staff"].ValidID(i.StaffID) {
		return invalid("staff_id", "%q is not a staff id", i.StaffID)
	}
	if e := oneOf("kind", i.Kind, InteractionKinds...); e != nil {
		return e
	}
	if i.At.IsZero() {
		return invalid("at", "is required (RFC 3339 time)")
	}
	return firstErr(required("summary", i.Summary, 2000), maxLen("outcome", i.Outcome, 2000))
}

// Indexes implements Record.
func (i *Interaction) Indexes() []Index {
	idx := []Index{{"customer_id", i.CustomerID}, {"kind", i.Kind}, {OwnerIndex, i.Owner}}
	if i.StaffID != "" {
		idx = append(idx, Index{"staff_id", i.StaffID})
	}
	return idx
}

// Uniques implements Record.
func (i *Interaction) Uniques() []Unique { return nil }

// Refs implements Record.
func (i *Interaction) Refs() []Ref {
	refs := []Ref{{"customer_id", "customers", i.CustomerID}}
	if i.StaffID != "" {
		refs = append(refs, Ref{"staff_id", "staff", i.StaffID})
	}
	return refs
}

func regionField(r string) *Error {
	if r == "" {
		return invalid("region", "is required (GB/T 2260 code such as 320722)")
	}
	if !ValidRegion(r) {
		return invalid("region", "%q is not a GB/T 2260 region code (2, 4 or 6 digits, e.g. 320722)", r)
	}
	return nil
}

func customerRef(id string) *Error {
	if id == "" {
		return invalid("customer_id", "is required")
	}
	if !Kinds["customers"].ValidID(id) {
		return invalid("customer_id", "%q is not a customer id", id)
	}
	return nil
}

func phone(p string) *Error {
	if p != "" && !phoneRe.MatchString(p) {
		return invalid("phone", "%q is not a phone number", p)
	}
	return nil
}

func email(e string) *Error {
	if e == "" {
		return nil
	}
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
		return invalid("email", "%q is not an e-mail address", e)
	}
	return nil
}
