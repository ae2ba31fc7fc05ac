package crm

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gridcrm/store/keyspace"
)

// The audit trail: one append-only entry per write the API takes, in a
// hash chain per region.
//
// A write that is proposed carries its request's context (AuditContext:
// route, source address, node, role) in its Command; Apply writes the
// entry from the Command itself, in the same batch as the write — or, when
// the write is refused on apply, alone — so every replica writes the same
// entry at the same place in the chain, and the entry of a committed write
// can never be missing. What the API refuses before proposing (validation,
// authorisation) and logins, which propose nothing of their own kind, are
// proposed as OpAudit commands carrying AuditEvents.
//
// Entries are stored at r/_audit/<region>/<seq> (keyspace.Audit), owned by
// the region whose raft group applied the write (under full management the
// manager: RecordOwner then names the managed region). They roll up like
// records and are validated at the parent (ValidRecord checks each entry's
// own hash); nothing deletes them, not even a link (ApplyReplica keeps an
// entry a delete names). Each replica keeps the last entry it holds of each
// chain at m/audit/<region> (keyspace.AuditHead), so VerifyAudit detects an
// entry altered (its hash), one removed from the middle (a gap in seq or a
// prev that does not match) and one removed at the end (the head).
//
// The hash of an entry is the hex SHA-256 of its canonical JSON: the
// entry's JSON as encoding/json writes AuditEntry, fields in declared
// order, without "hash". The stored form is that JSON with
// ,"hash":"<hex>" added before its closing brace, byte for byte.

// OpAudit appends AuditEvents to this region's audit chain: Body is an
// AuditBatch. The API proposes it for what it refused before proposing, and
// for logins.
const OpAudit Op = "audit"

// MaxAuditEvents is the most events one OpAudit command may carry.
const MaxAuditEvents = 1000

// auditColl is the internal collection of audit entries.
const auditColl = "_audit"

// Index fields of audit entries (x/_audit/<field>/…), derived by every
// replica: by time; by record, then time. (Entries stored before the
// user index was dropped left keys under x/_audit/user/; nothing reads
// them. A query by user reads the time index: fewer keys a write.)
const (
	auditByTime   = "at"
	auditByRecord = "rec"
)

// Caps on what an entry holds of a request (bytes): a failed login names
// whatever the client sent.
const (
	auditMaxName  = 64
	auditMaxRoute = 200
	auditMaxID    = 128
)

// AuditContext is the request a Command came from, filled in by the API
// before it proposes: Apply writes it into the Command's audit entry.
type AuditContext struct {
	Route      string `json:"route"`                 // "PATCH /api/v1/customers/:id"
	Source     string `json:"source,omitempty"`      // the client's address
	Node       string `json:"node,omitempty"`        // the node that took the request
	Role       string `json:"role,omitempty"`        // the caller's role
	UserRegion string `json:"user_region,omitempty"` // the caller's region
}

// AuditEvent is a request the API answered without a Command of its own
// (a refusal before proposing, a login), proposed in an AuditBatch.
type AuditEvent struct {
	AuditContext
	At         time.Time `json:"at"`
	User       string    `json:"user"`
	Collection string    `json:"collection,omitempty"`
	Record     string    `json:"record,omitempty"`
	Outcome    string    `json:"outcome"` // AuditOK or the error code
}

// AuditBatch is the Body of an OpAudit command.
type AuditBatch struct {
	Events []AuditEvent `json:"events"`
}

// AuditOK is the outcome of a write that was applied.
const AuditOK = "ok"

