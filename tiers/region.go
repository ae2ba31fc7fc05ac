package tiers

import (
	"fmt"
	"strings"
)

// RegionCode is a GB/T 2260 administrative code in its short form: 2 digits
// for a province ("32"), 4 for a city ("3207"), 6 for a county, district or
// county-level city ("320722"). A code's parent is its prefix. Build one with
// [ParseRegion]; the methods treat any other string as invalid.
type RegionCode string

// Tier is the level of a region in the company: province, city or county.
type Tier string

// The three tiers, by the length of their codes.
const (
	Province Tier = "province" // 2 digits, e.g. 32 江苏省
	City     Tier = "city"     // 4 digits, e.g. 3207 连云港市
	County   Tier = "county"   // 6 digits, e.g. 320722 东海县 (also districts and county-level cities)
)

// Valid reports whether t is one of Province, City, County.
func (t Tier) Valid() bool { return t == Province || t == City || t == County }

// ParseRegion trims s and returns it as a RegionCode, or an error wrapping
// [ErrInvalidRegion] that names s and says what is wrong: not digits only,
// not 2, 4 or 6 digits, a leading 0 (province codes run from 11 to 82), or a
// city or county part of 00 ("3200" and "320700" are how some lists write
// province 32 and city 3207, not real city or county codes).
func ParseRegion(s string) (RegionCode, error) {
	s = strings.TrimSpace(s)
	if p := problem("region", s); p != "" {
		return "", errorf(ErrInvalidRegion, "%s", p)
	}
	return RegionCode(s), nil
}

// problem says what is wrong with s as a region code, naming it with label
// (a field such as "region" or "parent.region"); "" if s is valid.
func problem(label, s string) string {
	if s == "" {
		return label + " is empty; want a GB/T 2260 code of 2, 4 or 6 digits (e.g. 32, 3207, 320722)"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Sprintf("%s %q is not a region code: it must be digits only (e.g. 320722)", label, s)
		}
	}
	switch len(s) {
	case 2, 4, 6:
	default:
		return fmt.Sprintf("%s %q has %d digits; want 2 (province, e.g. 32), 4 (city, e.g. 3207) or 6 (county, e.g. 320722)", label, s, len(s))
	}
	if s[:2] == "00" {
		return fmt.Sprintf("%s %q is not a region code: there is no province 00 (province codes run from 11 to 82)", label, s)
	}
	if s[0] == '0' {
		return fmt.Sprintf("%s %q is not a region code: it starts with 0 (province codes run from 11 to 82)", label, s)
	}
	switch {
	case len(s) == 4 && s[2:] == "00":
		return fmt.Sprintf("%s %q is not a real city code: its city digits are 00; for province %s write %s", label, s, s[:2], s[:2])
	case len(s) == 6 && s[2:] == "0000":
		return fmt.Sprintf("%s %q is not a real county code: it is province %s written with six digits; write %s", label, s, s[:2], s[:2])
	case len(s) == 6 && s[2:4] == "00":
		return fmt.Sprintf("%s %q is not a real county code: its city digits are 00", label, s)
	case len(s) == 6 && s[4:] == "00":
		return fmt.Sprintf("%s %q is not a real county code: it is city %s written with six digits; write %s", label, s, s[:4], s[:4])
	}
	return ""
}

// Valid reports whether c is a well-formed region code (see [ParseRegion]);
// it does not trim.
func (c RegionCode) Valid() bool { return problem("region", string(c)) == "" }

// Tier returns the tier of c by its length, or "" if c is invalid.
func (c RegionCode) Tier() Tier {
	if !c.Valid() {
		return ""
	}
	switch len(c) {
	case 2:
		return Province
	case 4:
		return City
	default:
		return County
	}
}

// Parent returns the code of c's parent region: "320722" → "3207",
// "3207" → "32", "32" → "". It returns "" for an invalid code.
func (c RegionCode) Parent() RegionCode {
	if !c.Valid() || len(c) == 2 {
		return ""
	}
	return c[:len(c)-2]
}

// Contains reports whether o is c or lies in c's subtree: both are valid and
// c is a prefix of o. An invalid code contains nothing.
func (c RegionCode) Contains(o RegionCode) bool {
	return c.Valid() && o.Valid() && strings.HasPrefix(string(o), string(c))
}

// Ancestors returns c's ancestors, nearest first: "320722" → ["3207", "32"].
// It returns nil for a province or an invalid code.
func (c RegionCode) Ancestors() []RegionCode {
	var out []RegionCode
	for p := c.Parent(); p != ""; p = p.Parent() {
		out = append(out, p)
	}
	return out
}

// String returns the code itself.
func (c RegionCode) String() string { return string(c) }

// describe returns "city 3207" for a valid code, or the quoted string.
func describe(c RegionCode) string {
	if t := c.Tier(); t != "" {
		return string(t) + " " + string(c)
	}
	return fmt.Sprintf("%q", string(c))
}

// parentMismatch is the error for a region whose parent is given as got but
// must be its code prefix. Call it only for a valid city or county code.
func parentMismatch(c, got RegionCode) error {
	want := c.Parent()
	not := string(got)
	if got.Tier() != want.Tier() {
		not = describe(got)
	}
	return errorf(ErrWrongParent, "%s's parent must be %s, not %s", describe(c), describe(want), not)
}

// tierMismatch is the error for a valid code given an explicit tier.
func tierMismatch(c RegionCode, t Tier) error {
	if !t.Valid() {
		return errorf(ErrInvalidTier, "region %s: tier %q is not one of province, city, county (it is a %s; or leave tier empty)", c, t, c.Tier())
	}
	return errorf(ErrInvalidTier, "region %s is a %s, not a %s", c, c.Tier(), t)
}
