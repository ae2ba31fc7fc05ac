package crm

// Key layout inside the state keyspace (the replication package prefixes it):
//
//	r/<collection>/<id>                         → record JSON
//	u/<collection>/<name>/<scope>\x00<value>    → id   (unique constraint)
//	x/<collection>/<field>/<value>\x00<id>      → ""   (secondary index)
//	m/sess/<user id>/<session id>, m/login/<user id> → sessions, failed logins (session.go)
//	m/...                                       → metadata owned by other packages
//
// Ids never contain '/' or NUL, and index values are cleaned of NUL, so the
// layout is unambiguous.

func recordKey(coll, id string) []byte { return []byte("r/" + coll + "/" + id) }

func recordPrefix(coll string) []byte { return []byte("r/" + coll + "/") }

func uniqueKey(coll, name, scope, value string) []byte {
	return []byte("u/" + coll + "/" + name + "/" + scope + "\x00" + value)
}

func indexKey(coll, field, value, id string) []byte {
	return []byte("x/" + coll + "/" + field + "/" + cleanNUL(value) + "\x00" + id)
}

func indexPrefix(coll, field, value string) []byte {
	return []byte("x/" + coll + "/" + field + "/" + cleanNUL(value) + "\x00")
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