// AuditEntry is one entry of a region's audit chain.
type AuditEntry struct {
	ID    string `json:"id"`    // <owner>/<seq as 16 digits>
	Owner string `json:"owner"` // the region whose chain holds it: the region that applied the write
	Seq   uint64 `json:"seq"`   // from 1, without gaps
	Prev  string `json:"prev"`  // the hash of entry seq-1; "" for seq 1

	At         time.Time `json:"at"` // the command's time, set by the proposer
	User       string    `json:"user"`
	Role       string    `json:"role,omitempty"`
	UserRegion string    `json:"user_region,omitempty"`
	Node       string    `json:"node,omitempty"`
	Source     string    `json:"source,omitempty"`
	Route      string    `json:"route,omitempty"`

	Op            string `json:"op,omitempty"` // the Command's; "" for an event refused before proposing
	Collection    string `json:"collection,omitempty"`
	Record        string `json:"record,omitempty"`
	RecordOwner   string `json:"record_owner,omitempty"` // the record's owner, when it is not Owner's own (full management)
	VersionBefore uint64 `json:"version_before,omitempty"`
	VersionAfter  uint64 `json:"version_after,omitempty"`
	Rows          int    `json:"rows,omitempty"`      // an import's rows
	Digest        string `json:"digest,omitempty"`    // hex SHA-256 of DigestOf
	DigestOf      string `json:"digest_of,omitempty"` // record (as stored after), deleted (as it was), body or rows (as sent)
	Outcome       string `json:"outcome"`             // AuditOK or the error code

	Hash string `json:"hash,omitempty"` // SHA-256 of the canonical JSON (the entry without hash)
}

// AuditID is the id of entry seq of region's chain.
func AuditID(region string, seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	if len(s) < 16 {
		s = strings.Repeat("0", 16-len(s)) + s
	}
	return region + "/" + s
}

// splitAuditID parses <region>/<16 digits>.
func splitAuditID(id string) (region string, seq uint64, ok bool) {
	region, s, ok := strings.Cut(id, "/")
	if !ok || len(s) != 16 || !ValidRegion(region) {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	return region, seq, err == nil && seq > 0
}

// sealAudit sets e.Hash and answers the stored form of e.
func sealAudit(e *AuditEntry) ([]byte, error) {
	e.Hash = ""
	out, ok := appendAuditJSON(make([]byte, 0, 640), e)
	if !ok { // a time encoding/json refuses (year outside 0–9999), or one it writes otherwise
		canon, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		out = canon
	}
	sum := sha256.Sum256(out)
	e.Hash = hex.EncodeToString(sum[:])
	out = out[:len(out)-1]
	out = append(out, `,"hash":"`...)
	out = append(out, e.Hash...)
	return append(out, `"}`...), nil
}

// appendAuditJSON appends e's canonical JSON to b exactly as json.Marshal
// writes an AuditEntry (fields in declared order, omitempty as tagged,
// strings escaped as encoding/json escapes them), without hash when e.Hash
// is "". It answers false for what it does not write itself: a time whose
// year is outside 0–9999 (json.Marshal refuses it) or whose zone is not
// whole minutes under 24 hours. TestAudit_EncoderIsEncodingJSON holds it to
// json.Marshal.
func appendAuditJSON(b []byte, e *AuditEntry) ([]byte, bool) {
	if y := e.At.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := e.At.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"owner":`...)
	b = appendJSONString(b, e.Owner)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"prev":`...)
	b = appendJSONString(b, e.Prev)
	b = append(b, `,"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","user":`...)
	b = appendJSONString(b, e.User)
	b = appendJSONField(b, `,"role":`, e.Role)
	b = appendJSONField(b, `,"user_region":`, e.UserRegion)
	b = appendJSONField(b, `,"node":`, e.Node)
	b = appendJSONField(b, `,"source":`, e.Source)
	b = appendJSONField(b, `,"route":`, e.Route)
	b = appendJSONField(b, `,"op":`, e.Op)
	b = appendJSONField(b, `,"collection":`, e.Collection)
	b = appendJSONField(b, `,"record":`, e.Record)
	b = appendJSONField(b, `,"record_owner":`, e.RecordOwner)
	if e.VersionBefore != 0 {
		b = append(b, `,"version_before":`...)
		b = strconv.AppendUint(b, e.VersionBefore, 10)
	}
	if e.VersionAfter != 0 {
		b = append(b, `,"version_after":`...)
		b = strconv.AppendUint(b, e.VersionAfter, 10)
	}
	if e.Rows != 0 {
		b = append(b, `,"rows":`...)
		b = strconv.AppendInt(b, int64(e.Rows), 10)
	}
	b = appendJSONField(b, `,"digest":`, e.Digest)
	b = appendJSONField(b, `,"digest_of":`, e.DigestOf)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, e.Outcome)
	b = appendJSONField(b, `,"hash":`, e.Hash)
	return append(b, '}'), true
}

