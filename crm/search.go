package crm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"gridcrm/store/keyspace"
)

// Customer text search (客户检索), as desk staff type: part of a name, a
// 户号 prefix, part of an address, phone digits, a feeder or transformer
// area, a grid cell or a tag.
//
// Every customer carries the grams of its searchable fields as entries of
// two index parts of their own (keyspace.SearchPrefix and
// SearchAccountPrefix), written, replaced and dropped with the record by
// Apply and ApplyReplica at every tier that holds it (searchChange: an
// update writes only the entries that changed):
//
//	x/_q/<gram>\x01<region><id>     text grams
//	x/_qa/<prefix>\x01<region><id>  户号 prefixes of 4, 6, … 16 characters
//
// <region><id> is the customer's position: its region in 3 bytes (each
// digit d as the nibble d+1, a missing one as 0) and its id in 16 bytes
// (the 128 bits of its 26 Crockford characters), so a region's subtree is
// a key prefix and positions sort as region then id do as text.
//
// Text is folded first (Fold: NFKC, full width to half, lower case; spaces,
// punctuation and control characters dropped). A gram at each position of a
// folded field is the two characters there when either is not ASCII (汉字
// bigrams), else the three there, or four when all four are digits (so
// phone and number postings stay short); a name's last character, when not
// ASCII, is also a gram alone. One Chinese character finds the names that
// hold it: they are the customers of the grams that begin with it (every
// other character of a name begins its bigram), merged in position order
// and verified on the name. A longer query makes the grams of its own text
// that every field containing it must have (a gram whose kind depends on
// characters past its end is left out), intersects their postings starting
// from the rarest (the others are point reads of the same position), and
// verifies each candidate on the record: the folded query is a substring of
// a folded field, or a prefix of the folded 户号. Work per call is bounded
// (SearchBudget index entries); a call that runs out answers what it found
// with a cursor to go on.

const maxAcctPrefix = 16 // the longest 户号 prefix indexed

// SearchLayout is the version of the search index's layout this code
// writes (keyspace.SearchLayoutKey): 1 (no key) was the first, under
// x/customers/_q/ and _qa/ with the region and id as text and every
// Chinese character of a name alone; 2 is the one above.
const SearchLayout = 2

// SearchBudget is the most index entries and records one SearchCustomers
// call examines walking postings, after it read each of the query's (at
// most maxGrams) postings up to shortPosting entries (searchBudget, but
// for tests).
const SearchBudget = 3_000

var searchBudget = SearchBudget

// searchIndexing is false only in benchmarks that measure writes without
// the search index (SetSearchIndexing): a store written so cannot be
// searched.
var searchIndexing = true

// SetSearchIndexing turns the search index off or on, for benchmarks of the
// write path only, and answers the previous setting.
func SetSearchIndexing(on bool) bool { old := searchIndexing; searchIndexing = on; return old }

// Fold is text as it is indexed and searched: NFKC, full-width forms to
// half-width (golang.org/x/text/width), lower case, and without white
// space, punctuation, format and control characters.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = width.Fold.String(norm.NFKC.String(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			} else if !('a' <= r && r <= 'z' || '0' <= r && r <= '9') && (r <= ' ' || r == 0x7f || unicode.IsPunct(r)) {
				continue
			}
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isDigitRune(r rune) bool { return '0' <= r && r <= '9' }

// textGrams calls emit with the grams of folded text rs. A query (query
// true) leaves out a gram whose kind depends on characters past its end.
func textGrams(rs []rune, query bool, emit func([]rune)) {
	for i := 0; i+1 < len(rs); i++ {
		a, b := rs[i], rs[i+1]
		if a >= utf8.RuneSelf || b >= utf8.RuneSelf {
			emit(rs[i : i+2])
			continue
		}
		if i+2 >= len(rs) {
			return
		}
		if isDigitRune(a) && isDigitRune(b) && isDigitRune(rs[i+2]) {
			switch {
			case i+3 < len(rs) && isDigitRune(rs[i+3]):
				emit(rs[i : i+4])
			case i+3 < len(rs) || !query:
				emit(rs[i : i+3])
			}
			continue
		}
		emit(rs[i : i+3])
	}
}

