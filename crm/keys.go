package crm

import "gridcrm/store/keyspace"

// The keys crm writes in the state keyspace, built from the one map of it
// (gridcrm/store/keyspace, which lists every prefix, its writer and whether
// it crosses a link):
//
//	r/<collection>/<id>                         → record JSON
//	u/<collection>/<name>/<scope>\x00<value>    → id   (unique constraint)
//	x/<collection>/<field>/<value>\x00<id>      → ""   (secondary index)
//	a/<region>/<metric>                         → counter (aggregate.go)
//	m/sys/<name>, m/sess/<user id>/<session id>, m/login/<user id> → system values, sessions, failed logins
//
// Ids never contain '/' or NUL, and index values are cleaned of NUL, so the
// layout is unambiguous.

func recordKey(coll, id string) []byte { return []byte(keyspace.Record(coll, id)) }

func recordPrefix(coll string) []byte { return []byte(keyspace.Collection(coll)) }

func uniqueKey(coll, name, scope, value string) []byte {
	return []byte(keyspace.Unique(coll, name, scope, value))
}

func indexKey(coll, field, value, id string) []byte {
	return []byte(keyspace.Index(coll, field, cleanNUL(value), id))
}

func indexPrefix(coll, field, value string) []byte {
	return []byte(keyspace.IndexValue(coll, field, cleanNUL(value)))
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func cleanNUL(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b := []byte(s)
			for j := range b {
				if b[j] == 0 {
					b[j] = ' '
				}
			}
			return string(b)
		}
	}
	return s
}
