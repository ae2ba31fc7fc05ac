package crm

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The password rule. The API checks every password a person chooses (a new
// user, a reset by an admin, a change by the user, the bootstrap admin's)
// before it is hashed; Apply never sees a password, only its hash.
const (
	MinPasswordChars = 8  // counted in characters (Unicode code points), not bytes
	MaxPasswordBytes = 72 // bcrypt reads no further: a longer password would be cut silently
)

//go:embed common_passwords.txt
var commonPasswordList string

// commonPasswords holds the embedded list in lower case; it is written only
// by init.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// CheckPassword answers why password may not be username's password, or
// nil. Errors name the field "password". It refuses fewer than
// MinPasswordChars characters, more than MaxPasswordBytes bytes of UTF-8
// (bcrypt's limit), the username itself or any password containing it
// (case-insensitive; containment only for usernames of 3 characters or
// more, so a two-letter name does not rule out half the dictionary), the
// embedded list of common passwords (also with digits or symbols appended),
// one character repeated, a run of consecutive characters (12345678,
// abcdefgh, 87654321) and a short unit repeated (12121212, abcabcabc).
func CheckPassword(username, password string) *Error {
	if !utf8.ValidString(password) {
		return invalid("password", "is not valid UTF-8")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordChars {
		return invalid("password", "must be at least %d characters (it has %d)", MinPasswordChars, n)
	}
	if len(password) > MaxPasswordBytes {
		return invalid("password", "must be at most %d bytes in UTF-8, bcrypt's limit (it has %d bytes in %d characters; a Chinese character takes 3 bytes)", MaxPasswordBytes, len(password), n)
	}
	lower := strings.ToLower(password)
	name := strings.ToLower(strings.TrimSpace(username))
	if name != "" && lower == name {
		return invalid("password", "must not be the username")
	}
	if utf8.RuneCountInString(name) >= 3 && strings.Contains(lower, name) {
		return invalid("password", "must not contain the username %q", name)
	}
	if commonPasswords[lower] {
		return invalid("password", "is one of the most common passwords; choose another")
	}
	if base := strings.TrimRight(lower, "0123456789!@#$%^&*()-_=+.,?~ "); base != lower && commonPasswords[base] {
		return invalid("password", "is a common password (%q) with digits or symbols added; choose another", base)
	}
	if why := simplePattern([]rune(lower)); why != "" {
		return invalid("password", "is too simple: %s", why)
	}
	return nil
}

// simplePattern answers what is simple about r, or "".
func simplePattern(r []rune) string {
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	switch {
	case same:
		return fmt.Sprintf("one character repeated (%q)", string(r[0]))
	case up || down:
		return "a run of consecutive characters"
	}
	for p := 2; p <= len(r)/2; p++ {
		periodic := true
		for i := p; i < len(r) && periodic; i++ {
			periodic = r[i] == r[i-p]
		}
		if periodic {
			return fmt.Sprintf("%q repeated", string(r[:p]))
		}
	}
	return ""
}
