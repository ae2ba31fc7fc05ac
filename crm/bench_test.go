package crm_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/crm/sample"
)

// Benchmarks of the write path: what the raft FSM runs per write on every
// replica (Apply) and what the API runs per incoming record (CheckNew).

const benchRegion = "320723"

var benchT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// benchState is a MemTxn holding a generated region of customers (and, when
// months > 0, their bills), the ids of those customers, and 100 further
// generated customers (and bills) that are not stored, for the benchmarks
// to write.
type benchState struct {
	tx       *crm.MemTxn
	cusIDs   []string
	newCus   []json.RawMessage
	newBills []json.RawMessage // bills of stored customers for a month not stored
}

func newBenchState(tb testing.TB, customers int) *benchState {
	tb.Helper()
	d := sample.Generate(sample.Options{Region: benchRegion, Customers: customers + 100, Months: 2, Seed: 1})
	s := &benchState{tx: crm.NewMemTxn()}
	var seq int
	nextID := func(prefix string) string {
		seq++
		return crm.NewID(prefix, benchT0.Add(-time.Duration(seq)*time.Millisecond))
	}
	for lo := 0; lo < customers; lo += 1000 {
		hi := min(lo+1000, customers)
		cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0}
		for i := lo; i < hi; i++ {
			cmd.Rows = append(cmd.Rows, crmtest.ClientBody(tb, &d.Customers[i]))
			cmd.IDs = append(cmd.IDs, nextID("cus"))
		}
		if res := crm.Apply(s.tx, cmd); res.Err != nil {
			tb.Fatalf("prefill: %v %+v", res.Err, res.Err.Rows)
		}
		s.cusIDs = append(s.cusIDs, cmd.IDs...)
	}
	for lo := 0; lo < customers; lo += 1000 {
		hi := min(lo+1000, customers)
		cmd := &crm.Command{Op: crm.OpImport, Collection: "bills", Region: benchRegion, Actor: "demo", Time: benchT0}
		for i := lo; i < hi; i++ {
			b := d.Bills[i][0]
			b.CustomerID = s.cusIDs[i]
			cmd.Rows = append(cmd.Rows, crmtest.ClientBody(tb, &b))
			cmd.IDs = append(cmd.IDs, nextID("bil"))
		}
		if res := crm.Apply(s.tx, cmd); res.Err != nil {
			tb.Fatalf("prefill bills: %v %+v", res.Err, res.Err.Rows)
		}
	}
	for i := customers; i < customers+100; i++ {
		s.newCus = append(s.newCus, crmtest.ClientBody(tb, &d.Customers[i]))
	}
	for i := range 100 {
		b := d.Bills[i][1]
		b.CustomerID = s.cusIDs[i]
		s.newBills = append(s.newBills, crmtest.ClientBody(tb, &b))
	}
	return s
}

// sinkTxn reads from a prefilled MemTxn and appends writes to a buffer, as
// a Pebble batch does, instead of storing them, so that the same Command
// can be applied b.N times to the same state.
type sinkTxn struct {
	*crm.MemTxn
	buf    []byte
	writes int
	keys   []string // the first keys written, for a failure's message
}

func (s *sinkTxn) Set(k, v []byte) error {
	s.buf = append(append(s.buf, k...), v...)
	s.writes++
	if len(s.keys) < 64 {
		s.keys = append(s.keys, string(k))
	}
	return nil
}

func (s *sinkTxn) Delete(k []byte) error {
	s.buf = append(s.buf, k...)
	s.writes++
	return nil
}

func (s *sinkTxn) reset() { s.buf, s.writes, s.keys = s.buf[:0], 0, s.keys[:0] }

