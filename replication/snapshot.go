package replication

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/klauspost/compress/s2"

	"gridcrm/store"
	"gridcrm/store/keyspace"
)

// The state stream, used for raft snapshots and backups:
//
//	magic "GRIDSNAP" | version byte 1
//	{ uvarint len(key) > 0 | key | uvarint len(value) | value }*
//	uvarint 0 | uint64 BE count of pairs | uint32 BE CRC-32C of all bytes before it
//
// Keys are relative to store.StatePrefix. A compressed stream
// (WriteStateCompressed) is stateMagicS2 followed by that whole stream in
// S2's framing (github.com/klauspost/compress/s2: checksummed blocks);
// ReadState takes either.
const (
	stateMagic   = "GRIDSNAP\x01"
	stateMagicS2 = "GRIDSNAP\x02"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptState is returned for a state stream that is truncated or fails
// its checksum.
var ErrCorruptState = errors.New("replication: state stream is corrupt or truncated")

// restoringKey marks a state keyspace that is being replaced; a node that
// finds it at start-up knows its state is partial.
var restoringKey = []byte(keyspace.RestoringKey)

// WriteState streams the whole state keyspace of r (a consistent Pebble
// snapshot) to w and answers the number of pairs written.
func WriteState(w io.Writer, r pebbleGetIter) (uint64, error) {
	h := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
	if _, err := bw.WriteString(stateMagic); err != nil {
		return 0, err
	}
	var n uint64
	var buf [binary.MaxVarintLen64]byte
	err := StateReader{r: r}.Iterate(nil, nil, func(k, v []byte) bool {
		if string(k) == string(restoringKey) {
			return true
		}
		bw.Write(buf[:binary.PutUvarint(buf[:], uint64(len(k)))])
		bw.Write(k)
		bw.Write(buf[:binary.PutUvarint(buf[:], uint64(len(v)))])
		bw.Write(v)
		n++
		return true
	})
	if err != nil {
		return 0, err
	}
	bw.Write(buf[:binary.PutUvarint(buf[:], 0)])
	var tail [8]byte
	binary.BigEndian.PutUint64(tail[:], n)
	bw.Write(tail[:])
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], h.Sum32())
	_, err = w.Write(sum[:])
	return n, err
}

