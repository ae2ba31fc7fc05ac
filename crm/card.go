package crm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gridcrm/crm/workday"
	"gridcrm/store/keyspace"
)

// A card is what the region-wide reads of many customers (package
// bigcustomer's classification lists, Pareto report and comparison of a
// customer with its class; the market lists, market.go and
// market_cards.go) need of one customer: its classification fields and,
// per billed month, the sum of its bills' kWh and billed amount. It is kept in the batch of every
// customer and bill write, local (Apply) or replicated (ApplyReplica), at
// keyspace.Card(owner, customer id), so those reads go through one small
// value per customer instead of the customer's JSON and a JSON bill per
// month. Cards are derived state: every replica computes the same bytes
// from the same records. A bill counts on the card of its own owner (the
// customer's, in practice).
type card struct {
	HasCustomer bool
	AccountNo   string
	Name        string
	Region      string
	Category    string
	VoltageKV   float64
	Tags        []string
	Months      []cardMonth // by period, ascending
}

type cardMonth struct {
	Period string
	KWh    float64
	Billed float64
	Bills  uint64 // bills summed in this month
	// The peak kWh and the kWh of the month's bills split by time of use
	// (peak + flat + valley > 0): a class's peak share.
	TOUPeak, TOUKWh float64
}

const cardVersion = 2

var errBadCard = errors.New("crm: malformed customer card")

func (c *card) empty() bool { return !c.HasCustomer && len(c.Months) == 0 }

func (c *card) encode() []byte {
	b := make([]byte, 0, 64+len(c.Name)+len(c.Months)*32)
	b = append(b, cardVersion)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	f64 := func(v float64) { b = binary.BigEndian.AppendUint64(b, math.Float64bits(v)) }
	if c.HasCustomer {
		b = append(b, 1)
		str(c.AccountNo)
		str(c.Name)
		str(c.Region)
		str(c.Category)
		f64(c.VoltageKV)
		b = binary.AppendUvarint(b, uint64(len(c.Tags)))
		for _, t := range c.Tags {
			str(t)
		}
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Months)))
	for _, m := range c.Months {
		str(m.Period)
		f64(m.KWh)
		f64(m.Billed)
		b = binary.AppendUvarint(b, m.Bills)
		f64(m.TOUPeak)
		f64(m.TOUKWh)
	}
	return b
}

// cardDecoder reads a card; any malformed input is an error, never a panic.
type cardDecoder struct {
	b   []byte
	err error
}

func (d *cardDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadCard
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *cardDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadCard
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// period is str for a month's period: a "YYYY-MM" of 2000–2099 comes from
// a table instead of a new string each time (a card holds one per billed
// month, and a full read of an owner's cards decodes every one).
func (d *cardDecoder) period() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadCard
		return ""
	}
	b := d.b[:n]
	d.b = d.b[n:]
	if s, ok := internedPeriod(b); ok {
		return s
	}
	return string(b)
}

// periodTable holds "2000-01" … "2099-12".
var periodTable = func() (t [1200]string) {
	for i := range t {
		t[i] = fmt.Sprintf("%04d-%02d", 2000+i/12, i%12+1)
	}
	return t
}()

// internedPeriod answers b as periodTable holds it, when it does.
func internedPeriod(b []byte) (string, bool) {
	if len(b) != 7 || b[0] != '2' || b[1] != '0' || b[4] != '-' {
		return "", false
	}
	for _, i := range [4]int{2, 3, 5, 6} {
		if b[i] < '0' || b[i] > '9' {
			return "", false
		}
	}
	y, m := int(b[2]-'0')*10+int(b[3]-'0'), int(b[5]-'0')*10+int(b[6]-'0')
	if m < 1 || m > 12 {
		return "", false
	}
	return periodTable[y*12+m-1], true
}

