package replication

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime/metrics"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/klauspost/compress/s2"

	"gridcrm/store"
)

// Fuzz targets for the state stream (raft snapshots and backups). `go test`
// runs the seeds; `make fuzz` runs each target for FUZZTIME.

// encodeState writes pairs as a state stream, in the order given.
func encodeState(pairs [][2]string) []byte {
	var b bytes.Buffer
	b.WriteString(stateMagic)
	for _, p := range pairs {
		b.Write(binary.AppendUvarint(nil, uint64(len(p[0]))))
		b.WriteString(p[0])
		b.Write(binary.AppendUvarint(nil, uint64(len(p[1]))))
		b.WriteString(p[1])
	}
	b.WriteByte(0)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(pairs))))
	return binary.BigEndian.AppendUint32(b.Bytes(), crc32.Checksum(b.Bytes(), crcTable))
}

var fuzzPairs = [][2]string{
	{"m/applied", "\x00\x00\x00\x00\x00\x00\x00\x07"},
	{"r/customers/cus_01KAQ00000000000000000C1TY", `{"id":"cus_01KAQ00000000000000000C1TY","owner":"3207","version":1}`},
	{"r/_canary/3207", `{"region":"3207","at":1}`},
	{"x/customers/owner/3207\x00cus_01KAQ00000000000000000C1TY", ""},
}

// stateSeeds are valid streams and known-bad ones: truncated at every kind
// of boundary, a flipped bit, a wrong count, lengths that claim far more
// than the stream holds, data after the checksum.
func stateSeeds() [][]byte {
	good := encodeState(fuzzPairs)
	flip := bytes.Clone(good)
	flip[20] ^= 1
	badCount := encodeState(fuzzPairs)
	binary.BigEndian.PutUint64(badCount[len(badCount)-12:], 3)
	huge := append([]byte(stateMagic), 1, 'k')
	huge = binary.AppendUvarint(huge, 1<<30)
	seeds := [][]byte{
		good,
		encodeState(nil),
		encodeState([][2]string{{"k", ""}, {"k", "again"}}),
		encodeState([][2]string{{"m/restoring", ""}, {"a", "b"}}),
		good[:len(good)-1], good[:len(good)-4], good[:len(good)-12], good[:len(stateMagic)+3], good[:len(stateMagic)], good[:4], nil,
		flip, badCount,
		append(bytes.Clone(good), 0),
		append(bytes.Clone(good), good...),
		huge,
		append(append([]byte(stateMagic), binary.AppendUvarint(nil, 1<<20+1)...), 'k'),
		append([]byte(stateMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		[]byte("GRIDSNAP\x02\x00"),
	}
	for _, bad := range seeds[4:] { // compressed, still refused
		if len(bad) > 0 {
			seeds = append(seeds, compressState(bad))
		}
	}
	z := compressState(good)
	zflip := bytes.Clone(z)
	zflip[len(zflip)/2] ^= 1
	return append(seeds, z[:len(z)-1], z[:len(stateMagicS2)+6], zflip, append(bytes.Clone(z), 0), compressState(nil)[:len(stateMagicS2)])
}

// compressState is a stream compressed as WriteStateCompressed writes it.
func compressState(plain []byte) []byte {
	var b bytes.Buffer
	b.WriteString(stateMagicS2)
	zw := s2.NewWriter(&b, s2.WriterConcurrency(1))
	zw.Write(plain)
	zw.Close()
	return b.Bytes()
}

// TestReadState_Compressed: a compressed stream of each good seed reads as
// the seed does (checkReadState holds it to the pairs it read), and
// WriteStateCompressed of a store reads back as WriteState's stream does,
// smaller.
func TestReadState_Compressed(t *testing.T) {
	for i, in := range stateSeeds()[:4] {
		want, ok := checkReadState(t, in)
		got, zok := checkReadState(t, compressState(in))
		if !ok || !zok || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: compressed %q (%v), plain %q (%v)", i, got, zok, want, ok)
		}
	}
	cfg := store.DefaultConfig()
	cfg.FS = vfs.NewMem()
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, commit := NewBatchTxn(st)
	for i := range 5000 {
		tx.Set([]byte(fmt.Sprintf("r/customers/cus_%08d", i)), []byte(fmt.Sprintf(`{"id":"cus_%08d","owner":"320722","name":"客户%d","category":"residential","voltage_kv":0.4}`, i, i)))
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	var plain, z bytes.Buffer
	n1, err1 := WriteState(&plain, st.DB())
	n2, err2 := WriteStateCompressed(&z, st.DB())
	if err1 != nil || err2 != nil || n1 != n2 {
		t.Fatalf("wrote %d pairs (%v) and %d compressed (%v)", n1, err1, n2, err2)
	}
	want, _ := checkReadState(t, plain.Bytes())
	got, ok := checkReadState(t, z.Bytes())
	if !ok || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("the compressed stream reads otherwise than the plain one")
	}
	if z.Len()*2 > plain.Len() {
		t.Fatalf("compressed %d bytes of %d", z.Len(), plain.Len())
	}
	t.Logf("%d pairs: %d bytes, compressed %d", n1, plain.Len(), z.Len())
}

// allocated is the bytes allocated on the heap so far (without stopping
// the world, as runtime.ReadMemStats would).
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// checkReadState: ReadState of any bytes never panics and allocates in
// proportion to what it reads, not to the lengths the stream claims; it
// refuses with ErrCorruptState, or accepts exactly the stream that writes
// the pairs it read (nothing before, after or in between).
func checkReadState(t *testing.T, in []byte) (pairs [][2]string, ok bool) {
	plain := in // what a compressed stream holds, as far as it decompresses
	if rest, found := bytes.CutPrefix(in, []byte(stateMagicS2)); found {
		plain, _ = io.ReadAll(s2.NewReader(bytes.NewReader(rest)))
	}
	before := allocated()
	n, err := ReadState(bytes.NewReader(in), func(k, v []byte) error {
		pairs = append(pairs, [2]string{string(k), string(v)})
		return nil
	})
	if alloc := allocated() - before; alloc > 64<<20+8*uint64(max(len(in), len(plain))) {
		t.Fatalf("reading %d bytes allocated %d", len(in), alloc)
	}
	if n != uint64(len(pairs)) {
		t.Fatalf("answered %d pairs, passed %d", n, len(pairs))
	}
	if err != nil {
		if !errors.Is(err, ErrCorruptState) {
			t.Fatalf("refused %q with %v, not ErrCorruptState", in, err)
		}
		return nil, false
	}
	if want := encodeState(pairs); !bytes.Equal(plain, want) {
		t.Fatalf("accepted %q; the pairs it read are %q", in, want)
	}
	return pairs, true
}

// TestReadState_Seeds: the good seeds are accepted and the others refused.
func TestReadState_Seeds(t *testing.T) {
	for i, in := range stateSeeds() {
		_, err := ReadState(bytes.NewReader(in), func(k, v []byte) error { return nil })
		if good := i < 4; good != (err == nil) {
			t.Errorf("seed %d: %v", i, err)
		}
		checkReadState(t, in)
	}
}

// FuzzReadState: any bytes as a state stream.
func FuzzReadState(f *testing.F) {
	for _, s := range stateSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkReadState(t, in)
	})
}

