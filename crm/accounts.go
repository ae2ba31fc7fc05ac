package crm

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"gridcrm/store/keyspace"
)

// 户号 (account_no) is unique within a region (Customer.Uniques), but two
// regions can each accept the same one. An upper tier sees both copies
// roll up, so it keeps, for every account number it holds, who holds it
// (account members: customer id → owner region) and, for the numbers held
// by two regions or more, a duplicate entry. Both are maintained as each
// customer is written here or arrives over a link (ApplyReplica), reading
// and writing single keys only, so listing the duplicates reads the
// duplicate entries and nothing else (Duplicates). A county cut off from
// its parent cannot see the other regions: the detection is the upper
// tiers'.
//
// An optional rule makes collisions impossible for new numbers: an
// account_prefix directive ({"prefix": "0722"}) requires the account
// numbers of the customers of its scope to begin with the prefix (the
// narrowest scope's directive holds), checked when a customer is created
// or its account_no changes.

// The index fields (in the customers' index space, never record fields).
const (
	accountMembers = "_acct"     // x/customers/_acct/<account_no>\0 → {"<id>": "<owner>"}
	accountDupes   = "_acct_dup" // x/customers/_acct_dup/<account_no>\0 → the same, only when two owners or more
)

// noteAccount records that customer id of owner holds account number acct
// (present) or no longer does, and keeps acct's duplicate entry.
func noteAccount(tx Txn, acct, id, owner string, present bool) error {
	if acct == "" || id == "" {
		return nil
	}
	key := []byte(keyspace.IndexValue("customers", accountMembers, cleanNUL(acct)))
	raw, err := tx.Get(key)
	if err != nil {
		return err
	}
	m := map[string]string{}
	if raw != nil {
		_ = json.Unmarshal(raw, &m)
	}
	if present {
		if m[id] == owner {
			return nil
		}
		m[id] = owner
	} else {
		if _, ok := m[id]; !ok {
			return nil
		}
		delete(m, id)
	}
	dup := []byte(keyspace.IndexValue("customers", accountDupes, cleanNUL(acct)))
	if len(m) == 0 {
		if err := tx.Delete(key); err != nil {
			return err
		}
		return tx.Delete(dup)
	}
	out, _ := json.Marshal(m) // map keys marshal sorted: the same bytes on every replica
	if err := tx.Set(key, out); err != nil {
		return err
	}
	if len(ownersOf(m, "")) >= 2 {
		return tx.Set(dup, out)
	}
	return tx.Delete(dup)
}

// accountChange keeps the account index for a customer record changing
// from old to new (either nil: created or deleted; both stored JSON).
func accountChange(tx Txn, old, new []byte) error {
	var o, n struct {
		ID        string `json:"id"`
		Owner     string `json:"owner"`
		AccountNo string `json:"account_no"`
	}
	if old != nil {
		_ = json.Unmarshal(old, &o)
	}
	if new != nil {
		_ = json.Unmarshal(new, &n)
	}
	if o.AccountNo != "" && (n.AccountNo != o.AccountNo || n.ID != o.ID) {
		if err := noteAccount(tx, o.AccountNo, o.ID, o.Owner, false); err != nil {
			return err
		}
	}
	if n.AccountNo != "" {
		return noteAccount(tx, n.AccountNo, n.ID, n.Owner, true)
	}
	return nil
}

// customerWritten keeps the account index for customer c written over old
// (nil on create).
func customerWritten(tx Txn, old Record, c *Customer) error {
	if o, ok := old.(*Customer); ok && (o.AccountNo != c.AccountNo || o.Owner != c.Owner) {
		if err := noteAccount(tx, o.AccountNo, o.ID, o.Owner, false); err != nil {
			return err
		}
	}
	return noteAccount(tx, c.AccountNo, c.ID, c.Owner, true)
}

// ownersOf answers the distinct owners in m that lie in region ("" for
// all), sorted.
func ownersOf(m map[string]string, region string) []string {
	seen := map[string]bool{}
	var out []string
	for _, owner := range m {
		if !seen[owner] && (region == "" || InRegion(owner, region)) {
			seen[owner] = true
			out = append(out, owner)
		}
	}
	sort.Strings(out)
	return out
}

