package api_test

import (
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
)

// badCase is one rejected request. Paths may hold {customers}, {bills}, ...:
// the id of the seeded record of that collection, and {missing-customer}:
// a well-formed customer id that does not exist.
type badCase struct {
	name         string
	method, path string
	body         any
	status       int
	code, field  string
	owner        string // when set, error.owner must equal it
}

// TestAPI_BadInput sends malformed, mistyped, incomplete, oversized and
// conflicting requests to every collection and checks that each answers
// the one error shape with the right status, code and field, and that
// nothing at all was written.
func TestAPI_BadInput(t *testing.T) {
	f := newFake(t, region)
	admin := f.admin(t)
	s := seed(admin)
	cus := customerBody("NEW-1")
	big := strings.Repeat("a", 1<<20)

	const (
		bad       = 400
		conflict  = 409
		invalid   = crm.CodeInvalid
		customers = "/api/v1/customers"
		oneCus    = "/api/v1/customers/{customers}"
	)
	cases := []badCase{
		// Malformed bodies on create.
		{"create/malformed JSON", "POST", customers, `{"account_no": "X",`, bad, invalid, "", ""},
		{"create/unquoted keys", "POST", customers, `{account_no: "X"}`, bad, invalid, "", ""},
		{"create/empty body", "POST", customers, "", bad, invalid, "", ""},
		{"create/array instead of object", "POST", customers, "[" + cus.String() + "]", bad, invalid, "", ""},
		{"create/number instead of object", "POST", customers, "42", bad, invalid, "", ""},
		{"create/trailing garbage", "POST", customers, cus.String() + "xyz", bad, invalid, "", ""},
		{"create/two objects", "POST", customers, cus.String() + cus.String(), bad, invalid, "", ""},
		{"create/over 1 MiB", "POST", customers, cus.with("address", big), 413, crm.CodeTooLarge, "", ""},
		// Wrong types.
		{"create/voltage_kv string", "POST", customers, cus.with("voltage_kv", "ten"), bad, invalid, "voltage_kv", ""},
		{"create/capacity_kva bool", "POST", customers, cus.with("capacity_kva", true), bad, invalid, "capacity_kva", ""},
		{"create/tags string", "POST", customers, cus.with("tags", "x"), bad, invalid, "tags", ""},
		{"create/tags of numbers", "POST", customers, cus.with("tags", []int{1}), bad, invalid, "tags", ""},
		{"create/name number", "POST", customers, cus.with("name", 5), bad, invalid, "name", ""},
		{"create/account_no number", "POST", customers, cus.with("account_no", 123), bad, invalid, "account_no", ""},
		// Missing and invalid fields.
		{"create/no account_no", "POST", customers, cus.without("account_no"), bad, invalid, "account_no", ""},
		{"create/no name", "POST", customers, cus.without("name"), bad, invalid, "name", ""},
		{"create/no category", "POST", customers, cus.without("category"), bad, invalid, "category", ""},
		{"create/no voltage_kv", "POST", customers, cus.without("voltage_kv"), bad, invalid, "voltage_kv", ""},
		{"create/blank name", "POST", customers, cus.with("name", "   "), bad, invalid, "name", ""},
		{"create/bad account_no", "POST", customers, cus.with("account_no", "has space"), bad, invalid, "account_no", ""},
		{"create/bad category", "POST", customers, cus.with("category", "nuclear"), bad, invalid, "category", ""},
		{"create/bad voltage", "POST", customers, cus.with("voltage_kv", 11), bad, invalid, "voltage_kv", ""},
		{"create/negative capacity", "POST", customers, cus.with("capacity_kva", -1), bad, invalid, "capacity_kva", ""},
		{"create/bad region code", "POST", customers, cus.with("region", "32x"), bad, invalid, "region", ""},
		{"create/bad status", "POST", customers, cus.with("status", "gone"), bad, invalid, "status", ""},
		{"create/bad phone", "POST", customers, cus.with("phone", "call me"), bad, invalid, "phone", ""},
		{"create/21 tags", "POST", customers, cus.with("tags", strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ")), bad, invalid, "tags", ""},
		// Unknown and read-only fields.
		{"create/unknown field", "POST", customers, cus.with("colour", "red"), bad, invalid, "colour", ""},
		{"create/id", "POST", customers, cus.with("id", crm.NewID("cus", time.Now())), bad, invalid, "id", ""},
		{"create/owner", "POST", customers, cus.with("owner", region), bad, invalid, "owner", ""},
		{"create/created_at", "POST", customers, cus.with("created_at", "2026-01-01T00:00:00Z"), bad, invalid, "created_at", ""},
		{"create/updated_at", "POST", customers, cus.with("updated_at", "2026-01-01T00:00:00Z"), bad, invalid, "updated_at", ""},
		{"create/created_by", "POST", customers, cus.with("created_by", "mallory"), bad, invalid, "created_by", ""},
		{"create/version", "POST", customers, cus.with("version", 1), bad, invalid, "version", ""},
		// Against the state.
		{"create/duplicate account_no", "POST", customers, cus.with("account_no", "SEED-1"), conflict, crm.CodeDuplicate, "account_no", ""},
		{"create/another county", "POST", customers, cus.with("region", otherRegion), 403, crm.CodeWrongOwner, "region", otherRegion},

		// PATCH.
		{"patch/no version", "PATCH", oneCus, obj{"name": "X"}, bad, invalid, "version", ""},
		{"patch/version 0", "PATCH", oneCus, obj{"name": "X", "version": 0}, bad, invalid, "version", ""},
		{"patch/version string", "PATCH", oneCus, obj{"name": "X", "version": "1"}, bad, invalid, "version", ""},
		{"patch/version negative", "PATCH", oneCus, obj{"name": "X", "version": -1}, bad, invalid, "version", ""},
		{"patch/stale version", "PATCH", oneCus, obj{"name": "X", "version": 99}, conflict, crm.CodeConflict, "version", ""},
		{"patch/malformed JSON", "PATCH", oneCus, `{"version":1,`, bad, invalid, "", ""},
		{"patch/empty body", "PATCH", oneCus, "", bad, invalid, "", ""},
		{"patch/array", "PATCH", oneCus, `[{"version":1}]`, bad, invalid, "", ""},
		{"patch/null", "PATCH", oneCus, `null`, bad, invalid, "", ""},
		{"patch/trailing garbage", "PATCH", oneCus, `{"version":1,"name":"X"} x`, bad, invalid, "", ""},
		{"patch/over 1 MiB", "PATCH", oneCus, obj{"version": 1, "address": big}, 413, crm.CodeTooLarge, "", ""},
		{"patch/unknown field", "PATCH", oneCus, obj{"version": 1, "colour": "red"}, bad, invalid, "colour", ""},
		{"patch/id", "PATCH", oneCus, obj{"version": 1, "id": "cus_x"}, bad, invalid, "id", ""},
		{"patch/owner", "PATCH", oneCus, obj{"version": 1, "owner": otherRegion}, bad, invalid, "owner", ""},
		{"patch/created_at", "PATCH", oneCus, obj{"version": 1, "created_at": "2026-01-01T00:00:00Z"}, bad, invalid, "created_at", ""},
		{"patch/voltage_kv string", "PATCH", oneCus, obj{"version": 1, "voltage_kv": "ten"}, bad, invalid, "voltage_kv", ""},
		{"patch/capacity_kva bool", "PATCH", oneCus, obj{"version": 1, "capacity_kva": true}, bad, invalid, "capacity_kva", ""},
		{"patch/tags string", "PATCH", oneCus, obj{"version": 1, "tags": "x"}, bad, invalid, "tags", ""},
		{"patch/bad category", "PATCH", oneCus, obj{"version": 1, "category": "nuclear"}, bad, invalid, "category", ""},
		{"patch/remove account_no", "PATCH", oneCus, obj{"version": 1, "account_no": nil}, bad, invalid, "account_no", ""},
		{"patch/move region", "PATCH", oneCus, obj{"version": 1, "region": otherRegion}, bad, invalid, "region", ""},
		{"patch/missing record", "PATCH", "/api/v1/customers/{missing-customer}", obj{"version": 1, "name": "X"}, 404, crm.CodeNotFound, "id", ""},

		// PUT.
		{"put/no version", "PUT", oneCus, customerBody("SEED-1"), bad, invalid, "version", ""},
		{"put/stale version", "PUT", oneCus, customerBody("SEED-1").with("version", 99), conflict, crm.CodeConflict, "version", ""},
		{"put/voltage_kv string", "PUT", oneCus, customerBody("SEED-1").with("version", 1, "voltage_kv", "ten"), bad, invalid, "voltage_kv", ""},
		{"put/no name", "PUT", oneCus, customerBody("SEED-1").with("version", 1).without("name"), bad, invalid, "name", ""},
		{"put/unknown field", "PUT", oneCus, customerBody("SEED-1").with("version", 1, "colour", "red"), bad, invalid, "colour", ""},
		{"put/id", "PUT", oneCus, customerBody("SEED-1").with("version", 1, "id", "cus_x"), bad, invalid, "id", ""},
		{"put/malformed JSON", "PUT", oneCus, `{"version":1`, bad, invalid, "", ""},
		{"put/over 1 MiB", "PUT", oneCus, customerBody("SEED-1").with("version", 1, "address", big), 413, crm.CodeTooLarge, "", ""},

		// DELETE.
		{"delete/version not a number", "DELETE", oneCus + "?version=abc", nil, bad, invalid, "version", ""},
		{"delete/version 0", "DELETE", oneCus + "?version=0", nil, bad, invalid, "version", ""},
		{"delete/stale version", "DELETE", oneCus + "?version=99", nil, conflict, crm.CodeConflict, "version", ""},
		{"delete/customer with bills", "DELETE", oneCus, nil, conflict, crm.CodeInUse, "id", ""},
		{"delete/missing record", "DELETE", "/api/v1/customers/{missing-customer}", nil, 404, crm.CodeNotFound, "id", ""},

		// List and get parameters.
		{"list/limit=0", "GET", customers + "?limit=0", nil, bad, invalid, "limit", ""},
		{"list/limit=abc", "GET", customers + "?limit=abc", nil, bad, invalid, "limit", ""},
		{"list/limit=-5", "GET", customers + "?limit=-5", nil, bad, invalid, "limit", ""},
		{"list/limit over max", "GET", customers + "?limit=1001", nil, bad, invalid, "limit", ""},
		{"list/unknown filter", "GET", customers + "?colour=red", nil, bad, invalid, "colour", ""},
		{"list/filter given twice", "GET", customers + "?region=1&region=2", nil, bad, invalid, "region", ""},
		{"list/bad after cursor", "GET", customers + "?after=nope", nil, bad, invalid, "after", ""},
		{"list/after of another kind", "GET", customers + "?after={bills}", nil, bad, invalid, "after", ""},
		{"list/consistency=bogus", "GET", customers + "?consistency=bogus", nil, bad, invalid, "consistency", ""},
		{"list/bills unknown filter", "GET", "/api/v1/bills?foo=1", nil, bad, invalid, "foo", ""},
		{"list/users by password_hash", "GET", "/api/v1/users?password_hash=x", nil, bad, invalid, "password_hash", ""},
		{"get/consistency=bogus", "GET", oneCus + "?consistency=bogus", nil, bad, invalid, "consistency", ""},
		{"get/missing record", "GET", "/api/v1/customers/{missing-customer}", nil, 404, crm.CodeNotFound, "id", ""},
		{"get/malformed id", "GET", "/api/v1/customers/nope", nil, 404, crm.CodeNotFound, "id", ""},

		// Bills.
		{"bills/missing customer", "POST", "/api/v1/bills", billBody("{missing-customer}", "2026-02"), 422, crm.CodeReference, "customer_id", ""},
		{"bills/malformed customer_id", "POST", "/api/v1/bills", billBody("abc", "2026-02"), bad, invalid, "customer_id", ""},
		{"bills/no customer_id", "POST", "/api/v1/bills", billBody("{customers}", "2026-02").without("customer_id"), bad, invalid, "customer_id", ""},
		{"bills/no period", "POST", "/api/v1/bills", billBody("{customers}", "2026-02").without("period"), bad, invalid, "period", ""},
		{"bills/bad period", "POST", "/api/v1/bills", billBody("{customers}", "2026-13"), bad, invalid, "period", ""},
		{"bills/kwh string", "POST", "/api/v1/bills", billBody("{customers}", "2026-02").with("kwh", "x"), bad, invalid, "kwh", ""},
		{"bills/paid without pay_date", "POST", "/api/v1/bills", billBody("{customers}", "2026-02").with("paid", 10), bad, invalid, "pay_date", ""},
		{"bills/duplicate period", "POST", "/api/v1/bills", billBody("{customers}", "2026-01"), conflict, crm.CodeDuplicate, "period", ""},
		{"bills/unknown field", "POST", "/api/v1/bills", billBody("{customers}", "2026-02").with("tariff", 1), bad, invalid, "tariff", ""},
		{"bills/patch to missing customer", "PATCH", "/api/v1/bills/{bills}", obj{"version": 1, "customer_id": "{missing-customer}"}, 422, crm.CodeReference, "customer_id", ""},
		{"bills/patch stale version", "PATCH", "/api/v1/bills/{bills}", obj{"version": 7, "kwh": 1}, conflict, crm.CodeConflict, "version", ""},

		// Staff.
		{"staff/no staff_no", "POST", "/api/v1/staff", staffBody("S-2").without("staff_no"), bad, invalid, "staff_no", ""},
		{"staff/bad role", "POST", "/api/v1/staff", staffBody("S-2").with("role", "boss"), bad, invalid, "role", ""},
		{"staff/active string", "POST", "/api/v1/staff", staffBody("S-2").with("active", "yes"), bad, invalid, "active", ""},
		{"staff/bad email", "POST", "/api/v1/staff", staffBody("S-2").with("email", "nope"), bad, invalid, "email", ""},
		{"staff/duplicate staff_no", "POST", "/api/v1/staff", staffBody("S-1"), conflict, crm.CodeDuplicate, "staff_no", ""},
		{"staff/another county", "POST", "/api/v1/staff", staffBody("S-2").with("region", otherRegion), 403, crm.CodeWrongOwner, "region", otherRegion},

		// Contacts.
		{"contacts/no phone or email", "POST", "/api/v1/contacts", contactBody("{customers}").without("phone"), bad, invalid, "phone", ""},
		{"contacts/no name", "POST", "/api/v1/contacts", contactBody("{customers}").without("name"), bad, invalid, "name", ""},
		{"contacts/missing customer", "POST", "/api/v1/contacts", contactBody("{missing-customer}"), 422, crm.CodeReference, "customer_id", ""},

		// Interactions.
		{"interactions/at not a time", "POST", "/api/v1/interactions", interactionBody("{customers}").with("at", "yesterday"), bad, invalid, "at", ""},
		{"interactions/no at", "POST", "/api/v1/interactions", interactionBody("{customers}").without("at"), bad, invalid, "at", ""},
		{"interactions/bad kind", "POST", "/api/v1/interactions", interactionBody("{customers}").with("kind", "telepathy"), bad, invalid, "kind", ""},
		{"interactions/no summary", "POST", "/api/v1/interactions", interactionBody("{customers}").without("summary"), bad, invalid, "summary", ""},
		{"interactions/missing staff", "POST", "/api/v1/interactions", interactionBody("{customers}").with("staff_id", crm.NewID("stf", time.Now())), 422, crm.CodeReference, "staff_id", ""},

		// Users.
		{"users/no username", "POST", "/api/v1/users", obj{"role": "agent", "password": "long-enough"}, bad, invalid, "username", ""},
		{"users/no role", "POST", "/api/v1/users", obj{"username": "bob", "password": "long-enough"}, bad, invalid, "role", ""},
		{"users/bad role", "POST", "/api/v1/users", obj{"username": "bob", "role": "root", "password": "long-enough"}, bad, invalid, "role", ""},
		{"users/no password", "POST", "/api/v1/users", obj{"username": "bob", "role": "agent"}, bad, invalid, "password", ""},
		{"users/short password", "POST", "/api/v1/users", obj{"username": "bob", "role": "agent", "password": "short"}, bad, invalid, "password", ""},
		{"users/password_hash", "POST", "/api/v1/users", obj{"username": "bob", "role": "agent", "password": "long-enough", "password_hash": "x"}, bad, invalid, "password_hash", ""},
		{"users/id", "POST", "/api/v1/users", obj{"username": "bob", "role": "agent", "password": "long-enough", "id": "usr_x"}, bad, invalid, "id", ""},
		{"users/duplicate username", "POST", "/api/v1/users", obj{"username": "admin", "role": "agent", "password": "long-enough"}, conflict, crm.CodeDuplicate, "username", ""},
		{"users/another county", "POST", "/api/v1/users", obj{"username": "bob", "role": "agent", "password": "long-enough", "region": otherRegion}, 403, crm.CodeWrongOwner, "region", otherRegion},
		{"users/patch password_hash", "PATCH", "/api/v1/users/{users}", obj{"version": 1, "password_hash": "x"}, bad, invalid, "password_hash", ""},
		{"users/patch short password", "PATCH", "/api/v1/users/{users}", obj{"version": 1, "password": "short"}, bad, invalid, "password", ""},

		// Cluster membership.
		{"cluster/join without id", "POST", "/api/v1/cluster/nodes", obj{"addr": "127.0.0.1:1"}, bad, invalid, "id", ""},
		{"cluster/join without addr", "POST", "/api/v1/cluster/nodes", obj{"id": "n9"}, bad, invalid, "addr", ""},
		{"cluster/join unknown field", "POST", "/api/v1/cluster/nodes", obj{"id": "n9", "addr": "127.0.0.1:1", "voter": true}, bad, invalid, "voter", ""},

		// Routing.
		{"route/unknown", "GET", "/api/v1/nope", nil, 404, "no_route", "", ""},
		{"route/method not allowed", "PUT", "/api/v1/users/{users}", obj{}, 405, "method_not_allowed", "", ""},
	}

	subst := strings.NewReplacer("{missing-customer}", crm.NewID("cus", time.Now()),
		"{customers}", s.ids["customers"], "{bills}", s.ids["bills"], "{staff}", s.ids["staff"],
		"{contacts}", s.ids["contacts"], "{interactions}", s.ids["interactions"], "{users}", s.ids["users"])
	before := admin.snapshot()
	wantCustomers := admin.count("customers")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := admin.on(t)
			body := tc.body
			switch b := body.(type) {
			case obj:
				body = subst.Replace(b.String())
			case string:
				body = subst.Replace(b)
			}
			st, out := cl.do(tc.method, subst.Replace(tc.path), body)
			e := wantError(t, st, out, tc.status, tc.code, tc.field)
			if tc.owner != "" && e.Owner != tc.owner {
				t.Errorf("error.owner = %q, want %q: %s", e.Owner, tc.owner, out)
			}
			if n := cl.count("customers"); n != wantCustomers {
				t.Errorf("customer count %d after the request, want %d", n, wantCustomers)
			}
			cl.wantUnchanged(before)
			if t.Failed() {
				before, wantCustomers = cl.snapshot(), cl.count("customers") // report the next case on its own
			}
		})
	}
}
