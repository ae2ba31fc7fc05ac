package jsoncodec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The codec decodes and encodes the JSON of the registered types for the
// write path (crm's Apply and CheckNew run it for every row):
//
//   - Decode accepts only the plain case: one object whose keys are the
//     exact JSON names of the record's fields, each at most once, with
//     values of the field's JSON type (no null), and nothing but white space
//     after it. It decodes that exactly as encoding/json would. For anything
//     else it answers false, and the caller runs encoding/json, which then
//     decides (and words the error) as it always has.
//   - Append and Marshal write exactly what json.Marshal writes for the record; it
//     answers false where json.Marshal would fail (a NaN, a time outside
//     RFC 3339), and the caller runs json.Marshal.
//
// Tests compare both with encoding/json over generated and fuzzed records.

type fieldKind uint8

const (
	kString  fieldKind = iota // string, or a string type without methods (Date)
	kFloat                    // float64
	kUint                     // uint64
	kBool                     // bool
	kBoolPtr                  // *bool
	kTime                     // time.Time
	kStrings                  // []string
)

type codecField struct {
	name      string
	key       string // `"name":`, as json.Marshal writes it
	kind      fieldKind
	omitEmpty bool
	offset    uintptr // of the field in the record struct
}

type recordCodec struct {
	fields []codecField
}

// codecs holds the codec of each registered type, by pointer type; it is
// written only by Register, at init.
var codecs = map[reflect.Type]*recordCodec{}

// Register makes the codec of *T for v, a *T, if the codec can handle T (a
// struct of plain string, float64, uint64, bool, *bool, time.Time and
// []string fields, embedded structs of such, without JSON or text
// marshalers); otherwise values of T are left to encoding/json. Call it
// from init: the registry is not locked.
func Register(v any) {
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || !plainType(t.Elem()) {
		return // e.g. a record with its own MarshalJSON
	}
	var fields []codecField
	if !collectFields(t.Elem(), 0, &fields) || len(fields) > 64 {
		return
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.name] {
			return // a name conflict: encoding/json's rules apply, not ours
		}
		seen[f.name] = true
	}
	codecs[t] = &recordCodec{fields: fields}
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	numberType          = reflect.TypeFor[json.Number]() // a string encoding/json writes bare
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// plainType reports whether encoding/json treats t by its kind alone.
func plainType(t reflect.Type) bool {
	if t == numberType {
		return false
	}
	for _, u := range []reflect.Type{t, reflect.PointerTo(t)} {
		if u.Implements(jsonMarshalerType) || u.Implements(jsonUnmarshalerType) ||
			u.Implements(textMarshalerType) || u.Implements(textUnmarshalerType) {
			return false
		}
	}
	return true
}

// collectFields lists the JSON fields of struct t in encoding/json's order;
// it answers false for anything the codec does not handle.
func collectFields(t reflect.Type, base uintptr, out *[]codecField) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		if f.Anonymous {
			if hasTag || f.Type.Kind() != reflect.Struct || !plainType(f.Type) {
				return false
			}
			if !collectFields(f.Type, base+f.Offset, out) {
				return false
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		omit := false
		switch opts {
		case "":
		case "omitempty":
			omit = true
		default:
			return false
		}
		if name == "" {
			name = f.Name
		}
		for _, c := range []byte(name) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
		var k fieldKind
		switch ft := f.Type; {
		case ft == timeType:
			k = kTime
		case !plainType(ft):
			return false
		case ft.Kind() == reflect.String:
			k = kString
		case ft.Kind() == reflect.Float64:
			k = kFloat
		case ft.Kind() == reflect.Uint64:
			k = kUint
		case ft.Kind() == reflect.Bool:
			k = kBool
		case ft == reflect.TypeFor[*bool]():
			k = kBoolPtr
		case ft == reflect.TypeFor[[]string]():
			k = kStrings
		default:
			return false
		}
		if k == kTime && omit {
			return false // omitempty never omits a struct; keep it simple
		}
		*out = append(*out, codecField{name: name, key: `"` + name + `":`, kind: k, omitEmpty: omit, offset: base + f.Offset})
	}
	return true
}