// appendJSONField appends name and s unless s is "" (omitempty).
func appendJSONField(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, name...), s)
}

// appendJSONString appends s quoted as encoding/json quotes it: printable
// ASCII other than " \ < > & as it is, anything else through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// openAudit decodes a stored entry and checks it against its own hash:
// wrong is "" when the bytes are exactly the entry sealed.
func openAudit(raw []byte) (e AuditEntry, wrong string) {
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, "not an audit entry: " + err.Error()
	}
	claimed := e.Hash
	c := e
	sealed, err := sealAudit(&c)
	switch {
	case err != nil:
		return e, err.Error()
	case c.Hash != claimed:
		return e, "altered: its content does not match its hash"
	case !bytes.Equal(sealed, raw):
		return e, "altered: its bytes are not the entry as sealed"
	}
	return e, ""
}

// auditHead reads the last entry of region's chain held here (0, "" when none).
func auditHead(r Reader, region string) (uint64, string, error) {
	raw, err := r.Get([]byte(keyspace.AuditHead(region)))
	if err != nil || raw == nil {
		return 0, "", err
	}
	s, h, _ := strings.Cut(string(raw), " ")
	seq, _ := strconv.ParseUint(s, 10, 64)
	return seq, h, nil
}

func auditHeadValue(seq uint64, hash string) []byte {
	return []byte(strconv.FormatUint(seq, 10) + " " + hash)
}

// ms15 is t in Unix ms as 15 digits, so that index keys sort by time.
func ms15(t time.Time) string {
	ms := max(t.UnixMilli(), 0)
	s := strconv.FormatInt(ms, 10)
	if len(s) < 15 {
		s = strings.Repeat("0", 15-len(s)) + s
	}
	return s
}

// auditIndexes are the index keys of e.
func auditIndexes(e *AuditEntry) [][]byte {
	at := ms15(e.At)
	keys := [][]byte{indexKey(auditColl, auditByTime, at, e.ID)}
	if e.Collection != "" && e.Record != "" {
		keys = append(keys, indexKey(auditColl, auditByRecord, e.Collection+"/"+e.Record, at+"/"+e.ID))
	}
	return keys
}

// appendAudit appends e to region's chain on tx: it sets e's place in the
// chain (ID, Owner, Seq, Prev, Hash), writes the entry, its indexes and the
// head, and answers the entry's seq.
func appendAudit(tx Txn, region string, e *AuditEntry) (uint64, error) {
	seq, prev, err := auditHead(tx, region)
	if err != nil {
		return 0, err
	}
	e.Seq, e.Prev, e.Owner, e.ID = seq+1, prev, region, AuditID(region, seq+1)
	if e.RecordOwner == region {
		e.RecordOwner = ""
	}
	raw, err := sealAudit(e)
	if err != nil {
		return 0, err
	}
	if err := tx.Set([]byte(keyspace.Audit(e.ID)), raw); err != nil {
		return 0, err
	}
	for _, k := range auditIndexes(e) {
		if err := tx.Set(k, nil); err != nil {
			return 0, err
		}
	}
	return e.Seq, tx.Set([]byte(keyspace.AuditHead(region)), auditHeadValue(e.Seq, e.Hash))
}