// WriteStateCompressed is WriteState compressed with S2 on one core: the
// raft snapshots' format. A county of a million customers is an 18.7 GB
// stream, written in 137 s on this machine; its records and indexes are
// JSON and key prefixes, which S2 shrinks several times over at about the
// cost of writing the bytes it saves.
func WriteStateCompressed(w io.Writer, r pebbleGetIter) (uint64, error) {
	if _, err := io.WriteString(w, stateMagicS2); err != nil {
		return 0, err
	}
	zw := s2.NewWriter(w, s2.WriterConcurrency(1))
	n, err := WriteState(zw, r)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// ReadState parses a state stream, plain or compressed, calling fn for
// every pair, and verifies the count and checksum at the end. fn's slices
// are valid during the call.
func ReadState(r io.Reader, fn func(k, v []byte) error) (uint64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if head, _ := br.Peek(len(stateMagicS2)); string(head) == stateMagicS2 {
		br.Discard(len(stateMagicS2))
		return readState(bufio.NewReaderSize(s2.NewReader(br), 1<<20), fn)
	}
	return readState(br, fn)
}

func readState(br *bufio.Reader, fn func(k, v []byte) error) (uint64, error) {
	h := crc32.New(crcTable)
	tr := io.TeeReader(br, h)
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || string(magic) != stateMagic {
		return 0, fmt.Errorf("%w: not a gridcrm state stream (bad header)", ErrCorruptState)
	}
	byteR := &teeByteReader{r: tr}
	var n uint64
	var k, v []byte
	for {
		kl, err := binary.ReadUvarint(byteR)
		if err != nil {
			return n, fmt.Errorf("%w: after %d pairs: %v", ErrCorruptState, n, err)
		}
		if kl == 0 {
			break
		}
		if kl > 1<<20 {
			return n, fmt.Errorf("%w: key of %d bytes", ErrCorruptState, kl)
		}
		if k, err = readN(tr, k, int(kl)); err != nil {
			return n, fmt.Errorf("%w: after %d pairs: %v", ErrCorruptState, n, err)
		}
		vl, err := binary.ReadUvarint(byteR)
		if err != nil || vl > 1<<30 {
			return n, fmt.Errorf("%w: after %d pairs: bad value length", ErrCorruptState, n)
		}
		if v, err = readN(tr, v, int(vl)); err != nil {
			return n, fmt.Errorf("%w: after %d pairs: %v", ErrCorruptState, n, err)
		}
		if err := fn(k, v); err != nil {
			return n, err
		}
		n++
	}
	var tail [8]byte
	if _, err := io.ReadFull(tr, tail[:]); err != nil {
		return n, fmt.Errorf("%w: missing trailer", ErrCorruptState)
	}
	if c := binary.BigEndian.Uint64(tail[:]); c != n {
		return n, fmt.Errorf("%w: trailer counts %d pairs, read %d", ErrCorruptState, c, n)
	}
	want := h.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return n, fmt.Errorf("%w: missing checksum", ErrCorruptState)
	}
	if got := binary.BigEndian.Uint32(sum[:]); got != want {
		return n, fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorruptState, got, want)
	}
	switch _, err := br.ReadByte(); {
	case err == nil:
		return n, fmt.Errorf("%w: data after the checksum", ErrCorruptState)
	case err != io.EOF:
		return n, fmt.Errorf("%w: after the checksum: %v", ErrCorruptState, err)
	}
	return n, nil
}

type teeByteReader struct{ r io.Reader }

func (t *teeByteReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(t.r, b[:])
	return b[0], err
}

// readN reads n bytes into b (reused), growing it as the bytes arrive: a
// corrupt length costs no more memory than the stream holds.
func readN(r io.Reader, b []byte, n int) ([]byte, error) {
	b = b[:0]
	for len(b) < n {
		chunk := min(n-len(b), 1<<20)
		b = slices.Grow(b, chunk)
		m, err := io.ReadFull(r, b[len(b):len(b)+chunk])
		b = b[:len(b)+m]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// RestoreState replaces st's state keyspace with the stream's. While it
// runs, a marker key says the state is partial; a stream that turns out
// corrupt leaves the marker, and CheckState reports it at the next start.
func RestoreState(st *store.Store, r io.Reader) error {
	// Not a state stream this version reads (a newer format, another file):
	// refused before anything of the state is deleted.
	br := bufio.NewReaderSize(r, 1<<20)
	if head, _ := br.Peek(len(stateMagic)); string(head) != stateMagic && string(head) != stateMagicS2 {
		return fmt.Errorf("replication: restore: %w: not a gridcrm state stream this version reads (bad header); the state was left as it was", ErrCorruptState)
	}
	r = br
	db := st.DB()
	b := db.NewBatch()
	if err := b.DeleteRange(store.StatePrefix, store.StateUpper, nil); err != nil {
		return err
	}
	if err := b.Set(stateKey(restoringKey), nil, nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	b = db.NewBatch()
	_, err := ReadState(r, func(k, v []byte) error {
		if err := b.Set(stateKey(k), v, nil); err != nil {
			return err
		}
		if b.Len() >= 4<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b = db.NewBatch()
		}
		return nil
	})
	if err != nil {
		b.Close()
		return fmt.Errorf("replication: restore: %w", err)
	}
	if err := b.Delete(stateKey(restoringKey), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// CheckState reports ErrPartialState when a restore was interrupted.
func CheckState(st *store.Store) error {
	v, err := StateReader{r: st.DB()}.Get(restoringKey)
	if err != nil {
		return err
	}
	if v != nil {
		return ErrPartialState
	}
	return nil
}