// codecFor answers the codec of v's type and the address of the struct v
// points at, or nil.
//
// The codec reads and writes the fields through their addresses: reflect
// computed their offsets (collectFields) and their types (kind), so each
// access below is an ordinary typed load or store, write barriers and all.
func codecFor(v any) (*recordCodec, unsafe.Pointer) {
	c := codecs[reflect.TypeOf(v)]
	if c == nil {
		return nil, nil
	}
	p := reflect.ValueOf(v).UnsafePointer()
	if p == nil {
		return nil, nil
	}
	return c, p
}

// Decode decodes data into v when the codec can and v's fields are zero: as
// a json.Decoder with DisallowUnknownFields would, or, when lenient, as
// json.Unmarshal would. It leaves v as it was when it answers false.
func Decode(data []byte, v any, lenient bool) bool {
	c, p := codecFor(v)
	if c == nil || !c.isZero(p) {
		return false
	}
	if c.decode(data, p, lenient) {
		return true
	}
	c.reset(p)
	return false
}

// isZero reports whether every field of the struct at p that the codec
// writes holds the zero value, bit for bit.
func (c *recordCodec) isZero(p unsafe.Pointer) bool {
	for n := range c.fields {
		f := &c.fields[n]
		fp := unsafe.Add(p, f.offset)
		var zero bool
		switch f.kind {
		case kString:
			zero = len(*(*string)(fp)) == 0
		case kFloat:
			zero = math.Float64bits(*(*float64)(fp)) == 0
		case kUint:
			zero = *(*uint64)(fp) == 0
		case kBool:
			zero = !*(*bool)(fp)
		case kBoolPtr:
			zero = *(**bool)(fp) == nil
		case kStrings:
			zero = *(*[]string)(fp) == nil
		case kTime:
			zero = *(*time.Time)(fp) == time.Time{}
		}
		if !zero {
			return false
		}
	}
	return true
}

// reset sets the fields of the struct at p that the codec writes to their
// zero values.
func (c *recordCodec) reset(p unsafe.Pointer) {
	for n := range c.fields {
		f := &c.fields[n]
		fp := unsafe.Add(p, f.offset)
		switch f.kind {
		case kString:
			*(*string)(fp) = ""
		case kFloat:
			*(*float64)(fp) = 0
		case kUint:
			*(*uint64)(fp) = 0
		case kBool:
			*(*bool)(fp) = false
		case kBoolPtr:
			*(**bool)(fp) = nil
		case kStrings:
			*(*[]string)(fp) = nil
		case kTime:
			*(*time.Time)(fp) = time.Time{}
		}
	}
}

// Handles reports whether v is a pointer to a registered type the codec
// handles.
func Handles(v any) bool {
	c, _ := codecFor(v)
	return c != nil
}

// Append appends to b what json.Marshal writes for v, or answers false
// where the codec does not handle v or json.Marshal would fail.
func Append(b []byte, v any) ([]byte, bool) {
	c, p := codecFor(v)
	if c == nil {
		return b, false
	}
	out, ok := c.appendJSON(b, p)
	if !ok {
		return b, false
	}
	return out, true
}