func (d *cardDecoder) f64() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errBadCard
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *cardDecoder) byte1() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errBadCard
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// decodeCard reads raw into c (reset first).
func decodeCard(raw []byte, c *card) error {
	*c = card{Tags: c.Tags[:0], Months: c.Months[:0]}
	d := cardDecoder{b: raw}
	if d.byte1() != cardVersion {
		return errBadCard
	}
	switch d.byte1() {
	case 0:
	case 1:
		c.HasCustomer = true
		c.AccountNo, c.Name, c.Region, c.Category = d.str(), d.str(), d.str(), d.str()
		c.VoltageKV = d.f64()
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			return errBadCard
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			c.Tags = append(c.Tags, d.str())
		}
	default:
		return errBadCard
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errBadCard
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		c.Months = append(c.Months, cardMonth{Period: d.period(), KWh: d.f64(), Billed: d.f64(), Bills: d.uvarint(), TOUPeak: d.f64(), TOUKWh: d.f64()})
	}
	if d.err == nil && len(d.b) != 0 {
		return errBadCard
	}
	return d.err
}

// month answers the index of period in c.Months, adding it when absent.
func (c *card) month(period string) int {
	i := sort.Search(len(c.Months), func(i int) bool { return c.Months[i].Period >= period })
	if i == len(c.Months) || c.Months[i].Period != period {
		c.Months = append(c.Months, cardMonth{})
		copy(c.Months[i+1:], c.Months[i:])
		c.Months[i] = cardMonth{Period: period}
	}
	return i
}

// addBill adds (sign 1) or takes out (sign -1) one bill.
func (c *card) addBill(b *Bill, sign float64) {
	i := c.month(b.Period)
	m := &c.Months[i]
	if sign < 0 {
		if m.Bills <= 1 { // the month's last bill: no residue of float sums
			c.Months = append(c.Months[:i], c.Months[i+1:]...)
			return
		}
		m.Bills--
	} else {
		m.Bills++
	}
	m.KWh += sign * b.KWh
	m.Billed += sign * b.Billed
	if b.KWhPeak+b.KWhFlat+b.KWhValley > 0 {
		m.TOUPeak += sign * b.KWhPeak
		m.TOUKWh += sign * b.KWh
	}
}

func (c *card) setCustomer(cu *Customer) {
	c.HasCustomer = true
	c.AccountNo, c.Name, c.Region, c.Category, c.VoltageKV = cu.AccountNo, cu.Name, cu.Region, cu.Category, cu.VoltageKV
	c.Tags = append(c.Tags[:0], cu.Tags...)
}

// cardUpdate reads the card of (owner, id), lets fn change it and writes it
// back (or deletes it when nothing is left on it).
func cardUpdate(tx Txn, owner, id string, fn func(c *card)) error {
	key := []byte(keyspace.Card(owner, id))
	raw, err := tx.Get(key)
	if err != nil {
		return err
	}
	var c card
	if raw != nil && decodeCard(raw, &c) != nil {
		c = card{} // a card that does not decode is rebuilt from what comes
	}
	fn(&c)
	var out []byte
	if c.empty() {
		if raw == nil {
			return nil
		}
		err = tx.Delete(key)
	} else {
		out = c.encode()
		err = tx.Set(key, out)
	}
	if err != nil {
		return err
	}
	created, deleted := raw == nil && out != nil, raw != nil && out == nil
	return bumpCardVersion(tx, owner, id, key, out, created, deleted)
}

