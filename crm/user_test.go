package crm_test

import (
	"strings"
	"testing"

	"gridcrm/crm"
)

func TestUser_PasswordRule(t *testing.T) {
	for _, tc := range []struct {
		user, pw string
		why      string // "" = accepted; else a word the message must hold
	}{
		{"bo", "correct horse battery", ""},
		{"bo", "电网客户关系管理", ""}, // 8 characters, 24 bytes
		{"bo", "Tr0ub4dor&3x", ""},
		{"li", "lilac-garden-7", ""},                           // a 2-letter name only forbids itself
		{"ursula", "密码密码", "at least 8 characters (it has 4)"}, // 12 bytes, 4 characters
		{"ursula", "short", "at least 8"},
		{"ursula", strings.Repeat("电", 25), "at most 72 bytes"}, // 25 characters, 75 bytes
		{"ursula", strings.Repeat("x1", 37), "at most 72 bytes"},
		{"ursula", "password", "common"},
		{"ursula", "PassWord", "common"},
		{"ursula", "12345678", "common"},
		{"ursula", "qwertyuiop", "common"},
		{"ursula", "11111111", "common"},
		{"ursula", "aaaaaaaa", "common"},
		{"ursula", "88888888", "common"},
		{"ursula", "woaini1314", "common"},
		{"ursula", "woaini2026!", "common password (\"woaini\")"},
		{"ursula", "zzzzzzzzzz", "one character repeated"},
		{"ursula", "23456789", "consecutive"},
		{"ursula", "hgfedcba", "consecutive"},
		{"ursula", "xk9!xk9!", "repeated"},
		{"ursula", "ursula", "at least 8"},
		{"ursula.w", "Ursula.W", "must not be the username"},
		{"ursula", "my-ursula-pw", "must not contain the username"},
		{"ursula", "MYURSULAPW", "must not contain the username"},
		{"admin", "test-admin-pw", "must not contain the username"},
		{"bo", "bad\xffutf8!!", "UTF-8"},
	} {
		e := crm.CheckPassword(tc.user, tc.pw)
		switch {
		case tc.why == "" && e != nil:
			t.Errorf("%s / %q refused: %v", tc.user, tc.pw, e)
		case tc.why != "" && e == nil:
			t.Errorf("%s / %q accepted; want refused (%s)", tc.user, tc.pw, tc.why)
		case e != nil && (e.Code != crm.CodeInvalid || e.Field != "password" || !strings.Contains(e.Message, tc.why)):
			t.Errorf("%s / %q: %v (code %s field %q); want invalid password saying %q", tc.user, tc.pw, e, e.Code, e.Field, tc.why)
		}
	}
}
