package crm

import (
	"crypto/rand"
	"encoding/binary"
	"slices"
	"strings"
	"time"
)

// Meta is carried by every record. The domain sets it in Apply; clients may
// send only Version (the version they expect to replace).
type Meta struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"`   // the region whose raft group writes this record
	Version   uint64    `json:"version"` // 1 on create, +1 on every update
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedBy string    `json:"updated_by"`
}

// RecordMeta returns the record's metadata; it lets *T satisfy Record.
func (m *Meta) RecordMeta() *Meta { return m }

// Index is one secondary-index entry: the record can be listed by Field=Value.
type Index struct{ Field, Value string }

// Unique is a uniqueness constraint: no two records of the collection share
// Value within Scope. Field names the JSON field for error messages.
type Unique struct{ Name, Scope, Value, Field string }

// Ref says that Field holds the id of a record in Collection, which must
// exist and have the same owner.
type Ref struct{ Field, Collection, ID string }

// Child names a collection and the field in it that holds this kind's ids.
type Child struct{ Collection, Field string }

// Record is implemented by every record type (as a pointer).
type Record interface {
	RecordMeta() *Meta
	// Normalize trims and canonicalises fields before validation.
	Normalize()
	// Validate checks the fields alone; it must be deterministic.
	Validate() *Error
	// Indexes lists the secondary-index entries of the record.
	Indexes() []Index
	// Uniques lists the record's uniqueness constraints.
	Uniques() []Unique
	// Refs lists the records this one points at.
	Refs() []Ref
}

// Kind describes one collection.
type Kind struct {
	Name     string        // collection name, as in the URL: "customers"
	IDPrefix string        // id prefix: "cus"
	New      func() Record // a zero record
	Filters  []string      // JSON fields that List can filter by through an index
	Private  []string      // JSON fields never returned by the API
	Children []Child       // records that reference this one; it cannot be deleted while they exist
	Regional bool          // the record has a "region" field that must equal its owner
	Standing []Op          // ops a region above may forward here whatever the management mode (Standing)
	// Programme names the programme's package that registered the kind
	// ("process", "bigcustomer", "analytics"), "" for crm's own: it
	// places the kind in Collections (programmeOrder).
	Programme string
	fields    map[string]bool // JSON field names, for unknown-field errors

	// The hooks: the one way a kind adds rules to Apply beyond its
	// record's own methods (Record), whether the kind is crm's or a
	// programme's package registers it (Register). Each is optional and
	// must be deterministic: time is cmd.Time, never the clock; r and tx
	// see the Command's own earlier writes.
	//
	// OnCreate fills the fields a create derives from the state (a
	// project's stages, deadlines and rule set) and refuses client-set
	// ones; Guard refuses an update that changes what only actions may
	// change; Act applies an OpAction to the stored record (action.go).
	OnCreate func(r Reader, rec Record, cmd *Command) *Error
	Guard    func(old, new Record) *Error
	Act      func(r Reader, rec Record, cmd *Command) *Error

	// Check runs on every create and update, after Validate and before the
	// ownership, unique and reference checks: the record's life cycle
	// against the stored version (old, nil on create) and its rules over
	// other records (one active gold manager per customer, an account
	// prefix directive). A missing reference is left to Refs to report.
	// checks (hooks.go) builds one from a record's methods.
	Check func(r Reader, rec, old Record, region string) *Error

	// OnUpdate runs after an update (OpUpdate, OpReplace) passed its
	// checks, OnDelete before a delete: on the Command's own Txn, so they
	// may refuse it or write what goes with it (users: the last admin
	// stays, a password change ends the user's sessions). Deterministic.
	OnUpdate func(tx Txn, old, new Record, cmd *Command) *Error
	OnDelete func(tx Txn, old Record, cmd *Command) *Error

	// Counters answers the aggregate counters (aggregate.go) one stored
	// record of the kind adds to a region, from the record's JSON: the
	// region (its owner) and the counters by metric name; "" and nil for
	// bytes it cannot read. The counters of a kind that has it are kept
	// on every write and delete (AggregateDeltas). Deterministic.
	Counters func(raw []byte) (region string, m map[string]float64)
}

// Kinds lists every collection, by name.
var Kinds = map[string]*Kind{}

// Register adds a kind of record to the domain: Apply, List, the
// replicas and the API then serve its collection, with the rules of its
// record's methods and of its hooks (Kind). Call it from an init function
// of the package that defines the records: crm's own files, or a
// programme's package, which crm never imports (whoever needs those
// kinds, node, api, cmd and tests, imports the package). A name
// registered twice panics.
func Register(k *Kind) {
	add(k)
	programmeKinds = append(programmeKinds, k.Name)
}

// register is Register for crm's own kinds, which Collections lists by
// name.
func register(k *Kind) { add(k) }

func add(k *Kind) {
	if Kinds[k.Name] != nil {
		panic("crm: kind " + k.Name + " registered twice")
	}
	k.fields = jsonFields(k.New())
	registerCodec(k.New())
	Kinds[k.Name] = k
}

// programmeKinds are the kinds a programme's package registered
// (Register), in the order it registered them.
var programmeKinds []string

// programmeOrder is the order of the programmes' kinds in Collections,
// after crm's core records, by the programme that registered them
// (Kind.Programme): it does not follow the order Go initialises the
// packages in (by import path when neither imports the other, which puts
// bigcustomer before process). Within a programme its kinds come in the
// order it registered them; a kind of a programme not named here comes
// after these, in registration order.
var programmeOrder = []string{"process", "bigcustomer", "analytics"}

// HasField reports whether name is a JSON field of the kind's records.
func (k *Kind) HasField(name string) bool { return k.fields[name] }

// Collections returns the collection names in a stable order: crm's core
// records; the kinds the programmes' packages registered (Register), by
// programme (programmeOrder: package process's projects, work orders and
// outages, then package bigcustomer's key projects … VIP services, then
// package analytics/records' credit grades … customer trends), each
// programme's in the order it registered them. It decides the order of whatever is listed or copied by
// collection (exports, the OpenAPI document, management grants).
func Collections() []string {
	out := []string{"customers", "bills", "staff", "contacts", "interactions", "violations", "capacity_changes", "directives", "users"}
	add := func(name string) {
		if Kinds[name] != nil && !slices.Contains(out, name) { // a test may have taken its kind away
			out = append(out, name)
		}
	}
	for _, p := range programmeOrder {
		for _, name := range programmeKinds {
			if k := Kinds[name]; k != nil && k.Programme == p {
				add(name)
			}
		}
	}
	for _, name := range programmeKinds {
		add(name)
	}
	return out
}

// NewID returns a new record id: prefix, '_', then 26 characters of Crockford
// base32 holding 48 bits of milliseconds and 80 random bits, so ids sort by
// creation time. Call it before proposing, never inside Apply.
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[0:8], ms<<16)
	_, _ = rand.Read(b[6:])
	return prefix + "_" + crockford(b)
}

const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func crockford(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockfordAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether id looks like an id of the kind.
func (k *Kind) ValidID(id string) bool {
	if !strings.HasPrefix(id, k.IDPrefix+"_") || len(id) != len(k.IDPrefix)+27 {
		return false
	}
	for i := len(k.IDPrefix) + 1; i < len(id); i++ {
		if !inCrockford[id[i]] {
			return false
		}
	}
	return true
}

// inCrockford[c] reports whether byte c is in crockfordAlphabet (no byte of
// a multi-byte UTF-8 sequence is).
var inCrockford = func() (t [256]bool) {
	for i := range len(crockfordAlphabet) {
		t[crockfordAlphabet[i]] = true
	}
	return t
}()
