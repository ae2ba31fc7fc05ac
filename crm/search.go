package crm

import (
	"encoding/json"
	"slices"
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
// Every customer carries, among its Indexes, the grams of its searchable
// fields in two region-scoped indexes (keyspace.IndexScoped), so they are
// written, replaced and dropped with the record by Apply and ApplyReplica
// at every tier that holds it, and a region's subtree is a key prefix:
//
//	x/customers/_q/<gram>\x01<region>\x00<id>     text grams
//	x/customers/_qa/<prefix>\x01<region>\x00<id>  户号 prefixes of 4, 6, … 16 characters
//
// Text is folded first (Fold: NFKC, full width to half, lower case; spaces,
// punctuation and control characters dropped). A gram at each position of a
// folded field is the two characters there when either is not ASCII (汉字
// bigrams), else the three there, or four when all four are digits (so
// phone and number postings stay short); a name also gives each of its
// non-ASCII characters alone, so one Chinese character finds names. A query
// makes the grams of its own text that every field containing it must have
// (a gram whose kind depends on characters past its end is left out),
// intersects their postings starting from the rarest (the others are point
// reads of the same region and id), and verifies each candidate on the
// record: the folded query is a substring of a folded field, or a prefix of
// the folded 户号. Work per call is bounded (SearchBudget index entries); a
// call that runs out answers what it found with a cursor to go on.

const (
	searchText    = "_q"  // index field of the text grams
	searchAccount = "_qa" // index field of the 户号 prefixes
	maxAcctPrefix = 16    // the longest 户号 prefix indexed
)

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

// searchIndexes are c's entries in the search indexes.
func (c *Customer) searchIndexes() []Index {
	if !searchIndexing || !ValidRegion(c.Region) {
		return nil
	}
	// Each entry's value is built in buf and allocated once, when new.
	suffix := keyspace.ScopedValue("", c.Region)
	seen := make(map[string]bool, 64)
	out := make([]Index, 0, 64)
	buf := make([]byte, 0, 32)
	emit := func(g []rune) {
		buf = buf[:0]
		for _, r := range g {
			buf = utf8.AppendRune(buf, r)
		}
		buf = append(buf, suffix...)
		if !seen[string(buf)] {
			v := string(buf)
			seen[v] = true
			out = append(out, Index{searchText, v})
		}
	}
	name := []rune(Fold(c.Name))
	for i, r := range name {
		if r >= utf8.RuneSelf {
			emit(name[i : i+1])
		}
	}
	textGrams(name, false, emit)
	for _, s := range []string{c.Address, c.Phone, c.Feeder, c.TransformerArea, c.Grid} {
		if s != "" {
			textGrams([]rune(Fold(s)), false, emit)
		}
	}
	for _, t := range c.Tags {
		textGrams([]rune(Fold(t)), false, emit)
	}
	acct := Fold(c.AccountNo)
	for n := 4; n <= min(len(acct), maxAcctPrefix); n += 2 {
		out = append(out, Index{searchAccount, acct[:n] + suffix})
	}
	return out
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
// of other postings of the same position.
type searchStream struct {
	base   string   // IndexField + value + "\x01": a position (<region>\x00<id>) follows
	scope  string   // the region prefix of positions ("<region>" or "<region>\x00")
	checks []string // bases of postings a position must also be in
	list   []string // with listed: the positions, held (instead of reading base)
	listed bool
	done   bool
	last   string // the last position read
}

// collect reads up to n positions after from and answers those in every
// posting.
func (s *searchStream) collect(r Reader, from string, n int, examined *int) ([]string, error) {
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

// maxGrams is the most grams of a query whose postings are read.
const maxGrams = 8

// shortPosting is the length under which a gram's posting is held whole
// and intersected in memory.
const shortPosting = 1_000

// readPosting answers the positions (<region>\x00<id>) of the entries
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
		from, fromPhase = region+"\x00"+id, phase
	}
	scope := q.Region
	if !q.Subtree {
		scope += "\x00"
	}
	page := SearchPage{Items: []json.RawMessage{}}
	var text, acct *searchStream

	// The text grams: the rarest drives, the others are checked.
	rs := []rune(fq)
	var grams []string
	textGrams(rs, true, func(r []rune) {
		if g := string(r); !slices.Contains(grams, g) {
			grams = append(grams, g)
		}
	})
	if len(grams) == 0 && len(rs) == 1 && rs[0] >= utf8.RuneSelf {
		grams = []string{fq} // one Chinese character: names holding it
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
			base := keyspace.IndexScoped("customers", searchText, g, "")
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
		acct = &searchStream{base: keyspace.IndexScoped("customers", searchAccount, fq[:n], ""), scope: scope}
		searchable = true
	}
	if !searchable {
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
				region, id, _ := strings.Cut(p, "\x00")
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
				if (q.Category != "" && c.Category != q.Category) || (q.Status != "" && c.Status != q.Status) || !c.matchesSearch(fq) {
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

// cursorOf is the cursor of search position <region>\x00<id>: <id>@<region>.
func cursorOf(pos string) string {
	region, id, _ := strings.Cut(pos, "\x00")
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
