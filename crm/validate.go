package crm

import (
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// The field patterns. They are matched by hand, not by package regexp,
// which cost more than all the rest of a record's validation; each comment
// gives the regular expression a matcher implements exactly (Go syntax: $
// is the end of the text), and the tests check them against it.
var (
	accountNoRe = matcher(matchAccountNo) // ^[A-Za-z0-9][A-Za-z0-9-]{0,31}$
	regionRe    = matcher(matchRegion)    // ^[1-9][0-9](?:(?:0[1-9]|[1-9][0-9])(?:0[1-9]|[1-9][0-9])?)?$: 2, 4 or 6 digits; no 00 city or county part
	periodRe    = matcher(matchPeriod)    // ^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$
	phoneRe     = matcher(matchPhone)     // ^\+?[0-9][0-9 -]{4,19}$
	usernameRe  = matcher(matchUsername)  // ^[a-z][a-z0-9_.-]{1,31}$
)

// A matcher reports whether a whole string has a pattern.
type matcher func(string) bool

// MatchString reports whether s has the pattern, as regexp.MatchString does
// for the anchored expression.
func (m matcher) MatchString(s string) bool { return m(s) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

func isAlnum(c byte) bool { return isDigit(c) || isLower(c) || 'A' <= c && c <= 'Z' }

func matchAccountNo(s string) bool {
	if len(s) < 1 || len(s) > 32 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func matchRegion(s string) bool {
	if len(s) != 2 && len(s) != 4 && len(s) != 6 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	for i := 2; i < len(s); i += 2 {
		if s[i] == '0' && s[i+1] == '0' {
			return false
		}
	}
	return true
}

func matchPeriod(s string) bool {
	return len(s) == 7 && (s[:2] == "19" || s[:2] == "20") && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-' &&
		(s[5] == '0' && '1' <= s[6] && s[6] <= '9' || s[5] == '1' && '0' <= s[6] && s[6] <= '2')
}

func matchPhone(s string) bool {
	if s != "" && s[0] == '+' {
		s = s[1:]
	}
	if len(s) < 5 || len(s) > 20 || !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != ' ' && s[i] != '-' {
			return false
		}
	}
	return true
}

func matchUsername(s string) bool {
	if len(s) < 2 || len(s) > 32 || !isLower(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// ValidRegion reports whether code is a GB/T 2260 province (2 digits), city
// (4) or county (6) code.
func ValidRegion(code string) bool { return regionRe.MatchString(code) }

func required(field, v string, max int) *Error {
	if v == "" {
		return invalid(field, "is required")
	}
	return maxLen(field, v, max)
}

func maxLen(field, v string, max int) *Error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid(field, "must not contain NUL characters")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid(field, "is %d characters long; at most %d allowed", n, max)
	}
	return nil
}

func oneOf(field, v string, allowed ...string) *Error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	if v == "" {
		return invalid(field, "is required; one of %s", strings.Join(allowed, ", "))
	}
	return invalid(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func nonNegative(field string, v float64, max float64) *Error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid(field, "is not a number")
	}
	if v < 0 {
		return invalid(field, "must not be negative (got %v)", v)
	}
	if v > max {
		return invalid(field, "is %v; at most %v allowed", v, max)
	}
	return nil
}

func firstErr(errs ...*Error) *Error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func trim(s *string) { *s = strings.TrimSpace(*s) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Date is a calendar day in JSON as "2006-01-02".
type Date string

func validDate(field string, d Date, optional bool) *Error {
	if d == "" {
		if optional {
			return nil
		}
		return invalid(field, "is required (YYYY-MM-DD)")
	}
	if _, err := time.Parse("2006-01-02", string(d)); err != nil {
		return invalid(field, "%q is not a date of the form YYYY-MM-DD", string(d))
	}
	return nil
}

func jsonFields(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name != "" && name != "-" {
				out[name] = true
			}
		}
	}
	walk(reflect.TypeOf(v))
	return out
}

// MetaFields are the fields a client may not set (except version on update).
var MetaFields = []string{"id", "owner", "created_at", "updated_at", "created_by", "updated_by"}

// Singular names one record of coll, for messages ("customer", "staff
// member").
func Singular(coll string) string {
	switch coll {
	case "staff":
		return "staff member"
	case "customers", "bills", "contacts", "interactions", "users":
		return strings.TrimSuffix(coll, "s")
	}
	return coll
}
