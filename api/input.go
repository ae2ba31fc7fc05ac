package api

import (
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
)

// The input rules every JSON body meets before a handler decodes it
// (readBody, and each row of an import). encoding/json alone would accept
// all of what they refuse: it replaces invalid UTF-8 and lone surrogates
// with U+FFFD, keeps the last of two equal keys and takes any array.
const (
	// MaxArrayLen is the most elements one array of a body may hold (a
	// record's tags, a grid cell's customer ids). The rows of an import are
	// bounded by crm.MaxImportRows instead.
	MaxArrayLen = 10_000
	// MaxDepth is the deepest nesting of objects and arrays a body may have.
	MaxDepth = 32
)

// jsonTypes are the media types a JSON route takes.
const jsonTypes = "application/json (or application/*+json)"

// checkJSONType refuses a request with a body whose Content-Type is not
// JSON: 415 naming the expected type. A missing Content-Type is refused
// too (curl -d sends application/x-www-form-urlencoded; a browser form
// text/plain); a charset other than UTF-8 is refused.
func checkJSONType(c *gin.Context) *crm.Error {
	ct := c.GetHeader("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return apiErr(codeUnsupported, "Content-Type", "a JSON body needs Content-Type: "+jsonTypes)
	case err != nil:
		return apiErr(codeUnsupported, "Content-Type", fmt.Sprintf("%q is not a media type; send %s", ct, jsonTypes))
	case mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")):
		return apiErr(codeUnsupported, "Content-Type", "send "+jsonTypes+", not "+mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apiErr(codeUnsupported, "Content-Type", "send application/json in UTF-8; charset "+cs+" is not accepted")
	}
	return nil
}

// checkInput applies the input rules to one JSON value (a request body, or
// one row of an import, then prefix is "rows[i]"): strings are valid UTF-8
// with no lone surrogate escape; no object repeats a key; no string holds
// a control character other than tab, line feed and carriage return, nor
// any in a name (a field called name or username, or ending in _name); no
// string holds a bidirectional override or isolate (U+202A–U+202E,
// U+2066–U+2069), which make text display other than it reads; arrays hold
// at most MaxArrayLen elements; nesting is at most MaxDepth deep. The
// error is 400 invalid naming the field by its path (tags[3],
// contacts[0].name). Malformed JSON is left to the decoder, which says
// where; checkInput then answers nil.
func checkInput(data []byte, prefix string) *crm.Error {
	sc := scanner{data: data}
	sc.value(prefix, "", 0)
	return sc.err
}

// scanner walks one JSON value. It stops at the first rule broken (err)
// or at malformed JSON (bad), whichever comes first.
type scanner struct {
	data []byte
	pos  int
	err  *crm.Error
	bad  bool
}

func (s *scanner) stopped() bool { return s.err != nil || s.bad }

func (s *scanner) fail(path, format string, args ...any) {
	if s.err == nil {
		s.err = apiErr(crm.CodeInvalid, path, fmt.Sprintf(format, args...))
	}
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans the value at s.pos; path names it, key is the object key it
// belongs to ("" in an array or at the top).
func (s *scanner) value(path, key string, depth int) {
	s.ws()
	if s.pos >= len(s.data) {
		s.bad = true
		return
	}
	switch s.data[s.pos] {
	case '{':
		if depth >= MaxDepth {
			s.fail(path, "nests deeper than %d objects and arrays", MaxDepth)
			return
		}
		s.object(path, depth+1)
	case '[':
		if depth >= MaxDepth {
			s.fail(path, "nests deeper than %d objects and arrays", MaxDepth)
			return
		}
		s.array(path, depth+1)
	case '"':
		s.str(path, singleLine(key))
	default: // a number, true, false or null: the decoder checks it
		for s.pos < len(s.data) && !strings.ContainsRune(",]} \t\n\r", rune(s.data[s.pos])) {
			s.pos++
		}
	}
}

func (s *scanner) object(path string, depth int) {
	s.pos++ // {
	seen := map[string]struct{}{}
	for first := true; ; first = false {
		s.ws()
		if s.pos >= len(s.data) {
			s.bad = true
			return
		}
		if s.data[s.pos] == '}' && first {
			s.pos++
			return
		}
		if s.data[s.pos] != '"' {
			s.bad = true
			return
		}
		key := s.str(path, true)
		if s.stopped() {
			return
		}
		field := key
		if path != "" {
			field = path + "." + key
		}
		if _, dup := seen[key]; dup {
			s.fail(field, "appears twice in one object; send each field once")
			return
		}
		seen[key] = struct{}{}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.bad = true
			return
		}
		s.pos++
		s.value(field, key, depth)
		if s.stopped() {
			return
		}
		s.ws()
		if s.pos >= len(s.data) {
			s.bad = true
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return
		default:
			s.bad = true
			return
		}
	}
}

func (s *scanner) array(path string, depth int) {
	s.pos++ // [
	for n := 0; ; n++ {
		s.ws()
		if s.pos >= len(s.data) {
			s.bad = true
			return
		}
		if s.data[s.pos] == ']' && n == 0 {
			s.pos++
			return
		}
		if n == MaxArrayLen {
			s.fail(path, "holds more than %d elements, the most an array may have", MaxArrayLen)
			return
		}
		s.value(path+"["+strconv.Itoa(n)+"]", "", depth)
		if s.stopped() {
			return
		}
		s.ws()
		if s.pos >= len(s.data) {
			s.bad = true
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return
		default:
			s.bad = true
			return
		}
	}
}

// singleLine reports whether the field named key holds a name, where not
// even tab or a line break belongs.
func singleLine(key string) bool {
	return key == "name" || key == "username" || strings.HasSuffix(key, "_name")
}

// str scans the string at s.pos (its opening quote) and answers it
// decoded; path names the field for errors. A key is checked as a name.
func (s *scanner) str(path string, oneLine bool) string {
	s.pos++ // "
	var b strings.Builder
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return b.String()
		case c < 0x20:
			s.bad = true // raw control characters are malformed JSON
			return ""
		case c == '\\':
			r, ok := s.escape()
			if !ok {
				return ""
			}
			if !s.rune(path, r, oneLine) {
				return ""
			}
			b.WriteRune(r)
		case c < utf8.RuneSelf:
			s.pos++
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				s.fail(path, "is not valid UTF-8 (byte 0x%02x at offset %d); send text as UTF-8", c, s.pos)
				return ""
			}
			if !s.rune(path, r, oneLine) {
				return ""
			}
			s.pos += size
			b.WriteRune(r)
		}
	}
	s.bad = true
	return ""
}