// clip cuts s to n bytes (on a rune boundary) and cleans it of NUL and of
// invalid UTF-8 (each bad byte sequence a U+FFFD, as encoding/json writes it,
// so that the entry decodes to what was sealed).
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > n {
		i := n
		for i > 0 && s[i]&0xc0 == 0x80 {
			i--
		}
		s = s[:i]
	}
	return cleanNUL(s)
}

// commandEntry is the audit entry of cmd answered with res (outcome AuditOK
// or the error's code), read against base, the state before cmd.
func commandEntry(base Reader, cmd *Command, res *Result, outcome string) *AuditEntry {
	a := cmd.Audit
	e := &AuditEntry{At: cmd.Time.UTC(), User: clip(cmd.Actor, auditMaxName), Role: clip(a.Role, auditMaxName), UserRegion: clip(a.UserRegion, auditMaxName),
		Node: clip(a.Node, auditMaxName), Source: clip(a.Source, auditMaxName), Route: clip(a.Route, auditMaxRoute),
		Op: string(cmd.Op), Collection: clip(cmd.Collection, auditMaxName), Record: clip(cmd.ID, auditMaxID), Outcome: clip(outcome, auditMaxName)}
	kind := Kinds[cmd.Collection]
	var before []byte
	if kind != nil && cmd.ID != "" && cmd.Op != OpCreate && cmd.Op != OpImport {
		before, _ = base.Get(recordKey(cmd.Collection, cmd.ID)) // a store error fails the batch anyway
	}
	if before != nil {
		var m Meta
		if unmarshal(before, &m) == nil {
			e.VersionBefore, e.RecordOwner = m.Version, m.Owner
		}
	}
	if kind != nil && res.Record != nil {
		var m Meta
		if unmarshal(res.Record, &m) == nil {
			e.VersionAfter, e.RecordOwner = m.Version, m.Owner
		}
	}
	sum := sha256.New()
	switch {
	case res.Err == nil && res.Record != nil:
		sum.Write(res.Record)
		e.DigestOf = "record"
	case res.Err == nil && cmd.Op == OpDelete && before != nil:
		sum.Write(before)
		e.DigestOf = "deleted"
	case len(cmd.Rows) > 0:
		for i, row := range cmd.Rows {
			if i > 0 {
				sum.Write([]byte{'\n'})
			}
			sum.Write(row)
		}
		e.DigestOf = "rows"
	case len(cmd.Body) > 0:
		sum.Write(cmd.Body)
		e.DigestOf = "body"
	}
	if cmd.Op == OpImport {
		e.Record, e.Rows = "", len(cmd.Rows)
	}
	if e.DigestOf != "" {
		e.Digest = hex.EncodeToString(sum.Sum(nil))
	}
	return e
}

// auditApplied appends the entry of cmd, which applied as res, to the
// overlay it wrote on: the entry commits with the write. A Command without
// an AuditContext (the node's own writes) has none.
func auditApplied(o *overlay, cmd *Command, res *Result) *Error {
	if cmd.Audit == nil {
		return nil
	}
	seq, err := appendAudit(o, cmd.Region, commandEntry(o.base, cmd, res, AuditOK))
	if err != nil {
		return AsError(err)
	}
	res.Audit = seq
	return nil
}

// auditRefused appends the entry of cmd, refused on apply as res, to tx
// alone: nothing else of the command is written.
func auditRefused(tx Txn, cmd *Command, res *Result) {
	if cmd.Audit == nil || res.Err == nil {
		return
	}
	o := newOverlay(tx)
	seq, err := appendAudit(o, cmd.Region, commandEntry(tx, cmd, res, res.Err.Code))
	if err == nil && o.flush() == nil {
		res.Audit = seq
	}
}

