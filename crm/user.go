package crm

import "strings"

// Roles a user can hold. What each may do is decided by the API's
// authorisation table, not here.
const (
	RoleAdmin   = "admin"   // everything, including users and cluster membership
	RoleManager = "manager" // writes every domain record of the region
	RoleAgent   = "agent"   // service desk: customers, contacts, interactions, bills
	RoleAnalyst = "analyst" // reads only
)

// Roles lists the roles in a stable order.
var Roles = []string{RoleAdmin, RoleManager, RoleAgent, RoleAnalyst}

// User is someone who logs in. The password is hashed by the API before the
// command is proposed; PasswordHash is never returned by the API.
type User struct {
	Meta
	Username     string `json:"username"`
	DisplayName  string `json:"display_name,omitempty"`
	Role         string `json:"role"`
	Region       string `json:"region"`
	PasswordHash string `json:"password_hash,omitempty"`
	Disabled     bool   `json:"disabled,omitempty"`
}

func init() {
	register(&Kind{Name: "users", IDPrefix: "usr", New: func() Record { return &User{} },
		Filters: []string{"role", "region", "username"}, Private: []string{"password_hash"}, Regional: true})
}

// Normalize implements Record.
func (u *User) Normalize() {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Role = strings.ToLower(strings.TrimSpace(u.Role))
	trim(&u.DisplayName)
	trim(&u.Region)
}

// Validate implements Record.
func (u *User) Validate() *Error {
	if u.Username == "" {
		return invalid("username", "is required")
	}
	if !usernameRe.MatchString(u.Username) {
		return invalid("username", "%q must be 2-32 lower-case letters, digits, '_', '.' or '-', starting with a letter", u.Username)
	}
	if e := firstErr(maxLen("display_name", u.DisplayName, 64), oneOf("role", u.Role, Roles...), regionField(u.Region)); e != nil {
		return e
	}
	if u.PasswordHash == "" {
		return invalid("password", "is required")
	}
	return nil
}

// Indexes implements Record.
func (u *User) Indexes() []Index {
	return []Index{{"role", u.Role}, {"region", u.Region}, {"username", u.Username}, {OwnerIndex, u.Owner}}
}

// Uniques implements Record: usernames are unique in the region's state.
func (u *User) Uniques() []Unique {
	return []Unique{{Name: "username", Value: u.Username, Field: "username"}}
}

// Refs implements Record.
func (u *User) Refs() []Ref { return nil }

// UserByName finds a user by username; nil if there is none.
func UserByName(r Reader, username string) (*User, error) {
	id, err := r.Get(uniqueKey("users", "username", "", strings.ToLower(strings.TrimSpace(username))))
	if err != nil || id == nil {
		return nil, err
	}
	raw, err := r.Get(recordKey("users", string(id)))
	if err != nil || raw == nil {
		return nil, err
	}
	u := &User{}
	if err := unmarshal(raw, u); err != nil {
		return nil, err
	}
	return u, nil
}