// bumpCardVersion chains the write of card key (value nil: deleted) into
// owner's card version, x/_cardv/<owner>: FNV-1a 64 of the previous
// version, the key and the value (8 bytes), then the number of owner's
// cards (uvarint); it goes when the last card goes. Two replicas whose
// versions are equal hold the same cards of owner, so what was computed
// from them can be reused (cardMemo; package bigcustomer's class memo), and each new version is noted in
// cardJournal with the card it changed, so that a memo of an earlier
// version is brought up to date from the cards changed since.
func bumpCardVersion(tx Txn, owner, id string, key, value []byte, created, deleted bool) error {
	vk := []byte(keyspace.CardVersion(owner))
	cur, err := tx.Get(vk)
	if err != nil {
		return err
	}
	var n uint64
	if len(cur) > 8 {
		if v, k := binary.Uvarint(cur[8:]); k > 0 {
			n = v
		}
	}
	switch {
	case created:
		n++
	case deleted && n > 0:
		n--
	}
	if n == 0 {
		return tx.Delete(vk)
	}
	h := fnv.New64a()
	h.Write(cur)
	h.Write(key)
	if value == nil {
		h.Write([]byte{0})
	} else {
		h.Write([]byte{1})
		h.Write(value)
	}
	next := binary.AppendUvarint(h.Sum(nil), n)
	if err := tx.Set(vk, next); err != nil {
		return err
	}
	cardJournal.note(owner, string(cur), string(next), id)
	return nil
}

// cardJournal notes, per owner region, each card version with the one it
// followed and the card (customer id) whose write made it, for the last
// maxJournal versions written in this process (every tier of it: a change
// applied at the county and then at the city and the province chains the
// same versions, noted once). A memo of version v is brought to version w
// by reading again the cards changed on the chain from w back to v
// (CardChanges). What is noted is only a hint: a write whose batch is then
// dropped notes a version no store reaches, never walked; a chain not found
// (evicted, another process, a snapshot installed) means a full read.
var cardJournal = journal{steps: map[journalKey]journalStep{}}

const maxJournal = 1 << 18

type journal struct {
	sync.Mutex
	steps map[journalKey]journalStep
	ring  []journalKey // the noted versions, oldest at next once full
	next  int
}

type journalKey struct{ owner, version string }

type journalStep struct{ prev, id string }

func (j *journal) note(owner, prev, version, id string) {
	k := journalKey{owner, version}
	j.Lock()
	defer j.Unlock()
	if _, ok := j.steps[k]; ok {
		return
	}
	if len(j.ring) < maxJournal {
		j.ring = append(j.ring, k)
	} else {
		delete(j.steps, j.ring[j.next])
		j.ring[j.next] = k
		j.next = (j.next + 1) % maxJournal
	}
	j.steps[k] = journalStep{prev, id}
	cardWrites.Add(1)
}

// cardWrites counts the card versions noted in cardJournal.
var cardWrites atomic.Uint64

// CardWrites answers how many card writes this process has noted so far
// (every tier of it), a number that only grows: a node's warm-up of its
// memos (package bigcustomer) waits for it to move by enough, and then to
// stand still, before it reads the cards again.
func CardWrites() uint64 { return cardWrites.Load() }

// CardChanges answers the ids of the cards of owner written on the way
// from version from to version to (sorted, each once), walking back from
// to; ok is false when the chain does not lead back to from within max
// steps. It lets go of the journal every 1,024 steps, so that a long walk
// (up to an eighth of a region) never holds up the writes that note
// versions (Apply, ApplyReplica).
func CardChanges(owner, from, to string, max int) (ids []string, ok bool) {
	cardJournal.Lock()
	v := to
	for n := 0; v != from; n++ {
		if n%1024 == 1023 {
			cardJournal.Unlock()
			cardJournal.Lock()
		}
		st, found := cardJournal.steps[journalKey{owner, v}]
		if !found || n == max {
			cardJournal.Unlock()
			return nil, false
		}
		ids = append(ids, st.id)
		v = st.prev
	}
	cardJournal.Unlock()
	slices.Sort(ids)
	return slices.Compact(ids), true
}

// cardChange keeps the cards for a record changing from old to new (either
// nil: created or deleted). Records other than customers and bills change
// no card.
func cardChange(tx Txn, old, new Record) error {
	switch n := new.(type) {
	case *Customer:
		o, _ := old.(*Customer)
		return customerCardChange(tx, o, n)
	case *Bill:
		o, _ := old.(*Bill)
		return billCardChange(tx, o, n)
	case nil:
		switch o := old.(type) {
		case *Customer:
			return customerCardChange(tx, o, nil)
		case *Bill:
			return billCardChange(tx, o, nil)
		}
	}
	return nil
}

