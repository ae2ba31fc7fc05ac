package replication

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"gridcrm/store/keyspace"
)

// Change is one entry of a region's change feed: a record written or
// deleted, by whom (origin region) and when.
type Change struct {
	Seq    uint64          `json:"s"`           // this region's feed sequence
	Origin string          `json:"o"`           // the region where the change was made
	OSeq   uint64          `json:"os"`          // the change's sequence at its origin
	Key    string          `json:"k"`           // state key, r/<collection>/<id>
	Owner  string          `json:"w,omitempty"` // the record's owner region (of the old value, for a delete)
	Value  json.RawMessage `json:"v,omitempty"` // the record; nil for a delete (unless Ref)
	// Ref: the value is not copied into the feed entry; it is the one stored
	// at Key, which is never rewritten (an append-only key: an audit entry).
	// ReadFeed fills Value from the state and clears Ref, so no Change that
	// leaves this package has it set; a Change arriving with it is a delete.
	Ref  bool  `json:"r,omitempty"`
	Time int64 `json:"t"` // commit time at the origin, Unix ms
	// Appended is when this region appended the entry (Unix ms, stamped by
	// the proposer, so every replica agrees); feed retention by age uses it.
	Appended int64 `json:"a,omitempty"`
}

// Feed keys inside the state keyspace.
var (
	feedPrefix   = []byte(keyspace.FeedPrefix)
	feedHeadKey  = []byte(keyspace.FeedHeadKey)  // last sequence written
	feedFirstKey = []byte(keyspace.FeedFirstKey) // first sequence still kept (head+1 when empty)
	feedEpochKey = []byte(keyspace.FeedEpochKey) // which feed this is (FeedEpoch)
)

// FeedKey is the state key of feed entry seq.
func FeedKey(seq uint64) []byte { return feedKey(seq) }

func feedKey(seq uint64) []byte {
	k := make([]byte, len(feedPrefix)+8)
	copy(k, feedPrefix)
	binary.BigEndian.PutUint64(k[len(feedPrefix):], seq)
	return k
}

