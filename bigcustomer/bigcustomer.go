package bigcustomer

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/store/keyspace"
)

// The kinds, registered in this order, which is their order in
// crm.Collections (after package process's: crm's programmeOrder), and so
// in exports and the OpenAPI document.
func init() {
	registerKeyProjects()
	registerGoldAssignments()
	registerServicePlans()
	registerServiceMemos()
	registerBulletins()
	registerBackofficeTeams()
	registerServiceRequests()
	registerPoolEntries()
	registerGridPlans()
	registerVIPServices()
}

// idField checks an optional id of kind coll; required makes it mandatory.
func idField(field, coll, id string, required bool) *crm.Error {
	if id == "" {
		if required {
			return crm.Invalid(field, "is required (a %s id)", crm.Singular(coll))
		}
		return nil
	}
	if !crm.Kinds[coll].ValidID(id) {
		return crm.Invalid(field, "%q is not a %s id", id, crm.Singular(coll))
	}
	return nil
}

// regionField checks a record's region field; defaults were filled in.
func regionFieldOK(region string) *crm.Error {
	if region == "" {
		return crm.Invalid("region", "is required (GB/T 2260 code such as 320722)")
	}
	if !crm.ValidRegion(region) {
		return crm.Invalid("region", "%q is not a GB/T 2260 region code", region)
	}
	return nil
}

// staffWithRole checks that staff id (when it exists) has one of roles.
func staffWithRole(r crm.Reader, field, id string, roles ...string) *crm.Error {
	if id == "" {
		return nil
	}
	var s crm.Staff
	found, e := crm.LoadRecord(r, "staff", id, &s)
	if e != nil || !found {
		return e
	}
	if !slices.Contains(roles, s.Role) {
		return crm.Invalid(field, "staff member %s (%s) is a %s; this needs a %s", id, s.Name, s.Role, strings.Join(roles, " or "))
	}
	if s.Active != nil && !*s.Active {
		return crm.Invalid(field, "staff member %s (%s) is inactive", id, s.Name)
	}
	return nil
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// dateOf parses a validated Date (zero time for "").
func dateOf(d crm.Date) time.Time {
	t, _ := time.Parse("2006-01-02", string(d))
	return t
}

// trimAll trims every string of a slice and drops empty ones.
func trimAll(xs []string) []string {
	out := xs[:0]
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// textList checks a list of free-text entries.
func textList(field string, xs []string, maxItems, maxChars int) *crm.Error {
	if len(xs) > maxItems {
		return crm.Invalid(field, "has %d entries; at most %d allowed", len(xs), maxItems)
	}
	for _, x := range xs {
		if e := crm.MaxLen(field, x, maxChars); e != nil {
			return e
		}
	}
	return nil
}

// cardCustomerOf answers customer c with its figures f as its card would
// hold them (crm.CardCustomer), for the reads from the records.
func cardCustomerOf(c *crm.Customer, f crm.Figures) crm.CardCustomer {
	return crm.CardCustomer{ID: c.ID, AccountNo: c.AccountNo, Name: c.Name, Region: c.Region, Category: c.Category, VoltageKV: c.VoltageKV, Tags: c.Tags, Figures: f}
}

func trim(s *string) { *s = strings.TrimSpace(*s) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// dayOf is the CST calendar day of t.
func dayOf(t time.Time) crm.Date { return crm.Date(t.In(workday.CST).Format(time.DateOnly)) }

func recordKey(coll, id string) []byte { return []byte(keyspace.Record(coll, id)) }

func uniqueKey(coll, name, scope, value string) []byte {
	return []byte(keyspace.Unique(coll, name, scope, value))
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