func benchApply(b *testing.B, s *benchState, cmd *crm.Command, wantWrites int) {
	b.Helper()
	tx := &sinkTxn{MemTxn: s.tx}
	res := crm.Apply(tx, cmd)
	if res.Err != nil {
		b.Fatalf("Apply: %v %+v", res.Err, res.Err.Rows)
	}
	if tx.writes != wantWrites {
		b.Fatalf("Apply wrote %d keys; want %d: %q", tx.writes, wantWrites, tx.keys)
	}
	var bytes int
	for _, r := range cmd.Rows {
		bytes += len(r)
	}
	bytes += len(cmd.Body)
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tx.reset()
		if res := crm.Apply(tx, cmd); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

var benchStates = map[int]*benchState{}

func benchStateOf(b *testing.B, customers int) *benchState {
	b.Helper()
	if s, ok := benchStates[customers]; ok {
		return s
	}
	s := newBenchState(b, customers)
	benchStates[customers] = s
	return s
}

// keysWritten is what creating rows of kind k writes: each row's record,
// uniques and indexes.
func keysWritten(tb testing.TB, k *crm.Kind, rows []json.RawMessage) int {
	n := 0
	cards := map[string]bool{} // customer cards written (card.go): one per customer, whatever its bills
	carded := false            // the region's card version (x/_cardv/), once a command that writes a card
	for _, r := range rows {
		rec, err := k.CheckNew(r, benchRegion)
		if err != nil {
			tb.Fatal(err)
		}
		n += 1 + len(rec.Uniques()) + len(rec.Indexes())
		switch x := rec.(type) {
		case *crm.Customer:
			n += 2 // who holds the 户号 (x/customers/_acct), and its duplicate entry cleared (accounts.go)
			n++    // its card
			carded = true
			n += len(crm.SearchKeys(x)) // its search entries (search.go)
		case *crm.Bill:
			if !cards[x.CustomerID] {
				cards[x.CustomerID] = true
				n++ // its customer's card
				carded = true
			}
		}
	}
	if carded {
		n++
	}
	return n
}

// BenchmarkApplyImport imports 100 generated customers (about 300 bytes of
// JSON each) into a region of 10k.
func BenchmarkApplyImport(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		Rows: s.newCus}
	for range s.newCus {
		cmd.IDs = append(cmd.IDs, crm.NewID("cus", cmd.Time))
	}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["customers"], s.newCus))
}

// BenchmarkApplyImportBills imports 100 bills of stored customers: each
// row's reference is checked.
func BenchmarkApplyImportBills(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpImport, Collection: "bills", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		Rows: s.newBills}
	for range s.newBills {
		cmd.IDs = append(cmd.IDs, crm.NewID("bil", cmd.Time))
	}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["bills"], s.newBills))
}

// BenchmarkApplyCreate creates one customer in a region of 10k.
func BenchmarkApplyCreate(b *testing.B) {
	s := benchStateOf(b, 10_000)
	cmd := &crm.Command{Op: crm.OpCreate, Collection: "customers", Region: benchRegion, Actor: "demo", Time: benchT0.Add(time.Hour),
		ID: crm.NewID("cus", benchT0.Add(time.Hour)), Body: s.newCus[0]}
	benchApply(b, s, cmd, keysWritten(b, crm.Kinds["customers"], s.newCus[:1]))
}

// BenchmarkCheckNew checks one customer body as the API does before
// proposing it.
func BenchmarkCheckNew(b *testing.B) {
	d := sample.Generate(sample.Options{Region: benchRegion, Customers: 1, Seed: 1})
	body := crmtest.ClientBody(b, &d.Customers[0])
	k := crm.Kinds["customers"]
	if _, err := k.CheckNew(body, benchRegion); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := k.CheckNew(body, benchRegion); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchBodies checks that the benchmarks' bodies are the size they
// claim.
func TestBenchBodies(t *testing.T) {
	s := newBenchState(t, 100)
	n := 0
	for _, r := range s.newCus {
		n += len(r)
	}
	t.Logf("customer body: %d bytes on average; e.g. %s", n/len(s.newCus), s.newCus[0])
	if avg := n / len(s.newCus); avg < 150 || avg > 600 {
		t.Errorf("customer bodies are %d bytes on average; the benchmarks want about 300", avg)
	}
}

// The write path checks field patterns by hand. The tests below hold those
// to what they replace: package regexp and the old rune-by-rune checks (the
// record codec's tests are in internal/jsoncodec).

// The field patterns Validate checks by hand, as regular expressions.
var (
	accountNoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`)
	regionPattern    = regexp.MustCompile(`^[1-9][0-9](?:(?:0[1-9]|[1-9][0-9])(?:0[1-9]|[1-9][0-9])?)?$`)
	periodPattern    = regexp.MustCompile(`^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$`)
	phonePattern     = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)
	usernamePattern  = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,31}$`)
)

