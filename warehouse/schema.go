package warehouse

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gridcrm/crm"
)

// Type is a column's type.
type Type int

// The column types.
const (
	Int64     Type = iota // whole numbers (Go int, int64, uint64)
	Double                // float64
	Bool                  // bool
	String                // text
	Timestamp             // time.Time, UTC, microseconds
	Date                  // crm.Date: a calendar day
	JSON                  // anything nested, as JSON text
)

var typeNames = [...]string{Int64: "int64", Double: "double", Bool: "boolean", String: "string", Timestamp: "timestamp", Date: "date", JSON: "json"}

func (t Type) String() string { return typeNames[t] }

// Column is one column of a collection's rows.
type Column struct {
	Name     string // the record's JSON name: snake_case ASCII
	Type     Type
	Nullable bool  // a pointer field, a time, a date or a nested value
	index    []int // the field in the record's Go struct
	goKind   reflect.Kind
	isPtr    bool
}

// Schema is the columns of one collection's rows.
type Schema struct {
	Collection string
	Columns    []Column
	kind       *crm.Kind
	typ        reflect.Type // the record's struct type
}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[crm.Date]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	// columnName is what a column may be called.
	columnName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Collections are the collections that have a schema: every one crm
// registers, in crm's order.
func Collections() []string {
	var out []string
	for _, c := range crm.Collections() {
		if crm.Kinds[c] != nil {
			out = append(out, c)
		}
	}
	return out
}

// For answers the schema of collection coll; an unknown collection is an
// error naming the known ones.
func For(coll string) (*Schema, error) {
	kind := crm.Kinds[coll]
	if kind == nil {
		return nil, fmt.Errorf("no collection %q; collections: %s", coll, strings.Join(Collections(), ", "))
	}
	typ := reflect.TypeOf(kind.New()).Elem()
	s := &Schema{Collection: coll, kind: kind, typ: typ}
	if err := s.addFields(typ, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// addFields adds the columns of struct type t's fields (an embedded
// struct's, crm.Meta, in its place).
func (s *Schema) addFields(t reflect.Type, at []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(slices.Clone(at), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := s.addFields(f.Type, index); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" || slices.Contains(s.kind.Private, name) {
			continue
		}
		if !columnName.MatchString(name) {
			return fmt.Errorf("%s: field %s's JSON name %q is no snake_case column name", s.Collection, f.Name, name)
		}
		col := Column{Name: name, index: index}
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() != reflect.Struct || ft.Kind() == reflect.Pointer && ft.Elem() == timeType {
			col.isPtr, col.Nullable = true, true
			ft = ft.Elem()
		}
		col.goKind = ft.Kind()
		switch {
		case ft == timeType:
			col.Type, col.Nullable = Timestamp, true
		case ft == dateType:
			col.Type, col.Nullable = Date, true
		case ft == rawType:
			col.Type, col.Nullable = JSON, true
		case ft.Kind() == reflect.String:
			col.Type = String
		case ft.Kind() == reflect.Bool:
			col.Type = Bool
		case ft.Kind() == reflect.Float64 || ft.Kind() == reflect.Float32:
			col.Type = Double
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Int64, ft.Kind() >= reflect.Uint && ft.Kind() <= reflect.Uint32:
			col.Type = Int64
		case ft.Kind() == reflect.Uint64:
			col.Type = Int64 // versions: far below 2^63
		default: // slices, maps, structs, pointers to structs
			col.Type, col.Nullable, col.isPtr = JSON, true, false
			col.goKind = reflect.Invalid
		}
		s.Columns = append(s.Columns, col)
	}
	return nil
}

// Names are the columns' names, in order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

// Value is one cell: Null, or the field of the column's Type (I for
// Int64, F for Double, B for Bool, S for String, Date and JSON, T for
// Timestamp).
type Value struct {
	Null bool
	I    int64
	F    float64
	B    bool
	S    string
	T    time.Time
}

// decoder turns stored records into rows of values, reusing one record
// and one row.
type decoder struct {
	s   *Schema
	rec reflect.Value // *T
	row []Value
}

func newDecoder(s *Schema) *decoder {
	return &decoder{s: s, rec: reflect.New(s.typ), row: make([]Value, len(s.Columns))}
}

// decode reads raw (a stored record's JSON) into the decoder's row.
func (d *decoder) decode(raw []byte) ([]Value, error) {
	d.rec.Elem().SetZero()
	if err := json.Unmarshal(raw, d.rec.Interface()); err != nil {
		return nil, fmt.Errorf("%s: decode a record: %w", d.s.Collection, err)
	}
	v := d.rec.Elem()
	for i, col := range d.s.Columns {
		f := v.FieldByIndex(col.index)
		out := Value{}
		if col.isPtr {
			if f.IsNil() {
				d.row[i] = Value{Null: true}
				continue
			}
			f = f.Elem()
		}
		switch col.Type {
		case Int64:
			if f.CanInt() {
				out.I = f.Int()
			} else {
				out.I = int64(f.Uint())
			}
		case Double:
			out.F = f.Float()
		case Bool:
			out.B = f.Bool()
		case String:
			out.S = f.String()
		case Timestamp:
			t := f.Interface().(time.Time)
			out.Null, out.T = t.IsZero(), t.UTC().Truncate(time.Microsecond)
		case Date:
			s := f.String()
			if s == "" {
				out.Null = true
				break
			}
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %s %q is not a date", d.s.Collection, d.meta().ID, col.Name, s)
			}
			out.S, out.T = s, t
		case JSON:
			if f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				out.Null = true
				break
			}
			b, err := json.Marshal(f.Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: encode %s: %w", d.s.Collection, col.Name, err)
			}
			out.S = string(b)
		}
		d.row[i] = out
	}
	return d.row, nil
}

// meta answers the decoded record's metadata.
func (d *decoder) meta() *crm.Meta { return d.rec.Interface().(crm.Record).RecordMeta() }
