package crm

import (
	"fmt"
	"strings"
)

// Roles a user can hold. What each may do is decided by the API's
// authorisation table, not here.
const (
	RoleAdmin   = "admin"   // everything, including users and cluster membership
	RoleManager = "manager" // writes every domain record of the region
	RoleAgent   = "agent"   // service desk: customers, contacts, interactions, bills
	RoleAnalyst = "analyst" // reads only
	RoleAuditor = "auditor" // reads, exports and verifies the audit trail of its region's subtree; nothing else
)

// Roles lists the roles in a stable order.
var Roles = []string{RoleAdmin, RoleManager, RoleAgent, RoleAnalyst, RoleAuditor}

// SystemActor is the Actor of the node's own writes (the token key, the
// bootstrap admin, logins). No user may be called so.
const SystemActor = "system"

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
		Filters: []string{"role", "region", "username"}, Private: []string{"password_hash"}, Regional: true,
		Standing: []Op{OpCreate, OpUpdate, OpList}, // central administration of users
		OnCreate: bootstrapOnlyWhenEmpty, OnUpdate: userUpdated, OnDelete: userDeleted})
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
	if u.Username == SystemActor {
		return invalid("username", "%q is reserved for the node's own writes", u.Username)
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

// AnyUser reports whether the state holds a user (users never cross links,
// so these are the region's own).
func AnyUser(r Reader) (bool, error) {
	found := false
	p := recordPrefix("users")
	err := r.Iterate(p, prefixEnd(p), func(_, _ []byte) bool { found = true; return false })
	return found, err
}

// bootstrapOnlyWhenEmpty is the users' OnCreate: a user created by the
// system (the bootstrap admin, from the node's admin password) is created
// only in a region without users, decided where it commits, so a password
// given again on a restart never resets or recreates an account.
func bootstrapOnlyWhenEmpty(r Reader, _ Record, cmd *Command) *Error {
	if cmd.Actor != SystemActor {
		return nil
	}
	has, err := AnyUser(r)
	if err != nil {
		return AsError(err)
	}
	if has {
		return &Error{Code: CodeConflict, Field: "username", Message: "the region has users already: the bootstrap admin is created only in a region without users"}
	}
	return nil
}

// userUpdated is the users' OnUpdate. The last active admin of the region
// stays one; a change of password, role, username, region or a disable
// ends every session of the user in the same batch (a re-enabled user logs
// in again).
func userUpdated(tx Txn, old, rec Record, _ *Command) *Error {
	o, n := old.(*User), rec.(*User)
	if activeAdmin(o) && !activeAdmin(n) {
		field := "role"
		if n.Disabled {
			field = "disabled"
		}
		if e := keepAnAdmin(tx, o, field); e != nil {
			return e
		}
	}
	if o.PasswordHash != n.PasswordHash || o.Role != n.Role || o.Username != n.Username || o.Region != n.Region || (n.Disabled && !o.Disabled) {
		_, e := endSessions(tx, n.ID)
		return e
	}
	return nil
}

// userDeleted is the users' OnDelete: the last active admin is not
// deleted; the user's sessions and failed logins go with it.
func userDeleted(tx Txn, old Record, _ *Command) *Error {
	o := old.(*User)
	if activeAdmin(o) {
		if e := keepAnAdmin(tx, o, "id"); e != nil {
			return e
		}
	}
	if _, e := endSessions(tx, o.ID); e != nil {
		return e
	}
	return AsError(tx.Delete(loginKey(o.ID)))
}

func activeAdmin(u *User) bool { return u.Role == RoleAdmin && !u.Disabled }

// keepAnAdmin refuses (409 naming field) a change that would leave u's
// region without an active admin: nobody could then manage users, unlock
// accounts or change membership.
func keepAnAdmin(r Reader, u *User, field string) *Error {
	var ids []string
	p := indexPrefix("users", "role", RoleAdmin)
	if err := r.Iterate(p, prefixEnd(p), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(p):]))
		return true
	}); err != nil {
		return AsError(err)
	}
	for _, id := range ids {
		if id == u.ID {
			continue
		}
		raw, err := r.Get(recordKey("users", id))
		if err != nil {
			return AsError(err)
		}
		other := &User{}
		if raw != nil && unmarshal(raw, other) == nil && activeAdmin(other) && other.Region == u.Region {
			return nil
		}
	}
	what := map[string]string{"role": "demoted", "disabled": "disabled", "id": "deleted"}[field]
	return &Error{Code: CodeConflict, Field: field, Message: fmt.Sprintf("user %s is the last active admin of region %s and cannot be %s: make another user admin first", u.Username, u.Region, what)}
}