// patternStrings are strings over the alphabet around the patterns, of
// every length up to max, at random.
func patternStrings(seed uint64, n, max int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	pieces := []string{"0", "1", "2", "9", "0", "1", "2", "a", "z", "A", "Z", "-", "+", " ", "_", ".", "é", "\xff", "\x00", "\n", "１", "19", "20", "-0", "-1"}
	out := []string{""}
	for range n {
		var b strings.Builder
		for l := rng.IntN(max + 1); b.Len() < l; {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		out = append(out, b.String())
	}
	return out
}

func TestPatterns_MatchRegexps(t *testing.T) {
	check := func(name string, re *regexp.Regexp, s string, got *crm.Error, field string) {
		t.Helper()
		if bad := got != nil && got.Field == field; bad == re.MatchString(s) {
			t.Fatalf("%s %q: Validate says %v; the pattern %s", name, s, got, map[bool]string{true: "matches", false: "does not match"}[re.MatchString(s)])
		}
	}
	strs := patternStrings(1, 50_000, 40)
	rng := rand.New(rand.NewPCG(3, 3))
	for w := 1; w <= 7; w++ { // strings of digits: all up to 4, some longer
		for i := range min(int(math.Pow10(w)), 20_000) {
			if w > 4 {
				i = rng.IntN(int(math.Pow10(w)))
			}
			strs = append(strs, fmt.Sprintf("%0*d", w, i))
		}
	}
	for _, s := range strs {
		if crm.ValidRegion(s) != regionPattern.MatchString(s) {
			t.Fatalf("ValidRegion(%q) = %v", s, crm.ValidRegion(s))
		}
	}
	for _, s := range strs[:50_000] {
		if s == "" {
			continue
		}
		c := &crm.Customer{AccountNo: s, Name: "n", Category: crm.CategoryPublic, VoltageKV: 10, Region: benchRegion, Status: crm.StatusActive}
		check("account_no", accountNoPattern, s, c.Validate(), "account_no")
		c = &crm.Customer{AccountNo: "A-1", Name: "n", Category: crm.CategoryPublic, VoltageKV: 10, Region: benchRegion, Phone: s, Status: crm.StatusActive}
		check("phone", phonePattern, s, c.Validate(), "phone")
		st := &crm.Staff{StaffNo: s, Name: "n", Role: "supervisor", Region: benchRegion}
		check("staff_no", accountNoPattern, s, st.Validate(), "staff_no")
		st = &crm.Staff{StaffNo: "S-1", Name: "n", Role: "supervisor", Region: benchRegion, Phone: s}
		check("staff phone", phonePattern, s, st.Validate(), "phone")
		b := &crm.Bill{CustomerID: crm.NewID("cus", benchT0), Period: s}
		check("period", periodPattern, s, b.Validate(), "period")
		u := &crm.User{Username: s, Role: crm.RoleAgent, Region: benchRegion, PasswordHash: "h"}
		check("username", usernamePattern, s, u.Validate(), "username")
	}
	for y := 1800; y < 2200; y++ {
		for m := 0; m < 14; m++ {
			s := fmt.Sprintf("%d-%02d", y, m)
			b := &crm.Bill{CustomerID: crm.NewID("cus", benchT0), Period: s}
			check("period", periodPattern, s, b.Validate(), "period")
		}
	}
}

// ValidID accepts exactly the ids of the old rune-by-rune check.
func TestValidID_AsBefore(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	old := func(k *crm.Kind, id string) bool {
		if !strings.HasPrefix(id, k.IDPrefix+"_") || len(id) != len(k.IDPrefix)+27 {
			return false
		}
		for _, c := range id[len(k.IDPrefix)+1:] {
			if !strings.ContainsRune(alphabet, c) {
				return false
			}
		}
		return true
	}
	rng := rand.New(rand.NewPCG(2, 2))
	k := crm.Kinds["customers"]
	for range 100_000 {
		b := []byte(crm.NewID("cus", benchT0))
		for range rng.IntN(3) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		if rng.IntN(4) == 0 {
			b = append(b[:4+rng.IntN(20)], "é"...)
			for len(b) < 30 {
				b = append(b, 'A')
			}
		}
		if got, want := k.ValidID(string(b)), old(k, string(b)); got != want {
			t.Fatalf("ValidID(%q) = %v; want %v", b, got, want)
		}
	}
}