// Marshal is json.Marshal(v).
func Marshal(v any) ([]byte, error) {
	if b, ok := Append(make([]byte, 0, 512), v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// decode decodes the plain case (see above) into the zero struct at p.
//
// lenient is json.Unmarshal's mode: unknown keys are skipped, not refused.
func (c *recordCodec) decode(data []byte, p unsafe.Pointer, lenient bool) bool {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	var seen uint64
	next := 0 // the field after the last one decoded: clients tend to send them in order
	// The strings of a strict decode (a client's record) are substrings of
	// one copy of data, made on the first; a lenient decode (a stored record,
	// often read for a few fields) copies the strings it keeps one by one.
	text, ptext := "", (*string)(nil)
	if !lenient {
		ptext = &text
	}
	for {
		// key
		if i == len(data) || data[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' && data[j] != '\\' && data[j] >= ' ' {
			j++
		}
		if j == len(data) || data[j] != '"' {
			return false
		}
		key := data[i+1 : j]
		fi := -1
		for k := range c.fields {
			n := next + k
			if n >= len(c.fields) {
				n -= len(c.fields)
			}
			if c.fields[n].name == string(key) {
				fi = n
				break
			}
		}
		if fi < 0 && !lenient || fi >= 0 && seen&(1<<fi) != 0 {
			return false
		}
		i = skipSpace(data, j+1)
		if i == len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		if i == len(data) {
			return false
		}
		if fi < 0 {
			// An unknown key, which encoding/json would match to a field
			// if it were the field's name in another case.
			for n := range c.fields {
				if bytes.EqualFold(key, []byte(c.fields[n].name)) {
					return false
				}
			}
			if i = skipValue(data, i, 0); i < 0 {
				return false
			}
		} else {
			seen |= 1 << fi
			next = fi + 1
			if i = c.decodeValue(data, i, &c.fields[fi], p, ptext); i < 0 {
				return false
			}
		}
		i = skipSpace(data, i)
		if i == len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// decodeValue decodes the value at data[i:] into field f of the struct at p
// and answers its end, or -1.
func (c *recordCodec) decodeValue(data []byte, i int, f *codecField, p unsafe.Pointer, text *string) int {
	fp := unsafe.Add(p, f.offset)
	switch f.kind {
	case kString:
		s, end, ok := scanString(data, i, text)
		if !ok {
			return -1
		}
		*(*string)(fp) = s
		return end
	case kFloat, kUint:
		end := scanNumber(data, i)
		if end < 0 {
			return -1
		}
		if f.kind == kFloat {
			n, err := strconv.ParseFloat(string(data[i:end]), 64)
			if err != nil {
				return -1
			}
			*(*float64)(fp) = n
		} else {
			n, err := strconv.ParseUint(string(data[i:end]), 10, 64)
			if err != nil {
				return -1
			}
			*(*uint64)(fp) = n
		}
		return end
	case kBool, kBoolPtr:
		var b bool
		switch {
		case hasLiteral(data, i, "true"):
			b, i = true, i+4
		case hasLiteral(data, i, "false"):
			b, i = false, i+5
		default:
			return -1
		}
		if f.kind == kBool {
			*(*bool)(fp) = b
		} else {
			bp := new(bool)
			*bp = b
			*(**bool)(fp) = bp
		}
		return i
	case kTime:
		end, ok := stringEnd(data, i)
		if !ok {
			return -1
		}
		if (*time.Time)(fp).UnmarshalJSON(data[i:end]) != nil {
			return -1
		}
		return end
	case kStrings:
		if data[i] != '[' {
			return -1
		}
		list := []string{}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			*(*[]string)(fp) = list
			return i + 1
		}
		for {
			s, end, ok := scanString(data, i, text)
			if !ok {
				return -1
			}
			list = append(list, s)
			i = skipSpace(data, end)
			if i == len(data) {
				return -1
			}
			if data[i] == ']' {
				*(*[]string)(fp) = list
				return i + 1
			}
			if data[i] != ',' {
				return -1
			}
			i = skipSpace(data, i+1)
		}
	}
	return -1
}

// skipValue answers the end of the JSON value at data[i:], or -1 if it is
// not valid JSON (or nests deeper than the codec cares to follow).
func skipValue(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		end, ok := stringEnd(data, i)
		if !ok {
			return -1
		}
		return end
	case c == '{' || c == '[':
		if depth >= 32 {
			return -1
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				end, ok := stringEnd(data, i)
				if !ok {
					return -1
				}
				i = skipSpace(data, end)
				if i == len(data) || data[i] != ':' {
					return -1
				}
				i = skipSpace(data, i+1)
			}
			if i = skipValue(data, i, depth+1); i < 0 {
				return -1
			}
			i = skipSpace(data, i)
			if i == len(data) {
				return -1
			}
			if data[i] == closer {
				return i + 1
			}
			if data[i] != ',' {
				return -1
			}
			i = skipSpace(data, i+1)
		}
	case c == 't':
		if hasLiteral(data, i, "true") {
			return i + 4
		}
	case c == 'f':
		if hasLiteral(data, i, "false") {
			return i + 5
		}
	case c == 'n':
		if hasLiteral(data, i, "null") {
			return i + 4
		}
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(data, i)
	}
	return -1
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// scanNumber answers the end of the JSON number at data[i:], or -1.
func scanNumber(data []byte, i int) int {
	digits := func(i int) int {
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i == len(data):
		return -1
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		i = digits(i + 1)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// stringEnd answers the end of the JSON string starting at data[i] (just
// past its closing quote), checking its syntax as encoding/json's scanner
// does.
func stringEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(data); {
		switch c := data[j]; {
		case c == '"':
			return j + 1, true
		case c < ' ':
			return 0, false
		case c == '\\':
			if j+1 == len(data) {
				return 0, false
			}
			switch data[j+1] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				j += 2
			case 'u':
				if hex4(data[j+2:]) < 0 {
					return 0, false
				}
				j += 6
			default:
				return 0, false
			}
		default:
			j++
		}
	}
	return 0, false
}

// hex4 decodes the 4 hex digits at the start of b, or answers -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// scanString decodes the JSON string at data[i:] as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD) and answers its end.
// A string without escapes is a substring of *text, string(data), which it
// makes when *text is "", unless text is nil.
func scanString(data []byte, i int, text *string) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	// The common case: no escapes, valid UTF-8.
	j := i + 1
	ascii := true
	for j < len(data) {
		c := data[j]
		if c == '"' || c == '\\' || c < ' ' {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		j++
	}
	if j < len(data) && data[j] == '"' && (ascii || utf8.Valid(data[i+1:j])) {
		if j == i+1 {
			return "", j + 1, true
		}
		if text == nil {
			return string(data[i+1 : j]), j + 1, true
		}
		if *text == "" {
			*text = string(data)
		}
		return (*text)[i+1 : j], j + 1, true
	}
	end, ok := stringEnd(data, i)
	if !ok {
		return "", 0, false
	}
	return unquote(data[i+1 : end-1]), end, true
}

// unquote decodes the body of a JSON string whose syntax stringEnd checked,
// as encoding/json's unquoteBytes does.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := rune(-1)
					if r+1 < len(s) && s[r] == '\\' && s[r+1] == 'u' {
						rr1 = hex4(s[r+2:])
					}
					if dec := utf16.DecodeRune(rr, rr1); dec != utf8.RuneError {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = utf8.RuneError
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b)
}

// appendJSON appends what json.Marshal writes for the struct at p, or
// answers false where json.Marshal would fail.
func (c *recordCodec) appendJSON(b []byte, p unsafe.Pointer) ([]byte, bool) {
	b = append(b, '{')
	first := true
	for n := range c.fields {
		f := &c.fields[n]
		fp := unsafe.Add(p, f.offset)
		switch f.kind {
		case kString:
			s := *(*string)(fp)
			if f.omitEmpty && s == "" {
				continue
			}
			b = appendKey(b, f.key, &first)
			b = appendString(b, s)
		case kFloat:
			x := *(*float64)(fp)
			if f.omitEmpty && x == 0 {
				continue
			}
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, false
			}
			b = appendKey(b, f.key, &first)
			b = appendFloat(b, x)
		case kUint:
			x := *(*uint64)(fp)
			if f.omitEmpty && x == 0 {
				continue
			}
			b = appendKey(b, f.key, &first)
			b = strconv.AppendUint(b, x, 10)
		case kBool:
			x := *(*bool)(fp)
			if f.omitEmpty && !x {
				continue
			}
			b = appendKey(b, f.key, &first)
			b = strconv.AppendBool(b, x)
		case kBoolPtr:
			bp := *(**bool)(fp)
			if bp == nil {
				if f.omitEmpty {
					continue
				}
				b = appendKey(b, f.key, &first)
				b = append(b, "null"...)
				continue
			}
			b = appendKey(b, f.key, &first)
			b = strconv.AppendBool(b, *bp)
		case kTime:
			t := (*time.Time)(fp)
			b = appendKey(b, f.key, &first)
			b = append(b, '"')
			var err error
			if b, err = t.AppendText(b); err != nil {
				return nil, false
			}
			b = append(b, '"')
		case kStrings:
			list := *(*[]string)(fp)
			if list == nil {
				if f.omitEmpty {
					continue
				}
				b = appendKey(b, f.key, &first)
				b = append(b, "null"...)
				continue
			}
			if f.omitEmpty && len(list) == 0 {
				continue
			}
			b = appendKey(b, f.key, &first)
			b = append(b, '[')
			for k, s := range list {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendString(b, s)
			}
			b = append(b, ']')
		}
	}
	return append(b, '}'), true
}

func appendKey(b []byte, key string, first *bool) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	return append(b, key...)
}

// appendFloat writes a finite float64 as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// htmlSafe[c] is true for the ASCII bytes json.Marshal writes as they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString writes s as json.Marshal does (HTML-safe, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
