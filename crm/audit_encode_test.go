package crm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gridcrm/store/keyspace"
)

// TestAudit_EncoderIsEncodingJSON: the hand-written encoder of an entry
// writes exactly what json.Marshal writes, so the canonical hash is still
// "the SHA-256 of the entry as encoding/json writes AuditEntry" and entries
// stored before the encoder existed verify. Strings cover what
// encoding/json escapes (quotes, backslash, HTML, control characters,
// invalid UTF-8, U+2028/U+2029); times cover zones and nanoseconds, and
// the years json.Marshal refuses.
func TestAudit_EncoderIsEncodingJSON(t *testing.T) {
	strs := []string{"", "admin", "320722", "POST /api/v1/customers", "张三", "a\"b\\c", "<script>&amp;</script>",
		"tab\there\nnew\r\x00\x01\x1f\x7f", "bad\xffutf8\xc3", "\u2028\u2029", "\b\f", strings.Repeat("长", 70), "10.0.0.9", "[::1]:5"}
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("odd", -(3*3600 + 30*60)), time.FixedZone("sec", 61)}
	r := rand.New(rand.NewPCG(1, 16))
	pick := func() string { return strs[r.IntN(len(strs))] }
	num := func() uint64 {
		switch r.IntN(3) {
		case 0:
			return 0
		case 1:
			return r.Uint64N(1000)
		}
		return r.Uint64()
	}
	for i := range 5000 {
		at := time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
		if i%500 == 0 {
			at = time.Date(10000+r.IntN(3), 1, 1, 0, 0, 0, 0, time.UTC) // json.Marshal refuses it
		}
		e := AuditEntry{ID: pick(), Owner: pick(), Seq: num(), Prev: pick(), At: at, User: pick(), Role: pick(), UserRegion: pick(),
			Node: pick(), Source: pick(), Route: pick(), Op: pick(), Collection: pick(), Record: pick(), RecordOwner: pick(),
			VersionBefore: num(), VersionAfter: num(), Rows: r.IntN(3) * (r.IntN(20000) - 10), Digest: pick(), DigestOf: pick(),
			Outcome: pick(), Hash: pick()}
		want, werr := json.Marshal(&e)
		got, ok := appendAuditJSON([]byte("prefix"), &e)
		switch {
		case !ok && werr == nil && e.At.Year() <= 9999:
			if _, off := e.At.Zone(); off%60 == 0 {
				t.Fatalf("entry %d: the encoder gave up on %+v", i, e)
			}
		case ok && werr != nil:
			t.Fatalf("entry %d: json.Marshal refuses %+v (%v); the encoder wrote %s", i, e, werr, got)
		case ok && string(got) != "prefix"+string(want):
			t.Fatalf("entry %d:\nencoder      %s\njson.Marshal %s", i, got[len("prefix"):], want)
		}
		// sealAudit answers the same bytes either way.
		c := e
		sealed, err := sealAudit(&c)
		if (err != nil) != (werr != nil) {
			t.Fatalf("entry %d: sealAudit %v, json.Marshal %v", i, err, werr)
		}
		_, off := e.At.Zone()
		if err == nil && validUTF8(&e) && off%60 == 0 { // what decodes to other strings or zones cannot open (clip cleans strings)
			if back, wrong := openAudit(sealed); wrong != "" || back.Hash != c.Hash {
				t.Fatalf("entry %d: %s does not open: %s", i, sealed, wrong)
			}
		}
	}
}