func customerCardChange(tx Txn, old, new *Customer) error {
	if old != nil && (new == nil || new.Owner != old.Owner || new.ID != old.ID) {
		if err := cardUpdate(tx, old.Owner, old.ID, func(c *card) {
			c.HasCustomer, c.AccountNo, c.Name, c.Region, c.Category, c.VoltageKV, c.Tags = false, "", "", "", "", 0, nil
		}); err != nil {
			return err
		}
	}
	if new == nil {
		return nil
	}
	return cardUpdate(tx, new.Owner, new.ID, func(c *card) { c.setCustomer(new) })
}

func billCardChange(tx Txn, old, new *Bill) error {
	if old != nil && new != nil && old.Owner == new.Owner && old.CustomerID == new.CustomerID {
		return cardUpdate(tx, new.Owner, new.CustomerID, func(c *card) { c.addBill(old, -1); c.addBill(new, 1) })
	}
	if old != nil {
		if err := cardUpdate(tx, old.Owner, old.CustomerID, func(c *card) { c.addBill(old, -1) }); err != nil {
			return err
		}
	}
	if new != nil {
		return cardUpdate(tx, new.Owner, new.CustomerID, func(c *card) { c.addBill(new, 1) })
	}
	return nil
}

// Figures are a customer's consumption in the 12 months before the day's
// month (the window, Window): what its card holds for a window, and the
// basis of its class (package bigcustomer).
type Figures struct {
	AnnualKWh    float64 `json:"annual_kwh"`
	AnnualBilled float64 `json:"annual_billed"`
	MonthlyBill  float64 `json:"monthly_bill"` // average over the months billed in the window
	Months       int     `json:"months"`       // months billed in the window
	VoltageKV    float64 `json:"voltage_kv"`
}

// Window answers the first and last period (YYYY-MM) of the 12 months
// before day's month.
func Window(day Date) (from, to string) {
	t, _ := time.Parse("2006-01-02", string(day))
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, -12, 0).Format("2006-01"), first.AddDate(0, -1, 0).Format("2006-01")
}

// CardCustomer is one customer as its card has it (the fields
// classification reads), with its figures for a window.
type CardCustomer struct {
	ID, AccountNo, Name, Region, Category string
	VoltageKV                             float64
	Tags                                  []string
	Figures                               Figures
	TOUPeak, TOUKWh                       float64 // the window's time-of-use bills: peak kWh and kWh
}

// Customer answers the customer as its card has it (the fields
// classification reads).
func (c *CardCustomer) Customer() Customer {
	cu := Customer{AccountNo: c.AccountNo, Name: c.Name, Region: c.Region, Category: c.Category, VoltageKV: c.VoltageKV, Tags: c.Tags}
	cu.ID = c.ID
	return cu
}

// cardCustomerIn reads card c into the customer of id with its figures for
// the window from..to; ok is false for a card without a customer (bills
// only).
func cardCustomerIn(c *card, id, from, to string, out *CardCustomer) (ok bool) {
	if !c.HasCustomer {
		return false
	}
	*out = CardCustomer{ID: id, AccountNo: c.AccountNo, Name: c.Name, Region: c.Region, Category: c.Category, VoltageKV: c.VoltageKV}
	if len(c.Tags) > 0 {
		out.Tags = append([]string(nil), c.Tags...)
	}
	f := &out.Figures
	for _, m := range c.Months {
		if m.Period >= from && m.Period <= to {
			f.AnnualKWh += m.KWh
			f.AnnualBilled += m.Billed
			f.Months += int(m.Bills)
			out.TOUPeak += m.TOUPeak
			out.TOUKWh += m.TOUKWh
		}
	}
	f.AnnualKWh, f.AnnualBilled = round2(f.AnnualKWh), round2(f.AnnualBilled)
	if f.Months > 0 {
		f.MonthlyBill = round2(f.AnnualBilled / float64(f.Months))
	}
	return true
}

