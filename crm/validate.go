package crm

import (
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	accountNoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`)
	regionRe    = regexp.MustCompile(`^[1-9][0-9](?:(?:0[1-9]|[1-9][0-9])(?:0[1-9]|[1-9][0-9])?)?$`) // 2, 4 or 6 digits; no 00 city or county part
	periodRe    = regexp.MustCompile(`^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$`)
	phoneRe     = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)
	usernameRe  = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,31}$`)
)

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

func singular(coll string) string {
	switch coll {
	case "staff":
		return "staff member"
	case "customers", "bills", "contacts", "interactions", "users":
		return strings.TrimSuffix(coll, "s")
	}
	return coll
}
