package records

import (
	"strings"

	"gridcrm/store/keyspace"
)

// Collections are the analytics' collections, in the order the package
// registers them (init), which is their order in crm.Collections (after
// the process and big-customer programmes').
var Collections = []string{"credit_grades", "warning_acks", "consumption_warnings", "analytics_runs", "customer_trends"}

// The kinds, registered in the order of Collections.
func init() {
	registerGrades()   // credit_grades, warning_acks
	registerWarnings() // consumption_warnings
	registerRuns()     // analytics_runs
	registerTrends()   // customer_trends
}

// The keys the reads look up, as crm writes them (gridcrm/store/keyspace).

func recordKey(coll, id string) []byte { return []byte(keyspace.Record(coll, id)) }

func uniqueKey(coll, name, scope, value string) []byte {
	return []byte(keyspace.Unique(coll, name, scope, value))
}

func indexPrefix(coll, field, value string) []byte {
	return []byte(keyspace.IndexValue(coll, field, cleanNUL(value)))
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (keyspace.End), nil when there is none.
func prefixEnd(p []byte) []byte {
	if e := keyspace.End(string(p)); e != "" {
		return []byte(e)
	}
	return nil
}

// cleanNUL is an index value as crm stores it: NULs made spaces.
func cleanNUL(s string) string { return strings.ReplaceAll(s, "\x00", " ") }

func trim(s *string) { *s = strings.TrimSpace(*s) }