func validUTF8(e *AuditEntry) bool {
	for _, s := range []string{e.ID, e.Owner, e.Prev, e.User, e.Role, e.UserRegion, e.Node, e.Source, e.Route, e.Op, e.Collection,
		e.Record, e.RecordOwner, e.Digest, e.DigestOf, e.Outcome} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// TestAudit_ClipCleansStrings: what an entry keeps of a request is valid
// UTF-8 without NUL, so that the entry decodes to what was sealed and
// verifies (a login name of invalid UTF-8 did not).
func TestAudit_ClipCleansStrings(t *testing.T) {
	for _, s := range []string{"bad\xffname", "a\x00b", "ok", strings.Repeat("长", 30) + "\xe9"} {
		c := clip(s, auditMaxName)
		if !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 || len(c) > auditMaxName {
			t.Errorf("clip(%q) = %q", s, c)
		}
		e := AuditEntry{ID: AuditID("320722", 1), Owner: "320722", Seq: 1, At: time.Unix(1, 0).UTC(), User: c, Outcome: "unauthorized"}
		raw, err := sealAudit(&e)
		if err != nil {
			t.Fatal(err)
		}
		if _, wrong := openAudit(raw); wrong != "" {
			t.Errorf("an entry naming %q: %s", s, wrong)
		}
	}
}

// BenchmarkSealAudit is the encoding and hash of one entry of a create, by
// the entry's encoder and as encoding/json did it.
func BenchmarkSealAudit(b *testing.B) {
	e := AuditEntry{ID: AuditID("320722", 123456), Owner: "320722", Seq: 123456, Prev: strings.Repeat("ab", 32),
		At: time.Date(2026, 12, 6, 9, 30, 1, 123456789, time.UTC), User: "demo", Role: "manager", UserRegion: "320722", Node: "n1",
		Source: "10.1.2.3", Route: "POST /api/v1/customers", Op: "create", Collection: "customers", Record: "cus_01KJPY44E0ZNMCM6E47SW7AW3T",
		VersionAfter: 1, Digest: strings.Repeat("cd", 32), DigestOf: "record", Outcome: AuditOK}
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			c := e
			if _, err := sealAudit(&c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) { // what sealAudit did before its encoder
		b.ReportAllocs()
		for range b.N {
			c := e
			canon, err := json.Marshal(&c)
			if err != nil {
				b.Fatal(err)
			}
			sum := sha256.Sum256(canon)
			c.Hash = hex.EncodeToString(sum[:])
			out := make([]byte, 0, len(canon)+len(c.Hash)+10)
			out = append(out, canon[:len(canon)-1]...)
			out = append(out, `,"hash":"`...)
			out = append(out, c.Hash...)
			_ = append(out, `"}`...)
		}
	})
}

// TestAudit_OldEntriesVerify: entries sealed by the version before the
// hand-written encoder (json.Marshal, with the user index) still verify,
// and a chain goes on after them.
func TestAudit_OldEntriesVerify(t *testing.T) {
	old := []string{
		`{"id":"320722/0000000000000001","owner":"320722","seq":1,"prev":"","at":"2026-03-02T09:30:00Z","user":"alice","role":"admin","user_region":"320722","node":"n1","source":"10.0.0.9","route":"POST /api/v1/customers","op":"create","collection":"customers","record":"cus_01KJPY44E0ZNMCM6E47SW7AW3T","version_after":1,"digest":"55af80a4aada72905ff98fe03fc13673cfe0704b2aec98387b1e5e8070daa734","digest_of":"record","outcome":"ok","hash":"8a4a476acee8786886fb5d72bf79da0f2519625a8787d6438aa0719790438510"}`,
		`{"id":"320722/0000000000000002","owner":"320722","seq":2,"prev":"8a4a476acee8786886fb5d72bf79da0f2519625a8787d6438aa0719790438510","at":"2026-03-02T09:30:01Z","user":"alice","role":"admin","user_region":"320722","node":"n1","source":"10.0.0.9","route":"PATCH /api/v1/customers/:id","op":"update","collection":"customers","record":"cus_01KJPY44E0ZNMCM6E47SW7AW3T","version_before":1,"version_after":2,"digest":"50754b222594574366de73a865a3a9cb8810f43fb485f707eef12bfde4e6fd9a","digest_of":"record","outcome":"ok","hash":"0d6cf9a5d19277127eae7a589575412b8268ed3a481c060ea6bb9a613cc0d245"}`,
	}
	tx := NewMemTxn()
	for _, raw := range old {
		var e AuditEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatal(err)
		}
		if owner, wrong := validAudit(e.ID, []byte(raw)); wrong != "" || owner != "320722" {
			t.Fatalf("an old entry is refused at the parent: %s", wrong)
		}
		if err := applyAuditReplica(tx, keyspace.Audit(e.ID), []byte(raw)); err != nil {
			t.Fatal(err)
		}
		_ = tx.Set([]byte(keyspace.Index(auditColl, "user", "alice", ms15(e.At)+"/"+e.ID)), nil) // the old user index, left behind
	}
	o := newOverlay(tx)
	if _, err := appendAudit(o, "320722", &AuditEntry{At: time.Date(2026, 3, 2, 9, 31, 0, 0, time.UTC), User: "bob", Outcome: AuditOK}); err != nil {
		t.Fatal(err)
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	reps, err := VerifyAudit(tx, "320722")
	if err != nil || len(reps) != 1 || !reps[0].OK || reps[0].Entries != 3 || reps[0].Head != 3 {
		t.Fatalf("verify: %+v %v; want one chain of 3 entries, ok", reps, err)
	}
	for _, user := range []string{"alice", "bob"} {
		page, e := QueryAudit(tx, AuditQuery{User: user})
		if e != nil || len(page.Items) != map[string]int{"alice": 2, "bob": 1}[user] {
			t.Errorf("query user=%s: %d items, %v", user, len(page.Items), e)
		}
	}
}
