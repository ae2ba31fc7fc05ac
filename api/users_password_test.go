package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPassword_RuleAndOwnChange: passwords are counted in characters,
// common ones and the username are refused (400 naming password), and a
// user changes their own password given the old one (400 naming
// old_password when it is wrong). Before, only 8-72 bytes were checked:
// password, 12345678, aaaaaaaa, the username and a 4-character Chinese
// password were accepted, and there was no way to change one's own.
func TestPassword_RuleAndOwnChange(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	victim := admin.create("users", obj{"username": "victim", "role": "analyst", "password": userPassword})

	for _, pw := range []string{"password", "12345678", "aaaaaaaa", "qwertyuiop", "11111111", "88888888", "woaini1314",
		"Password1", "87654321", "abcabcabc", "zhangwei", "ZhangWei", "my-zhangwei-pw", "密码密码", "short",
		strings.Repeat("电", 25)} {
		st, out := admin.do("POST", "/api/v1/users", obj{"username": "zhangwei", "role": "agent", "password": pw})
		e := wantError(t, st, out, 400, "invalid", "password")
		if pw == "密码密码" && !strings.Contains(e.Message, "it has 4") {
			t.Errorf("a 4-character password: %s", e.Message)
		}
		if strings.HasPrefix(pw, "电") && !strings.Contains(e.Message, "72 bytes") {
			t.Errorf("a 75-byte password: %s", e.Message)
		}
	}
	for _, pw := range []string{"victim99", "12345678"} {
		st, out := admin.do("PATCH", "/api/v1/users/"+victim, obj{"version": 1, "password": pw})
		wantError(t, st, out, 400, "invalid", "password")
	}

	const first = "电网客户关系管理" // 8 characters, 24 bytes
	admin.create("users", obj{"username": "zhangwei", "role": "agent", "password": first})
	zw := login(t, admin.base, "zhangwei", first)

	for _, tc := range []struct {
		body  obj
		field string
	}{
		{obj{"password": "Meadow-lantern-9"}, "old_password"},
		{obj{"old_password": first}, "password"},
		{obj{"old_password": "not-my-password", "password": "Meadow-lantern-9"}, "old_password"},
		{obj{"old_password": first, "password": "12345678"}, "password"},
		{obj{"old_password": first, "password": "zhangwei2026"}, "password"},
		{obj{"old_password": first, "password": first}, "password"},
	} {
		st, out := zw.do("POST", "/api/v1/auth/password", tc.body)
		wantError(t, st, out, 400, "invalid", tc.field)
	}
	st, out := zw.do("POST", "/api/v1/auth/password", obj{"old_password": first, "password": "Meadow-lantern-9"})
	var ans struct{ Token string }
	if st != 200 || json.Unmarshal(out, &ans) != nil || ans.Token == "" {
		t.Fatalf("change own password: %d %s", st, out)
	}
	wantNoSecret(t, "POST /api/v1/auth/password", out)
	st, out = zw.do("GET", "/api/v1/auth/me", nil)
	wantError(t, st, out, 401, "invalid_token", "")
	zw.asToken(ans.Token).must(200, "GET", "/api/v1/auth/me", nil)
	if a := tryLogin(admin.base, "zhangwei", first); a.status != 401 {
		t.Errorf("the old password still logs in: %d %s", a.status, a.body)
	}
	login(t, admin.base, "zhangwei", "Meadow-lantern-9")
}

// TestUser_LastActiveAdmin: the region's last active admin cannot be
// demoted or disabled (409 naming the field); before, the only admin could
// demote themselves and nobody could manage users again.
func TestUser_LastActiveAdmin(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	me := admin.must(200, "GET", "/api/v1/auth/me", nil)
	id, v := me["id"].(string), me["version"]

	st, out := admin.do("PATCH", "/api/v1/users/"+id, obj{"version": v, "role": "manager"})
	if e := wantError(t, st, out, 409, "conflict", "role"); !strings.Contains(e.Message, "last active admin") {
		t.Errorf("demoting the last admin: %s", out)
	}
	st, out = admin.do("PATCH", "/api/v1/users/"+id, obj{"version": v, "disabled": true})
	wantError(t, st, out, 409, "conflict", "disabled")
	admin.must(200, "GET", "/api/v1/auth/me", nil) // still an admin, still logged in

	// With a second admin the first may step down; then the second is the last.
	ada := addUsers(t, admin, map[string]string{"ada": "admin"})["ada"]
	admin.must(200, "PATCH", "/api/v1/users/"+id, obj{"version": v, "role": "manager"})
	adaMe := ada.must(200, "GET", "/api/v1/auth/me", nil)
	st, out = ada.do("PATCH", "/api/v1/users/"+adaMe["id"].(string), obj{"version": adaMe["version"], "role": "agent"})
	wantError(t, st, out, 409, "conflict", "role")
}
