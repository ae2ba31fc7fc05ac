package crm_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
)

// validationCase mutates a good record of type R; field is the field the
// error must name, "" when the record must pass.
type validationCase[R any] struct {
	name  string
	mut   func(r *R)
	field string
}

func runValidation[R any, P interface {
	*R
	crm.Record
}](t *testing.T, good func() *R, cases []validationCase[R]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			if tc.mut != nil {
				tc.mut(r)
			}
			P(r).Normalize()
			err := P(r).Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			crmtest.WantErr(t, err, crm.CodeInvalid, tc.field)
			if err.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

var validCustomerID = crm.NewID("cus", crmtest.T0)

func TestValidate_Customer(t *testing.T) {
	good := func() *crm.Customer {
		return &crm.Customer{AccountNo: "3207-0001", Name: "Lianyungang Port Co.", Category: "industrial",
			VoltageKV: 35, CapacityKVA: 12_500, Region: "320722", Grid: "G7", Phone: "+86 518 8888 1234",
			Tags: []string{"vip"}}
	}
	type C = crm.Customer
	runValidation(t, good, []validationCase[C]{
		{"good", nil, ""},
		{"account_no empty", func(c *C) { c.AccountNo = "" }, "account_no"},
		{"account_no blank", func(c *C) { c.AccountNo = "   " }, "account_no"},
		{"account_no space inside", func(c *C) { c.AccountNo = "32 07" }, "account_no"},
		{"account_no leading dash", func(c *C) { c.AccountNo = "-3207" }, "account_no"},
		{"account_no 33 chars", func(c *C) { c.AccountNo = strings.Repeat("9", 33) }, "account_no"},
		{"account_no 32 chars", func(c *C) { c.AccountNo = strings.Repeat("9", 32) }, ""},
		{"account_no trimmed", func(c *C) { c.AccountNo = "  A-1 " }, ""},
		{"name empty", func(c *C) { c.Name = " " }, "name"},
		{"name 101 runes", func(c *C) { c.Name = strings.Repeat("电", 101) }, "name"},
		{"name 100 runes", func(c *C) { c.Name = strings.Repeat("电", 100) }, ""},
		{"name bad utf8", func(c *C) { c.Name = "a\xffb" }, "name"},
		{"category empty", func(c *C) { c.Category = "" }, "category"},
		{"category unknown", func(c *C) { c.Category = "nuclear" }, "category"},
		{"category upper case", func(c *C) { c.Category = " Commercial " }, ""},
		{"voltage zero", func(c *C) { c.VoltageKV = 0 }, "voltage_kv"},
		{"voltage non-standard", func(c *C) { c.VoltageKV = 11 }, "voltage_kv"},
		{"voltage negative", func(c *C) { c.VoltageKV = -10 }, "voltage_kv"},
		{"voltage 0.4", func(c *C) { c.VoltageKV = 0.4 }, ""},
		{"voltage 500", func(c *C) { c.VoltageKV = 500 }, ""},
		{"capacity negative", func(c *C) { c.CapacityKVA = -1 }, "capacity_kva"},
		{"capacity too large", func(c *C) { c.CapacityKVA = 10_000_001 }, "capacity_kva"},
		{"capacity NaN", func(c *C) { c.CapacityKVA = math.NaN() }, "capacity_kva"},
		{"capacity Inf", func(c *C) { c.CapacityKVA = math.Inf(1) }, "capacity_kva"},
		{"capacity zero", func(c *C) { c.CapacityKVA = 0 }, ""},
		{"region empty", func(c *C) { c.Region = "" }, "region"},
		{"region leading zero", func(c *C) { c.Region = "0207" }, "region"},
		{"region 5 digits", func(c *C) { c.Region = "32072" }, "region"},
		{"region 7 digits", func(c *C) { c.Region = "3207221" }, "region"},
		{"region letters", func(c *C) { c.Region = "JS" }, "region"},
		{"region province", func(c *C) { c.Region = "32" }, ""},
		{"region city", func(c *C) { c.Region = " 3207 " }, ""},
		{"industry 65", func(c *C) { c.Industry = strings.Repeat("x", 65) }, "industry"},
		{"address 201", func(c *C) { c.Address = strings.Repeat("路", 201) }, "address"},
		{"grid 65", func(c *C) { c.Grid = strings.Repeat("g", 65) }, "grid"},
		{"phone letters", func(c *C) { c.Phone = "call me" }, "phone"},
		{"phone short", func(c *C) { c.Phone = "123" }, "phone"},
		{"phone empty", func(c *C) { c.Phone = "" }, ""},
		{"21 tags", func(c *C) {
			c.Tags = nil
			for i := range 21 {
				c.Tags = append(c.Tags, strings.Repeat("t", i+1))
			}
		}, "tags"},
		{"21 tags with duplicates", func(c *C) {
			c.Tags = nil
			for i := range 21 {
				c.Tags = append(c.Tags, strings.Repeat("t", i%20+1))
			}
		}, ""},
		{"tag 33 chars", func(c *C) { c.Tags = []string{strings.Repeat("t", 33)} }, "tags"},
		{"status unknown", func(c *C) { c.Status = "deleted" }, "status"},
		{"status upper case", func(c *C) { c.Status = "SUSPENDED" }, ""},
		{"status closed", func(c *C) { c.Status = "closed" }, ""},
	})
}

func TestNormalize_Customer(t *testing.T) {
	c := &crm.Customer{AccountNo: " A-1 ", Name: "\tAcme\n", Category: " Industrial", Region: " 320722 ",
		Industry: " steel ", Address: " 1 Road ", Grid: " G1 ", Phone: " 12345 ",
		Tags: []string{" vip", "vip ", "", "  ", "key", "vip"}}
	c.Normalize()
	want := crm.Customer{AccountNo: "A-1", Name: "Acme", Category: "industrial", Region: "320722",
		Industry: "steel", Address: "1 Road", Grid: "G1", Phone: "12345", Tags: []string{"vip", "key"},
		Status: crm.StatusActive}
	if c.AccountNo != want.AccountNo || c.Name != want.Name || c.Category != want.Category ||
		c.Region != want.Region || c.Industry != want.Industry || c.Address != want.Address ||
		c.Grid != want.Grid || c.Phone != want.Phone || c.Status != want.Status || !slices.Equal(c.Tags, want.Tags) {
		t.Fatalf("Normalize() =\n%+v\nwant\n%+v", *c, want)
	}

	c = &crm.Customer{Tags: []string{" ", ""}, Status: " Closed "}
	c.Normalize()
	if c.Tags != nil {
		t.Errorf("blank tags = %q; want nil", c.Tags)
	}
	if c.Status != crm.StatusClosed {
		t.Errorf("status = %q; want closed", c.Status)
	}
}

func TestValidate_Bill(t *testing.T) {
	good := func() *crm.Bill {
		return &crm.Bill{CustomerID: validCustomerID, Period: "2026-02", KWh: 1000, KWhPeak: 300,
			KWhFlat: 500, KWhValley: 200, Billed: 650.255, Paid: 600, PayDate: "2026-03-01"}
	}
	type B = crm.Bill
	runValidation(t, good, []validationCase[B]{
		{"good", nil, ""},
		{"no split", func(b *B) { b.KWhPeak, b.KWhFlat, b.KWhValley = 0, 0, 0 }, ""},
		{"customer_id empty", func(b *B) { b.CustomerID = "" }, "customer_id"},
		{"customer_id junk", func(b *B) { b.CustomerID = "12345" }, "customer_id"},
		{"customer_id of a bill", func(b *B) { b.CustomerID = crm.NewID("bil", crmtest.T0) }, "customer_id"},
		{"customer_id trimmed", func(b *B) { b.CustomerID = " " + validCustomerID + " " }, ""},
		{"period empty", func(b *B) { b.Period = "" }, "period"},
		{"period month 13", func(b *B) { b.Period = "2026-13" }, "period"},
		{"period month 00", func(b *B) { b.Period = "2026-00" }, "period"},
		{"period one digit month", func(b *B) { b.Period = "2026-3" }, "period"},
		{"period year 1899", func(b *B) { b.Period = "1899-12" }, "period"},
		{"period with day", func(b *B) { b.Period = "2026-02-01" }, "period"},
		{"kwh negative", func(b *B) { b.KWh = -1 }, "kwh"},
		{"kwh too large", func(b *B) { b.KWh = 2e10 }, "kwh"},
		{"kwh_peak negative", func(b *B) { b.KWhPeak = -300; b.KWhFlat = 1100 }, "kwh_peak"},
		{"kwh_flat negative", func(b *B) { b.KWhFlat = -1 }, "kwh_flat"},
		{"kwh_valley negative", func(b *B) { b.KWhValley = -1 }, "kwh_valley"},
		{"billed negative", func(b *B) { b.Billed = -5 }, "billed"},
		{"billed too large", func(b *B) { b.Billed = 2e10 }, "billed"},
		{"paid negative", func(b *B) { b.Paid = -1 }, "paid"},
		{"split does not add up", func(b *B) { b.KWhValley = 300 }, "kwh"},
		{"split within 0.5", func(b *B) { b.KWhValley = 200.4 }, ""},
		{"paid without pay_date", func(b *B) { b.PayDate = "" }, "pay_date"},
		{"unpaid without pay_date", func(b *B) { b.Paid = 0; b.PayDate = "" }, ""},
		{"pay_date not a day", func(b *B) { b.PayDate = "2026-02-30" }, "pay_date"},
		{"pay_date other format", func(b *B) { b.PayDate = "03/01/2026" }, "pay_date"},
	})
}

func TestNormalize_Bill(t *testing.T) {
	b := &crm.Bill{CustomerID: " x ", Period: " 2026-02 ", Billed: 100.005, Paid: 40.123, Arrears: 999}
	b.Normalize()
	if b.CustomerID != "x" || b.Period != "2026-02" {
		t.Errorf("not trimmed: %+v", b)
	}
	if b.Billed != 100.01 && b.Billed != 100 { // float rounding of .005 may go either way
		t.Errorf("billed = %v; want rounded to cents", b.Billed)
	}
	if b.Paid != 40.12 {
		t.Errorf("paid = %v; want 40.12", b.Paid)
	}
	if want := math.Round((b.Billed-b.Paid)*100) / 100; b.Arrears != want {
		t.Errorf("arrears = %v; want %v (derived, client value ignored)", b.Arrears, want)
	}
	b = &crm.Bill{Billed: 10, Paid: 25}
	b.Normalize()
	if b.Arrears != 0 {
		t.Errorf("overpaid arrears = %v; want 0", b.Arrears)
	}
}

func TestValidate_Staff(t *testing.T) {
	good := func() *crm.Staff {
		return &crm.Staff{StaffNo: "S-001", Name: "Li Na", Role: "gold_manager", Region: "3207",
			Team: "big customers", Phone: "0518-8888123", Email: "li.na@example.cn"}
	}
	type S = crm.Staff
	runValidation(t, good, []validationCase[S]{
		{"good", nil, ""},
		{"staff_no empty", func(s *S) { s.StaffNo = "" }, "staff_no"},
		{"staff_no bad", func(s *S) { s.StaffNo = "S 1" }, "staff_no"},
		{"name empty", func(s *S) { s.Name = "" }, "name"},
		{"name 65", func(s *S) { s.Name = strings.Repeat("n", 65) }, "name"},
		{"role empty", func(s *S) { s.Role = "" }, "role"},
		{"role unknown", func(s *S) { s.Role = "ceo" }, "role"},
		{"role upper case", func(s *S) { s.Role = "Service_Agent" }, ""},
		{"region empty", func(s *S) { s.Region = "" }, "region"},
		{"region bad", func(s *S) { s.Region = "3207x" }, "region"},
		{"team 65", func(s *S) { s.Team = strings.Repeat("t", 65) }, "team"},
		{"phone bad", func(s *S) { s.Phone = "phone" }, "phone"},
		{"email bad", func(s *S) { s.Email = "li.na@" }, "email"},
		{"email with display name", func(s *S) { s.Email = "Li Na <li.na@example.cn>" }, "email"},
		{"no phone no email", func(s *S) { s.Phone, s.Email = "", "" }, ""},
	})
	s := good()
	s.Normalize()
	if s.Active == nil || !*s.Active {
		t.Errorf("Active = %v; want default true", s.Active)
	}
	f := false
	s = good()
	s.Active = &f
	s.Normalize()
	if *s.Active {
		t.Error("Normalize overrode active=false")
	}
}

func TestValidate_Contact(t *testing.T) {
	good := func() *crm.Contact {
		return &crm.Contact{CustomerID: validCustomerID, Name: "Zhao Lei", Title: "Chief electrician",
			Phone: "13800138000", Email: "zhao@example.cn", Primary: true}
	}
	type C = crm.Contact
	runValidation(t, good, []validationCase[C]{
		{"good", nil, ""},
		{"customer_id empty", func(c *C) { c.CustomerID = "" }, "customer_id"},
		{"customer_id junk", func(c *C) { c.CustomerID = "cus_1" }, "customer_id"},
		{"name empty", func(c *C) { c.Name = "" }, "name"},
		{"title 65", func(c *C) { c.Title = strings.Repeat("t", 65) }, "title"},
		{"phone bad", func(c *C) { c.Phone = "12" }, "phone"},
		{"email bad", func(c *C) { c.Email = "nobody" }, "email"},
		{"neither phone nor email", func(c *C) { c.Phone, c.Email = " ", "" }, "phone"},
		{"email only", func(c *C) { c.Phone = "" }, ""},
		{"phone only", func(c *C) { c.Email = "" }, ""},
	})
}

func TestValidate_Interaction(t *testing.T) {
	good := func() *crm.Interaction {
		return &crm.Interaction{CustomerID: validCustomerID, StaffID: crm.NewID("stf", crmtest.T0), Kind: "visit",
			At: crmtest.T0, Summary: "Site survey for 2 MVA expansion", Outcome: "plan reply due in 15 days"}
	}
	type I = crm.Interaction
	runValidation(t, good, []validationCase[I]{
		{"good", nil, ""},
		{"no staff", func(i *I) { i.StaffID = "" }, ""},
		{"customer_id empty", func(i *I) { i.CustomerID = "" }, "customer_id"},
		{"customer_id of staff", func(i *I) { i.CustomerID = i.StaffID }, "customer_id"},
		{"staff_id of customer", func(i *I) { i.StaffID = validCustomerID }, "staff_id"},
		{"kind empty", func(i *I) { i.Kind = "" }, "kind"},
		{"kind unknown", func(i *I) { i.Kind = "telepathy" }, "kind"},
		{"kind upper case", func(i *I) { i.Kind = " Meeting " }, ""},
		{"at zero", func(i *I) { i.At = time.Time{} }, "at"},
		{"summary empty", func(i *I) { i.Summary = "  " }, "summary"},
		{"summary 2001", func(i *I) { i.Summary = strings.Repeat("s", 2001) }, "summary"},
		{"outcome 2001", func(i *I) { i.Outcome = strings.Repeat("o", 2001) }, "outcome"},
	})
	i := good()
	i.At = time.Date(2026, 3, 2, 17, 30, 0, 0, time.FixedZone("CST", 8*3600))
	i.Normalize()
	if i.At.Location() != time.UTC || !i.At.Equal(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("at = %v; want the same instant in UTC", i.At)
	}
}

func TestValidate_User(t *testing.T) {
	good := func() *crm.User {
		return &crm.User{Username: "zhang.wei", DisplayName: "Zhang Wei", Role: "manager", Region: "320722",
			PasswordHash: "$argon2id$fake"}
	}
	type U = crm.User
	runValidation(t, good, []validationCase[U]{
		{"good", nil, ""},
		{"username empty", func(u *U) { u.Username = "" }, "username"},
		{"username upper case", func(u *U) { u.Username = " Zhang_Wei " }, ""},
		{"username one char", func(u *U) { u.Username = "z" }, "username"},
		{"username digit first", func(u *U) { u.Username = "9wei" }, "username"},
		{"username 33 chars", func(u *U) { u.Username = "z" + strings.Repeat("w", 32) }, "username"},
		{"username space", func(u *U) { u.Username = "zhang wei" }, "username"},
		{"display_name 65", func(u *U) { u.DisplayName = strings.Repeat("d", 65) }, "display_name"},
		{"role unknown", func(u *U) { u.Role = "root" }, "role"},
		{"role upper case", func(u *U) { u.Role = "Analyst" }, ""},
		{"region bad", func(u *U) { u.Region = "1" }, "region"},
		{"no password hash", func(u *U) { u.PasswordHash = "" }, "password"},
	})
}
