package crm

import (
	"encoding/json"
	"slices"
	"strings"
)

// Directive kinds.
var DirectiveKinds = []string{"tariff", "class_thresholds", "notice", "policy", "task", "calendar", "rule_set", "account_prefix"}

// Directive is a record an upper tier addresses to a region and its subtree
// (a tariff table, customer-class thresholds, a notice): written where it is
// owned, pushed down to every region under Scope, read-only there.
type Directive struct {
	Meta
	Kind          string          `json:"kind"`  // one of DirectiveKinds
	Scope         string          `json:"scope"` // region the directive addresses (its subtree); default: the owner
	Title         string          `json:"title"`
	Body          json.RawMessage `json:"body,omitempty"` // the payload, a JSON object
	EffectiveFrom Date            `json:"effective_from,omitempty"`
}

func init() {
	register(&Kind{Name: "directives", IDPrefix: "dir", New: func() Record { return &Directive{} },
		Filters: []string{"kind", "scope"}})
}

// Normalize implements Record.
func (d *Directive) Normalize() {
	d.Kind = strings.ToLower(strings.TrimSpace(d.Kind))
	trim(&d.Scope)
	trim(&d.Title)
	if d.Scope == "" {
		d.Scope = d.Owner
	}
}

// Validate implements Record.
func (d *Directive) Validate() *Error {
	if e := oneOf("kind", d.Kind, DirectiveKinds...); e != nil {
		return e
	}
	if d.Scope == "" && d.Owner == "" {
		// Checked before it is proposed: Apply fills in the owner's region.
	} else if !ValidRegion(d.Scope) {
		return invalid("scope", "%q is not a GB/T 2260 region code", d.Scope)
	}
	if d.Owner != "" && !InRegion(d.Scope, d.Owner) {
		return &Error{Code: CodeWrongOwner, Field: "scope", Owner: d.Scope,
			Message: "region " + d.Owner + " can address only its own subtree, not " + d.Scope}
	}
	if e := required("title", d.Title, 200); e != nil {
		return e
	}
	if len(d.Body) > 0 {
		var m map[string]any
		if json.Unmarshal(d.Body, &m) != nil {
			return invalid("body", "must be a JSON object")
		}
	}
	if e := validDate("effective_from", d.EffectiveFrom, true); e != nil {
		return e
	}
	if check := directiveBodies[d.Kind]; check != nil {
		return check(d)
	}
	return nil
}

// directiveBodies holds the check of each directive kind whose body is
// read by rules of its own (RegisterDirectiveBody).
var directiveBodies = map[string]func(d *Directive) *Error{}

// RegisterDirectiveBody makes check part of Validate for directives of
// kind, one of DirectiveKinds: the file or package that reads those
// bodies registers it from an init function (accounts.go: account_prefix,
// package bigcustomer: class_thresholds, package process: calendar and
// rule_set). check
// runs after the common fields passed and must be deterministic. A kind
// registered twice, or not in DirectiveKinds, panics.
func RegisterDirectiveBody(kind string, check func(d *Directive) *Error) {
	if !slices.Contains(DirectiveKinds, kind) || directiveBodies[kind] != nil {
		panic("crm: directive body of " + kind + " registered twice or not a directive kind")
	}
	directiveBodies[kind] = check
}

// Indexes implements Record.
func (d *Directive) Indexes() []Index {
	return []Index{{"kind", d.Kind}, {"scope", d.Scope}, {OwnerIndex, d.Owner}}
}

// Uniques implements Record.
func (d *Directive) Uniques() []Unique { return nil }

// Refs implements Record.
func (d *Directive) Refs() []Ref { return nil }

// DirectiveFor reports whether a directive record (stored JSON) must be
// pushed down towards region: its scope and region lie on one branch (the
// region is inside the scope, or on the way to it).
func DirectiveFor(raw []byte, region string) bool {
	var d struct {
		Scope string `json:"scope"`
	}
	if json.Unmarshal(raw, &d) != nil || d.Scope == "" {
		return false
	}
	return InRegion(region, d.Scope) || InRegion(d.Scope, region)
}