// auditEvents applies an OpAudit command: each event of its AuditBatch
// becomes an entry of this region's chain, in order.
func auditEvents(tx *overlay, cmd *Command) Result {
	var b AuditBatch
	if e := DecodeStrict(cmd.Body, &b); e != nil {
		return Result{Err: e}
	}
	if len(b.Events) == 0 || len(b.Events) > MaxAuditEvents {
		return Result{Err: invalid("events", "%d events; an audit command carries 1 to %d", len(b.Events), MaxAuditEvents)}
	}
	var seq uint64
	for i := range b.Events {
		ev := &b.Events[i]
		if ev.Outcome == "" {
			return Result{Err: invalid(fmt.Sprintf("events[%d].outcome", i), "is required")}
		}
		at := ev.At
		if at.IsZero() {
			at = cmd.Time
		}
		e := &AuditEntry{At: at.UTC(), User: clip(ev.User, auditMaxName), Role: clip(ev.Role, auditMaxName), UserRegion: clip(ev.UserRegion, auditMaxName),
			Node: clip(ev.Node, auditMaxName), Source: clip(ev.Source, auditMaxName), Route: clip(ev.Route, auditMaxRoute),
			Collection: clip(ev.Collection, auditMaxName), Record: clip(ev.Record, auditMaxID), Outcome: clip(ev.Outcome, auditMaxName)}
		s, err := appendAudit(tx, cmd.Region, e)
		if err != nil {
			return Result{Err: AsError(err)}
		}
		seq = s
	}
	return Result{Audit: seq}
}

// validAudit checks an audit entry that arrives over a link (ValidRecord):
// it is sealed (its hash matches it), and its id names its owner and seq.
// Whether it follows the entry before it is VerifyAudit's to say.
func validAudit(id string, raw []byte) (string, string) {
	e, wrong := openAudit(raw)
	if wrong != "" {
		return "", wrong
	}
	region, seq, ok := splitAuditID(id)
	switch {
	case !ok || e.ID != id:
		return "", fmt.Sprintf("id %q; want <region>/<seq as 16 digits>", e.ID)
	case e.Owner != region || e.Seq != seq:
		return "", fmt.Sprintf("owner %q, seq %d under id %s", e.Owner, e.Seq, id)
	case (seq == 1) != (e.Prev == ""):
		return "", fmt.Sprintf("seq %d with prev %q", seq, e.Prev)
	}
	return e.Owner, ""
}

// applyAuditReplica stores a copy of an audit entry with the indexes this
// replica derives and moves the chain's head here. An entry is never
// deleted: a delete (value nil) leaves it as it is.
func applyAuditReplica(tx Txn, key string, value []byte) error {
	if value == nil {
		return nil
	}
	e, wrong := openAudit(value)
	if wrong != "" {
		return invalid("value", "%s: %s", key, wrong)
	}
	for _, k := range auditIndexes(&e) {
		if err := tx.Set(k, nil); err != nil {
			return err
		}
	}
	if err := tx.Set([]byte(key), value); err != nil {
		return err
	}
	seq, _, err := auditHead(tx, e.Owner)
	if err != nil {
		return err
	}
	if e.Seq > seq {
		return tx.Set([]byte(keyspace.AuditHead(e.Owner)), auditHeadValue(e.Seq, e.Hash))
	}
	return nil
}

// AuditReport is what VerifyAudit found of one region's chain.
type AuditReport struct {
	Region   string         `json:"region"`
	Entries  uint64         `json:"entries"` // entries held
	Head     uint64         `json:"head"`    // the last seq this replica recorded
	OK       bool           `json:"ok"`
	Problems []AuditProblem `json:"problems,omitempty"` // the first 100
}

// AuditProblem is one break in a chain.
type AuditProblem struct {
	Seq  uint64 `json:"seq"`
	What string `json:"what"`
}

// chainCheck follows one chain's entries in seq order (VerifyAudit,
// VerifyAuditSince).
type chainCheck struct {
	rep      AuditReport
	next     uint64 // the seq the next entry should have
	prevHash string // the hash of the entry before it
}