// searchTexts are the folded fields of c a query may match inside (the 户号
// is matched by its prefix).
func (c *Customer) searchTexts() []string {
	out := make([]string, 0, 6+len(c.Tags))
	for _, s := range []string{c.Name, c.Address, c.Phone, c.Feeder, c.TransformerArea, c.Grid} {
		if s != "" {
			out = append(out, Fold(s))
		}
	}
	for _, t := range c.Tags {
		out = append(out, Fold(t))
	}
	return out
}

// Positions. A region code (2, 4 or 6 digits) takes 3 bytes, a digit d
// the nibble d+1 and a missing one 0, so "32" < "3207" < "320722" as text;
// the bytes of a region's subtree are its own digits' (regionBytes).

const posRegion = 3 // the bytes of a position's region

// appendRegion appends region's 3 bytes, or with subtree only those of its
// digits (the prefix of the positions of its subtree).
func appendRegion(b []byte, region string, subtree bool) []byte {
	for i := 0; i < 2*posRegion; i += 2 {
		if subtree && i >= len(region) {
			break
		}
		var hi, lo byte
		if i < len(region) {
			hi = region[i] - '0' + 1
		}
		if i+1 < len(region) {
			lo = region[i+1] - '0' + 1
		}
		b = append(b, hi<<4|lo)
	}
	return b
}

// searchIDPrefix begins every customer id.
const searchIDPrefix = "cus_"

// odd16 begins the position's id of a customer whose id is not 128 bits
// of Crockford base32 (NewID never makes one): its text follows, so it
// sorts after every other id as its text does.
const odd16 = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

var crockfordValue = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := range len(crockfordAlphabet) {
		v[crockfordAlphabet[i]] = int8(i)
	}
	return v
}()

// appendPos appends the position of customer id in region.
func appendPos(b []byte, region, id string) []byte {
	b = appendRegion(b, region, false)
	if len(id) == len(searchIDPrefix)+26 && strings.HasPrefix(id, searchIDPrefix) && id[len(searchIDPrefix)] <= '7' {
		var hi, lo uint64
		ok := true
		for i := len(searchIDPrefix); i < len(id); i++ {
			v := crockfordValue[id[i]]
			if v < 0 {
				ok = false
				break
			}
			hi = hi<<5 | lo>>59
			lo = lo<<5 | uint64(v)
		}
		if ok {
			b = binary.BigEndian.AppendUint64(b, hi)
			return binary.BigEndian.AppendUint64(b, lo)
		}
	}
	return append(append(b, odd16...), id...)
}

// decodePos answers the region and id of position p.
func decodePos(p string) (region, id string, ok bool) {
	if len(p) < posRegion+16 {
		return "", "", false
	}
	var r []byte
	for i := range posRegion {
		hi, lo := p[i]>>4, p[i]&15
		if hi == 0 || hi > 10 || lo > 10 {
			break
		}
		r = append(r, '0'+hi-1)
		if lo == 0 {
			break
		}
		r = append(r, '0'+lo-1)
	}
	rest := p[posRegion:]
	if len(rest) == 16 {
		var b [16]byte
		copy(b[:], rest)
		return string(r), searchIDPrefix + crockford(b), true
	}
	if !strings.HasPrefix(rest, odd16) {
		return "", "", false
	}
	return string(r), rest[16:], true
}

// searchKeys are c's entries in the search index, each once.
func (c *Customer) searchKeys() []string {
	seen := make(map[string]bool, 64)
	out := make([]string, 0, 64)
	c.eachSearchKey(func(k []byte) {
		if !seen[string(k)] {
			s := string(k)
			seen[s] = true
			out = append(out, s)
		}
	})
	return out
}