// loneSurrogate is what escape answers for \uD800–\uDFFF unpaired.
const loneSurrogate = -1

// escape decodes the escape at s.pos (its backslash), pairing surrogates.
func (s *scanner) escape() (rune, bool) {
	if s.pos+1 >= len(s.data) {
		s.bad = true
		return 0, false
	}
	c := s.data[s.pos+1]
	if c != 'u' {
		s.pos += 2
		switch c {
		case '"', '\\', '/':
			return rune(c), true
		case 'b':
			return '\b', true
		case 'f':
			return '\f', true
		case 'n':
			return '\n', true
		case 'r':
			return '\r', true
		case 't':
			return '\t', true
		}
		s.bad = true
		return 0, false
	}
	r, ok := s.hex4(s.pos + 2)
	if !ok {
		return 0, false
	}
	s.pos += 6
	switch {
	case r >= 0xD800 && r < 0xDC00: // a high surrogate needs a low one
		if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
			if lo, ok := s.hex4(s.pos + 2); ok && lo >= 0xDC00 && lo < 0xE000 {
				s.pos += 6
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), true
			}
		}
		return loneSurrogate, true
	case r >= 0xDC00 && r < 0xE000:
		return loneSurrogate, true
	}
	return r, true
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		s.bad = true
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.data[at:at+4]), 16, 16)
	if err != nil {
		s.bad = true
		return 0, false
	}
	return rune(n), true
}

// rune checks one character of a string.
func (s *scanner) rune(path string, r rune, oneLine bool) bool {
	switch {
	case r == loneSurrogate:
		s.fail(path, "holds a lone UTF-16 surrogate escape (\\uD800–\\uDFFF unpaired), which is not a character")
		return false
	case r == '\t' || r == '\n' || r == '\r':
		if oneLine {
			s.fail(path, "holds a tab or line break (%U), which a name may not", r)
			return false
		}
	case r < 0x20 || r >= 0x7F && r <= 0x9F:
		s.fail(path, "holds the control character %U", r)
		return false
	case r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069:
		s.fail(path, "holds the bidirectional formatting character %U, which makes text display other than it reads", r)
		return false
	}
	return true
}