func (c *chainCheck) problem(seq uint64, format string, args ...any) {
	c.rep.OK = false
	if len(c.rep.Problems) < 100 {
		c.rep.Problems = append(c.rep.Problems, AuditProblem{Seq: seq, What: fmt.Sprintf(format, args...)})
	}
}

// entry checks the entry stored at key k (audit id id) with value v.
func (c *chainCheck) entry(k []byte, id, reg string, seq uint64, ok bool, v []byte) {
	c.rep.Entries++
	if !ok {
		c.problem(0, "key %q is not an audit entry's", k)
		return
	}
	e, wrong := openAudit(v)
	if wrong != "" {
		c.problem(seq, "%s", wrong)
	} else if e.ID != id || e.Seq != seq || e.Owner != reg {
		c.problem(seq, "entry %s (owner %s, seq %d) stored at %s", e.ID, e.Owner, e.Seq, id)
	}
	switch {
	case seq > c.next:
		c.problem(c.next, "entries %d to %d are missing (removed)", c.next, seq-1)
	case e.Prev != c.prevHash && wrong == "":
		c.problem(seq, "prev does not match the hash of entry %d (it or this one was altered)", seq-1)
	}
	c.next, c.prevHash = seq+1, e.Hash
}

// finish checks the chain's end against its head (seq, hash as stored).
func (c *chainCheck) finish(head [2]string) AuditReport {
	c.rep.Head, _ = strconv.ParseUint(head[0], 10, 64)
	last := c.next - 1
	switch {
	case c.rep.Head > last:
		c.problem(last+1, "entries %d to %d are missing (removed at the end of the chain)", last+1, c.rep.Head)
	case c.rep.Head < last:
		c.problem(c.rep.Head+1, "entries after %d are not recorded in the head", c.rep.Head)
	case head[1] != c.prevHash:
		c.problem(last, "the last entry is not the one recorded in the head")
	}
	return c.rep
}

// auditHeads answers the chain heads held in r of region's subtree ("":
// all), by region: seq and hash as stored.
func auditHeads(r Reader, region string) (map[string][2]string, error) {
	heads := map[string][2]string{}
	hp := []byte(keyspace.AuditHeadPrefix)
	err := r.Iterate(hp, prefixEnd(hp), func(k, v []byte) bool {
		reg := string(k[len(hp):])
		if region == "" || InRegion(reg, region) {
			s, h, _ := strings.Cut(string(v), " ")
			heads[reg] = [2]string{s, h}
		}
		return true
	})
	return heads, err
}

// VerifyAudit checks the audit chains held in r of region and the regions
// below it ("" for every chain): every entry matches its hash, follows
// the one before (seq without gaps, prev its hash) and the last is the
// head this replica recorded. It reads every entry of those chains
// (VerifyAuditSince reads those after a mark).
func VerifyAudit(r Reader, region string) ([]AuditReport, error) {
	out, _, err := VerifyAuditWhole(r, region)
	return out, err
}