// DuplicateAccount is one account number held by customers of two regions
// or more.
type DuplicateAccount struct {
	AccountNo string           `json:"account_no"`
	Regions   []string         `json:"regions"`
	Customers []AccountHolding `json:"customers"`
}

// AccountHolding is one customer holding a duplicated account number.
type AccountHolding struct {
	ID    string `json:"id"`
	Owner string `json:"owner"`
}

// Duplicates lists the account numbers held by customers of two regions
// or more within region's subtree, in account order, from the duplicate
// entries alone (at most limit, then more is true).
func Duplicates(r Reader, region string, limit int) (out []DuplicateAccount, more bool, err error) {
	prefix := []byte(keyspace.IndexField("customers", accountDupes))
	out = []DuplicateAccount{}
	var ferr error
	err = r.Iterate(prefix, prefixEnd(prefix), func(k, v []byte) bool {
		acct := strings.TrimSuffix(string(k[len(prefix):]), "\x00")
		m := map[string]string{}
		if ferr = json.Unmarshal(v, &m); ferr != nil {
			return false
		}
		regions := ownersOf(m, region)
		if len(regions) < 2 {
			return true
		}
		if len(out) == limit {
			more = true
			return false
		}
		d := DuplicateAccount{AccountNo: acct, Regions: regions}
		for id, owner := range m {
			if InRegion(owner, region) {
				d.Customers = append(d.Customers, AccountHolding{ID: id, Owner: owner})
			}
		}
		sort.Slice(d.Customers, func(i, j int) bool { return d.Customers[i].ID < d.Customers[j].ID })
		out = append(out, d)
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, more, err
}

// AccountPrefix is the body of an account_prefix directive.
type AccountPrefix struct {
	Prefix string `json:"prefix"`
}

var accountPrefixRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,15}$`)

func init() {
	RegisterDirectiveBody("account_prefix", func(d *Directive) *Error { return checkAccountPrefix(d.Body) })
}

func checkAccountPrefix(body []byte) *Error {
	if len(body) == 0 {
		return invalid("body", `is required: {"prefix": "0722"}, the beginning every account_no in the scope must have`)
	}
	var p AccountPrefix
	if e := DecodeStrict(body, &p); e != nil {
		e.Field = "body." + strings.TrimPrefix(e.Field, "body.")
		return e
	}
	if !accountPrefixRE.MatchString(p.Prefix) {
		return invalid("body.prefix", "%q must be 1-16 letters, digits or '-', starting with a letter or digit", p.Prefix)
	}
	return nil
}

// accountPrefixFor answers the account-number prefix required in region
// (the narrowest account_prefix directive addressed to it, the latest of
// that scope) and the directive that requires it; "" when none does.
func accountPrefixFor(r Reader, region string) (prefix, directive string, err error) {
	ds, err := directivesOf(r, "account_prefix", region)
	if err != nil {
		return "", "", err
	}
	for _, d := range ds { // broadest first: the last one wins
		var p AccountPrefix
		if json.Unmarshal(d.Body, &p) == nil && p.Prefix != "" {
			prefix, directive = p.Prefix, d.ID
		}
	}
	return prefix, directive, nil
}

// checkStateChange: a new customer, or one whose account_no changes,
// carries the prefix an account_prefix directive requires in its region.
func (c *Customer) checkStateChange(r Reader, old Record) *Error {
	if o, ok := old.(*Customer); ok && o.AccountNo == c.AccountNo {
		return nil
	}
	prefix, dir, err := accountPrefixFor(r, c.Region)
	if err != nil {
		return AsError(err)
	}
	if prefix != "" && !strings.HasPrefix(c.AccountNo, prefix) {
		return invalid("account_no", "%q does not begin with %q, the prefix directive %s requires of region %s's account numbers", c.AccountNo, prefix, dir, c.Region)
	}
	return nil
}