// FuzzRestoreState: any bytes restored over a store that holds a state. A
// stream whose header this version does not read is refused with the state
// untouched; another that is refused leaves the store marked partial (CheckState says
// so at the next start: never a silently half-restored state); one that
// is accepted leaves exactly its pairs.
func FuzzRestoreState(f *testing.F) {
	for _, s := range stateSeeds() {
		f.Add(s)
	}
	cfg := store.DefaultConfig()
	cfg.FS = vfs.NewMem()
	st, err := store.Open(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		pairs, accepted := checkReadState(t, in)
		tx, commit := NewBatchTxn(st) // the state before: what a restore replaces
		tx.Set([]byte("r/old/1"), []byte("before"))
		tx.Set([]byte("m/applied"), []byte("9"))
		tx.Delete(restoringKey)
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		err := RestoreState(st, bytes.NewReader(in))
		if (err == nil) != accepted {
			t.Fatalf("ReadState and RestoreState disagree on %q: %v", in, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("refused with %v, not ErrCorruptState", err)
			}
			if !bytes.HasPrefix(in, []byte(stateMagic)) && !bytes.HasPrefix(in, []byte(stateMagicS2)) {
				// Not a stream this version reads: refused before anything was deleted.
				if v, _ := StateReaderOf(st).Get([]byte("r/old/1")); string(v) != "before" || CheckState(st) != nil {
					t.Fatalf("a stream with a bad header changed the state: r/old/1 = %q, %v", v, CheckState(st))
				}
				return
			}
			if cerr := CheckState(st); !errors.Is(cerr, ErrPartialState) {
				t.Fatalf("a refused restore is not reported as partial: %v", cerr)
			}
			return
		}
		if err := CheckState(st); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, p := range pairs {
			if p[0] != string(restoringKey) {
				want[p[0]] = p[1]
			}
		}
		got := map[string]string{}
		StateReaderOf(st).Iterate(nil, nil, func(k, v []byte) bool { got[string(k)] = string(v); return true })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("restored %q; the stream holds %q", got, want)
		}
	})
}