// VerifyAuditWhole is VerifyAudit answering also the marks of the chains
// found whole, for VerifyAuditSince to go on from.
func VerifyAuditWhole(r Reader, region string) ([]AuditReport, map[string]AuditMark, error) {
	var out []AuditReport
	marks := map[string]AuditMark{}
	var cur *chainCheck
	heads, err := auditHeads(r, region)
	if err != nil {
		return nil, nil, err
	}
	finish := func() {
		if cur == nil {
			return
		}
		h, headed := heads[cur.rep.Region]
		delete(heads, cur.rep.Region)
		rep := cur.finish(h)
		out = append(out, rep)
		if rep.OK && headed {
			marks[rep.Region] = AuditMark{Seq: cur.next - 1, Hash: cur.prevHash, Entries: rep.Entries}
		}
		cur = nil
	}
	p := []byte(keyspace.AuditPrefix)
	err = r.Iterate(p, prefixEnd(p), func(k, v []byte) bool {
		id := string(k[len(p):])
		reg, seq, ok := splitAuditID(id)
		if !ok {
			reg, _, _ = strings.Cut(id, "/")
		}
		if region != "" && !InRegion(reg, region) {
			return true
		}
		if cur == nil || cur.rep.Region != reg {
			finish()
			cur = &chainCheck{rep: AuditReport{Region: reg, OK: true}, next: 1}
		}
		cur.entry(k, id, reg, seq, ok, v)
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	finish()
	for reg, h := range heads { // a head whose every entry is gone
		seq, _ := strconv.ParseUint(h[0], 10, 64)
		c := &chainCheck{rep: AuditReport{Region: reg, Head: seq, OK: true}}
		c.problem(1, "entries 1 to %d are missing (the whole chain was removed)", seq)
		out = append(out, c.rep)
	}
	sortReports(out)
	return out, marks, nil
}

// AuditMark is where a check of one chain ended well: its last entry's
// seq and hash, and the entries counted up to it.
type AuditMark struct {
	Seq     uint64
	Hash    string
	Entries uint64
}

// VerifyAuditSince checks every chain held in r that has a head, as
// VerifyAudit does, but reads only the entries after marks[region] (all
// of a chain without a mark), after checking that the marked entry is
// still there with the hash it had. It answers the reports (Entries: the
// whole chain's) and the marks to pass next time: a chain found broken
// gets none, so that it is read whole again. What it cannot see is
// reported by VerifyAudit, which reads everything: an entry before a mark
// altered or removed since it was checked (an alteration that reaches the
// marked entry changes its hash, and is found), a key before a chain's
// first entry, and entries of a region that has no head.
func VerifyAuditSince(r Reader, marks map[string]AuditMark) ([]AuditReport, map[string]AuditMark, error) {
	heads, err := auditHeads(r, "")
	if err != nil {
		return nil, nil, err
	}
	out := make([]AuditReport, 0, len(heads))
	next := make(map[string]AuditMark, len(heads))
	for reg, h := range heads {
		m := marks[reg]
		c := &chainCheck{rep: AuditReport{Region: reg, OK: true, Entries: m.Entries}, next: m.Seq + 1, prevHash: m.Hash}
		if m.Seq > 0 {
			raw, err := r.Get([]byte(keyspace.Audit(AuditID(reg, m.Seq))))
			if err != nil {
				return nil, nil, err
			}
			if e, wrong := openAudit(raw); raw == nil || wrong != "" || e.Hash != m.Hash {
				// Read the chain whole instead: the report says what is wrong.
				c = &chainCheck{rep: AuditReport{Region: reg, OK: true}, next: 1}
				m = AuditMark{}
			}
		}
		lo := []byte(keyspace.Audit(AuditID(reg, m.Seq+1)))
		p := []byte(keyspace.AuditOf(reg))
		if err := r.Iterate(lo, prefixEnd(p), func(k, v []byte) bool {
			id := string(k[len(keyspace.AuditPrefix):])
			kreg, seq, ok := splitAuditID(id)
			c.entry(k, id, kreg, seq, ok && kreg == reg, v)
			return true
		}); err != nil {
			return nil, nil, err
		}
		rep := c.finish(h)
		out = append(out, rep)
		if rep.OK {
			next[reg] = AuditMark{Seq: c.next - 1, Hash: c.prevHash, Entries: rep.Entries}
		}
	}
	sortReports(out)
	return out, next, nil
}

func sortReports(rs []AuditReport) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Region < rs[j-1].Region; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// AuditQuery selects audit entries. Every filter is optional.
type AuditQuery struct {
	Region     string    // entries of this region's subtree: written there, or about its records
	User       string    // the user who wrote (or tried to log in as)
	Collection string    //
	Record     string    // a record id (with Collection: served from the record index)
	Outcome    string    // AuditOK, or an error code
	From, To   time.Time // [From, To); zero: open
	Limit      int       // default 100, at most MaxLimit
	Cursor     string    // Next of the page before
}

// AuditPage is one page of entries, oldest first (by the time of each
// write, then region and seq). Next is "" at the end.
type AuditPage struct {
	Items []json.RawMessage
	Next  string
}

// auditScan is how many index entries one page examines at most; a page
// that reached it without filling answers fewer items and a Next.
const auditScan = 20_000

// QueryAudit answers a page of the entries q selects. It is served from
// the indexes: by record (Collection and Record given), else by time; the
// other filters are applied to the entries the
// index yields, at most auditScan of them per page.
func QueryAudit(r Reader, q AuditQuery) (AuditPage, *Error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > MaxLimit {
		return AuditPage{}, invalid("limit", "at most %d", MaxLimit)
	}
	// Keys are prefix, then <ms15> and one byte ('/' or NUL), then the id.
	const idAt = 15 + 1
	var prefix []byte
	switch {
	case q.Collection != "" && q.Record != "":
		prefix = []byte(keyspace.IndexValue(auditColl, auditByRecord, cleanNUL(q.Collection+"/"+q.Record)))
	default:
		prefix = []byte(keyspace.IndexField(auditColl, auditByTime))
	}
	lower := append(bytes.Clone(prefix), ms15(q.From)...)
	upper := prefixEnd(prefix)
	if !q.To.IsZero() {
		upper = append(bytes.Clone(prefix), ms15(q.To)...)
	}
	if q.Cursor != "" {
		c, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || !bytes.HasPrefix(c, prefix) {
			return AuditPage{}, invalid("cursor", "is not a cursor of this query: pass next as it came")
		}
		if c = append(c, 0); bytes.Compare(c, lower) > 0 {
			lower = c
		}
	}
	var page AuditPage
	examined := 0
	var last []byte
	for examined < auditScan && len(page.Items) < q.Limit && bytes.Compare(lower, upper) < 0 {
		var keys [][]byte
		if err := r.Iterate(lower, upper, func(k, _ []byte) bool {
			keys = append(keys, bytes.Clone(k))
			return len(keys) < 256
		}); err != nil {
			return AuditPage{}, AsError(err)
		}
		if len(keys) == 0 {
			last = nil
			break
		}
		for _, k := range keys {
			examined++
			last = k
			if len(k) < len(prefix)+idAt {
				continue
			}
			raw, err := r.Get([]byte(keyspace.Audit(string(k[len(prefix)+idAt:]))))
			if err != nil {
				return AuditPage{}, AsError(err)
			}
			if raw != nil && q.match(raw) {
				page.Items = append(page.Items, raw)
			}
			if len(page.Items) == q.Limit || examined == auditScan {
				break
			}
		}
		lower = append(bytes.Clone(last), 0)
		if len(keys) < 256 && len(page.Items) < q.Limit && examined < auditScan {
			last = nil // the range is exhausted
			break
		}
	}
	if last != nil {
		page.Next = base64.RawURLEncoding.EncodeToString(last)
	}
	return page, nil
}

func (q *AuditQuery) match(raw []byte) bool {
	var e AuditEntry
	if json.Unmarshal(raw, &e) != nil {
		return false
	}
	switch {
	case q.Region != "" && !InRegion(e.Owner, q.Region) && !InRegion(e.RecordOwner, q.Region):
		return false
	case q.User != "" && e.User != q.User:
		return false
	case q.Collection != "" && e.Collection != q.Collection:
		return false
	case q.Record != "" && e.Record != q.Record:
		return false
	case q.Outcome != "" && e.Outcome != q.Outcome:
		return false
	case !q.From.IsZero() && e.At.Before(q.From):
		return false
	case !q.To.IsZero() && !e.At.Before(q.To):
		return false
	}
	return true
}