func getUint(r interface{ Get([]byte) ([]byte, error) }, key []byte) (uint64, error) {
	v, err := r.Get(key)
	if err != nil || len(v) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

func putUint(t *Txn, key []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return t.Set(key, b[:])
}

// GetUint reads a big-endian uint64 stored with PutUint; 0 when missing.
func GetUint(r interface{ Get([]byte) ([]byte, error) }, key string) (uint64, error) {
	return getUint(r, []byte(key))
}

// PutUint stores v at key as a big-endian uint64.
func PutUint(t *Txn, key string, v uint64) error { return putUint(t, []byte(key), v) }

// AppendChange adds c to the feed in tx and answers its sequence. OSeq
// defaults to the new sequence (a change made here).
func AppendChange(t *Txn, c Change) (uint64, error) {
	if !t.feedKnown {
		head, err := getUint(t, feedHeadKey)
		if err != nil {
			return 0, err
		}
		t.feedHead, t.feedKnown = head, true
	}
	head := t.feedHead
	c.Seq = head + 1
	if c.OSeq == 0 {
		c.OSeq = c.Seq
	}
	entry := appendChange(nil, &c)
	if err := t.Set(feedKey(c.Seq), entry); err != nil {
		return 0, err
	}
	if head == 0 {
		first, err := getUint(t, feedFirstKey)
		if err != nil {
			return 0, err
		}
		if first == 0 {
			if err := putUint(t, feedFirstKey, 1); err != nil {
				return 0, err
			}
			// A new feed: its epoch comes from its first entry (a record
			// with its ids and times), the same on every replica; unless a
			// restore gave the empty feed one already.
			if epoch, err := FeedEpoch(t); err != nil {
				return 0, err
			} else if epoch == "" {
				if err := t.Set(feedEpochKey, []byte(epochOf(entry))); err != nil {
					return 0, err
				}
			}
		}
	}
	t.feedHead = c.Seq
	return c.Seq, putUint(t, feedHeadKey, c.Seq)
}

// A feed's epoch names which feed it is, so that a peer's cursor on it is
// known to count in this feed and not in another one the region had: a
// region rebuilt from nothing starts a new feed at 1, and one restored from
// a backup goes on from the backup's head with entries its peers never
// saw. It is set with the feed's first entry (epochOf that entry) and
// renewed by a restore (RenewFeedEpoch); "" for a feed begun before
// epochs existed, which no peer checks.

// epochOf is an epoch made of b: 16 hex digits of its SHA-256.
func epochOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// FeedEpoch answers the feed's epoch ("" when it has none).
func FeedEpoch(r interface{ Get([]byte) ([]byte, error) }) (string, error) {
	v, err := r.Get(feedEpochKey)
	return string(v), err
}

// RenewFeedEpoch gives the feed a new epoch made of its current one and
// salt (a restore's: the backup's checksum, so every voter restored from
// one file agrees).
func RenewFeedEpoch(t *Txn, salt []byte) error {
	old, err := FeedEpoch(t)
	if err != nil {
		return err
	}
	return t.Set(feedEpochKey, []byte(epochOf(append([]byte(old+"\x00restored\x00"), salt...))))
}

// FeedBounds answers the first kept and the last written sequence. An empty
// feed has first == head+1.
func FeedBounds(r StateReader) (first, head uint64, err error) {
	if head, err = getUint(r, feedHeadKey); err != nil {
		return 0, 0, err
	}
	if first, err = getUint(r, feedFirstKey); err != nil {
		return 0, 0, err
	}
	if first == 0 {
		first = 1
	}
	return first, head, nil
}

// ReadFeed answers up to max changes with sequence > after that keep()
// accepts, and the last sequence it looked at (so a caller can advance past
// entries it filtered out). maxBytes bounds the values' total size.
func ReadFeed(r StateReader, after uint64, max, maxBytes int, keep func(*Change) bool) ([]Change, uint64, error) {
	var out []Change
	scanned := after
	size := 0
	var derr error
	err := r.Iterate(feedKey(after+1), feedKey(^uint64(0)), func(k, v []byte) bool {
		if len(out) >= max || size >= maxBytes {
			return false
		}
		var c Change
		fast := decodeChange(v, &c) // aliases v until own
		if !fast {
			if err := json.Unmarshal(v, &c); err != nil {
				derr = fmt.Errorf("replication: feed entry %x: %w", k, err)
				return false
			}
		}
		scanned = c.Seq
		if keep == nil || keep(&c) {
			if fast {
				c.own()
			}
			size += len(c.Value) + len(c.Key) + 32
			if c.Ref {
				size += refSize
			}
			out = append(out, c)
		}
		return true
	})
	if err == nil {
		err = derr
	}
	for i := range out { // after the iteration: a Get inside it is not every reader's to take
		if c := &out[i]; c.Ref && err == nil {
			c.Value, err = r.Get([]byte(c.Key))
			c.Ref = false
		}
	}
	return out, scanned, err
}

// refSize is what ReadFeed counts for a value it reads from the state (an
// audit entry is about 500 bytes).
const refSize = 600

// PruneFeed deletes feed entries up to and including upto.
func PruneFeed(t *Txn, upto uint64) error {
	first, head, err := FeedBounds(t.StateReader)
	if err != nil {
		return err
	}
	upto = min(upto, head)
	if upto < first {
		return nil
	}
	if err := t.b.deleteRange(stateKey(feedKey(first)), stateKey(feedKey(upto+1))); err != nil {
		return err
	}
	return putUint(t, feedFirstKey, upto+1)
}

// appendChange encodes c as json.Marshal would, without re-validating
// Value: it was produced by this process's own encoder (or checked when it
// arrived), so it is valid, compact JSON.
func appendChange(b []byte, c *Change) []byte {
	b = append(b, `{"s":`...)
	b = strconv.AppendUint(b, c.Seq, 10)
	b = append(b, `,"o":`...)
	b = appendString(b, c.Origin)
	b = append(b, `,"os":`...)
	b = strconv.AppendUint(b, c.OSeq, 10)
	b = append(b, `,"k":`...)
	b = appendString(b, c.Key)
	if c.Owner != "" {
		b = append(b, `,"w":`...)
		b = appendString(b, c.Owner)
	}
	if len(c.Value) > 0 {
		b = append(b, `,"v":`...)
		b = append(b, c.Value...)
	}
	if c.Ref {
		b = append(b, `,"r":true`...)
	}
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, c.Time, 10)
	if c.Appended != 0 {
		b = append(b, `,"a":`...)
		b = strconv.AppendInt(b, c.Appended, 10)
	}
	return append(b, '}')
}

// appendString quotes s for JSON; keys and region codes are plain ASCII,
// anything else goes through encoding/json.
func appendString(b []byte, s string) []byte {
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
