package replication

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"
)

// decodeChange reads a feed entry as appendChange wrote it, without
// encoding/json: the fixed field order makes the head ({"s":…,"o":…,"os":…,
// "k":…[,"w":…]) readable from the front and the tail ([,"r":true],"t":…
// [,"a":…]}) from the back, and what lies between is the value, which is
// not scanned again (it was checked before it was written, and the feed is
// this region's own state). The strings and Value alias v: the caller
// copies what it keeps (own). ok is false for anything else (an escaped
// string, an entry of another shape); the caller then decodes it with
// encoding/json.
func decodeChange(v []byte, c *Change) (ok bool) {
	*c = Change{}
	p := v
	field := func(name string) bool {
		if !bytes.HasPrefix(p, []byte(name)) {
			return false
		}
		p = p[len(name):]
		return true
	}
	num := func() (uint64, bool) {
		i := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i == 0 || i > 20 {
			return 0, false
		}
		n, err := strconv.ParseUint(unsafe.String(unsafe.SliceData(p), i), 10, 64)
		p = p[i:]
		return n, err == nil
	}
	str := func() (string, bool) {
		if len(p) == 0 || p[0] != '"' {
			return "", false
		}
		i := bytes.IndexByte(p[1:], '"')
		if i < 0 || bytes.IndexByte(p[1:1+i], '\\') >= 0 {
			return "", false
		}
		s := p[1 : 1+i]
		p = p[2+i:]
		if len(s) == 0 {
			return "", true
		}
		return unsafe.String(unsafe.SliceData(s), len(s)), true
	}
	var good bool
	if !field(`{"s":`) {
		return false
	}
	if c.Seq, good = num(); !good || !field(`,"o":`) {
		return false
	}
	if c.Origin, good = str(); !good || !field(`,"os":`) {
		return false
	}
	if c.OSeq, good = num(); !good || !field(`,"k":`) {
		return false
	}
	if c.Key, good = str(); !good {
		return false
	}
	if field(`,"w":`) {
		if c.Owner, good = str(); !good || c.Owner == "" {
			return false
		}
	}
	// The tail, from the back: },"a":N? ,"t":N ,"r":true?
	if len(p) == 0 || p[len(p)-1] != '}' {
		return false
	}
	q := p[:len(p)-1]
	back := func(name string) (int64, bool) { // ,"name":N at the end of q
		i := len(q)
		for i > 0 && q[i-1] >= '0' && q[i-1] <= '9' {
			i--
		}
		if i > 0 && q[i-1] == '-' {
			i--
		}
		digits := q[i:]
		if len(digits) == 0 || !bytes.HasSuffix(q[:i], []byte(name)) {
			return 0, false
		}
		n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(digits), len(digits)), 10, 64)
		if err != nil {
			return 0, false
		}
		q = q[:i-len(name)]
		return n, true
	}
	if bytes.HasSuffix(q, []byte(`,"a":`)) {
		return false // no digits
	}
	var n int64
	if c.Appended, good = back(`,"a":`); !good {
		c.Appended = 0
		if c.Time, good = back(`,"t":`); !good {
			return false
		}
	} else {
		if c.Appended == 0 { // appendChange omits a zero
			return false
		}
		if n, good = back(`,"t":`); !good {
			return false
		}
		c.Time = n
	}
	if bytes.HasSuffix(q, []byte(`,"r":true`)) {
		c.Ref = true
		q = q[:len(q)-len(`,"r":true`)]
	}
	switch {
	case len(q) == 0:
	case bytes.HasPrefix(q, []byte(`,"v":`)) && len(q) > len(`,"v":`):
		c.Value = q[len(`,"v":`):]
	default:
		return false
	}
	return true
}

// own copies what c aliases (decodeChange) into memory of its own.
func (c *Change) own() {
	c.Origin = strings.Clone(c.Origin)
	c.Key = strings.Clone(c.Key)
	c.Owner = strings.Clone(c.Owner)
	if c.Value != nil {
		c.Value = bytes.Clone(c.Value)
	}
}