// eachSearchKey calls emit with each of c's entries in the search index, in
// searchKeys' order, a gram as often as c's texts hold it; the slice is
// emit's only during the call.
func (c *Customer) eachSearchKey(emit func(key []byte)) {
	if !ValidRegion(c.Region) {
		return
	}
	var posBuf [24]byte
	pos := appendPos(posBuf[:0], c.Region, c.ID)
	buf := make([]byte, 0, 64)
	gram := func(g []rune) {
		buf = append(buf[:0], keyspace.SearchPrefix...)
		for _, r := range g {
			buf = utf8.AppendRune(buf, r)
		}
		buf = append(append(buf, 1), pos...)
		emit(buf)
	}
	name := []rune(Fold(c.Name))
	if n := len(name); n > 0 && name[n-1] >= utf8.RuneSelf {
		gram(name[n-1:]) // the others begin their bigram
	}
	textGrams(name, false, gram)
	for _, s := range []string{c.Address, c.Phone, c.Feeder, c.TransformerArea, c.Grid} {
		if s != "" {
			textGrams([]rune(Fold(s)), false, gram)
		}
	}
	for _, t := range c.Tags {
		textGrams([]rune(Fold(t)), false, gram)
	}
	acct := Fold(c.AccountNo)
	for n := 4; n <= min(len(acct), maxAcctPrefix); n += 2 {
		buf = append(append(append(append(buf[:0], keyspace.SearchAccountPrefix...), acct[:n]...), 1), pos...) // keyspace.SearchAccount(acct[:n]) + pos
		emit(buf)
	}
}