// ScanCards calls fn with every customer the cards of owner hold (its own
// cards, not those below it) with its figures for the window from..to, in
// id order. c is the same variable on every call: copy what fn keeps (its
// Tags are fn's to keep).
func ScanCards(r Reader, owner, from, to string, fn func(c *CardCustomer)) error {
	prefix := []byte(keyspace.CardsOf(owner, false))
	var cd card
	var c CardCustomer
	var derr error
	err := r.Iterate(prefix, prefixEnd(prefix), func(k, v []byte) bool {
		if decodeCard(v, &cd) != nil {
			derr = errBadCard
			return false
		}
		if cardCustomerIn(&cd, string(k[len(prefix):]), from, to, &c) {
			fn(&c)
		}
		return true
	})
	if err == nil {
		err = derr
	}
	return err
}

// CardOf answers the customer of id as owner's card of it holds it, with
// its figures for the window from..to; ok is false when there is no such
// card or it holds no customer (bills only).
func CardOf(r Reader, owner, id, from, to string) (c CardCustomer, ok bool, err error) {
	raw, err := r.Get([]byte(keyspace.Card(owner, id)))
	if err != nil || raw == nil {
		return c, false, err
	}
	var cd card
	if decodeCard(raw, &cd) != nil {
		return c, false, errBadCard
	}
	return c, cardCustomerIn(&cd, id, from, to, &c), nil
}

// CardsIn answers the number of cards a card version (CardOwners) counts,
// 0 when it cannot tell.
func CardsIn(version string) int {
	if len(version) > 8 { // the version ends with the number of owner's cards
		if v, k := binary.Uvarint([]byte(version[8:])); k > 0 && v < 1<<26 {
			return int(v)
		}
	}
	return 0
}

// Memos of what is read from cards are kept per owner region and window,
// up to memoLineages of them, and maxMemo of those in all.
type memoKey struct{ owner, from, to string }

// maxMemo bounds the memo's entries (regions × windows asked about).
const maxMemo = 1024

// memoLineages bounds the memos kept per owner region and window. Stores
// of the same cards may reach them by different histories of writes (a
// county writes a batch's cards in one order, its city and province copies
// in another), so their versions differ: one process holding several
// tiers (tests, benchmarks) keeps a memo per history.
const memoLineages = 4

// cardMemo keeps, per owner region and window, the customers its cards
// hold with their figures (for the reads that do not classify them: the
// market analyses), for the region's card version (a hash over every
// change of its cards): a region whose customers and bills did not change
// is not read again; one that changed is brought up to date from the cards
// changed since (cardJournal) when the journal knows them, else read again
// whole (its cards only). The lists are shared and never changed once
// stored.
var cardMemo = struct {
	sync.Mutex
	m map[memoKey][]*memoEntry // newest first, up to memoLineages
}{m: map[memoKey][]*memoEntry{}}

type memoEntry struct {
	version string
	list    []CardCustomer
	used    atomic.Int64 // when it was last stored or answered, Unix ns
}

// MemoIdle is how long a memo of a region's cards (this package's, and
// package bigcustomer's classes) is kept unused, but for the newest memo
// of each owner for the current window and for its newest window
// (MemoPinned), which the dashboards read by default and the node's
// warm-up keeps up to date: they stay however quiet the node is (and
// however long the top customers' ranking answers from its own memo
// without asking for the cards), or the first read after a quiet night
// would read every card again. Each memo holds a whole owner region's
// customers for one window, so the others must go: the warm-up builds a
// new window every month, a full read (a bulk import outran the journal)
// keeps the version it replaced as a lineage of its own that a node of
// one store never asks for again, and any period a reader names builds
// one. Storing a memo sweeps those unused for longer. Tests shorten it.
var MemoIdle = 30 * time.Minute