// searchChange writes the search entries of a customer written as new
// (nil: deleted) over old (nil: created): those of new that old lacks, and
// deletes those of old that new lacks, so that an update writes only what
// changed.
func searchChange(tx Txn, old, new *Customer) error {
	if !searchIndexing {
		return nil
	}
	var was map[string]bool
	if old != nil {
		ks := old.searchKeys()
		was = make(map[string]bool, len(ks))
		for _, k := range ks {
			was[k] = true
		}
	}
	o, _ := tx.(*overlay)
	if old == nil && new != nil && o != nil {
		// A create writes every entry: each straight into the overlay's
		// arena, without searchKeys' strings and set (an entry met twice is
		// put twice, the overlay holds it once).
		new.eachSearchKey(func(k []byte) { o.put(o.catBytes(k), []byte{}) })
		return nil
	}
	if new != nil {
		for _, k := range new.searchKeys() {
			if was[k] {
				delete(was, k)
				continue
			}
			var key []byte
			if o != nil {
				key = o.cat(k)
			} else {
				key = []byte(k)
			}
			if err := tx.Set(key, nil); err != nil {
				return err
			}
		}
	}
	for k := range was {
		if err := tx.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// SearchQuery is a customer search.
type SearchQuery struct {
	Text     string // what was typed
	Region   string // the region searched
	Subtree  bool   // with the regions below it
	Category string // only customers of this category ("" = any)
	Status   string // only customers of this status ("" = any)
	Limit    int    // page size; 0 means 20, at most MaxLimit
	After    string // the Next of the previous page
}

// SearchPage is one page of matches: those by 户号 prefix first, then the
// others, each in region then id order.
type SearchPage struct {
	Items    []json.RawMessage `json:"items"`
	Next     string            `json:"next,omitempty"`     // cursor for the next page; empty when no more
	Partial  bool              `json:"partial,omitempty"`  // the call ran out of budget before the page filled: go on with Next
	Examined int               `json:"examined,omitempty"` // index entries read
}

// searchStream is one posting list walked in order, filtered by point reads
// of other postings of the same position, or (union) the postings of
// several grams merged.
type searchStream struct {
	base   string   // keyspace.SearchGram or SearchAccount: a position (appendPos) follows
	scope  string   // the prefix of the positions searched (appendRegion)
	checks []string // bases of postings a position must also be in
	list   []string // with listed: the positions, held (instead of reading base)
	listed bool
	union  *postingMerge // with union: the postings merged (instead of reading base)
	done   bool
	last   string // the last position read
}

// collect reads up to n positions after from and answers those in every
// posting.
func (s *searchStream) collect(r Reader, from string, n int, examined *int) ([]string, error) {
	if s.union != nil {
		pos, err := s.union.next(r, from, n, examined)
		if err != nil {
			return nil, err
		}
		s.done = s.union.empty()
		if len(pos) > 0 {
			s.last = pos[len(pos)-1]
		}
		return pos, nil
	}
	if s.listed {
		i, _ := slices.BinarySearch(s.list, from)
		if i < len(s.list) && s.list[i] == from {
			i++
		}
		pos := s.list[i:min(len(s.list), i+n)]
		if i+n >= len(s.list) {
			s.done = true
		}
		if len(pos) > 0 {
			s.last = pos[len(pos)-1]
		}
		return s.check(r, slices.Clone(pos), examined)
	}
	lower := s.base + s.scope
	if from != "" && from >= s.scope {
		lower = s.base + from + "\x00"
	}
	var pos []string
	read := 0
	err := r.Iterate([]byte(lower), []byte(keyspace.End(s.base+s.scope)), func(k, _ []byte) bool {
		pos = append(pos, string(k[len(s.base):]))
		read++
		return read < n
	})
	if err != nil {
		return nil, err
	}
	*examined += read
	if read < n {
		s.done = true
	}
	if read > 0 {
		s.last = pos[len(pos)-1]
	}
	return s.check(r, pos, examined)
}

// check keeps the positions of pos that every check posting holds.
func (s *searchStream) check(r Reader, pos []string, examined *int) ([]string, error) {
	out := pos[:0]
next:
	for _, p := range pos {
		for _, c := range s.checks {
			*examined++
			ok, err := hasKey(r, []byte(c+p))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue next
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// hasKey reports whether key is stored. An index entry's value is empty,
// which a Pebble reader answers as []byte{} and MemTxn as nil.
func hasKey(r Reader, key []byte) (bool, error) {
	if m, ok := r.(*MemTxn); ok {
		_, found := m.m[string(key)]
		return found, nil
	}
	v, err := r.Get(key)
	return v != nil, err
}

// postingMerge walks, within scope, the postings of every gram that begins
// with text x at once, and answers their positions merged in order, each
// once: the customers whose names hold character x. Each gram is found and
// its first positions read by one seek (the next gram's key ends the read);
// a gram with more positions is read on, a batch twice the last at a time,
// when the merge reaches the end of what it holds.
type postingMerge struct {
	x      string
	scope  string
	heads  []mergeHead // a min-heap by their first position
	grams  int         // grams found
	opened bool
}

type mergeHead struct {
	base  string   // keyspace.SearchGram of the gram
	pos   []string // positions read and not yet merged, in order
	more  bool     // the posting may go on past pos
	batch int      // positions to read at the next refill
}

// mergeReadAhead is the positions read with a gram when it is found.
const mergeReadAhead = 8

// next answers up to n positions after from (the first call; later ones go
// on from where the previous stopped).
func (m *postingMerge) next(r Reader, from string, n int, examined *int) ([]string, error) {
	if !m.opened {
		m.opened = true
		if err := m.open(r, from, examined); err != nil {
			return nil, err
		}
	}
	var out []string
	for len(m.heads) > 0 {
		h := &m.heads[0]
		p := h.pos[0]
		if len(out) == n && p != out[len(out)-1] {
			break
		}
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
		h.pos = h.pos[1:]
		if len(h.pos) == 0 && h.more {
			var err error
			if h.pos, h.more, err = m.read(r, h.base, p+"\x00", h.batch, examined); err != nil {
				return nil, err
			}
			h.batch = min(2*h.batch, 1024)
		}
		if len(h.pos) == 0 {
			last := len(m.heads) - 1
			m.heads[0] = m.heads[last]
			m.heads = m.heads[:last]
		}
		m.down(0)
	}
	return out, nil
}

// open finds the grams that begin with m.x and reads the first positions
// of each at or after from (or the scope's first).
func (m *postingMerge) open(r Reader, from string, examined *int) error {
	lowerPos := m.scope
	if from != "" && from >= m.scope {
		lowerPos = from + "\x00"
	}
	endPos := keyspace.End(m.scope)
	lo := []byte(keyspace.SearchPrefix + m.x)
	hi := []byte(keyspace.End(string(lo)))
	for {
		h := mergeHead{batch: 4 * mergeReadAhead}
		seek := false
		err := r.Iterate(lo, hi, func(k, _ []byte) bool {
			if h.base == "" {
				i := bytes.IndexByte(k[len(keyspace.SearchPrefix):], 1)
				if i < 0 {
					return true // not a gram's entry (none is)
				}
				h.base = string(k[:len(keyspace.SearchPrefix)+i+1])
			} else if !bytes.HasPrefix(k, []byte(h.base)) {
				return false // the next gram's: found by the next seek
			}
			p := string(k[len(h.base):])
			switch {
			case p < lowerPos:
				seek = true // its positions in scope begin further on
				return false
			case p >= endPos:
				return false // past the scope
			}
			*examined++
			h.pos = append(h.pos, p)
			if len(h.pos) == mergeReadAhead {
				h.more = true
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if h.base == "" {
			return nil
		}
		m.grams++
		*examined++ // the seek that found it
		if seek {
			if h.pos, h.more, err = m.read(r, h.base, lowerPos, mergeReadAhead, examined); err != nil {
				return err
			}
		}
		if len(h.pos) > 0 {
			m.heads = append(m.heads, h)
			m.up(len(m.heads) - 1)
		}
		lo = []byte(keyspace.End(h.base)) // past every position of the gram
	}
}

// read answers up to n positions of the gram at base from position lower
// on, within the scope, and whether there may be more.
func (m *postingMerge) read(r Reader, base, lower string, n int, examined *int) ([]string, bool, error) {
	var pos []string
	err := r.Iterate([]byte(base+lower), []byte(base+keyspace.End(m.scope)), func(k, _ []byte) bool {
		pos = append(pos, string(k[len(base):]))
		return len(pos) < n
	})
	*examined += len(pos)
	return pos, len(pos) == n, err
}

func (m *postingMerge) empty() bool { return m.opened && len(m.heads) == 0 }

func (m *postingMerge) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if m.heads[p].pos[0] <= m.heads[i].pos[0] {
			return
		}
		m.heads[p], m.heads[i] = m.heads[i], m.heads[p]
		i = p
	}
}

func (m *postingMerge) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(m.heads) && m.heads[l].pos[0] < m.heads[small].pos[0] {
			small = l
		}
		if l+1 < len(m.heads) && m.heads[l+1].pos[0] < m.heads[small].pos[0] {
			small = l + 1
		}
		if small == i {
			return
		}
		m.heads[i], m.heads[small] = m.heads[small], m.heads[i]
		i = small
	}
}

// maxGrams is the most grams of a query whose postings are read.
const maxGrams = 8

// shortPosting is the length under which a gram's posting is held whole
// and intersected in memory.
const shortPosting = 1_000

// readPosting answers the positions (appendPos) of the entries
// under base+scope, at most most of them.
func readPosting(r Reader, base, scope string, most int, examined *int) ([]string, error) {
	var pos []string
	prefix := base + scope
	err := r.Iterate([]byte(prefix), []byte(keyspace.End(prefix)), func(k, _ []byte) bool {
		pos = append(pos, string(k[len(base):]))
		return len(pos) < most
	})
	*examined += len(pos)
	return pos, err
}

// intersectSorted answers the strings of both sorted lists.
func intersectSorted(a, b []string) []string {
	out := a[:0:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// SearchCustomers answers the customers of q.Region (and with q.Subtree
// its subtree) matching q.Text, from the search indexes: never a scan of
// records.
func SearchCustomers(r Reader, q SearchQuery) (SearchPage, *Error) {
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return SearchPage{}, invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	if !ValidRegion(q.Region) {
		return SearchPage{}, invalid("region", "%q is not a GB/T 2260 region code", q.Region)
	}
	if q.Category != "" && !slices.Contains(Categories, q.Category) {
		return SearchPage{}, invalid("category", "%q is not one of %s", q.Category, strings.Join(Categories, ", "))
	}
	if q.Status != "" && !slices.Contains([]string{StatusActive, StatusSuspended, StatusClosed}, q.Status) {
		return SearchPage{}, invalid("status", "%q is not one of active, suspended, closed", q.Status)
	}
	if utf8.RuneCountInString(q.Text) > 100 {
		return SearchPage{}, invalid("q", "is longer than 100 characters")
	}
	fq := Fold(q.Text)
	if fq == "" {
		return SearchPage{}, invalid("q", "is required: part of a name, 户号, address, phone, feeder, transformer area or tag")
	}
	from, fromPhase := "", ""
	if q.After != "" {
		phase, rest, _ := strings.Cut(q.After, ":")
		id, region, ok := strings.Cut(rest, "@")
		if (phase != "a" && phase != "t") || !ok || !Kinds["customers"].ValidID(id) || !ValidRegion(region) || !InRegion(region, q.Region) {
			return SearchPage{}, invalid("cursor", "%q is not a cursor from a previous page of this search", q.After)
		}
		from, fromPhase = string(appendPos(nil, region, id)), phase
	}
	scope := string(appendRegion(nil, q.Region, q.Subtree))
	page := SearchPage{Items: []json.RawMessage{}}
	var text, acct *searchStream
	nameOnly := false // one Chinese character: the names that hold it

	// The text grams: the rarest drives, the others are checked.
	rs := []rune(fq)
	var grams []string
	textGrams(rs, true, func(r []rune) {
		if g := string(r); !slices.Contains(grams, g) {
			grams = append(grams, g)
		}
	})
	if len(grams) == 0 && len(rs) == 1 && rs[0] >= utf8.RuneSelf {
		// One Chinese character: the names holding it are in the
		// postings of the grams that begin with it (the name's last
		// character alone, the others' bigrams), merged; the record
		// decides (the character may be in another field).
		m := &postingMerge{x: fq, scope: scope}
		text, nameOnly = &searchStream{scope: scope, union: m}, true
	}
	if len(grams) > maxGrams { // a long query: grams spread over it filter enough; the record decides
		spread := make([]string, maxGrams)
		for i := range spread {
			spread[i] = grams[i*len(grams)/maxGrams]
		}
		grams = spread
	}
	searchable := len(grams) > 0
	if len(grams) > 0 {
		// Each gram's posting is read up to shortPosting entries: a
		// shorter one is then held whole, and the short ones are
		// intersected here; the long ones are checked by point reads.
		type counted struct {
			base string
			pos  []string // the whole posting when shorter than shortPosting
		}
		cs := make([]counted, 0, len(grams))
		empty := false
		for _, g := range grams {
			base := keyspace.SearchGram(g)
			pos, err := readPosting(r, base, scope, shortPosting, &page.Examined)
			if err != nil {
				return SearchPage{}, AsError(err)
			}
			if len(pos) == 0 {
				empty = true
				break
			}
			cs = append(cs, counted{base, pos})
		}
		if !empty {
			slices.SortStableFunc(cs, func(a, b counted) int { // the rarest first; among common ones, the longest
				if len(a.pos) != len(b.pos) {
					return len(a.pos) - len(b.pos)
				}
				return len(b.base) - len(a.base)
			})
			s := &searchStream{base: cs[0].base, scope: scope}
			rest := cs[1:]
			if len(cs[0].pos) < shortPosting {
				s.list, s.listed = cs[0].pos, true
				for len(rest) > 0 && len(rest[0].pos) < shortPosting {
					s.list = intersectSorted(s.list, rest[0].pos)
					rest = rest[1:]
				}
			}
			for _, c := range rest[:min(len(rest), 6)] {
				s.checks = append(s.checks, c.base)
			}
			text = s
		}
	}
	// The 户号 prefix.
	if len(fq) >= 4 && isAccountText(fq) {
		n := min(maxAcctPrefix, len(fq)-len(fq)%2)
		acct = &searchStream{base: keyspace.SearchAccount(fq[:n]), scope: scope}
		searchable = true
	}
	if !searchable && !nameOnly {
		return SearchPage{}, invalid("q", "%q is too short to search: type at least one Chinese character, three letters, or four digits", q.Text)
	}

	// The 户号 prefix's matches come first (phase a), then the text's
	// (phase t) less those; each in position (region, id) order.
	type phase struct {
		tag string
		s   *searchStream
	}
	var phases []phase
	if acct != nil && fromPhase != "t" {
		phases = append(phases, phase{"a", acct})
	}
	if text != nil {
		phases = append(phases, phase{"t", text})
	}
	window := min(max(q.Limit+1, 64), 256) // positions read per round
	counted := page.Examined               // the postings read whole above are not the budget's
	lastPos, lastTag := "", ""
	for pi, ph := range phases {
		if pi > 0 || ph.tag != fromPhase {
			from = ""
		}
		s := ph.s
		for !s.done {
			cands, err := s.collect(r, from, window, &page.Examined)
			if err != nil {
				return SearchPage{}, AsError(err)
			}
			for _, p := range cands {
				region, id, ok := decodePos(p)
				if !ok {
					continue
				}
				raw, err := r.Get(recordKey("customers", id))
				if err != nil {
					return SearchPage{}, AsError(err)
				}
				page.Examined++
				if raw == nil {
					continue
				}
				var c Customer
				if unmarshal(raw, &c) != nil || c.Region != region {
					continue
				}
				if (q.Category != "" && c.Category != q.Category) || (q.Status != "" && c.Status != q.Status) ||
					(nameOnly && !strings.Contains(Fold(c.Name), fq)) || (!nameOnly && !c.matchesSearch(fq)) {
					continue
				}
				if ph.tag == "t" && acct != nil && strings.HasPrefix(Fold(c.AccountNo), fq) {
					continue // answered in phase a
				}
				if len(page.Items) == q.Limit {
					page.Next = lastTag + ":" + cursorOf(lastPos)
					return page, nil
				}
				page.Items = append(page.Items, raw)
				lastPos, lastTag = p, ph.tag
			}
			from = s.last
			if !s.done && page.Examined-counted >= searchBudget {
				page.Next, page.Partial = ph.tag+":"+cursorOf(s.last), true
				return page, nil
			}
		}
	}
	return page, nil
}

// cursorOf is the cursor of search position pos: <id>@<region>.
func cursorOf(pos string) string {
	region, id, _ := decodePos(pos)
	return id + "@" + region
}

func isAccountText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// matchesSearch reports whether folded query fq is in one of c's fields.
func (c *Customer) matchesSearch(fq string) bool {
	if strings.HasPrefix(Fold(c.AccountNo), fq) {
		return true
	}
	for _, s := range c.searchTexts() {
		if strings.Contains(s, fq) {
			return true
		}
	}
	return false
}

// MigrateSearch indexes every customer again when the state's search index
// is not of SearchLayout (keyspace.SearchLayoutKey: a store, snapshot or
// backup written by an earlier version): it drops the entries of every
// layout, writes each customer record's (those rolled up from below too)
// in batches of searchMigrateBatch customers, and records the layout last,
// so a run cut short runs again from the start. It answers the customers
// indexed (0 when the layout was current). It must run before the state is
// written or searched: at start, before raft applies, and after a
// snapshot replaced the state. batch opens a Txn and its commit;
// dropRange, when not nil, deletes the keys of [lo, hi) at once (else they
// are deleted one by one).
func MigrateSearch(r Reader, batch func() (Txn, func() error), dropRange func(lo, hi []byte) error) (int, error) {
	v, err := r.Get([]byte(keyspace.SearchLayoutKey))
	if err != nil {
		return 0, err
	}
	if string(v) == strconv.Itoa(SearchLayout) {
		return 0, nil
	}
	for _, p := range []string{keyspace.IndexField("customers", "_q"), keyspace.IndexField("customers", "_qa"), keyspace.SearchPrefix, keyspace.SearchAccountPrefix} {
		lo, hi := []byte(p), []byte(keyspace.End(p))
		if dropRange != nil {
			err = dropRange(lo, hi)
		} else {
			err = DeleteKeys(r, batch, lo, hi, nil)
		}
		if err != nil {
			return 0, err
		}
	}
	n := 0
	err = RecordBatches(r, "customers", searchMigrateBatch, func(ids []string, raws [][]byte) error {
		tx, commit := batch()
		for i, raw := range raws {
			var c Customer
			if unmarshal(raw, &c) != nil {
				continue // not indexed when written either
			}
			c.ID = ids[i]
			if err := searchChange(tx, nil, &c); err != nil {
				return err
			}
			n++
		}
		return commit()
	})
	if err != nil {
		return n, err
	}
	tx, commit := batch()
	if err := tx.Set([]byte(keyspace.SearchLayoutKey), []byte(strconv.Itoa(SearchLayout))); err != nil {
		return n, err
	}
	return n, commit()
}

// searchMigrateBatch is the customers MigrateSearch indexes a batch (a
// variable for the tests, which run it over several batches).
var searchMigrateBatch = 1_000