// CurrentWindow is the window of today (CST): the 12 billed months the
// reads without a period cover.
func CurrentWindow() (from, to string) {
	return Window(Date(time.Now().In(workday.CST).Format(time.DateOnly)))
}

// MemoPinned answers the keys of m whose newest memo SweepIdle keeps
// however long unused: for each owner, the current window's
// (CurrentWindow) and its newest window's (the greatest to: the
// dashboards' default window is the one to the last billed month, which
// in a month's first days is not yet the current one). parts answers a
// key's owner and window.
func MemoPinned[K comparable, E any](m map[K][]E, parts func(K) (owner, from, to string)) func(K) bool {
	from0, to0 := CurrentWindow()
	newest := map[string]string{}
	for k := range m {
		o, _, to := parts(k)
		if to > newest[o] {
			newest[o] = to
		}
	}
	return func(k K) bool {
		o, from, to := parts(k)
		return (from == from0 && to == to0) || to == newest[o]
	}
}

// SweepIdle drops from m (under its owner's lock) the entries unused for
// longer than MemoIdle before now (lastUsed answers when, Unix ns), but
// the first (newest) of a key that current answers true for, and the keys
// left empty.
func SweepIdle[K comparable, E any](m map[K][]E, lastUsed func(E) int64, now int64, current func(K) bool) {
	cutoff := now - int64(MemoIdle)
	for k, es := range m {
		pinned := current(k)
		kept := es[:0]
		for i, e := range es {
			if (i == 0 && pinned) || lastUsed(e) >= cutoff {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			delete(m, k)
		} else {
			m[k] = kept
		}
	}
}

// OwnerCards answers owner's customers (its own cards, not those below
// it) with their figures for the window from..to, in id order, for owner's
// card version (CardOwners): from the card memo when it holds that
// version, else brought up to date from the cards changed since one it
// holds, else read from every card of owner. The list is shared: read it,
// never change it.
func OwnerCards(r Reader, owner, version, from, to string) ([]CardCustomer, error) {
	k := memoKey{owner, from, to}
	cardMemo.Lock()
	olds := slices.Clone(cardMemo.m[k])
	cardMemo.Unlock()
	for _, e := range olds {
		if e.version == version {
			e.used.Store(time.Now().UnixNano())
			return e.list, nil
		}
	}
	var list []CardCustomer
	base := ""
	for _, e := range olds {
		if ids, found := CardChanges(owner, e.version, version, len(e.list)/8+256); found {
			var err error
			if list, err = patchCards(r, owner, from, to, e.list, ids); err != nil {
				return nil, err
			}
			base = e.version
			break
		}
	}
	if list == nil {
		if err := ScanCards(r, owner, from, to, func(c *CardCustomer) { list = append(list, *c) }); err != nil {
			return nil, err
		}
	}
	now := time.Now().UnixNano()
	fresh := &memoEntry{version: version, list: list}
	fresh.used.Store(now)
	cardMemo.Lock()
	SweepIdle(cardMemo.m, func(e *memoEntry) int64 { return e.used.Load() }, now, MemoPinned(cardMemo.m, func(k memoKey) (string, string, string) { return k.owner, k.from, k.to }))
	if len(cardMemo.m) >= maxMemo {
		clear(cardMemo.m)
	}
	entries := []*memoEntry{fresh}
	for _, e := range cardMemo.m[k] {
		if e.version != base && e.version != version && len(entries) < memoLineages {
			entries = append(entries, e)
		}
	}
	cardMemo.m[k] = entries
	cardMemo.Unlock()
	return list, nil
}

// patchCards answers list (by id) with the cards of ids (sorted, each
// once) read again from r.
func patchCards(r Reader, owner, from, to string, list []CardCustomer, ids []string) ([]CardCustomer, error) {
	out := make([]CardCustomer, 0, len(list)+len(ids))
	at := 0
	for _, id := range ids {
		j := sort.Search(len(list), func(i int) bool { return list[i].ID >= id })
		out = append(out, list[at:j]...)
		at = j
		if j < len(list) && list[j].ID == id {
			at++
		}
		c, ok, err := CardOf(r, owner, id, from, to)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return append(out, list[at:]...), nil
}

// OwnerVersion is a region holding cards and its card version.
type OwnerVersion struct{ Owner, Version string }

// CardOwners lists the regions holding cards in region (or its subtree),
// in code order, with their card versions, and answers the customers the
// aggregates count there: when the owners' cards hold fewer, the cards do
// not cover the scope (a store written before cards were kept) and the
// caller reads the records.
func CardOwners(r Reader, region string, subtree bool) ([]OwnerVersion, int64, error) {
	customers, err := countCustomers(r, region, subtree)
	if err != nil {
		return nil, 0, err
	}
	var out []OwnerVersion
	if subtree {
		prefix := []byte(keyspace.CardVersionsOf(region))
		err = r.Iterate(prefix, prefixEnd(prefix), func(k, v []byte) bool {
			out = append(out, OwnerVersion{string(k[len(keyspace.CardVersionPrefix):]), string(v)})
			return true
		})
	} else {
		var v []byte
		if v, err = r.Get([]byte(keyspace.CardVersion(region))); v != nil {
			out = append(out, OwnerVersion{region, string(v)})
		}
	}
	return out, customers, err
}

// CardsVersion answers a key that changes whenever a customer or a bill
// of region (or its subtree) may have: the customers counted and every
// owner region's card version; "" when no region there holds cards. For
// memos of what is computed from the cards.
func CardsVersion(r Reader, region string, subtree bool) (string, error) {
	owners, customers, err := CardOwners(r, region, subtree)
	if err != nil || len(owners) == 0 {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d", customers)
	for _, o := range owners {
		b.WriteString("|" + o.Owner + "=" + o.Version)
	}
	return b.String(), nil
}

// countCustomers answers Summarize(r, region, subtree).Customers reading
// one counter per region (a/<region>/customers), skipping the other
// counters of each region (months, categories, market, processes: about a
// thousand per county) that Summarize reads.
func countCustomers(r Reader, region string, subtree bool) (int64, error) {
	count := func(reg string) (int64, error) {
		v, err := r.Get(aggKey(reg, "customers"))
		if err != nil || len(v) != 8 {
			return 0, err
		}
		return int64(math.Round(math.Float64frombits(binary.BigEndian.Uint64(v)))), nil
	}
	if !subtree {
		return count(region)
	}
	var n int64
	err := EachOwner(r, keyspace.AggregatePrefix, region, func(reg string) error {
		c, err := count(reg)
		n += c
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// WriteCard writes the card of customer c (its Owner and ID set) with
// bills as Apply keeps it (its card version and journal too), without the
// records: for a loader that fills a store's cards alone (the class
// memo's benchmark in package bigcustomer fills a million in seconds). A
// store written so holds cards no record backs; never use it on a
// replica's state.
func WriteCard(tx Txn, c *Customer, bills []Bill) error {
	return cardUpdate(tx, c.Owner, c.ID, func(cd *card) {
		cd.setCustomer(c)
		for i := range bills {
			cd.addBill(&bills[i], 1)
		}
	})
}

// CardMonths calls add with each month's kWh that owner's card of
// customer id holds (the customer's bills summed by period, kept on apply),
// in period order; ok is false without a card. One point read: a series
// of a set of customers (a feeder's) costs a read a customer, not their
// bills.
func CardMonths(r Reader, owner, id string, add func(period string, kwh float64)) (ok bool, err error) {
	raw, err := r.Get([]byte(keyspace.Card(owner, id)))
	if err != nil || raw == nil {
		return false, err
	}
	var cd card
	if decodeCard(raw, &cd) != nil {
		return false, errBadCard
	}
	for _, m := range cd.Months {
		add(m.Period, m.KWh)
	}
	return true, nil
}
